"""The nudge clock end to end: the real NudgeService and SlackNotifier talking HTTP to the fake Slack, on a real
database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set). Time is injected: every tick is given its instant
and the services read the same clock, so weeks pass in milliseconds."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from bot.app import slack_services
from bot.console.fake_slack import Call, FakeSlack, user
from bot.console.team import ALICE, BOB, CAROL, DANI, ED, FEMI, ROBOT
from bot.core.ledger import IN_DOUBT, MAX_ATTEMPTS
from bot.core.model import Team, ThanksRequest, TickReport
from bot.core.policy import arm_for
from bot.core.services import Services
from bot.store.db import Store
from bot.store.models import Person, Send
from tests.conftest import BOT_TOKEN, Clock
from tests.test_cli import bot_env, run_bot

TEAM = Team("slack", "T0SAMPLE")
# Week 151 since the policy's epoch Monday, the second week of a fortnight: 10:30 in London (Alice, Bob, Femi),
# 16:00 in Kolkata (Carol), 05:30 in New York (Dani).
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
NY_MORNING = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York; 15:00 in London is after hours
KOLKATA_MORNING = datetime(2026, 11, 25, 4, 30, tzinfo=UTC)  # Wednesday 10:00 in Kolkata; 04:30 in London
NUDGE_BUTTONS = ["Suggest a change", "Thank someone", "Not this week", "Fewer of these", "Stop"]


def weeks_later(at: datetime, weeks: int, days: int = 0, minutes: int = 0) -> datetime:
    return at + timedelta(weeks=weeks, days=days, minutes=minutes)


def reasons(report: TickReport) -> dict[str, str]:
    return {user_id: reason for user_id, _, reason in report.outcomes}


def buttons(call: Call) -> list[dict]:
    message_blocks = call.params.get("blocks") or []
    if isinstance(message_blocks, str):
        message_blocks = json.loads(message_blocks)
    return [e for b in message_blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


def set_status(fake: FakeSlack, user_id: str, emoji: str = "", text: str = "") -> None:
    """Change a status as Slack would; a copy, because the sample team's profile dicts are shared."""
    person = fake.users[user_id]
    fake.users[user_id] = person | {"profile": person["profile"] | {"status_emoji": emoji, "status_text": text}}


@dataclass
class Bot:
    """The clock's services on one database, and what the fake Slack saw."""

    services: Services
    fake: FakeSlack
    clock: Clock
    store: Store
    sleeps: list[float] = field(default_factory=list)

    def tick(self, at: datetime, dry_run: bool = False) -> TickReport:
        self.clock.at = at
        return self.services.nudges.tick(TEAM, at, dry_run=dry_run)

    def dms(self, user_id: str | None = None) -> list[Call]:
        """Messages that reached someone (chat.postMessage calls the fake answered ok)."""
        return [c for c in self.attempts(user_id) if "_failed" not in c.params]

    def attempts(self, user_id: str | None = None) -> list[Call]:
        return [c for c in self.fake.calls_to("chat.postMessage") if user_id is None or c.params["channel"] == user_id]

    def dm_counts(self) -> Counter:
        return Counter(c.params["channel"] for c in self.dms())

    def sends(self, user_id: str | None = None) -> list[Send]:
        with self.store.session() as session:
            query = select(Send).order_by(Send.id)
            if user_id:
                query = query.where(Send.user_id == user_id)
            return list(session.scalars(query))

    def person(self, user_id: str) -> Person:
        with self.store.session() as session:
            return session.scalars(select(Person).where(Person.user_id == user_id)).one()

    def respond(self, user_id: str, action: str, at: datetime, kind: str = "nudge") -> str:
        """A click on the person's latest message of this kind, at this instant."""
        self.clock.at = at
        send = [s for s in self.sends(user_id) if s.kind == kind and s.state == "sent"][-1]
        return self.services.nudges.respond(TEAM, send.id, user_id, action)


