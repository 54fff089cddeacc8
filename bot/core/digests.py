"""Managers' digests: what the team did in the last period, sent through the clock and the sends ledger.

A digest covers the last complete period (weekly, fortnightly or monthly: fixed blocks of weeks counted like the
nudges' periods) and goes out from the first working hours of the next one: as a DM in each manager's own working
hours, and in the digest channel in the working hours of the team's most common timezone. Private thanks are
counted but never quoted or attributed, and nobody is named, nor any per-person figure shown, for a group of fewer
than MIN_GROUP people. Each copy quotes only what its readers could read where it was said: the channel's copy, thanks
first posted in that channel; a manager's, thanks said in a public channel or in one the manager is in. Each copy is
cut here, as its own kind of result (ManagerDigest, ChannelDigest), so an adapter renders what it is given and cannot
leak by forgetting whose copy it is.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import TypeVar

from sqlalchemy import and_, case, distinct, func, or_, select

from bot.core.changes import view_of
from bot.core.errors import PlatformUnavailable, Refused
from bot.core.experiment import report_lines, verdict
from bot.core.freed import freed_between, freed_words, quarter, sum_words
from bot.core.ledger import locked_tick
from bot.core.model import (
    ALREADY_REMINDED,
    CADENCE_WEEKS,
    CLOSED_STATUSES,
    LEADERS_WAIT,
    MIN_GROUP,
    OPEN_STATUSES,
    REMINDED,
    UNREACHABLE,
    Audience,
    ChangeLine,
    ChannelDigest,
    Digest,
    Figures,
    Highlight,
    Impact,
    ManagerDigest,
    PeerThanks,
    Reminder,
    Team,
    Thanked,
    ThankedLine,
    TickReport,
    WaitingLine,
    WorkspaceConfig,
    zone,
)
from bot.core.nudges import NudgeService
from bot.core.policy import EPOCH_MONDAY, week_number
from bot.core.ports import Directory, Notifier, utc_now
from bot.core.trends import monday, trend_lines, trends
from bot.core.workspace import WorkspaceSettingsService
from bot.store.db import Store
from bot.store.models import Backing, Change, ChangeEvent, LeaderRaise, Person, Thanks, ThanksRecipient, ThanksValue

log = logging.getLogger(__name__)
T = TypeVar("T")
UNTHANKED = timedelta(weeks=8)
NO_OWNER = timedelta(days=14)  # an open idea nobody has taken on this long after it was suggested is stuck
QUIET_TRIAL = timedelta(days=30)  # and so is one being tried with no news for this long
HIGHLIGHTS = 3
STUCK_LISTED = 10  # the oldest stuck ideas a digest carries; it counts them all
WAITING_LISTED = 10  # and the ideas waiting longest on leaders
TOP_VALUES = 3


NOBODY = Audience()  # who may read a conversation the platform would not tell us about: fail closed


class ChannelReaders:
    """Who may read where thanks were said, asked of the directory once per channel for one digest run (or one press
    of a button), so that a run's managers share the answers, and a later run asks afresh."""

    def __init__(self, directory: Directory, team: Team):
        self.directory, self.team = directory, team
        self._audiences: dict[str, Audience] = {}

    def can_read(self, reader: str, channel_id: str | None) -> bool:
        if not channel_id:
            return False  # said nowhere we know of
        audience = self._audiences.get(channel_id)
        if audience is None:
            try:
                audience = self.directory.audience(self.team, channel_id)
            except PlatformUnavailable as exc:
                log.info("quoting nothing said in %s: %s", channel_id, exc)
                audience = NOBODY
            self._audiences[channel_id] = audience
        return audience.includes(reader)


def pick(ranked: Sequence[Highlight], quotable: Callable[[Highlight], bool]) -> tuple[Highlight, ...]:
    """The first few quotable highlights, from different people where there are enough. `quotable` is asked in rank
    order and only as far as needed, so a manager's copy asks about few channels."""
    picked: dict[int, Highlight] = {}
    givers: set[str] = set()
    for n, h in enumerate(ranked):
        if len(picked) == HIGHLIGHTS:
            break
        if h.giver_id not in givers and quotable(h):
            picked[n] = h
            givers.add(h.giver_id)
    for n, h in enumerate(ranked):
        if len(picked) == HIGHLIGHTS:
            break
        if n not in picked and quotable(h):
            picked[n] = h
    return tuple(picked.values())


