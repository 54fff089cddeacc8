"""The nudge clock's work: learn the team, decide who is due, and send exactly once through the ledger."""

from __future__ import annotations

import gc
import json
import logging
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, and_, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.errors import Refused
from bot.core.experiment import Reading, overloads, read
from bot.core.ledger import SendLedger, locked_tick
from bot.core.model import CADENCE_WEEKS, ArmReport, Decision, PersonState, Team, TickReport, zone
from bot.core.outbox import Message, Outbox
from bot.core.policy import (
    SLOWER,
    arm_for,
    decide,
    next_period_start,
    period_weeks,
    personal_cadences,
    running_arm,
    unanswered,
)
from bot.core.ports import Directory, Notifier, utc_now
from bot.core.workspace import EXPERIMENT_ENDED, WorkspaceSettingsService
from bot.store.db import Store
from bot.store.models import Change, NudgeResponse, Person, Send, SettingsChange, Thanks, hours_after

log = logging.getLogger(__name__)
RESYNC_AFTER = timedelta(days=1)
# The longest gap that matters to a decision: "every 2 months" doubled by back-off is 16 weeks.
LOOKBACK = timedelta(weeks=17)
TICK_BUDGET = timedelta(minutes=4)  # a tick starts every 5 minutes
LESS = ("fewer", "stop", "stop_yes")  # a nudge's answers that ask for less of them
ANSWER_HOURS = 48  # a click, thank-you or idea this long after a nudge (or sooner) answers it


def asking_for_less(clicks: Iterable[tuple[str, str]]) -> dict[str, int]:
    """From (person, action) clicks: how many people asked for fewer nudges, and how many stopped them."""
    clicks = list(clicks)
    return {
        "people_fewer": len({u for u, a in clicks if a == "fewer"}),
        "people_stopped": len({u for u, a in clicks if a in ("stop", "stop_yes")}),
    }