def make_bot(settings, store: Store, clock: Clock, fake: FakeSlack, sleep=None) -> Bot:
    sleeps: list[float] = []
    services = slack_services(settings, store, now=clock, sleep=sleep or sleeps.append).services
    return Bot(services, fake, clock, store, sleeps)


@pytest.fixture
def bot(fake_slack, store, clock, settings) -> Bot:
    return make_bot(settings, store, clock, fake_slack)


# -- the first tick and its timezones ---------------------------------------------------------------------------


def test_a_first_tick_on_a_fresh_database_learns_the_team_page_by_page_and_nudges_those_in_working_hours(bot):
    for n in range(210):  # more than one users.list page; 23:30 in Auckland, so none of them is due
        bot.fake.add_user(user(f"U1{n:03d}", f"Kiri {n}", tz="Pacific/Auckland"))

    report = bot.tick(TUESDAY)

    pages = bot.fake.calls_to("users.list")
    assert len(pages) >= 2 and all(page.params.get("cursor") for page in pages[1:])
    with bot.store.session() as session:
        assert session.scalar(select(func.count(Person.id))) == 218
    assert bot.person(CAROL).tz == "Asia/Kolkata" and bot.person(DANI).tz == "America/New_York"
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}
    why = reasons(report)
    assert why[ALICE] == why[BOB] == why[FEMI] == "sent"
    assert why[CAROL] == "outside working hours in Asia/Kolkata"
    assert why[DANI] == "outside working hours in America/New_York"
    assert why[ED] == "deactivated"
    assert why[ROBOT] == why["USLACKBOT"] == "bot"
    assert why["U1000"] == "outside working hours in Pacific/Auckland"
    assert report.sent == 3 and report.failed == 0
    assert bot.sleeps == [0.2, 0.2, 0.2]  # five a second by default: a pause after each DM

    # 10:00 in New York is inside Dani's hours; 15:00 in London is already outside the Londoners'.
    why = reasons(bot.tick(NY_MORNING))
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1, DANI: 1}
    assert why[ALICE] == "outside working hours in Europe/London"

    # One minute before ten in Kolkata Carol waits; at ten she hears.
    why = reasons(bot.tick(KOLKATA_MORNING - timedelta(minutes=1)))
    assert why[CAROL] == "outside working hours in Asia/Kolkata"
    bot.tick(KOLKATA_MORNING)
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1, DANI: 1, CAROL: 1}


def test_the_same_tick_again_or_later_in_the_period_sends_nothing_more(bot):
    first = bot.tick(TUESDAY)
    assert first.sent == 3
    for at in (TUESDAY, TUESDAY, TUESDAY + timedelta(minutes=5), TUESDAY + timedelta(days=1, hours=4)):
        report = bot.tick(at)
        assert report.sent == 0
        assert reasons(report)[ALICE] != "sent"
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}
    assert sorted((s.user_id, s.kind, s.state) for s in bot.sends()) == [
        (ALICE, "nudge", "sent"),
        (BOB, "nudge", "sent"),
        (FEMI, "nudge", "sent"),
    ]


def test_fortnightly_means_two_weeks_between_nudges_even_when_the_first_came_late_in_a_fortnight(bot):
    bot.tick(TUESDAY)  # the second week of a fortnight
    a_week_on = reasons(bot.tick(weeks_later(TUESDAY, 1, minutes=5)))  # the first week of the next fortnight
    assert a_week_on[ALICE] == "already nudged this period"
    bot.tick(weeks_later(TUESDAY, 2))
    assert bot.dm_counts() == {ALICE: 2, BOB: 2, FEMI: 2}
    [first, second] = bot.dms(ALICE)
    assert buttons(first)[0]["value"] != buttons(second)[0]["value"]


# -- two clocks --------------------------------------------------------------------------------------------------