def _figures(digest: Digest) -> dict:
    return {f.name: getattr(digest, f.name) for f in fields(Figures)}


def manager_copy(digest: Digest, manager: str, readers: ChannelReaders) -> ManagerDigest:
    """A manager's copy: the thanks said in a public channel, or in a private one or group DM they are in now."""
    return ManagerDigest(
        **_figures(digest),
        highlights=pick(digest.candidates, lambda h: readers.can_read(manager, h.channel_id)),
        thanked_by_peers=tuple(ThankedLine(t.user_id, t.times, t.user_id != manager) for t in digest.thanked_by_peers),
        unthanked=digest.unthanked,
    )


def channel_copy(digest: Digest, channel_id: str) -> ChannelDigest:
    """The channel's copy: thanks first said in that channel only, since one said in a private channel must not
    reach a wider audience through the digest."""
    highlights = pick(digest.candidates, lambda h: h.channel_id == channel_id)
    named = {p for h in highlights for p in (h.giver_id, *h.recipient_ids)}
    named |= {p for c in (*digest.adopted, *digest.stuck) for p in (c.suggester_id, c.owner_id) if p}
    return ChannelDigest(
        **_figures(digest),
        highlights=highlights,
        names={p: digest.names[p] for p in named if p in digest.names},
    )


def covered(weeks: int, index: int) -> tuple[date, date]:
    """The days (first, day after the last) of the period before period `index` of `weeks` weeks."""
    start = EPOCH_MONDAY + timedelta(weeks=(index - 1) * weeks)
    return start, start + timedelta(weeks=weeks)


def working_now(config: WorkspaceConfig, local: datetime, tz: str) -> str | None:
    """Why this is not a moment to send (None when it is): the team's working days and hours, in `tz`."""
    if local.weekday() not in config.days:
        return "not a working day"
    if local.date() in config.holidays:
        return "holiday"
    if not config.start <= local.time() < config.end:
        return f"outside working hours in {tz}"
    return None


def reader_timezone(person, manager: bool, team_tz: str) -> str:
    """Whose working hours a digest waits for: a manager's own (UTC if unknown), the channel's the team's."""
    return ((person.tz if person else None) or "UTC") if manager else team_tz


@dataclass(frozen=True)
class NextDigest:
    at: datetime  # when it first goes out
    tz: str  # in whose working hours
    start: date  # the first day it covers
    weeks: int  # how many weeks it covers


def main_timezone(people) -> str:
    """The timezone most active people have (the channel digest's working hours); UTC for an unknown team."""
    zones = Counter(p.tz or "UTC" for p in people if not p.is_bot and not p.deleted)
    return min(zones.items(), key=lambda item: (-item[1], item[0]))[0] if zones else "UTC"


def shorten(text: str, limit: int) -> str:
    """Plain text on one line, cut at a word near `limit`; the stored text is untouched."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", limit // 2, limit)
    return text[: cut if cut > 0 else limit].rstrip(" ,.;:") + "…"


def personal_thanks_draft(name: str, reasons: Sequence[str], weeks: int, max_chars: int) -> str:
    """A leader's starting point: what colleagues said, for the leader to make their own, in at most `max_chars`."""
    first = name.split()[0] if name.strip() else "there"
    when = "this week" if weeks == 1 else "lately"
    head = f"Thank you, {first}. Your colleagues told me what you did {when}:"
    tail = "\n\nI wanted to thank you myself too."
    if not reasons:
        return f"Thank you, {first}.{tail}"
    lines = [head]
    for reason in reasons:
        line = "• " + " ".join(reason.split())
        room = max_chars - len(tail) - sum(len(x) + 1 for x in lines)
        if len(line) > room:
            if len(lines) == 1 and room > 20:
                lines.append(shorten(line, room - 1))
            break
        lines.append(line)
    return "\n".join(lines) + tail


