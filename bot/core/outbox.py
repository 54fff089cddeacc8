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
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Boolean, and_, bindparam, case, delete, func, insert, literal, null, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.errors import Replayed, StoreUnavailable
from bot.core.model import Team
from bot.core.ports import SendFailed, utc_now
from bot.store.db import AFTER_COMMIT, Store
from bot.store.models import OutboxMessage, SeenRequest, Workspace

log = logging.getLogger(__name__)
RECLAIM_AFTER = timedelta(minutes=2)  # a row claimed this long ago by a process that died is sent again
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(minutes=15)
GIVE_UP_AFTER = timedelta(hours=24)  # an outage longer than a day: the message is recorded as not sent
BATCH = 200
WAITING_PAUSES = (0.05, 0.2)  # a message written behind another process's is tried again after these (seconds)
MARK_PAUSES = (0.5, 1, 2, 4, 8)  # marking what was sent waits out a database restart (about 15 s in all)


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

    def count(self, outcome: str) -> None:
        if outcome == "sent":
            self.sent += 1
        elif outcome == "failed":
            self.failed += 1
        else:
            self.retrying += 1
            self.errors.append(outcome)

    def add(self, other: DeliveryReport) -> None:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors += other.errors


@dataclass(frozen=True)
class Claimed:
    """A message this process wrote as already claimed, to send the moment its record is committed."""

    id: int
    lane: str
    kind: str
    payload: dict
    created_at: datetime


@dataclass
class Written:
    """What a request's work wrote to the outbox, known once its transactions commit: the messages it claimed as
    it wrote them, and the lanes where it had to leave one waiting behind an earlier message."""

    claimed: list[Claimed] = field(default_factory=list)
    waiting: set[str] = field(default_factory=set)

    def commit(self, claimed: Claimed | None, lane: str) -> None:
        if claimed is not None:
            self.claimed.append(claimed)
        else:
            self.waiting.add(lane)


_written: ContextVar[Written | None] = ContextVar("outbox_written", default=None)


def _statements():
    """Built once at import: the outbox is on the path of every thank-you (benchmarks/README.md)."""
    t = OutboxMessage.__table__
    earlier = t.alias("earlier")
    waiting_in_lane = (
        select(earlier.c.id)
        .where(
            earlier.c.workspace_id == t.c.workspace_id,
            earlier.c.lane == t.c.lane,
            earlier.c.id < t.c.id,
            earlier.c.state.in_(("pending", "sending")),
        )
        .exists()
    )
    now, stale = bindparam("now", type_=t.c.created_at.type), bindparam("stale", type_=t.c.created_at.type)
    claimable = and_(
        or_(and_(t.c.state == "pending", t.c.due_at <= now), and_(t.c.state == "sending", t.c.claimed_at < stale)),
        ~waiting_in_lane,
    )
    due_columns = (t.c.id, t.c.lane, t.c.kind, t.c.payload, t.c.attempts, t.c.created_at, Workspace.platform)
    due = (
        select(*due_columns, Workspace.external_id)
        .join(Workspace, Workspace.id == t.c.workspace_id)
        .where(claimable, Workspace.platform == bindparam("platform"))
        .order_by(t.c.id)
        .limit(bindparam("limit"))
    )
    # A new message is claimed as it is written unless one is still waiting in its lane (it must not overtake it).
    lane_busy = (
        select(earlier.c.id)
        .where(
            earlier.c.workspace_id == bindparam("workspace_id"),
            earlier.c.lane == bindparam("lane"),
            earlier.c.state.in_(("pending", "sending")),
        )
        .exists()
    )
    claim_it = and_(bindparam("claim", type_=Boolean), ~lane_busy)
    fields = [bindparam(name, type_=t.c[name].type) for name in ("workspace_id", "lane", "kind", "payload")]
    written = select(
        *fields,
        case((claim_it, "sending"), else_="pending"),
        case((claim_it, literal(1)), else_=literal(0)),
        now,
        now,
        case((claim_it, now), else_=null()),
    )
    insert_row = (
        insert(t)
        .from_select(
            ["workspace_id", "lane", "kind", "payload", "state", "attempts", "created_at", "due_at", "claimed_at"],
            written,
        )
        .returning(t.c.id, t.c.state)
    )
    lanes = bindparam("lanes", expanding=True)
    return {
        "due": due,
        "due_in_lanes": due.where(t.c.lane.in_(lanes)),
        "claim": update(t)
        .where(t.c.id == bindparam("message_id"), claimable)
        .values(state="sending", claimed_at=now, attempts=t.c.attempts + 1),
        "insert": insert_row,
        "pending_in_lane": select(t.c.id)
        .where(t.c.workspace_id == bindparam("workspace_id"), t.c.lane == bindparam("lane"), t.c.state == "pending")
        .limit(1),
        "mark_sent": update(t)
        .where(t.c.id.in_(bindparam("ids", expanding=True)))
        .values(state="sent", payload=None, error=None, sent_at=now),
        "mark": update(t)
        .where(t.c.id == bindparam("message_id"))
        .values(state=bindparam("to_state"), payload=None, error=bindparam("why"), sent_at=now),
        "retry": update(t)
        .where(t.c.id == bindparam("message_id"))
        .values(state="pending", due_at=bindparam("due"), error=bindparam("why")),
    }