def test_two_clocks_ticking_at_once_never_send_anyone_twice(fake_slack, database_url, clock, settings):
    londoners = [fake_slack.add_user(user(f"U2{n:03d}", f"Lou {n}"))["id"] for n in range(30)]
    stores = [Store.from_url(database_url) for _ in range(2)]
    bots = [make_bot(settings, s, clock, fake_slack, sleep=lambda _: None) for s in stores]
    start = threading.Barrier(2)
    reports: list[TickReport | None] = [None, None]
    errors: list[BaseException] = []

    def clock_process(i: int) -> None:
        try:
            start.wait()
            reports[i] = bots[i].services.nudges.tick(TEAM, TUESDAY)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=clock_process, args=(i,)) for i in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        due = {ALICE, BOB, FEMI, *londoners}
        assert bots[0].dm_counts() == dict.fromkeys(due, 1)
        assert sum(r.sent for r in reports) == len(due)
        keys = [(s.user_id, s.kind, s.period) for s in bots[0].sends()]
        assert len(keys) == len(set(keys)) == len(due)
        assert {s.state for s in bots[0].sends()} == {"sent"}
    finally:
        for s in stores:
            s.engine.dispose()


def test_a_second_clock_while_the_first_is_mid_tick_leaves_its_sends_alone(fake_slack, database_url, clock, settings):
    paused, carry_on = threading.Event(), threading.Event()

    def pause_after_first_dm(_seconds: float) -> None:
        if not paused.is_set():
            paused.set()
            carry_on.wait(30)

    stores = [Store.from_url(database_url) for _ in range(2)]
    first = make_bot(settings, stores[0], clock, fake_slack, sleep=pause_after_first_dm)
    second = make_bot(settings, stores[1], clock, fake_slack, sleep=lambda _: None)
    result: dict[str, TickReport] = {}
    ticking = threading.Thread(target=lambda: result.update(first=first.services.nudges.tick(TEAM, TUESDAY)))
    try:
        ticking.start()
        assert paused.wait(30)
        [dm] = first.dms()
        done = dm.params["channel"]
        others = {ALICE, BOB, FEMI} - {done}

        later = second.services.nudges.tick(TEAM, TUESDAY + timedelta(minutes=1))

        if stores[0].engine.dialect.name == "postgresql":
            assert later.skipped_locked and later.outcomes == []  # the advisory lock: one clock at a time
            assert first.dm_counts() == {done: 1}
        else:
            assert reasons(later)[done] != "sent" and {reasons(later)[o] for o in others} == {"sent"}
        carry_on.set()
        ticking.join(30)
        assert first.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}
        if stores[0].engine.dialect.name != "postgresql":
            # The first clock planned before the second sent: the ledger, not the plan, stopped a second DM.
            assert {reasons(result["first"])[o] for o in others} == {"already sent"}
        assert len(first.sends()) == 3
    finally:
        carry_on.set()
        for s in stores:
            s.engine.dispose()


# -- crashes and failures ------------------------------------------------------------------------------------------


def test_a_send_recorded_but_never_made_goes_out_exactly_once_on_the_next_tick(bot):
    bot.clock.at = TUESDAY - timedelta(minutes=15)
    bot.services.nudges.sync_people(TEAM)
    decisions = {person.user_id: decision for person, decision in bot.services.nudges.plan(TEAM, TUESDAY)}
    workspace_id = bot.store.workspace_id(TEAM.platform, TEAM.external_id)
    with bot.store.session() as session:
        # A clock recorded Alice's nudge and died before sending; another was sending Bob's two minutes ago.
        crashed = Send(
            workspace_id=workspace_id,
            user_id=ALICE,
            kind="nudge",
            period=decisions[ALICE].period,
            state="pending",
            attempts=0,
            created_at=TUESDAY - timedelta(minutes=5),
        )
        in_flight = Send(
            workspace_id=workspace_id,
            user_id=BOB,
            kind="nudge",
            period=decisions[BOB].period,
            state="sending",
            attempts=1,
            created_at=TUESDAY - timedelta(minutes=2),
            claimed_at=TUESDAY - timedelta(minutes=2),
        )
        session.add_all([crashed, in_flight])
        session.flush()
        crashed_id, in_flight_id = crashed.id, in_flight.id

    why = reasons(bot.tick(TUESDAY))

    [dm] = bot.dms(ALICE)
    assert {b["value"] for b in buttons(dm)} == {str(crashed_id)}  # the recorded send, not a new one
    assert why[BOB] == "being sent by another clock" and bot.dms(BOB) == []
    # Ten minutes after that clock claimed Bob's send it is taken to have died mid-send: Slack may have Bob's nudge
    # already, so it is never sent again. A nudge missed is better than one twice.
    bot.tick(TUESDAY + timedelta(minutes=9))
    later = reasons(bot.tick(TUESDAY + timedelta(minutes=14)))
    assert later[BOB] == IN_DOUBT and bot.dms(BOB) == []
    assert bot.dm_counts() == {ALICE: 1, FEMI: 1}  # Femi's nudge went as any other
    assert [(s.id, s.state) for s in bot.sends() if s.user_id != FEMI] == [
        (crashed_id, "sent"),
        (in_flight_id, "sending"),
    ]