class DigestService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        notifier: Notifier,
        workspaces: WorkspaceSettingsService,
        nudges: NudgeService,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store, self.directory, self.notifier, self.workspaces = store, directory, notifier, workspaces
        self.nudges, self.now, self.sleep = nudges, now, sleep

    # -- what a digest says --------------------------------------------------------------------------------------
    def compute(self, team: Team, now: datetime | None = None) -> Digest:
        """The digest for the last complete period before `now`, by the calendar of the team's main timezone."""
        now = now or self.now()
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        weeks = CADENCE_WEEKS.get(self.workspaces.get(team).digest_cadence, 1)
        people = self._people(workspace_id)
        tz = main_timezone(people)
        index = week_number(now.astimezone(zone(tz)).date()) // weeks
        return self._compute(team, workspace_id, weeks, index, tz, people, now)

    def _people(self, workspace_id: int) -> list:
        with self.store.session() as session:
            return session.execute(
                select(Person.user_id, Person.name, Person.tz, Person.is_bot, Person.deleted).where(
                    Person.workspace_id == workspace_id
                )
            ).all()

    def _compute(self, team: Team, workspace_id: int, weeks: int, index: int, tz: str, people, now) -> Digest:
        start_day, end_day = covered(weeks, index)
        start, end = (datetime.combine(day, datetime.min.time(), zone(tz)) for day in (start_day, end_day))
        active = {p.user_id: p.name for p in people if not p.is_bot and not p.deleted}
        small = len(active) < MIN_GROUP
        in_period = (Thanks.workspace_id == workspace_id, Thanks.created_at >= start, Thanks.created_at < end)
        with self.store.session() as session:
            db = session.connection()  # plain rows: a big team's digest reads thousands, and ORM rows cost more
            given = db.execute(
                select(
                    Thanks.id,
                    Thanks.giver_id,
                    Thanks.private,
                    Thanks.source,
                    Thanks.via,
                    Thanks.channel_id,
                    case((Thanks.private.is_(False), Thanks.reason)).label("reason"),  # a private reason stays put
                ).where(*in_period)
            ).all()
            recipients = db.execute(
                select(ThanksRecipient.thanks_id, ThanksRecipient.recipient_id)
                .join(Thanks, Thanks.id == ThanksRecipient.thanks_id)
                .where(*in_period)
                .order_by(ThanksRecipient.id)  # as the giver named them
            ).all()
            tagged = db.execute(
                select(ThanksValue.thanks_id, ThanksValue.value)
                .join(Thanks, Thanks.id == ThanksValue.thanks_id)
                .where(*in_period, Thanks.private.is_(False))
            ).all()
            thanked_lately: set[str] = set()
            if not small:
                # Thanks are recorded as they happen, so their ids follow their times: the recipients of the last
                # 8 weeks are those of the ids from its first thanks to its last, read from one index. (Asking for
                # the count too keeps PostgreSQL from answering min and max by walking the whole primary key.)
                first, last, _ = db.execute(
                    select(func.min(Thanks.id), func.max(Thanks.id), func.count()).where(
                        Thanks.workspace_id == workspace_id,
                        Thanks.created_at >= now - UNTHANKED,
                        Thanks.created_at < now,
                    )
                ).one()
                if first is not None:
                    thanked_lately = set(
                        db.execute(
                            select(ThanksRecipient.recipient_id)
                            .where(
                                ThanksRecipient.workspace_id == workspace_id,
                                ThanksRecipient.thanks_id.between(first, last),
                            )
                            .distinct()
                        )
                        .scalars()
                        .all()
                    )
            changes = self._changes(db, workspace_id, start, end, now)
            quarter_start, _, label = quarter(end_day - timedelta(days=1))  # the quarter the period ends in, so far
            began = datetime.combine(quarter_start, datetime.min.time(), zone(tz))
            freed = freed_between(db, workspace_id, began, end, label)
            weekly = trends(db, workspace_id, end_day, tz)
        arms = self.nudges.report(team, since=start, until=end)
        # The experiment so far (to the period's end), not this period alone: a week is rarely enough to tell.
        so_far = verdict(self.nudges.report(team, until=end)) if self.workspaces.get(team).experiment else ""

        to: dict[int, list[str]] = {}
        for thanks_id, recipient_id in recipients:
            to.setdefault(thanks_id, []).append(recipient_id)
        values_of: dict[int, list[str]] = {}
        for thanks_id, value in tagged:
            values_of.setdefault(thanks_id, []).append(value)
        public = [g for g in given if not g.private]
        peers: Counter[str] = Counter()
        if not small:
            for g in public:
                if g.via != "leader" and g.source is None:
                    peers.update(r for r in to.get(g.id, ()) if r in active and r != g.giver_id)
        visible = tuple(a for a in arms if a.people >= MIN_GROUP)
        return Digest(
            period=f"{weeks}w{index}",
            start=start_day,
            end=end_day,
            people=len(active),
            names={p.user_id: p.name for p in people},
            thanks=len(given),
            private=sum(1 for g in given if g.private),
            givers=len({g.giver_id for g in given}),
            receivers=len({r for _, r in recipients}),
            values=tuple(Counter(value for _, value in tagged).most_common(TOP_VALUES)),
            outside=tuple(Counter(g.source for g in given if g.source).most_common()),
            candidates=self._ranked(public, to, values_of),
            thanked_by_peers=tuple(
                Thanked(user_id, times)
                for user_id, times in sorted(peers.items(), key=lambda item: (-item[1], active[item[0]].lower()))
            ),
            **changes,
            freed=freed,
            trends=weekly,
            nudges=sum(a.nudges for a in arms),
            arms=visible,
            arms_hidden=len(arms) - len(visible),
            verdict=so_far,
            unthanked=()
            if small
            else tuple(sorted((u for u in active if u not in thanked_lately), key=lambda u: active[u].lower())),
        )

    @staticmethod
    def _ranked(public, to: dict[int, list[str]], values_of: dict[int, list[str]]) -> tuple[Highlight, ...]:
        """Public thank-yous worth retelling, best first: thanks passed on from outside, then those naming a value,
        newest first."""
        ranked = sorted(
            (g for g in public if g.via != "leader"),
            key=lambda g: (g.source is not None, g.id in values_of, g.id),  # ids follow time: newest first
            reverse=True,
        )
        return tuple(
            Highlight(
                g.giver_id, tuple(to.get(g.id, ())), g.reason, tuple(values_of.get(g.id, ())), g.source, g.channel_id
            )
            for g in ranked
        )

    @staticmethod
    def _changes(db, workspace_id: int, start: datetime, end: datetime, now: datetime) -> dict:
        """Counts of what moved in the period; what was adopted ("you said, we did"); what is stuck now."""
        new, backed = db.execute(
            select(
                select(func.count(Change.id))
                .where(Change.workspace_id == workspace_id, Change.created_at >= start, Change.created_at < end)
                .scalar_subquery(),
                select(func.count(distinct(Backing.change_id)))
                .where(Backing.workspace_id == workspace_id, Backing.created_at >= start, Backing.created_at < end)
                .scalar_subquery(),
            )
        ).one()
        moves = db.execute(
            select(ChangeEvent.change_id, ChangeEvent.kind, ChangeEvent.new).where(
                ChangeEvent.workspace_id == workspace_id,
                ChangeEvent.kind.in_(("owner", "status")),
                ChangeEvent.at >= start,
                ChangeEvent.at < end,
            )
        ).all()
        adopted_ids = {m.change_id for m in moves if m.kind == "status" and m.new == "adopted"}
        adopted = db.execute(
            select(Change.id, Change.text, Change.status, Change.owner_id, Change.suggester_id)
            .where(Change.id.in_(adopted_ids), Change.status == "adopted")
            .order_by(Change.id)
        ).all()
        # Stuck, decided in the database: a team can have hundreds of old ideas, and the digest shows the oldest.
        last_event = select(func.max(ChangeEvent.at)).where(ChangeEvent.change_id == Change.id).scalar_subquery()
        quiet = now - QUIET_TRIAL
        stuck = db.execute(
            select(
                Change.id,
                Change.text,
                Change.status,
                Change.owner_id,
                Change.suggester_id,
                Change.created_at,
                Change.updated_at,
                last_event.label("last_event"),
                func.count().over().label("total"),
            )
            .where(
                Change.workspace_id == workspace_id,
                Change.status.in_(OPEN_STATUSES),
                or_(
                    and_(Change.owner_id.is_(None), Change.created_at <= now - NO_OWNER),
                    and_(
                        Change.status == "trying",
                        func.coalesce(last_event, Change.updated_at) <= quiet,
                        Change.updated_at <= quiet,
                    ),
                ),
            )
            .order_by(Change.created_at, Change.id)
            .limit(STUCK_LISTED)
        ).all()
        lines = []
        for row in stuck:
            if row.owner_id is None and now - row.created_at >= NO_OWNER:
                why = f"no owner after {(now - row.created_at).days} days"
            else:
                news = max(row.updated_at, row.last_event or row.updated_at)
                why = f"being tried, no news for {(now - news).days} days"
            lines.append(ChangeLine(row.id, row.text, row.status, row.owner_id, row.suggester_id, why))
        return dict(
            new=new or 0,
            backed=backed or 0,
            owned=len({m.change_id for m in moves if m.kind == "owner" and m.new}),
            trying=len({m.change_id for m in moves if m.kind == "status" and m.new == "trying"}),
            adopted=tuple(ChangeLine(*row) for row in adopted),
            stuck=tuple(lines),
            stuck_total=stuck[0].total if stuck else 0,
            **DigestService._waiting(db, workspace_id, now),
        )

    @staticmethod
    def _waiting(db, workspace_id: int, now: datetime) -> dict:
        """Ideas raised with leaders and not answered yet (not since adopted or dropped), the longest waiting first,
        each with how long it has waited and whether that is more than LEADERS_WAIT."""
        waiting = db.execute(
            select(
                Change.id,
                Change.text,
                LeaderRaise.needs,
                LeaderRaise.raised_at,
                func.count().over().label("total"),
            )
            .join(Change, Change.id == LeaderRaise.change_id)
            .where(
                LeaderRaise.workspace_id == workspace_id,
                LeaderRaise.answer.is_(None),
                LeaderRaise.raised_at <= now,
                Change.status.not_in(CLOSED_STATUSES),
            )
            .order_by(LeaderRaise.raised_at, LeaderRaise.id)
            .limit(WAITING_LISTED)
        ).all()
        return dict(
            waiting=tuple(
                WaitingLine(
                    row.id,
                    row.text,
                    tuple(n for n in row.needs.split(",") if n),
                    (now - row.raised_at).days,
                    now - row.raised_at > LEADERS_WAIT,
                )
                for row in waiting
            ),
            waiting_total=waiting[0].total if waiting else 0,
        )

    def _beside(self, read: Callable[[], T]) -> Callable[[], T]:
        """`read` started now on a thread (and so a connection) of its own where the database runs transactions side by
        side (PostgreSQL), so a report takes about as long as its slower half (benchmarks/README.md); on SQLite, whose
        transactions take turns, run when its result is asked for. Returns the way to that result."""
        if self.store.engine.dialect.name != "postgresql":
            return read
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside")
        result = pool.submit(read)
        pool.shutdown(wait=False)  # the thread ends with `read`
        return result.result

    def quarter_began(self, team: Team) -> datetime:
        """This calendar quarter's first moment, in the team's main timezone."""
        tz = zone(main_timezone(self._people(self.store.workspace_id(team.platform, team.external_id))))
        start, _, _ = quarter(self.now().astimezone(tz).date())
        return datetime.combine(start, datetime.min.time(), tz)

    def impact(self, team: Team, began: datetime | None = None) -> Impact:
        """For the admin view: the changes adopted this quarter so far (the calendar quarter in the team's main
        timezone, which began at `began` if the caller knows it) and the time they free, and the twelve weeks up to
        and including this one."""
        now = self.now()
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        began = began or self.quarter_began(team)
        today = now.astimezone(began.tzinfo).date()
        with self.store.session() as session:
            return Impact(
                freed_between(session, workspace_id, began, now, quarter(today)[2]),
                trends(session, workspace_id, monday(today) + timedelta(weeks=1), began.tzinfo.key),
                began,
            )

    def quarterly(self, team: Team) -> list[str]:
        """The quarterly report (`python -m bot report quarter`), in plain lines: the changes adopted this quarter and
        the time they free, the twelve weeks' trends, and how nudges landed: this quarter, or since the experiment
        began while one runs (its verdict needs all of it). From the database alone."""
        experiment = self.workspaces.get(team).experiment
        began = self.quarter_began(team)
        reading = self._beside(lambda: self.nudges.reading(team, since=None if experiment else began))
        impact = self.impact(team, began)
        reading = reading()
        return [
            f"Time freed, {impact.freed.label}: {sum_words(impact.freed)}",
            *(f"  {c.text}: {freed_words(c.freed)}" for c in impact.freed.biggest),
            f"Twelve weeks, {impact.trends.span}:",
            *(f"  {line}" for line in trend_lines(impact.trends)),
            "The cadence experiment so far:" if experiment else f"Nudges this quarter ({impact.freed.label}):",
            *(f"  {line}" for line in report_lines(reading)),
        ]

    def peer_thanks(self, team: Team, user_id: str, period: str, reader: str, max_chars: int) -> PeerThanks:
        """A personal thank-you from the `reader` (a leader) to one person, drafted from colleagues' public thanks to
        them in the period a digest covered (its `period` key): only those the reader could read where they were
        said, in at most `max_chars`."""
        if user_id == reader:
            raise Refused("You can't send yourself a personal thank-you.")
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        try:
            weeks, index = (int(part) for part in period.split("w"))
        except ValueError:
            raise Refused(
                "I couldn't tell which digest that button came from; send them an ordinary thank-you instead."
            ) from None
        people = self._people(workspace_id)
        tz = main_timezone(people)
        start, end = (datetime.combine(day, datetime.min.time(), zone(tz)) for day in covered(weeks, index))
        with self.store.session() as session:
            said = session.execute(
                select(Thanks.reason, Thanks.channel_id)
                .join(ThanksRecipient, ThanksRecipient.thanks_id == Thanks.id)
                .where(
                    Thanks.workspace_id == workspace_id,
                    Thanks.created_at >= start,
                    Thanks.created_at < end,
                    Thanks.private.is_(False),
                    Thanks.source.is_(None),
                    Thanks.via != "leader",
                    Thanks.giver_id != user_id,
                    ThanksRecipient.recipient_id == user_id,
                )
                .order_by(Thanks.created_at, Thanks.id)
            ).all()
        readers = ChannelReaders(self.directory, team)
        reasons = [reason for reason, channel_id in said if readers.can_read(reader, channel_id)]
        name = next((p.name for p in people if p.user_id == user_id), "") or user_id
        return PeerThanks(user_id, personal_thanks_draft(name, reasons, weeks, max_chars))

    # -- sending -------------------------------------------------------------------------------------------------
    def next_due(self, team: Team, now: datetime | None = None) -> NextDigest | None:
        """When the digest of the period under way first goes out, to its first reader (the first manager, else the
        channel): the next period's first working day, at the start of working hours in their timezone. None when
        digests are off or go to no one. The console runs the digests then, to show what the week it played adds up
        to."""
        now = now or self.now()
        config = self.workspaces.get(team)
        readers = [(user_id, True) for user_id in config.managers]
        if config.digest_channel:
            readers.append((config.digest_channel, False))
        if config.digest_cadence == "off" or not readers:
            return None
        self.nudges.sync_people(team)
        people = self._people(self.store.workspace_id(team.platform, team.external_id))
        to, manager = readers[0]
        tz = reader_timezone(next((p for p in people if p.user_id == to), None), manager, main_timezone(people))
        weeks = CADENCE_WEEKS[config.digest_cadence]
        start, day = covered(weeks, week_number(now.astimezone(zone(tz)).date()) // weeks + 1)
        for _ in range(366):
            if day.weekday() in config.days and day not in config.holidays:
                return NextDigest(datetime.combine(day, config.start, zone(tz)), tz, start, weeks)
            day += timedelta(days=1)
        return None  # no working day in a year

    def tick(self, team: Team, now: datetime | None = None, dry_run: bool = False) -> TickReport:
        """One pass: each manager and the digest channel due a digest now get it, once per period."""
        return locked_tick(self.store, f"digests:{team.platform}:{team.external_id}", dry_run, self._tick, team, now)

    def _tick(self, team: Team, now: datetime | None, dry_run: bool, report: TickReport) -> None:
        now = now or self.now()
        config = self.workspaces.get(team)
        targets = [(user_id, True) for user_id in config.managers]
        if config.digest_channel:
            targets.append((config.digest_channel, False))
        if not targets:
            report.outcomes.append(("", "digest", "no digest channel or managers set"))
            return
        if config.digest_cadence == "off":
            report.outcomes += [(to, "", "digests are off") for to, _ in targets]
            return
        self.nudges.sync_people(team)
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        weeks = CADENCE_WEEKS[config.digest_cadence]
        people = self._people(workspace_id)
        known = {p.user_id: p for p in people}
        team_tz = main_timezone(people)
        due: list[tuple[str, str, bool, int]] = []  # (to, name, manager, period index)
        for to, manager in targets:
            person = known.get(to)
            name = (person.name if person else "") if manager else "channel"
            if person is not None and person.is_bot:
                report.outcomes.append((to, name, "bot"))
                continue
            if person is not None and person.deleted:
                report.outcomes.append((to, name, "deactivated"))
                continue
            tz = reader_timezone(person, manager, team_tz)
            local = now.astimezone(zone(tz))
            why_not = working_now(config, local, tz)
            if why_not:
                report.outcomes.append((to, name, why_not))
                continue
            due.append((to, name, manager, week_number(local.date()) // weeks))
        keys = {(to, f"{weeks}w{i}") for to, _, _, i in due}
        settled = self.nudges.ledger.settled(workspace_id, "digest", keys, now)
        digests: dict[int, Digest] = {}
        readers = ChannelReaders(self.directory, team)  # asked when a manager's copy is sent, once per channel
        gap = 1.0 / config.sends_per_second if config.sends_per_second > 0 else 0.0
        for to, name, manager, index in due:
            period = f"{weeks}w{index}"
            if (to, period) in settled:
                report.outcomes.append((to, name, settled[(to, period)]))
                continue
            if index not in digests:
                digests[index] = self._compute(team, workspace_id, weeks, index, team_tz, people, now)
            digest = digests[index]
            if digest.quiet:
                report.outcomes.append((to, name, "nothing to report"))
                continue
            busy = self.notifier.unavailable(team, to) if manager else None
            if busy:
                report.outcomes.append((to, name, busy))
                continue
            if dry_run:
                report.outcomes.append((to, name, f"would send the digest for {digest.span}"))
                continue

            def send(_send_id: int, _prompt: str | None, to=to, digest=digest, manager=manager) -> None:
                copy = manager_copy(digest, to, readers) if manager else channel_copy(digest, to)
                self.notifier.digest(team, to, copy)

            outcome = self.nudges.ledger.deliver(workspace_id, to, "digest", period, now, send)
            report.outcomes.append((to, name, outcome))
            report.sent += outcome == "sent"
            report.failed += outcome.startswith("failed")
            if outcome == "sent" and gap:
                self.sleep(gap)

    # -- the digest's buttons ------------------------------------------------------------------------------------
    def remind_owner(self, team: Team, change_id: int, asker_id: str) -> Reminder:
        """DM a stuck change's owner on someone's behalf, at most once per change a week, through the ledger.
        Raises Refused."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            row = session.get(Change, change_id)
            if row is None or row.workspace_id != workspace_id:
                raise Refused("That change no longer exists.")
            change = view_of(row)
        if change.owner_id is None:
            raise Refused("Nobody owns this change yet, so there's no one to remind. Take it on?")
        if change.owner_id == asker_id:
            raise Refused("You own this change yourself.")
        if change.status not in OPEN_STATUSES:
            raise Refused("This change isn't open any more, so there's nothing to remind them about.")
        now = self.now()
        outcome = self.nudges.ledger.deliver(
            workspace_id,
            change.owner_id,
            "remind",
            f"c{change.id}w{week_number(now.date())}",
            now,
            lambda _send_id, _prompt: self.notifier.remind(team, change.owner_id, change, asker_id),
        )
        if outcome == "sent":
            return Reminder(change.owner_id, REMINDED)
        if outcome in ("already sent", "being sent by another clock"):
            return Reminder(change.owner_id, ALREADY_REMINDED)
        return Reminder(change.owner_id, UNREACHABLE, why=outcome)
