"""The sends ledger: each nudge, stop-check, digest and reminder recorded under a unique key before it goes out, so
a restart, a repeated tick or a second clock never sends one twice; and one clock at a time through a tick.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.model import Team, TickReport
from bot.core.ports import SendFailed
from bot.store.db import Store
from bot.store.models import Send

log = logging.getLogger(__name__)


IN_DOUBT_AFTER = timedelta(minutes=10)  # a send claimed this long ago by a clock that died: maybe sent, never again
MAX_ATTEMPTS = 5


@contextmanager
def one_clock_at_a_time(store: Store, name: str, dry_run: bool = False) -> Iterator[bool]:
    """On PostgreSQL an advisory lock lets one clock at a time through; yields whether this one may go on.
    A dry run sends nothing, so it takes no lock."""
    with store.engine.connect() as lock_conn:
        if lock_conn.dialect.name != "postgresql" or dry_run:
            yield True
            return
        key = zlib.crc32(name.encode())
        if not lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar():
            yield False
            return
        try:
            yield True
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            lock_conn.commit()


def locked_tick(store: Store, name: str, dry_run: bool, run: Callable, team: Team, now: datetime | None) -> TickReport:
    """A clock's pass, `run(team, now, dry_run, report)`, under the lock `name`; skipped while another clock has it."""
    report = TickReport()
    with one_clock_at_a_time(store, name, dry_run) as ours:
        if not ours:
            report.skipped_locked = True
            return report
        run(team, now, dry_run, report)
    return report


def held_back(state: str, attempts: int, error: str | None, claimed_at: datetime | None = None, now=None) -> str:
    """Why a ledger row this clock could not claim is not sent now."""
    if state == "sent":
        return "already sent"
    if state == "failed":
        return f"not sent: {error} (permanent)"
    if state == "pending":
        return f"not sent: gave up after {attempts} attempts ({error})"
    if claimed_at is not None and now is not None and claimed_at < now - IN_DOUBT_AFTER:
        return IN_DOUBT
    return "being sent by another clock"


# A clock that stopped between claiming a send and marking it sent (killed, or the machine gone) leaves it in doubt:
# the platform may or may not have it. It is not sent again: a nudge missed is better than the same nudge twice.
IN_DOUBT = "in doubt: a clock stopped while sending it, so it is not sent again"


class SendLedger:
    """The exactly-once ledger that nudges, digests and reminders share: record a row, claim it by a conditional
    update, send, mark. A duplicate tick or a second clock finds the row and leaves it."""

    def __init__(self, store: Store):
        self.store = store

    def deliver(
        self,
        workspace_id: int,
        user_id: str,
        kind: str,
        period: str,
        now: datetime,
        send: Callable[[int, str | None], None],
        *,
        arm: str | None = None,
        prompt: str | None = None,
        then: Callable[[Session], None] | None = None,
    ) -> str:
        """Send at most once per (person or channel, kind, period); `send(send_id, prompt)` raises SendFailed.
        `then` runs in the transaction that marks the row sent. Returns what happened, in words."""
        key = (Send.workspace_id == workspace_id, Send.user_id == user_id, Send.kind == kind, Send.period == period)
        try:
            with self.store.session() as session:
                row = Send(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    kind=kind,
                    period=period,
                    state="pending",
                    attempts=0,
                    arm=arm,
                    prompt=prompt,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                send_id = row.id
        except IntegrityError:
            with self.store.session() as session:
                send_id = session.scalar(select(Send.id).where(*key))
        with self.store.session() as session:
            claimed = session.execute(
                update(Send)
                .where(
                    Send.id == send_id,
                    Send.attempts < MAX_ATTEMPTS,
                    Send.state == "pending",
                )
                .values(state="sending", claimed_at=now, attempts=Send.attempts + 1)
            ).rowcount
            state, attempts, error, stored_prompt, claimed_at = session.execute(
                select(Send.state, Send.attempts, Send.error, Send.prompt, Send.claimed_at).where(Send.id == send_id)
            ).one()
        if not claimed:
            return held_back(state, attempts, error, claimed_at, now)
        try:
            send(send_id, stored_prompt or prompt)
        except SendFailed as failure:
            with self.store.session() as session:
                session.execute(
                    update(Send)
                    .where(Send.id == send_id)
                    .values(state="failed" if failure.permanent else "pending", error=failure.error[:100])
                )
            return f"failed: {failure.error}" + ("" if failure.permanent else " (will retry)")
        with self.store.session() as session:
            session.execute(update(Send).where(Send.id == send_id).values(state="sent", sent_at=now, error=None))
            if then is not None:
                then(session)
        return "sent"

    def settled(
        self, workspace_id: int, kind: str, keys: set[tuple[str, str]], now: datetime
    ) -> dict[tuple[str, str], str]:
        """Of these (user or channel, period) keys, those no clock will send again (sent, failed for good, given
        up, in doubt), with why: so a tick can pass them by without asking the platform anything."""
        if not keys:
            return {}
        with self.store.session() as session:
            rows = session.execute(
                select(Send.user_id, Send.period, Send.state, Send.attempts, Send.error, Send.claimed_at).where(
                    Send.workspace_id == workspace_id,
                    Send.kind == kind,
                    Send.user_id.in_({user_id for user_id, _ in keys}),
                    Send.period.in_({period for _, period in keys}),
                )
            ).all()
        settled = {}
        for row in rows:
            why = held_back(row.state, row.attempts, row.error, row.claimed_at, now)
            gave_up = row.state == "pending" and row.attempts >= MAX_ATTEMPTS
            if (row.user_id, row.period) in keys and (row.state in ("sent", "failed") or gave_up or why == IN_DOUBT):
                settled[(row.user_id, row.period)] = why
        return settled