def test_a_server_error_after_retries_leaves_the_send_pending_and_a_later_tick_delivers_it(bot):
    bot.fake.fail("chat.postMessage", "internal_error", status=500, times=3)  # the first try and both retries

    report = bot.tick(NY_MORNING)  # only Dani is in working hours

    assert reasons(report)[DANI] == "failed: internal_error (will retry)" and report.failed == 1
    assert len(bot.attempts(DANI)) == 3 and bot.dms(DANI) == []
    [row] = bot.sends(DANI)
    assert (row.state, row.error, row.attempts) == ("pending", "internal_error", 1)

    assert reasons(bot.tick(NY_MORNING + timedelta(minutes=5)))[DANI] == "sent"
    bot.tick(NY_MORNING + timedelta(minutes=10))
    [dm] = bot.dms(DANI)
    assert {b["value"] for b in buttons(dm)} == {str(row.id)}
    [row] = bot.sends(DANI)
    assert (row.state, row.error, row.attempts) == ("sent", None, 2)


def test_a_send_that_keeps_failing_is_given_up_after_a_few_attempts(bot):
    bot.fake.fail("chat.postMessage", "internal_error", times=20)  # ok: false with HTTP 200, so no SDK retry
    for minutes in range(0, 5 * (MAX_ATTEMPTS + 2), 5):
        report = bot.tick(NY_MORNING + timedelta(minutes=minutes))
    assert len(bot.attempts(DANI)) == MAX_ATTEMPTS
    assert reasons(report)[DANI] == f"not sent: gave up after {MAX_ATTEMPTS} attempts (internal_error)"
    assert report.failed == 0


def test_a_permanent_error_is_recorded_and_never_retried(bot):
    bot.fake.fail("chat.postMessage", "account_inactive")

    report = bot.tick(NY_MORNING)

    assert reasons(report)[DANI] == "failed: account_inactive" and report.failed == 1
    [row] = bot.sends(DANI)
    assert (row.state, row.error) == ("failed", "account_inactive")
    for at in (NY_MORNING + timedelta(minutes=5), NY_MORNING + timedelta(days=1), NY_MORNING + timedelta(days=2)):
        later = bot.tick(at)
        assert reasons(later)[DANI] == "not sent: account_inactive (permanent)"
        assert later.failed == 0
    assert len(bot.attempts(DANI)) == 1
    assert [(s.state, s.error) for s in bot.sends(DANI)] == [("failed", "account_inactive")]


def test_a_rate_limited_send_waits_for_retry_after_and_is_delivered_once(bot):
    bot.fake.fail("chat.postMessage", "ratelimited", status=429, retry_after=1)

    started = time.monotonic()
    report = bot.tick(NY_MORNING)
    waited = time.monotonic() - started

    assert waited >= 1.0
    assert reasons(report)[DANI] == "sent" and report.sent == 1
    assert len(bot.attempts(DANI)) == 2 and len(bot.dms(DANI)) == 1
    [row] = bot.sends(DANI)
    assert (row.state, row.attempts) == ("sent", 1)


# -- who is left alone ---------------------------------------------------------------------------------------------