class NudgeService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        notifier: Notifier,
        settings: WorkspaceSettingsService,
        outbox: Outbox,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store, self.directory, self.notifier = store, directory, notifier
        self.settings, self.outbox, self.now, self.sleep = settings, outbox, now, sleep
        self.tick_budget = TICK_BUDGET
        self.ledger = SendLedger(store)
        self.stopping = threading.Event()  # set when the process is asked to stop: the tick ends after this send

    # -- the team ------------------------------------------------------------------------------------------------
    def sync_people(self, team: Team, force: bool = False) -> int:
        """Refresh the people table from the platform once a day (or when forced)."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        now = self.now()
        with self.store.session() as session:
            oldest = session.scalar(select(func.min(Person.synced_at)).where(Person.workspace_id == workspace_id))
        if oldest and not force and now - oldest < RESYNC_AFTER:
            return 0
        people = self.directory.everyone(team)
        try:
            self._store_people(workspace_id, people, now)
        except IntegrityError:
            # Another sync (a dry run beside the clock) added the same new people first: update theirs instead.
            self._store_people(workspace_id, people, now)
        return len(people)

    def _store_people(self, workspace_id: int, people, now: datetime) -> None:
        with self.store.session() as session:
            known = {p.user_id: p for p in session.scalars(select(Person).where(Person.workspace_id == workspace_id))}
            for info in people:
                row = known.get(info.id) or Person(workspace_id=workspace_id, user_id=info.id, unanswered=0)
                row.name, row.tz, row.is_bot, row.deleted = info.name, info.tz or "UTC", info.is_bot, info.deleted
                row.is_guest, row.is_admin = info.is_guest, info.is_admin
                row.status_text, row.status_emoji, row.synced_at = info.status_text, info.status_emoji, now
                if info.id not in known:
                    row.opted_out = False
                    session.add(row)

    # -- deciding ------------------------------------------------------------------------------------------------
    def plan(self, team: Team, now: datetime | None = None) -> list[tuple[PersonState, Decision]]:
        """Every known person with the decision for them now. Four queries, then pure decisions."""
        now = now or self.now()
        config = self.settings.get(team)
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        sent = Send.state == "sent"
        ledger = (
            select(
                Send.user_id,
                func.max(Send.sent_at).filter(sent, Send.kind == "nudge"),
                func.count(Send.id).filter(sent, Send.sent_at >= now - timedelta(days=7)),
                func.max(Send.sent_at).filter(sent, Send.kind == "stop_check"),
            )
            .where(Send.workspace_id == workspace_id, Send.created_at >= now - LOOKBACK)
            .group_by(Send.user_id)
        )
        thanked = (
            select(Thanks.giver_id, func.max(Thanks.created_at))
            .where(Thanks.workspace_id == workspace_id, Thanks.created_at >= now - LOOKBACK)
            .group_by(Thanks.giver_id)
        )
        suggested = (
            select(Change.suggester_id, func.max(Change.created_at))
            .where(
                Change.workspace_id == workspace_id,
                Change.suggester_id.is_not(None),
                Change.created_at >= now - LOOKBACK,
            )
            .group_by(Change.suggester_id)
        )
        with self.store.session() as session:
            people = session.execute(
                select(
                    Person.user_id,
                    Person.name,
                    Person.tz,
                    Person.is_bot,
                    Person.deleted,
                    Person.is_guest,
                    Person.status_text,
                    Person.status_emoji,
                    Person.cadence,
                    Person.opted_out,
                    Person.snoozed_until,
                    Person.alternate_day_off,
                    Person.unanswered,
                ).where(Person.workspace_id == workspace_id)
            ).all()
            sends = {row[0]: row[1:] for row in session.execute(ledger)}
            active: dict[str, datetime] = {}
            for user_id, at in [*session.execute(thanked), *session.execute(suggested)]:
                active[user_id] = max(at, active.get(user_id, at))
        local_now: dict[str, datetime] = {}
        plans = []
        # 100,000 small objects and no cycles among them: the cyclic garbage collector would only rescan them.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for row in people:
                last_nudge, recent, last_check = sends.get(row.user_id, (None, 0, None))
                person = PersonState(
                    *row,
                    last_nudge_at=last_nudge,
                    sent_last_7_days=recent,
                    stop_check_sent=bool(last_check and last_nudge and last_check >= last_nudge),
                    active_at=active.get(row.user_id),
                )
                local = local_now.get(person.tz)
                if local is None:
                    local = local_now[person.tz] = now.astimezone(zone(person.tz))
                arm = running_arm(team.external_id, person.user_id, config)
                plans.append((person, decide(config, person, local, arm)))
        finally:
            if collecting:
                gc.enable()
        return plans

    # -- sending -------------------------------------------------------------------------------------------------
    def tick(self, team: Team, now: datetime | None = None, dry_run: bool = False) -> TickReport:
        """One pass for one workspace. On PostgreSQL an advisory lock lets one clock at a time through."""
        return locked_tick(self.store, f"nudges:{team.platform}:{team.external_id}", dry_run, self._tick, team, now)

    def _tick(self, team: Team, now: datetime | None, dry_run: bool, report: TickReport) -> None:
        now = now or self.now()
        self.sync_people(team)
        config = self.settings.get(team)
        gap = 1.0 / config.sends_per_second if config.sends_per_second > 0 else 0.0
        # A plan is for one instant: stop sending before it goes stale (someone's working hours could end);
        # the next tick plans afresh and carries on.
        deadline = time.monotonic() + self.tick_budget.total_seconds()
        for person, decision in self.plan(team, now):
            if decision.reason == "away status":
                # The status was stored at the daily sync. Only if it alone holds them back, ask Slack whether
                # it has been cleared since (the fresh check below says away or not).
                back = replace(person, status_text="", status_emoji="")
                local = now.astimezone(zone(person.tz))
                unblocked = decide(config, back, local, running_arm(team.external_id, person.user_id, config))
                if unblocked.kind is not None:
                    person, decision = back, unblocked
            if decision.kind is None:
                report.outcomes.append((person.user_id, person.name, decision.reason))
                continue
            if time.monotonic() > deadline or self.stopping.is_set():
                report.outcomes.append((person.user_id, person.name, "left for the next tick"))
                continue
            busy = self.notifier.unavailable(team, person.user_id)
            if busy:
                report.outcomes.append((person.user_id, person.name, busy))
                continue
            if dry_run:
                report.outcomes.append((person.user_id, person.name, decision.reason))
                continue
            outcome = self._deliver(team, person, decision, config.prompts, now)
            report.outcomes.append((person.user_id, person.name, outcome))
            report.sent += outcome == "sent"
            report.failed += outcome.startswith("failed")
            if outcome == "sent" and gap:
                self.sleep(gap)
        if not dry_run:
            self.guard(team, now, report)

    def _deliver(self, team: Team, person: PersonState, decision: Decision, prompts, now: datetime) -> str:
        """Through the ledger: a duplicate tick or a second clock finds the row and leaves it."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        prompt = prompts[(zlib.crc32(person.user_id.encode()) + zlib.crc32(decision.period.encode())) % len(prompts)]

        def send(send_id: int, stored_prompt: str | None) -> None:
            if decision.kind == "nudge":
                self.notifier.nudge(team, person.user_id, stored_prompt or prompt, send_id)
            else:
                self.notifier.stop_check(team, person.user_id, send_id)

        def count_unanswered(session: Session) -> None:
            if decision.kind == "nudge":
                session.execute(
                    update(Person)
                    .where(Person.workspace_id == workspace_id, Person.user_id == person.user_id)
                    .values(unanswered=unanswered(person) + 1)
                )

        return self.ledger.deliver(
            workspace_id,
            person.user_id,
            decision.kind,
            decision.period,
            now,
            send,
            arm=decision.arm,
            prompt=prompt,
            then=count_unanswered,
        )

    # -- answers -------------------------------------------------------------------------------------------------
    def respond(self, team: Team, send_id: int, user_id: str, action: str) -> str:
        """Record a click on a nudge and apply it; returns what to tell the person."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        now = self.now()
        config = self.settings.get(team)
        with self.store.session() as session:
            send = session.get(Send, send_id)
            if send is None or send.workspace_id != workspace_id or send.user_id != user_id:
                raise Refused("That message isn't yours to answer.")
            person = session.scalar(
                select(Person).where(Person.workspace_id == workspace_id, Person.user_id == user_id)
            )
            if person is None:
                raise Refused("I don't know you yet; try again tomorrow.")
            session.add(
                NudgeResponse(workspace_id=workspace_id, send_id=send_id, user_id=user_id, action=action, at=now)
            )
            person.unanswered = 0
            local = now.astimezone(zone(person.tz))
            if action == "snooze":
                person.snoozed_until = next_period_start(local)
                return f"No more nudges this week. I'll leave you be until {person.snoozed_until:%A %-d %B}."
            if action == "fewer":
                state = PersonState(user_id=user_id, cadence=person.cadence)
                arm = running_arm(team.external_id, user_id, config)
                weeks = period_weeks(config, state, arm) or 0
                current = next((c for c, w in CADENCE_WEEKS.items() if w >= weeks), "monthly")
                person.cadence = SLOWER.get(current, "off")
                if person.cadence == "off":
                    return "That's the last one: I won't nudge you again. Start again any time from the button below."
                return f"Fewer it is: from now on, at most {person.cadence}."
            if action in ("stop", "stop_yes"):
                person.opted_out = True
                return "Done: no more nudges from me. Changed your mind? Start again any time from the button below."
            if action == "resume":
                person.opted_out = False
                if person.cadence == "off":  # "Fewer of these" had stepped all the way down to off
                    person.cadence = None
                return "Welcome back: nudges are on again, at most " + (person.cadence or config.cadence) + "."
            if action == "stop_no":
                return "Thanks for letting me know. I'll keep them coming, no more often than before."
            return ""

    def preferences(self, team: Team, user_id: str) -> PersonState:
        """A person's own nudge settings (defaults if the clock has not met them yet)."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            row = session.scalar(select(Person).where(Person.workspace_id == workspace_id, Person.user_id == user_id))
        if row is None:
            return PersonState(user_id=user_id)
        return PersonState(
            user_id=user_id,
            tz=row.tz,
            cadence=row.cadence,
            opted_out=row.opted_out,
            snoozed_until=row.snoozed_until,
            alternate_day_off=row.alternate_day_off,
        )

    def set_preferences(
        self,
        team: Team,
        user_id: str,
        cadence: str | None,
        day_off: date | None,
        snoozed_until: date | None,
        messages: Callable[[str], Iterable[Message]] = lambda _note: (),
    ) -> str:
        """Save a person's choices, with the messages that confirm them: cadence None means "as the team sets",
        "off" means no nudges. Returns the confirmation."""
        if cadence not in (None, *personal_cadences(self.settings.get(team).cadence)):
            raise Refused("Choose one of the offered choices: never more often than your team's.", field="cadence")
        if cadence == "off":
            note = "Saved: no nudges for you. Change your mind any time in your nudge settings."
        else:
            when = f", not before {snoozed_until:%-d %B}" if snoozed_until else ""
            note = f"Saved: nudges {cadence or 'as the team sets'}{when}."
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            self.outbox.add(session, workspace_id, messages(note))
            row = session.scalar(select(Person).where(Person.workspace_id == workspace_id, Person.user_id == user_id))
            if row is None:
                row = Person(workspace_id=workspace_id, user_id=user_id, unanswered=0)
                session.add(row)
            row.opted_out = cadence == "off"
            row.cadence = None if cadence == "off" else cadence
            row.alternate_day_off, row.snoozed_until = day_off, snoozed_until
            row.unanswered = 0
        return note

    # -- measuring -----------------------------------------------------------------------------------------------
    def experiment_dates(self, team: Team) -> tuple[datetime | None, dict[str, datetime]]:
        """When the present arrangement began (the experiment last set, changed or ended; None if the settings'
        history never says), and when each arm stopped since was stopped."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            rows = session.execute(
                select(SettingsChange.setting, SettingsChange.new, SettingsChange.at)
                .where(
                    SettingsChange.workspace_id == workspace_id,
                    SettingsChange.setting.in_(("experiment", EXPERIMENT_ENDED, "stopped_arms")),
                )
                .order_by(SettingsChange.at, SettingsChange.id)
            ).all()
        started, stopped = None, {}
        for setting, new, at in rows:
            if setting == "stopped_arms":
                for arm in json.loads(new or "[]"):
                    stopped.setdefault(arm, at)
            else:
                started, stopped = at, {}
        return started, stopped

    def report(self, team: Team, since: datetime | None = None, until: datetime | None = None) -> list[ArmReport]:
        """Per experiment arm (or one "everyone" arm): what nudges did, with counts, from `since` (by default, since
        the experiment began or ended) to `until`. A stopped arm's figures end when it was stopped."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        config = self.settings.get(team)
        started, stopped = self.experiment_dates(team)
        since = since or started or datetime(1970, 1, 1, tzinfo=self.now().tzinfo)
        until = until or datetime(9999, 1, 1, tzinfo=self.now().tzinfo)
        arms = config.experiment or ("everyone",)
        ends = {arm: min(until, stopped.get(arm, until)) if arm in config.stopped_arms else until for arm in arms}
        sent = (
            Send.workspace_id == workspace_id,
            Send.kind == "nudge",
            Send.state == "sent",
            Send.sent_at >= since,
            Send.sent_at < until,
        )
        with self.store.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                # The planner prices a window's thousands of index probes (below) high enough to JIT-compile them,
                # and compiling took as long as the probes themselves (about 15 ms for 6,500 nudges).
                session.execute(text("SET LOCAL jit = off"))
            arm_of = self._arms_of_people(session, team, workspace_id, config)
            db = session.connection()  # plain Core rows: thousands of them, and no ORM entity among them
            sends = db.execute(
                select(
                    Send.id, Send.user_id, Send.sent_at, Send.arm, self._answered(workspace_id, until).label("answered")
                ).where(*sent)
            ).all()
            clicks_on = db.execute(
                select(NudgeResponse.send_id, NudgeResponse.action)
                .join(Send, Send.id == NudgeResponse.send_id)
                .where(*sent, NudgeResponse.workspace_id == workspace_id, NudgeResponse.at >= since)
            ).all()
            thanks, ideas = self._acts_per_person(db, workspace_id, since, sorted(set(ends.values())))
        actions_by_send: dict[int, list[str]] = {}
        for send_id, action in clicks_on:
            actions_by_send.setdefault(send_id, []).append(action)
        sends_of: dict[str, list] = {arm: [] for arm in arms}
        for s in sends:
            # Without an experiment every nudge is everyone's, whatever arm an earlier experiment gave it.
            arm = (s.arm if config.experiment else None) or arm_of.get(s.user_id)
            if arm in sends_of and s.sent_at < ends[arm]:
                sends_of[arm].append(s)
        out = []
        for arm in arms:
            members = {u for u, a in arm_of.items() if a == arm}
            arm_sends = sends_of[arm]
            clicks = [(s.user_id, a) for s in arm_sends for a in actions_by_send.get(s.id, [])]
            actions = Counter(a for _, a in clicks)
            out.append(
                ArmReport(
                    arm=arm,
                    people=len(members),
                    nudges=len(arm_sends),
                    responded=sum(1 for s in arm_sends if s.answered),
                    snoozes=actions["snooze"],
                    fewer=actions["fewer"],
                    opt_outs=actions["stop"] + actions["stop_yes"],
                    thanks=sum(thanks[ends[arm]][u] for u in members),
                    ideas=sum(ideas[ends[arm]][u] for u in members),
                    **asking_for_less(clicks),
                    stopped=arm in config.stopped_arms,
                )
            )
        return out

    @staticmethod
    def _answered(workspace_id: int, until: datetime):
        """Whether a nudge (a row of Send) was answered: a click on it, or a thank-you given or an idea suggested by
        its person, from when it was sent to ANSWER_HOURS later, both ends included (thanks and ideas before
        `until`). Three EXISTS, each an index probe, so no click, thank-you or idea is read into Python."""

        def within(at):
            return and_(at >= Send.sent_at, at <= hours_after(Send.sent_at, ANSWER_HOURS))

        clicked = select(NudgeResponse.id).where(
            NudgeResponse.send_id == Send.id, NudgeResponse.workspace_id == workspace_id, within(NudgeResponse.at)
        )
        thanked = select(Thanks.id).where(
            Thanks.workspace_id == workspace_id,
            Thanks.giver_id == Send.user_id,
            Thanks.created_at < until,
            within(Thanks.created_at),
        )
        suggested = select(Change.id).where(
            Change.workspace_id == workspace_id,
            Change.suggester_id == Send.user_id,
            Change.created_at < until,
            within(Change.created_at),
        )
        return or_(clicked.exists(), thanked.exists(), suggested.exists())

    @staticmethod
    def _acts_per_person(
        db: Connection, workspace_id: int, since: datetime, ends: list[datetime]
    ) -> tuple[dict[datetime, Counter[str]], dict[datetime, Counter[str]]]:
        """Thank-yous given and ideas suggested (not anonymously) from `since` up to each of `ends` (the window's
        end, and a stopped arm's stop), per person: the database counts, one row a person, however many there were."""

        def per_person(person, at, *where) -> dict[datetime, Counter[str]]:
            rows = db.execute(
                select(person, *(func.count().filter(at < end) for end in ends))
                .where(*where, at >= since, at < max(ends))
                .group_by(person)
            ).all()
            return {end: Counter({row[0]: row[1 + i] for row in rows}) for i, end in enumerate(ends)}

        thanks = per_person(Thanks.giver_id, Thanks.created_at, Thanks.workspace_id == workspace_id)
        ideas = per_person(
            Change.suggester_id,
            Change.created_at,
            Change.workspace_id == workspace_id,
            Change.suggester_id.is_not(None),
        )
        return thanks, ideas

    def reading(self, team: Team, since: datetime | None = None) -> Reading:
        """The experiment so far (or everyone's nudges, without one, since `since`), with intervals, differences and
        a verdict."""
        return read(self.report(team, since=since))

    @staticmethod
    def _arms_of_people(session: Session, team: Team, workspace_id: int, config) -> dict[str, str]:
        """Each active person's arm (or "everyone"), whether or not their arm was stopped."""
        people = session.scalars(
            select(Person.user_id).where(
                Person.workspace_id == workspace_id, Person.is_bot.is_(False), Person.deleted.is_(False)
            )
        )
        return {u: (arm_for(team.external_id, u, config.experiment) or "everyone") for u in people}

    # -- the overload guard --------------------------------------------------------------------------------------
    def guard(self, team: Team, now: datetime, report: TickReport) -> None:
        """Tell admins, once each, when an arm still running is clearly too much for its people (experiment.overloads).
        Cheap enough for every tick: nothing without an experiment, then four small queries (the settings' history,
        the people, their clicks asking for less, the admins)."""
        config = self.settings.get(team)
        if len(config.experiment) < 2:
            return
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        started, _ = self.experiment_dates(team)
        since = started or datetime(1970, 1, 1, tzinfo=now.tzinfo)
        with self.store.session() as session:
            arm_of = self._arms_of_people(session, team, workspace_id, config)
            asked = session.execute(
                select(NudgeResponse.user_id, NudgeResponse.action, Send.arm)
                .join(Send, Send.id == NudgeResponse.send_id)
                .where(
                    NudgeResponse.workspace_id == workspace_id,
                    NudgeResponse.at >= since,
                    NudgeResponse.action.in_(LESS),
                    Send.arm.in_(config.experiment),
                )
            ).all()
            admins = self.settings.admins.among(
                team,
                session.execute(
                    select(Person.user_id, Person.is_admin).where(
                        Person.workspace_id == workspace_id, Person.is_bot.is_(False), Person.deleted.is_(False)
                    )
                ).all(),
            )
        people = Counter(arm_of.values())
        loads = [
            ArmReport(
                arm,
                people[arm],
                *(0,) * 7,
                **asking_for_less([(u, a) for u, a, sent_arm in asked if sent_arm == arm]),
                stopped=arm in config.stopped_arms,
            )
            for arm in config.experiment
        ]
        warnings = overloads(loads)
        if not warnings:
            return
        stamp = f"{started:%Y%m%d%H%M}" if started else "-".join(config.experiment)
        keys = {(admin, f"{w.arm}:{stamp}"): w for admin in admins for w in warnings}
        told = self.ledger.settled(workspace_id, "overload", set(keys), now)
        for (admin, period), warning in keys.items():
            if (admin, period) in told:
                continue

            def send(_send_id: int, _prompt: str | None, admin=admin, warning=warning) -> None:
                self.notifier.overload(team, admin, warning)

            outcome = self.ledger.deliver(workspace_id, admin, "overload", period, now, send)
            report.outcomes.append((admin, "", f"overload warning ({warning.arm} arm): {outcome}"))