_SQL = _statements()
DUE, DUE_IN_LANES, CLAIM, INSERT = _SQL["due"], _SQL["due_in_lanes"], _SQL["claim"], _SQL["insert"]
PENDING_IN_LANE = _SQL["pending_in_lane"]
MARK, MARK_SENT, RETRY = _SQL["mark"], _SQL["mark_sent"], _SQL["retry"]
RECORD_REQUEST = insert(SeenRequest.__table__)


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … at most 15 minutes between tries."""
    return min(LONGEST_WAIT, FIRST_RETRY * 2 ** max(0, attempts - 1))


class Outbox:
    def __init__(self, store: Store, now: Callable[[], datetime] = utc_now):
        self.store, self.now = store, now

    @contextmanager
    def claiming(self) -> Iterator[Written]:
        """Messages written inside this block are claimed as they are written; those whose transaction commits are
        listed, for the caller to send at once (send_claimed): no query to find them, no transaction to claim them.
        One that would overtake a message still waiting in its lane is written as waiting instead."""
        token = _written.set(Written())
        try:
            yield _written.get()
        finally:
            _written.reset(token)

    def add(self, executor, workspace_id: int, messages: Iterable[Message]) -> None:
        """Write messages inside the caller's transaction (`executor` is its Connection or Session)."""
        now, written = self.now(), _written.get()
        for message in messages:
            if message.replaces_waiting:
                waiting = executor.execute(PENDING_IN_LANE, {"workspace_id": workspace_id, "lane": message.lane})
                if waiting.first() is not None:
                    continue  # the waiting one is rendered when it is sent, so it will show this change too
            payload = json.dumps(message.payload)
            row = executor.execute(
                INSERT,
                {
                    "workspace_id": workspace_id,
                    "lane": message.lane,
                    "kind": message.kind,
                    "payload": payload,
                    "now": now,
                    "claim": written is not None,
                },
            ).one()
            if written is not None:  # ours to send (or to see sent), once the record is committed with it
                claimed = Claimed(row.id, message.lane, message.kind, message.payload, now)
                executor.info[AFTER_COMMIT].append(
                    partial(written.commit, claimed if row.state == "sending" else None, message.lane)
                )

    def write(self, team: Team, messages: Iterable[Message]) -> None:
        """Messages that follow no record of their own (a reply the platform could not take just now), in a
        transaction of their own."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.transaction() as conn:
            self.add(conn, workspace_id, messages)

    def send_claimed(self, send: Send, team: Team, written: Written) -> DeliveryReport:
        """Send what this process claimed as it wrote it, in order, and mark it in one statement; then what it had to
        leave waiting behind an earlier message, once that one is out (or, if it is slow, at the next drain)."""
        report, done, claimed, outage = DeliveryReport(), [], written.claimed, False
        for n, message in enumerate(claimed):
            outcome = self._attempt(send, team, message.id, message.kind, message.payload, message.created_at, 1)
            report.count(outcome)
            if outcome == "sent":
                done.append(message.id)
            elif outcome.startswith("outage"):  # the rest wait for the next pass, as they would in deliver()
                self._release([c.id for c in claimed[n + 1 :]], outcome)
                outage = True
                break
        if done:  # before anything else: a message sent and not marked would be sent again
            self._mark_sent(done)
        for pause in (0.0, *WAITING_PAUSES):
            if outage or not written.waiting:
                break
            time.sleep(pause)
            later = self.deliver(send, team.platform, written.waiting)
            report.add(later)
            if later.sent or later.failed or later.retrying:
                break
        return report

    def _mark_sent(self, ids: list[int]) -> None:
        """The platform has these: record it, through a database that blinks (a restart) if need be, since a message
        left marked as being sent is sent again after a while, and would then arrive twice."""
        for pause in MARK_PAUSES:
            try:
                with self.store.transaction() as conn:
                    conn.execute(MARK_SENT, {"ids": ids, "now": self.now()})
                return
            except StoreUnavailable:
                log.warning("could not mark %d sent messages; trying again in %.0f s", len(ids), pause)
                time.sleep(pause)
        with self.store.transaction() as conn:
            conn.execute(MARK_SENT, {"ids": ids, "now": self.now()})

    def deliver(
        self, send: Send, platform: str, lanes: Collection[str] | None = None, limit: int = BATCH
    ) -> DeliveryReport:
        """Send what is due to one platform (`send` speaks to it), oldest first, in these lanes (or all): the clock's
        drain, and what was left waiting. A failure that looks like an outage ends the pass: the rest waits for the
        next one rather than each message waiting on a timeout."""
        report = DeliveryReport()
        if lanes is not None and not lanes:
            return report
        while True:
            progressed = False
            for row in self._due(platform, lanes, limit):
                if not self._claim(row.id):
                    continue
                progressed = True
                team = Team(row.platform, row.external_id)
                outcome = self._attempt(send, team, row.id, row.kind, row.payload, row.created_at, row.attempts + 1)
                if outcome == "sent":
                    self._mark_sent([row.id])
                report.count(outcome)
                if outcome.startswith("outage"):
                    return report
            if not progressed:
                return report

    def _attempt(self, send: Send, team: Team, message_id: int, kind: str, payload, created_at, attempts) -> str:
        """Send one claimed message (its payload as written, or as stored: JSON). A failure is recorded at once
        (tried again later, or failed for good); "sent" is left for the caller to mark, alone or with others."""
        try:
            send(team, kind, json.loads(payload) if isinstance(payload, str) else payload, created_at)
        except SendFailed as failure:
            return self._failed(message_id, created_at, attempts, failure)
        except Exception:
            log.exception("an outbox message could not be sent")  # a bug, not the platform: not retried
            return self._failed(message_id, created_at, attempts, SendFailed("bug", True))
        return "sent"

    def _due(self, platform: str, lanes: Collection[str] | None, limit: int):
        now = self.now()
        query = DUE if lanes is None else DUE_IN_LANES
        with self.store.transaction() as conn:
            return conn.execute(
                query,
                {
                    "now": now,
                    "stale": now - RECLAIM_AFTER,
                    "limit": limit,
                    "lanes": sorted(lanes or ()),
                    "platform": platform,
                },
            ).all()

    def _claim(self, message_id: int) -> bool:
        now = self.now()
        with self.store.transaction() as conn:
            return (
                conn.execute(CLAIM, {"message_id": message_id, "now": now, "stale": now - RECLAIM_AFTER}).rowcount == 1
            )

    def _failed(self, message_id: int, created_at: datetime, attempts: int, failure: SendFailed) -> str:
        now = self.now()
        if failure.permanent or now - created_at > GIVE_UP_AFTER:
            why = failure.error if failure.permanent else f"gave up after {attempts} tries: {failure.error}"
            log.warning("an outbox message was not sent: %s", why)
            return self._finish(message_id, "failed", why)
        wait = max(backoff(attempts), timedelta(seconds=failure.retry_after or 0))
        with self.store.transaction() as conn:
            conn.execute(RETRY, {"message_id": message_id, "due": now + wait, "why": failure.error[:100]})
        return ("outage: " if failure.outage else "retrying: ") + failure.error

    def _release(self, message_ids: list[int], outcome: str) -> None:
        """Claimed but not tried, because the platform is down: pending again, due when the one that failed is."""
        if message_ids:
            due = self.now() + backoff(1)
            with self.store.transaction() as conn:
                why = outcome.removeprefix("outage: ")[:100]
                conn.execute(RETRY, [{"message_id": i, "due": due, "why": why} for i in message_ids])

    def _finish(self, message_id: int, state: str, error: str | None) -> str:
        with self.store.transaction() as conn:
            conn.execute(
                MARK, {"message_id": message_id, "to_state": state, "why": error and error[:100], "now": self.now()}
            )
        return state

    def drop_waiting(self, team: Team, why: str) -> int:
        """Everything still waiting for a workspace, failed at once: the bot was removed from it, so nothing may be
        sent there any more (a message being sent this moment may still go)."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            return session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.workspace_id == workspace_id, OutboxMessage.state == "pending")
                .values(state="failed", payload=None, error=why[:100], sent_at=self.now())
            ).rowcount

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
        """Record `key` (a request's signature) now; False if it was recorded before."""
        try:
            with self.store.transaction() as conn:
                self.recorder(team, key)(conn)
        except Replayed:
            return False
        return True

    def recorder(self, team: Team, key: str) -> Callable:
        """Records `key` in the transaction it is given (a request's first: Store.one_connection), so a replay is
        turned down with no transaction of its own; raises Replayed if it was recorded before."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)

        def record(conn) -> None:
            try:  # a duplicate ends the transaction: it was a replay, and nothing of it may be kept
                conn.execute(RECORD_REQUEST, {"workspace_id": workspace_id, "key": key[:100], "seen_at": self.now()})
            except IntegrityError:
                raise Replayed() from None

        return record

    def forget_old(self) -> int:
        with self.store.session() as session:
            return session.execute(delete(SeenRequest).where(SeenRequest.seen_at < self.now() - self.KEEP)).rowcount