def test_do_not_disturb_and_an_away_status_hold_a_nudge_back_until_they_are_over(bot):
    bot.tick(TUESDAY - timedelta(hours=10))  # learns the team at 00:30 UTC, outside everyone's hours
    now = int(time.time())  # Slack's DND times are real epoch seconds
    bot.fake.dnd[ALICE] = {"snooze_enabled": True, "snooze_endtime": now + 3600}
    set_status(bot.fake, BOB, emoji=":palm_tree:")  # after the daily sync: only a fresh users.info sees it

    why = reasons(bot.tick(TUESDAY))

    assert (why[ALICE], why[BOB]) == ("do not disturb", "away status")
    assert bot.person(BOB).status_emoji == ""  # the database still has the status from the night's sync
    assert bot.dm_counts() == {FEMI: 1} and [s.user_id for s in bot.sends()] == [FEMI]  # neither Alice nor Bob

    bot.fake.dnd.clear()
    set_status(bot.fake, BOB)
    bot.tick(TUESDAY + timedelta(minutes=5))
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}

    # Scheduled do-not-disturb hours, and an away status in words.
    bot.fake.dnd[DANI] = {"dnd_enabled": True, "next_dnd_start_ts": now - 60, "next_dnd_end_ts": now + 3600}
    assert reasons(bot.tick(NY_MORNING))[DANI] == "do not disturb"
    set_status(bot.fake, CAROL, text="Annual leave")
    assert reasons(bot.tick(KOLKATA_MORNING))[CAROL] == "away status"
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}


def test_an_away_status_cleared_since_the_daily_sync_does_not_hold_a_nudge_back(bot):
    set_status(bot.fake, BOB, emoji=":palm_tree:", text="On holiday")
    bot.tick(TUESDAY - timedelta(hours=10))  # the night's sync stores Bob's holiday status
    assert bot.person(BOB).status_emoji == ":palm_tree:"

    set_status(bot.fake, BOB)  # back at work on Tuesday morning
    why = reasons(bot.tick(TUESDAY))
    assert why[BOB] == "sent" and bot.dm_counts()[BOB] == 1


def test_guests_are_not_nudged_unless_the_workspace_allows_it(bot):
    bot.fake.add_user(user("U0GUEST", "Gus Guest", is_restricted=True))
    bot.fake.add_user(user("U0SINGLE", "Sam Single", is_restricted=True, is_ultra_restricted=True))

    why = reasons(bot.tick(TUESDAY))

    assert why["U0GUEST"] == why["U0SINGLE"] == "guest"
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1}

    bot.services.workspaces.update(TEAM, DANI, {"nudge_guests": True})
    bot.tick(TUESDAY + timedelta(minutes=5))
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, FEMI: 1, "U0GUEST": 1, "U0SINGLE": 1}


def test_people_who_thanked_or_suggested_a_change_this_period_are_not_nudged(bot):
    bot.clock.at = TUESDAY - timedelta(weeks=2)  # a thank-you from an earlier fortnight does not count
    bot.services.thanks.give(TEAM, ThanksRequest(DANI, (ALICE,), "for the handover notes"))
    monday = TUESDAY - timedelta(days=1)
    assert reasons(bot.tick(monday))[ALICE] == "not a working day"
    bot.services.thanks.give(TEAM, ThanksRequest(ALICE, (BOB,), "for covering my home visit"))
    bot.services.changes.suggest(TEAM, CAROL, "one shared visit diary")

    assert reasons(bot.tick(TUESDAY))[ALICE] == "recently active"
    bot.tick(NY_MORNING)
    assert reasons(bot.tick(KOLKATA_MORNING))[CAROL] == "recently active"
    assert bot.dm_counts() == {BOB: 1, DANI: 1, FEMI: 1}

    # In the next fortnight their thanks and idea are old news.
    bot.tick(weeks_later(TUESDAY, 1))
    bot.tick(weeks_later(KOLKATA_MORNING, 1))
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, CAROL: 1, DANI: 1, FEMI: 1}


# -- the message and its answers -----------------------------------------------------------------------------------


