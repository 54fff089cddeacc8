"""The outbox: messages that must follow a saved record go out once, in order, even if the platform was down.

A service writes its messages in the same transaction as the record (a thank-you and its post and DMs), so there
is never a record without its messages nor a message without its record. Delivery then claims each row by a
conditional update (as the sends ledger does), sends it, and marks it. A passing failure (the platform down, a
429) leaves it pending with a back-off; a permanent one (the person is gone) is recorded and not retried. Within a
lane (one channel or one person) nothing overtakes an earlier message that is still waiting.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from bot.core.ports import SendFailed, Team, utc_now
from bot.store.db import Store
from bot.store.models import OutboxMessage, SeenRequest, Workspace

log = logging.getLogger(__name__)
RECLAIM_AFTER = timedelta(minutes=2)  # a row claimed this long ago by a process that died is sent again
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)  # an outage longer than a day: the message is recorded as not sent
BATCH = 200


@dataclass(frozen=True)
class Message:
    """One message for the adapter to send: `kind` says how (the adapter's business), `lane` what it must not
    overtake (a person's DMs, a channel, one idea card)."""

    lane: str
    kind: str
    payload: dict
    replaces_waiting: bool = False  # an idea card's latest state makes an earlier unsent update of it pointless


Send = Callable[[Team, str, dict, datetime], None]  # (team, kind, payload, when written); raises SendFailed


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … at most 15 minutes between tries."""
    return min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1))


class Outbox:
    def __init__(self, store: Store, now: Callable[[], datetime] = utc_now):
        self.store, self.now = store, now

    def add(self, executor, workspace_id: int, messages: Iterable[Message]) -> None:
        """Write messages inside the caller's transaction (`executor` is its Connection or Session)."""
        table, now = OutboxMessage.__table__, self.now()
        for message in messages:
            if message.replaces_waiting:
                waiting = select(table.c.id).where(
                    table.c.workspace_id == workspace_id,
                    table.c.lane == message.lane,
                    table.c.state == "pending",
                )
                if executor.execute(waiting.limit(1)).first() is not None:
                    continue  # the waiting one is rendered when it is sent, so it will show this change too
            executor.execute(
                insert(table).values(
                    workspace_id=workspace_id,
                    lane=message.lane,
                    kind=message.kind,
                    payload=json.dumps(message.payload),
                    state="pending",
                    attempts=0,
                    created_at=now,
                    due_at=now,
                )
            )

    def deliver(self, send: Send, lanes: Collection[str] | None = None, limit: int = BATCH) -> DeliveryReport:
        """Send what is due, oldest first, in these lanes (or all). A failure that looks like an outage ends the
        pass: the rest waits for the next one rather than each message waiting on a timeout."""
        report = DeliveryReport()
        while True:
            progressed = False
            for row in self._due(lanes, limit):
                if not self._claim(row.id):
                    continue
                outcome = self._send(send, row)
                progressed = True
                if outcome == "sent":
                    report.sent += 1
                elif outcome == "failed":
                    report.failed += 1
                else:
                    report.retrying += 1
                    report.errors.append(outcome)
                    if outcome.startswith("outage"):
                        return report
            if not progressed:
                return report

    def _due(self, lanes: Collection[str] | None, limit: int):
        now = self.now()
        query = (
            select(
                OutboxMessage.id,
                OutboxMessage.lane,
                OutboxMessage.kind,
                OutboxMessage.payload,
                OutboxMessage.attempts,
                OutboxMessage.created_at,
                Workspace.platform,
                Workspace.external_id,
            )
            .join(Workspace, Workspace.id == OutboxMessage.workspace_id)
            .where(self._claimable(now))
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if lanes is not None:
            if not lanes:
                return []
            query = query.where(OutboxMessage.lane.in_(lanes))
        with self.store.session() as session:
            return session.execute(query).all()

    @staticmethod
    def _claimable(now: datetime):
        """Due and not overtaking: pending (or claimed by a process that died), with nothing earlier still waiting
        in its lane."""
        earlier = aliased(OutboxMessage)
        waiting_before = exists().where(
            earlier.workspace_id == OutboxMessage.workspace_id,
            earlier.lane == OutboxMessage.lane,
            earlier.id < OutboxMessage.id,
            earlier.state.in_(("pending", "sending")),
        )
        stale = and_(OutboxMessage.state == "sending", OutboxMessage.claimed_at < now - RECLAIM_AFTER)
        return and_(or_(and_(OutboxMessage.state == "pending", OutboxMessage.due_at <= now), stale), ~waiting_before)

    def _claim(self, message_id: int) -> bool:
        now = self.now()
        with self.store.session() as session:
            claimed = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id, self._claimable(now))
                .values(state="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            return claimed.rowcount == 1

    def _send(self, send: Send, row) -> str:
        try:
            send(Team(row.platform, row.external_id), row.kind, json.loads(row.payload), row.created_at)
        except SendFailed as failure:
            return self._failed(row, failure)
        except Exception:
            log.exception("an outbox message could not be sent")  # a bug, not the platform: not retried
            return self._failed(row, SendFailed("internal error", permanent=True))
        self._finish(row.id, "sent", None)
        return "sent"

    def _failed(self, row, failure: SendFailed) -> str:
        now = self.now()
        if failure.permanent or now - row.created_at > GIVE_UP_AFTER:
            why = failure.error if failure.permanent else f"gave up after {row.attempts + 1} tries: {failure.error}"
            log.warning("an outbox message was not sent: %s", why)
            self._finish(row.id, "failed", why)
            return "failed"
        wait = max(backoff(row.attempts + 1), timedelta(seconds=failure.retry_after or 0))
        with self.store.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(state="pending", due_at=now + wait, error=failure.error[:100])
            )
        return ("outage: " if failure.outage else "retrying: ") + failure.error

    def _finish(self, message_id: int, state: str, error: str | None) -> None:
        with self.store.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(state=state, payload=None, error=error and error[:100], sent_at=self.now())
            )

    def depth(self) -> tuple[int, float]:
        """How many messages are waiting, and how long the oldest has waited (seconds): the metrics' gauges."""
        with self.store.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.state.in_(("pending", "sending"))
                )
            ).one()
        return count, ((self.now() - oldest).total_seconds() if oldest else 0.0)

    def forget_done(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Sent and failed rows (their payloads already cleared) are kept a week for the record, then deleted."""
        with self.store.session() as session:
            return session.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.state.in_(("sent", "failed")), OutboxMessage.created_at < self.now() - older_than
                )
            ).rowcount


class Replays:
    """Signed requests already acted on. A replay (the same signed body again) is found and changes nothing."""

    KEEP = timedelta(days=1)  # far longer than the five minutes a signature is good for

    def __init__(self, store: Store, now: Callable[[], datetime] = utc_now):
        self.store, self.now = store, now

    def first_time(self, team: Team, key: str) -> bool:
        """Record `key` (a request's signature); False if it was recorded before."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        try:
            with self.store.transaction() as conn:  # Core: this runs before every command, click and event
                conn.execute(
                    insert(SeenRequest.__table__),
                    {"workspace_id": workspace_id, "key": key[:100], "seen_at": self.now()},
                )
        except IntegrityError:
            return False
        return True

    def forget_old(self) -> int:
        with self.store.session() as session:
            return session.execute(delete(SeenRequest).where(SeenRequest.seen_at < self.now() - self.KEEP)).rowcount