def test_the_nudge_dm_has_five_buttons_carrying_its_send_id(bot):
    bot.tick(TUESDAY)
    [dm] = bot.dms(ALICE)
    [row] = bot.sends(ALICE)
    assert [b["text"]["text"] for b in buttons(dm)] == NUDGE_BUTTONS
    assert {b["value"] for b in buttons(dm)} == {str(row.id)}
    assert dm.params["text"] in bot.services.workspaces.get(TEAM).prompts
    assert row.prompt == dm.params["text"]


def test_not_this_week_holds_nudges_back_until_next_monday(bot):
    bot.tick(TUESDAY)
    a_fortnight_on = weeks_later(TUESDAY, 2)
    # Alice answers her old nudge on the Monday her next one is due: not this week.
    answer = bot.respond(ALICE, "snooze", at=a_fortnight_on - timedelta(days=1))
    assert "Monday 14 December" in answer

    assert reasons(bot.tick(a_fortnight_on))[ALICE] == "snoozed"
    assert reasons(bot.tick(a_fortnight_on + timedelta(days=2)))[ALICE] == "snoozed"
    assert bot.dm_counts() == {ALICE: 1, BOB: 2, FEMI: 2}
    bot.tick(weeks_later(TUESDAY, 3))
    assert bot.dm_counts() == {ALICE: 2, BOB: 2, FEMI: 2}


def test_fewer_of_these_moves_a_person_to_a_longer_period(bot):
    bot.tick(TUESDAY)
    assert "monthly" in bot.respond(ALICE, "fewer", at=TUESDAY + timedelta(hours=1))
    assert bot.person(ALICE).cadence == "monthly"
    weeks_with_a_nudge: dict[str, list[int]] = {ALICE: [0], BOB: [0]}
    for week in range(1, 6):
        before = bot.dm_counts()
        bot.tick(weeks_later(TUESDAY, week))
        for who in (ALICE, BOB):
            if bot.dm_counts()[who] > before[who]:
                weeks_with_a_nudge[who].append(week)
    assert weeks_with_a_nudge[ALICE] == [0, 4]  # monthly from now on
    assert weeks_with_a_nudge[BOB] == [0, 2]  # fortnightly, then backing off after two unanswered


def test_stop_opts_out_and_start_again_brings_nudges_back_in_a_later_period(bot):
    bot.tick(TUESDAY)
    assert "no more nudges" in bot.respond(ALICE, "stop", at=TUESDAY + timedelta(hours=1))

    next_fortnight = weeks_later(TUESDAY, 2)
    assert reasons(bot.tick(next_fortnight))[ALICE] == "opted out"
    assert bot.dm_counts() == {ALICE: 1, BOB: 2, FEMI: 2}

    assert "Welcome back" in bot.respond(ALICE, "resume", at=next_fortnight + timedelta(minutes=30))
    assert reasons(bot.tick(next_fortnight + timedelta(minutes=35)))[ALICE] == "sent"
    assert bot.dm_counts() == {ALICE: 2, BOB: 2, FEMI: 2}


def test_unanswered_nudges_back_off_then_one_stop_check_then_silence(bot):
    history: list[tuple[str, str]] = []  # (date, kind) of each DM to Alice
    last: dict[str, str] = {}
    for week in range(16):
        for day in range(3):  # Tuesday, Wednesday, Thursday at 10:30 in London
            at = weeks_later(TUESDAY, week, days=day)
            seen = len(bot.dms(ALICE))
            why = reasons(bot.tick(at))
            last[at.date().isoformat()] = why[ALICE]
            for dm in bot.dms(ALICE)[seen:]:
                history.append((at.date().isoformat(), "stop check" if "Shall I stop?" in dm.text() else "nudge"))

    # Fortnightly, then after two unanswered every four weeks; after four, one "shall I stop?" and no more.
    assert history == [
        ("2026-11-24", "nudge"),
        ("2026-12-08", "nudge"),
        ("2027-01-05", "nudge"),
        ("2027-02-02", "nudge"),
        ("2027-02-10", "stop check"),
    ]
    [check] = [s for s in bot.sends(ALICE) if s.kind == "stop_check"]
    assert check.state == "sent"
    # The stop check waited for the weekly cap: at most one message in any 7 days, whatever its kind.
    assert last["2027-02-03"] == last["2027-02-04"] == last["2027-02-09"] == "weekly cap reached"
    assert last["2027-03-11"] == "backed off: no answer to 4 nudges"
    assert bot.dm_counts()[ALICE] == bot.dm_counts()[BOB] == 5


def test_the_weekly_cap_spans_the_stop_check_and_the_nudge_after_it(bot):
    bot.clock.at = TUESDAY - timedelta(hours=2)
    bot.services.nudges.sync_people(TEAM)
    workspace_id = bot.store.workspace_id(TEAM.platform, TEAM.external_id)
    two_weeks_ago = TUESDAY - timedelta(weeks=2)
    with bot.store.session() as session:  # Alice's fourth unanswered nudge went out two weeks ago
        session.add(
            Send(
                workspace_id=workspace_id,
                user_id=ALICE,
                kind="nudge",
                period="2w74",
                state="sent",
                attempts=1,
                created_at=two_weeks_ago,
                sent_at=two_weeks_ago,
            )
        )
        session.execute(update(Person).where(Person.user_id == ALICE).values(unanswered=4))

    bot.tick(TUESDAY)
    [check] = bot.dms(ALICE)
    assert "Shall I stop?" in check.text()
    assert [b["text"]["text"] for b in buttons(check)] == ["Yes, stop", "Keep them coming"]
    assert "keep them coming" in bot.respond(ALICE, "stop_no", at=TUESDAY + timedelta(hours=1), kind="stop_check")

    # A nudge is due again, but not within 7 days of the stop check.
    for at in (TUESDAY + timedelta(days=1), TUESDAY + timedelta(days=2), weeks_later(TUESDAY, 1, minutes=-1)):
        assert reasons(bot.tick(at))[ALICE] == "weekly cap reached"
    assert reasons(bot.tick(weeks_later(TUESDAY, 1, minutes=1)))[ALICE] == "sent"
    assert [buttons(dm)[0]["text"]["text"] for dm in bot.dms(ALICE)] == ["Yes, stop", NUDGE_BUTTONS[0]]


# -- measuring -------------------------------------------------------------------------------------------------


def test_the_report_counts_nudges_and_answers_per_experiment_arm(bot):
    arms = ("fortnightly", "monthly")
    assert bot.services.workspaces.update(TEAM, DANI, {"experiment": list(arms)}) == ["experiment"]
    arm_of = {u: arm_for(TEAM.external_id, u, arms) for u in (ALICE, BOB, CAROL, DANI, FEMI)}
    assert arm_of == {ALICE: "monthly", BOB: "monthly", CAROL: "fortnightly", DANI: "fortnightly", FEMI: "fortnightly"}

    for at in (TUESDAY, NY_MORNING, KOLKATA_MORNING):
        bot.tick(at)
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, CAROL: 1, DANI: 1, FEMI: 1}
    assert {s.user_id: s.arm for s in bot.sends()} == arm_of

    bot.respond(ALICE, "snooze", at=TUESDAY + timedelta(hours=1))  # an answer within 48 hours
    bot.respond(DANI, "stop", at=NY_MORNING + timedelta(hours=20))
    bot.clock.at = KOLKATA_MORNING + timedelta(days=1)  # Carol thanks someone the day after her nudge
    bot.services.thanks.give(TEAM, ThanksRequest(CAROL, (ALICE,), "for the visit diary"))
    bot.services.changes.suggest(TEAM, CAROL, "one shared visit diary")
    bot.clock.at = TUESDAY + timedelta(days=9)  # Bob thanks someone, but long after his nudge
    bot.services.thanks.give(TEAM, ThanksRequest(BOB, (DANI,), "for the lift"))

    report = {arm.arm: arm for arm in bot.services.nudges.report(TEAM)}

    assert list(report) == ["fortnightly", "monthly"]
    fortnightly, monthly = report["fortnightly"], report["monthly"]
    assert (monthly.people, monthly.nudges, monthly.responded, monthly.snoozes) == (2, 2, 1, 1)
    assert (monthly.opt_outs, monthly.thanks, monthly.ideas) == (0, 1, 0)
    assert (fortnightly.people, fortnightly.nudges, fortnightly.responded, fortnightly.snoozes) == (3, 3, 2, 0)
    assert (fortnightly.opt_outs, fortnightly.thanks, fortnightly.ideas) == (1, 1, 1)
    assert monthly.response_rate == 0.5 and fortnightly.response_rate == pytest.approx(2 / 3)  # Femi did not answer

    # Each arm keeps its own cadence: two weeks on, only the fortnightly arm hears again (Dani stopped).
    bot.tick(weeks_later(TUESDAY, 2))
    bot.tick(weeks_later(KOLKATA_MORNING, 2))
    assert bot.dm_counts() == {ALICE: 1, BOB: 1, CAROL: 2, DANI: 1, FEMI: 2}


def test_a_nudge_is_answered_up_to_48_hours_on_both_ends_included_and_not_a_microsecond_later(bot):
    bot.tick(TUESDAY)
    sent = {s.user_id: s.sent_at for s in bot.sends()}
    assert sent == {ALICE: TUESDAY, BOB: TUESDAY, FEMI: TUESDAY}
    deadline = TUESDAY + timedelta(hours=48)
    bot.clock.at = deadline
    bot.services.thanks.give(TEAM, ThanksRequest(ALICE, (BOB,), "for the cover"))  # answers, just
    bot.services.changes.suggest(TEAM, FEMI, "one shared visit diary")  # answers, just
    bot.clock.at = deadline + timedelta(microseconds=1)
    bot.services.thanks.give(TEAM, ThanksRequest(BOB, (ALICE,), "for the lift"))  # too late to answer
    bot.respond(BOB, "snooze", at=deadline + timedelta(microseconds=1))  # so is his click

    [everyone] = bot.services.nudges.report(TEAM)

    assert (everyone.nudges, everyone.responded, everyone.thanks, everyone.ideas, everyone.snoozes) == (3, 2, 2, 1, 1)
    # A window ending at the deadline leaves out what came at it: no answers, no thanks, no ideas.
    [until] = bot.services.nudges.report(TEAM, since=TUESDAY, until=deadline)
    assert (until.nudges, until.responded, until.thanks, until.ideas) == (3, 0, 0, 0)


# -- the command line ------------------------------------------------------------------------------------------


def test_run_nudges_dry_run_on_a_fresh_database_says_who_would_hear_and_why_not_and_sends_nothing(tmp_path, fake_slack):
    fake_slack.dnd[BOB] = {"snooze_enabled": True, "snooze_endtime": int(time.time()) + 3600}
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}",
    )

    result = run_bot(tmp_path, "run", "nudges", "--at", "2026-11-24T10:30:00+00:00", "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    for line in (
        "Alice (U0ALICE): would nudge",
        "Bob (U0BOB): do not disturb",
        "Carol (U0CAROL): outside working hours in Asia/Kolkata",
        "Dani (U0DANI): outside working hours in America/New_York",
        "Ed (U0ED): deactivated",
        "Femi (U0FEMI): would nudge",
        "Rota (U0ROBOT): bot",
    ):
        assert line in lines, result.stdout
    counts = {m[2]: int(m[1]) for m in (re.match(r"^\s*(\d+)  (.+)$", line) for line in lines) if m}
    assert counts == {
        "would nudge": 2,
        "do not disturb": 1,
        "outside working hours in Asia/Kolkata": 1,
        "outside working hours in America/New_York": 1,
        "deactivated": 1,
        "bot": 2,
    }
    assert fake_slack.calls_to("users.list")  # it learned the team first
    assert fake_slack.calls_to("chat.postMessage") == []
    with Store.from_url(f"sqlite:///{tmp_path / 'fresh.db'}").session() as session:
        assert session.scalar(select(func.count(Send.id))) == 0
        assert session.scalar(select(func.count(Person.id))) == 8
