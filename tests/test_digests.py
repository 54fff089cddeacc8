"""Managers' digests end to end: the real DigestService and SlackNotifier talking HTTP to the fake Slack, on a real
database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set). Time is injected, as for the nudges: the week of
16-22 November 2026 happens first, and its digest goes out from Tuesday 24 November."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from bot.app import slack_services
from bot.console.fake_slack import Call, FakeSlack, user
from bot.console.team import ALICE, BOB, CAROL, DANI, ED, FEMI
from bot.core.model import Team, ThanksRequest, TickReport
from bot.core.services import Services
from bot.store.db import Store
from bot.store.models import Change, ChangeEvent, Send, Thanks
from tests.conftest import BOT_TOKEN, Clock, make_settings
from tests.test_cli import bot_env, run_bot

TEAM = Team("slack", "T0SAMPLE")
FRAN, GEO = "U0FRAN", "U0GEO"
CHANNEL = "C0DIGEST"
LAST_WEEK = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # Wednesday of the week the first digest covers
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # 10:30 in London, 05:30 in New York
NY_MORNING = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York, after hours in London
SECRET = "covering my visit to the Hendersons while I was at the hospital"


def blocks_of(call: Call) -> list[dict]:
    found = call.params.get("blocks") or []
    return json.loads(found) if isinstance(found, str) else found


def buttons(call: Call) -> list[dict]:
    """Every button in a message, whether in an actions block or beside a section's text."""
    found = []
    for block in blocks_of(call):
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if (block.get("accessory") or {}).get("type") == "button":
            found.append(block["accessory"])
    return found


def reasons(report: TickReport) -> dict[str, str]:
    return {to: reason for to, _, reason in report.outcomes}


@dataclass
class Bot:
    services: Services
    fake: FakeSlack
    clock: Clock
    store: Store

    def thank(self, giver: str, recipients: tuple[str, ...], reason: str, at: datetime = LAST_WEEK, **extra):
        self.clock.at = at
        extra.setdefault("channel_id", CHANNEL)  # said in the digest channel unless a test says otherwise
        return self.services.thanks.give(TEAM, ThanksRequest(giver, recipients, reason, **extra))

    def tick(self, at: datetime = TUESDAY, dry_run: bool = False) -> TickReport:
        self.clock.at = at
        return self.services.digests.tick(TEAM, at, dry_run=dry_run)

    def digests(self, to: str | None = None) -> list[Call]:
        """Digests that reached a channel or a manager (chat.postMessage calls the fake answered ok)."""
        return [
            c
            for c in self.fake.calls_to("chat.postMessage")
            if "_failed" not in c.params and c.params["text"].startswith("Team digest")
            if to is None or c.params["channel"] == to
        ]

    def sends(self, kind: str = "digest") -> list[Send]:
        with self.store.session() as session:
            return list(session.scalars(select(Send).where(Send.kind == kind).order_by(Send.id)))


def make_bot(settings, store: Store, clock: Clock, fake: FakeSlack) -> Bot:
    services = slack_services(settings, store, now=clock, sleep=lambda _: None).services
    return Bot(services, fake, clock, store)


def add_colleagues(fake: FakeSlack, *names: str) -> list[str]:
    """More Londoners, for a team bigger than the sample team's five active people."""
    return [fake.add_user(user(f"U0{name.upper()}", f"{name} Smith"))["id"] for name in names]


@pytest.fixture
def bot(fake_slack, store, clock, settings) -> Bot:
    add_colleagues(fake_slack, "Fran", "Geo")  # seven active people: Alice, Bob, Carol, Dani, Femi, Fran, Geo
    made = make_bot(settings, store, clock, fake_slack)
    made.services.workspaces.update(TEAM, DANI, {"managers": [ALICE, DANI], "digest_channel": CHANNEL})
    return made


# -- when and to whom --------------------------------------------------------------------------------------------


def test_the_weekly_digest_reaches_each_manager_in_their_own_working_hours_and_the_channel_once(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota #supportive")

    monday = reasons(bot.tick(TUESDAY - timedelta(days=1)))
    assert monday == {ALICE: "not a working day", DANI: "not a working day", CHANNEL: "not a working day"}

    first = reasons(bot.tick(TUESDAY))
    assert first == {ALICE: "sent", CHANNEL: "sent", DANI: "outside working hours in America/New_York"}
    [digest] = bot.digests(ALICE)
    assert "Team digest: 16 Nov–22 Nov 2026" in digest.text()

    for at in (TUESDAY, TUESDAY + timedelta(minutes=5), TUESDAY + timedelta(days=1)):
        again = reasons(bot.tick(at))
        assert again[ALICE] == again[CHANNEL] == "already sent"
    assert reasons(bot.tick(NY_MORNING))[DANI] == "sent"
    assert [c.params["channel"] for c in bot.digests()] == [ALICE, CHANNEL, DANI]
    assert sorted((s.user_id, s.period, s.state) for s in bot.sends()) == [
        (CHANNEL, "1w151", "sent"),
        (ALICE, "1w151", "sent"),
        (DANI, "1w151", "sent"),
    ]

    # A week on, the next week's digest (someone was thanked in it).
    bot.thank(CAROL, (GEO,), "the lift to court", at=TUESDAY + timedelta(days=2))
    assert reasons(bot.tick(TUESDAY + timedelta(weeks=1)))[ALICE] == "sent"
    assert "Team digest: 23 Nov–29 Nov 2026" in bot.digests(ALICE)[-1].text()


def test_a_quiet_week_sends_nothing(bot):
    assert set(reasons(bot.tick(TUESDAY)).values()) == {
        "nothing to report",
        "outside working hours in America/New_York",
    }
    assert bot.digests() == [] and bot.sends() == []


def test_no_digest_without_a_channel_or_managers_and_none_when_off(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.services.workspaces.update(TEAM, DANI, {"digest_cadence": "off"})
    assert reasons(bot.tick()) == {ALICE: "digests are off", DANI: "digests are off", CHANNEL: "digests are off"}
    bot.services.workspaces.update(TEAM, DANI, {"digest_cadence": "weekly", "managers": [], "digest_channel": ""})
    assert reasons(bot.tick()) == {"": "no digest channel or managers set"}
    assert bot.digests() == []


def test_a_fortnightly_digest_covers_the_last_whole_fortnight_and_goes_once_a_fortnight(bot):
    bot.services.workspaces.update(TEAM, DANI, {"digest_cadence": "fortnightly"})
    a_week_ago = TUESDAY - timedelta(weeks=1)  # Tuesday 17 November: the first week of a new fortnight
    bot.thank(BOB, (FRAN,), "two weeks before", at=LAST_WEEK - timedelta(weeks=2))
    bot.thank(BOB, (GEO,), "the week before", at=LAST_WEEK - timedelta(weeks=1))
    bot.thank(BOB, (CAROL,), "this fortnight: not yet", at=a_week_ago - timedelta(hours=1))

    assert reasons(bot.tick(a_week_ago))[ALICE] == "sent"
    [digest] = bot.digests(ALICE)
    assert "Team digest: 2 Nov–15 Nov 2026" in digest.text()
    assert "2 thank-yous" in digest.text() and "not yet" not in digest.text()
    assert bot.sends()[0].period == "2w75"
    assert reasons(bot.tick(TUESDAY))[ALICE] == "already sent"
    assert reasons(bot.tick(TUESDAY + timedelta(weeks=1)))[ALICE] == "sent"
    assert "Team digest: 16 Nov–29 Nov 2026" in bot.digests(ALICE)[-1].text()


def test_the_channel_digest_goes_in_the_working_hours_of_most_of_the_team(bot):
    for n in range(8):  # now most of the team is in Kolkata
        bot.fake.add_user(user(f"U0K{n}", f"Kavya {n}", tz="Asia/Kolkata"))
    bot.thank(BOB, (FRAN,), "sorting the rota")
    assert reasons(bot.tick(TUESDAY))[CHANNEL] == "outside working hours in Asia/Kolkata"  # 16:00 there
    assert reasons(bot.tick(TUESDAY + timedelta(hours=18)))[CHANNEL] == "sent"  # Wednesday 10:00 in Kolkata


def test_a_deactivated_manager_gets_nothing_and_do_not_disturb_holds_a_digest_back(bot):
    bot.services.workspaces.update(TEAM, DANI, {"managers": [ALICE, ED]})
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.fake.dnd[ALICE] = {"snooze_enabled": True, "snooze_endtime": int(datetime.now(UTC).timestamp()) + 3600}
    why = reasons(bot.tick(TUESDAY))
    assert why[ED] == "deactivated" and why[ALICE] == "do not disturb" and why[CHANNEL] == "sent"
    bot.fake.dnd.clear()
    assert reasons(bot.tick(TUESDAY + timedelta(minutes=5)))[ALICE] == "sent"


def test_a_dry_run_says_who_would_get_a_digest_and_sends_nothing(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    report = bot.tick(TUESDAY, dry_run=True)
    assert reasons(report) == {
        ALICE: "would send the digest for 16 Nov–22 Nov 2026",
        CHANNEL: "would send the digest for 16 Nov–22 Nov 2026",
        DANI: "outside working hours in America/New_York",
    }
    assert bot.digests() == [] and bot.sends() == []


# -- failures ------------------------------------------------------------------------------------------------------


def test_a_failed_post_stays_pending_and_the_next_tick_sends_it_once(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.fake.fail("chat.postMessage", "internal_error")  # ok: false with HTTP 200: no SDK retry
    why = reasons(bot.tick(TUESDAY))
    assert why[ALICE] == "failed: internal_error (will retry)" and why[CHANNEL] == "sent"
    assert reasons(bot.tick(TUESDAY + timedelta(minutes=5)))[ALICE] == "sent"
    bot.tick(TUESDAY + timedelta(minutes=10))
    assert len(bot.digests(ALICE)) == 1
    assert [(s.user_id, s.state, s.attempts) for s in bot.sends() if s.user_id == ALICE] == [(ALICE, "sent", 2)]


def test_a_channel_the_bot_cannot_post_in_is_recorded_and_not_retried_that_week(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.fake.not_in.add(CHANNEL)
    assert reasons(bot.tick(TUESDAY))[CHANNEL] == "failed: not_in_channel"
    assert reasons(bot.tick(TUESDAY + timedelta(hours=1)))[CHANNEL] == "not sent: not_in_channel (permanent)"
    posts = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == CHANNEL]
    assert len(posts) == 1


# -- what a digest says --------------------------------------------------------------------------------------------


def test_a_private_thank_you_is_counted_but_never_quoted_or_attributed_anywhere(bot):
    bot.thank(CAROL, (GEO,), SECRET + " #honest", private=True)
    bot.thank(BOB, (FRAN,), "sorting the rota #supportive")

    bot.tick(TUESDAY)
    bot.tick(NY_MORNING)

    posted = bot.digests()
    assert {c.params["channel"] for c in posted} == {ALICE, DANI, CHANNEL}
    for call in posted:
        text = call.text()
        assert "Hendersons" not in text and "honest" not in text  # not its words, nor its value
        assert "2 thank-yous from 2 people to 2 people. 1 of them private." in text
        assert "Bob thanked Fran" in text or f"<@{BOB}> thanked <@{FRAN}>" in text
        # The private giver is never linked to a thank-you (she may be listed as not thanked herself).
        assert not [line for line in text.splitlines() if ("Carol" in line or CAROL in line) and "thanked" in line]
    [dm] = bot.digests(ALICE)
    thanked = [b["value"].split()[0] for b in buttons(dm) if b["action_id"] == "digest_personal_thanks"]
    assert thanked == [FRAN]  # thanked in private only: no "thanked by colleagues" line, no button
    unthanked = next(
        b["text"]["text"] for b in blocks_of(dm) if "No thanks in 8 weeks" in b.get("text", {}).get("text", "")
    )
    assert f"<@{GEO}>" not in unthanked  # he was thanked (privately): he is not listed as forgotten


def test_the_manager_dm_names_people_and_the_channel_only_counts_them(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.thank(ALICE, (FRAN, BOB), "cover on Friday")
    bot.tick(TUESDAY)
    [dm] = bot.digests(ALICE)
    [post] = bot.digests(CHANNEL)

    names = [
        b["text"]["text"] for b in blocks_of(dm) if b.get("accessory", {}).get("action_id") == "digest_personal_thanks"
    ]
    assert names == [f"<@{FRAN}>: 2 times", f"<@{BOB}>: 1 time"]
    bot.thank(BOB, (ALICE,), "the duty cover", at=TUESDAY + timedelta(days=1))
    bot.tick(TUESDAY + timedelta(weeks=1))
    [_, own] = bot.digests(ALICE)
    assert f"<@{ALICE}>: 1 time" in own.text()  # Alice reads that she was thanked, with no button to thank herself
    assert not [b for b in buttons(own) if b["action_id"] == "digest_personal_thanks"]
    assert f"*No thanks in 8 weeks:* <@{ALICE}>, <@{CAROL}>, <@{DANI}>, <@{FEMI}> and <@{GEO}>." in dm.text()

    assert "No thanks in 8 weeks" not in post.text() and "Thanked by colleagues" not in post.text()
    assert not [b for b in buttons(post) if b["action_id"] == "digest_personal_thanks"]
    assert "<@" not in post.text()  # names, not mentions: a digest in a channel pings nobody
    assert "Alice thanked Fran and Bob" in post.text()


def test_with_fewer_than_five_people_nobody_is_named_and_the_digest_says_why(fake_slack, store, clock, settings):
    femi = fake_slack.users.pop(FEMI)  # a team of four: Alice, Bob, Carol and Dani
    small = make_bot(settings, store, clock, fake_slack)
    small.services.workspaces.update(TEAM, DANI, {"managers": [ALICE], "digest_channel": CHANNEL})
    small.thank(BOB, (CAROL,), "sorting the rota")

    small.tick(TUESDAY)

    [dm] = small.digests(ALICE)
    assert "fewer than 5 people, so nobody is named" in dm.text()
    assert "No thanks in 8 weeks" not in dm.text() and "Thanked by colleagues" not in dm.text()
    assert not [b for b in buttons(dm) if b["action_id"] == "digest_personal_thanks"]
    assert "1 thank-you from 1 person to 1 person." in dm.text()

    # A fifth colleague joins (the clock learns the team daily): the lists appear.
    fake_slack.add_user(femi)
    small.services.nudges.sync_people(TEAM, force=True)
    small.thank(BOB, (CAROL,), "the lift to court", at=TUESDAY + timedelta(days=1))
    small.tick(TUESDAY + timedelta(weeks=1))
    later = small.digests(ALICE)[-1]
    assert "fewer than 5" not in later.text() and "No thanks in 8 weeks" in later.text()
    assert [b["value"].split()[0] for b in buttons(later) if b["action_id"] == "digest_personal_thanks"] == [CAROL]


def test_per_arm_figures_leave_out_arms_of_fewer_than_five(bot):
    add_colleagues(bot.fake, "L0", "L1", "L2")
    # Stable random arms: Alice, Bob, Fran, Geo, L0 and L2 are in "monthly"; Carol, Dani, Femi and L1 in "fortnightly".
    bot.services.workspaces.update(TEAM, DANI, {"experiment": ["fortnightly", "monthly"]})
    bot.clock.at = LAST_WEEK
    bot.services.nudges.tick(TEAM, LAST_WEEK)  # the eight in London hear; Carol and Dani are outside their hours

    bot.tick(TUESDAY)

    [dm] = bot.digests(ALICE)
    assert "*:seedling: Nudges:* 8 nudges went out." in dm.text()
    assert "Monthly arm (6 people): 6 nudges, 0% answered within 48 h" in dm.text()
    assert "Fortnightly arm" not in dm.text()
    assert "1 group of fewer than 5 people left out, so no one can be singled out." in dm.text()
    # What the experiment shows so far, in plain words (nine people is not enough to say anything).
    assert (
        "_The experiment so far: too few people to say anything yet: each arm needs at least 10 people and 10 "
        "nudges._" in dm.text()
    )


def test_the_attention_budget_counts_nudges_answers_and_requests_for_fewer(bot):
    bot.clock.at = LAST_WEEK - timedelta(days=1)  # Tuesday 17 November, 11:00 in London
    bot.services.nudges.tick(TEAM, bot.clock.at)
    nudged = [s for s in bot.sends("nudge") if s.state == "sent"]
    assert {s.user_id for s in nudged} == {ALICE, BOB, FEMI, FRAN, GEO}
    bot.clock.at = LAST_WEEK
    bot.services.nudges.respond(TEAM, nudged[0].id, nudged[0].user_id, "snooze")
    bot.services.nudges.respond(TEAM, nudged[1].id, nudged[1].user_id, "stop")

    bot.tick(TUESDAY)

    [post] = bot.digests(CHANNEL)
    assert "*:seedling: Nudges:* 5 nudges went out." in post.text()
    assert (
        "Everyone (7 people): 5 nudges, 40% answered within 48 h; asked for a break: 1 not this week, 0 fewer, "
        "1 stopped." in post.text()
    )


def test_gratitude_from_outside_is_shown_as_such_and_names_nobody_outside(bot):
    bot.thank(BOB, (FRAN,), "Passed on: thank you for helping with the move", source="family")
    bot.thank(CAROL, (GEO,), "Passed on: she loved the visit", source="family")
    bot.thank(ALICE, (BOB,), "Passed on from the school nurse team", source="agency")
    bot.tick(TUESDAY)
    [post] = bot.digests(CHANNEL)
    assert "3 passed on from outside the team: 2 from families, 1 from a partner agency." in post.text()
    assert "passed on thanks from a family to" in post.text()
    [dm] = bot.digests(ALICE)
    # Thanks from outside are not "thanked by colleagues": no prefilled personal thank-you quotes a family.
    assert not [b for b in buttons(dm) if b["action_id"] == "digest_personal_thanks"]


def test_small_changes_new_backed_owned_trying_adopted_and_stuck(bot):
    changes = bot.services.changes
    bot.clock.at = datetime(2026, 10, 1, 11, tzinfo=UTC)
    orphan = changes.suggest(TEAM, CAROL, "a shared template for visit notes")
    slow = changes.suggest(TEAM, BOB, "one duty phone for the week")
    changes.take_on(TEAM, slow.id, BOB)
    changes.set_status(TEAM, slow.id, BOB, "trying")  # and then nothing for weeks
    bot.clock.at = LAST_WEEK
    fresh = changes.suggest(TEAM, FRAN, "stand-up on Mondays only")
    changes.toggle_backing(TEAM, fresh.id, GEO)
    changes.take_on(TEAM, fresh.id, FRAN)
    changes.set_status(TEAM, fresh.id, FRAN, "trying")
    done = changes.suggest(TEAM, GEO, "a rota <b>everyone</b> can see & edit", anonymous=True)
    changes.take_on(TEAM, done.id, ALICE)
    changes.set_status(TEAM, done.id, ALICE, "adopted")

    bot.tick(TUESDAY)

    [dm] = bot.digests(ALICE)
    text = dm.text()
    assert "*:bulb: Small changes this week:* 2 new · 1 backed · 2 taken on · 1 being tried · 1 adopted" in text
    assert (
        f"*You said, we did:*\n• *a rota &lt;b&gt;everyone&lt;/b&gt; can see &amp; edit* (owned by <@{ALICE}>)" in text
    )
    assert "*Stuck (2):*" in text
    stuck = {b["value"]: b["action_id"] for b in buttons(dm) if b["action_id"] in ("digest_remind", "digest_take")}
    assert stuck == {str(orphan.id): "digest_take", str(slow.id): "digest_remind"}
    assert "_no owner after 53 days_" in text and "_being tried, no news for 53 days_" in text

    # Just under the thresholds, nothing is stuck.
    with bot.store.session() as session:
        session.execute(update(Change).values(created_at=TUESDAY - timedelta(days=13)))
        session.execute(update(Change).where(Change.id == slow.id).values(updated_at=TUESDAY - timedelta(days=29)))
        session.execute(update(ChangeEvent).values(at=TUESDAY - timedelta(days=29)))
    assert bot.services.digests.compute(TEAM, TUESDAY).stuck == ()


def test_a_digest_counts_toward_a_managers_nudge_cap_but_is_not_held_back_by_it(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    assert reasons(bot.tick(TUESDAY))[ALICE] == "sent"
    nudges = reasons(bot.services.nudges.tick(TEAM, TUESDAY + timedelta(minutes=5)))
    assert nudges[ALICE] == "weekly cap reached" and nudges[GEO] == "sent"

    # Dani is nudged at ten in New York, and her digest still goes out straight after.
    assert reasons(bot.services.nudges.tick(TEAM, NY_MORNING))[DANI] == "sent"
    assert reasons(bot.tick(NY_MORNING + timedelta(minutes=5)))[DANI] == "sent"


def test_a_big_digest_stays_inside_slacks_limits_and_escapes_what_people_typed(bot):
    people = add_colleagues(bot.fake, *(f"P{n:02d}" for n in range(40)))
    noisy = "<!channel> & <@U0ALICE> " + "x&" * 480  # escapes to far more than typed
    for n, person in enumerate(people):
        bot.thank(people[n - 1], (person,), noisy[:900] + f" #{['supportive', 'honest'][n % 2]}")
    bot.clock.at = datetime(2026, 10, 1, 11, tzinfo=UTC)
    for n in range(12):
        bot.services.changes.suggest(TEAM, BOB, f"idea {n} " + "&<>" * 300)

    bot.tick(TUESDAY)

    for call in bot.digests():
        message = blocks_of(call)
        assert len(message) <= 50
        for block in message:
            assert len((block.get("text") or {}).get("text", "")) <= 3000
        assert "<!channel>" not in call.text() and "&lt;!channel&gt;" in call.text()
    [dm] = bot.digests(ALICE)
    assert len([b for b in buttons(dm) if b["action_id"] == "digest_personal_thanks"]) == 10
    assert "…and 7 more: see `/smallchange list`." in dm.text()


def test_compute_is_callable_directly_for_the_console(bot):
    bot.thank(BOB, (FRAN,), "sorting the rota")
    bot.services.nudges.sync_people(TEAM)
    digest = bot.services.digests.compute(TEAM, TUESDAY)
    assert (digest.period, digest.thanks, digest.people, digest.span) == ("1w151", 1, 7, "16 Nov–22 Nov 2026")


def test_the_console_finds_when_the_digest_of_the_period_under_way_first_goes_out(bot):
    assert bot.services.digests.next_due(TEAM, TUESDAY).at == datetime(
        2026, 12, 1, 10, tzinfo=ZoneInfo("Europe/London")
    )
    # A fortnight's digest, its first working day a holiday: the next working day, in the first manager's hours.
    bot.services.workspaces.update(TEAM, DANI, {"digest_cadence": "fortnightly", "holidays": ["2026-12-01"]})
    due = bot.services.digests.next_due(TEAM, TUESDAY)
    assert (due.at, due.tz) == (datetime(2026, 12, 2, 10, tzinfo=ZoneInfo("Europe/London")), "Europe/London")
    assert (due.start, due.weeks) == (date(2026, 11, 16), 2)
    assert reasons(bot.tick(due.at - timedelta(minutes=1)))[ALICE] == "outside working hours in Europe/London"
    assert reasons(bot.tick(due.at))[ALICE] == "nothing to report"  # due from then (the fortnight was quiet)
    bot.services.workspaces.update(TEAM, DANI, {"digest_cadence": "off"})
    assert bot.services.digests.next_due(TEAM, TUESDAY) is None


# -- settings ------------------------------------------------------------------------------------------------------


def test_digest_channel_and_managers_can_come_from_the_environment_and_the_admins_choice_wins(fake_slack, store, clock):
    add_colleagues(fake_slack, "Fran", "Geo")
    settings = make_settings(fake_slack, digest_channel="C0ENV", manager_user_ids=(DANI,))
    bot = make_bot(settings, store, clock, fake_slack)
    bot.thank(BOB, (FRAN,), "sorting the rota")
    assert reasons(bot.tick(TUESDAY)) == {"C0ENV": "sent", DANI: "outside working hours in America/New_York"}

    bot.services.workspaces.update(TEAM, DANI, {"digest_channel": "", "managers": [ALICE]})
    bot.thank(BOB, (GEO,), "more", at=TUESDAY + timedelta(days=2))
    assert reasons(bot.tick(TUESDAY + timedelta(weeks=1))) == {ALICE: "sent"}


def test_run_digests_dry_run_from_the_command_line(tmp_path, fake_slack):
    add_colleagues(fake_slack, "Fran", "Geo")
    database = f"sqlite:///{tmp_path / 'digests.db'}"
    store = Store.from_url(database)
    store.migrate()
    seeded = make_bot(make_settings(fake_slack), store, Clock(LAST_WEEK), fake_slack)
    seeded.thank(BOB, (FRAN,), "sorting the rota")
    store.engine.dispose()
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database,
        DIGEST_CHANNEL=CHANNEL,
        MANAGER_USER_IDS=f"{ALICE},{DANI}",
    )
    fake_slack.clear()

    result = run_bot(tmp_path, "run", "digests", "--at", "2026-11-24T10:30:00+00:00", "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Alice (U0ALICE): would send the digest for 16 Nov–22 Nov 2026" in lines, result.stdout
    assert "channel (C0DIGEST): would send the digest for 16 Nov–22 Nov 2026" in lines
    assert "Dani (U0DANI): outside working hours in America/New_York" in lines
    assert fake_slack.calls_to("chat.postMessage") == []
    store = Store.from_url(database)
    with store.session() as session:
        assert session.scalar(select(func.count(Send.id))) == 0
        assert session.scalar(select(func.count(Thanks.id))) == 1
    store.engine.dispose()


def test_run_digests_sends_and_prints_what_happened(tmp_path, fake_slack):
    add_colleagues(fake_slack, "Fran", "Geo")
    database = f"sqlite:///{tmp_path / 'digests.db'}"
    store = Store.from_url(database)
    store.migrate()
    make_bot(make_settings(fake_slack), store, Clock(LAST_WEEK), fake_slack).thank(BOB, (FRAN,), "the rota")
    store.engine.dispose()
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database,
        DIGEST_CHANNEL=CHANNEL,
    )
    fake_slack.clear()

    result = run_bot(tmp_path, "run", "digests", "--at", "2026-11-24T10:30:00+00:00", env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sent 1, failed 0")
    [post] = fake_slack.calls_to("chat.postMessage")
    assert post.params["channel"] == CHANNEL and "1 thank-you from 1 person to 1 person." in post.text()


def test_the_channel_copy_quotes_only_thanks_said_in_that_channel(bot):
    bot.thank(BOB, (FRAN,), "the handover notes for the Monday panel", channel_id="C0PRIVATETEAM")
    bot.thank(CAROL, (GEO,), "sorting the court bundle", channel_id=CHANNEL)

    bot.tick(TUESDAY)

    channel_copy = bot.digests(CHANNEL)[0].text()
    assert "sorting the court bundle" in channel_copy
    assert "handover notes" not in channel_copy  # said in another (perhaps private) channel
    managers_copy = bot.digests(ALICE)[0].text()
    assert "handover notes" in managers_copy and "sorting the court bundle" in managers_copy


# -- what a manager may read -----------------------------------------------------------------------------------------

CASEWORK = "C0CASEWORK"  # a private channel (new private channels' ids begin with C too)
GENERAL = "C0GENERAL"  # a public channel


def test_a_managers_copy_quotes_a_private_channel_only_to_a_manager_in_it_and_picks_another_for_the_rest(bot):
    bot.services.workspaces.update(TEAM, DANI, {"managers": [ALICE, GEO]})  # both in London: one run sends both
    bot.fake.private_channel(CASEWORK, ALICE, BOB, FRAN)
    bot.thank(CAROL, (GEO,), "the lift to court", channel_id=GENERAL, at=LAST_WEEK)
    bot.thank(FRAN, (BOB,), "sorting the rota #supportive", channel_id=GENERAL, at=LAST_WEEK + timedelta(hours=1))
    bot.thank(GEO, (CAROL,), "the duty cover #supportive", channel_id=CHANNEL, at=LAST_WEEK + timedelta(hours=2))
    bot.thank(BOB, (FRAN,), SECRET + " #honest", channel_id=CASEWORK, at=LAST_WEEK + timedelta(hours=3))

    assert reasons(bot.tick(TUESDAY)) == {ALICE: "sent", GEO: "sent", CHANNEL: "sent"}

    alice, geo = bot.digests(ALICE)[0].text(), bot.digests(GEO)[0].text()
    for text in (alice, geo):
        assert "4 thank-yous from 4 people to 4 people." in text  # counted for everyone
        assert "sorting the rota" in text and "the duty cover" in text  # said in public channels
    assert "Hendersons" in alice and f"<@{BOB}> thanked <@{FRAN}>" in alice  # Alice is in #casework
    assert "the lift to court" not in alice  # three highlights at most: the private one came first for her
    assert "Hendersons" not in geo and f"<@{BOB}> thanked <@{FRAN}>" not in geo  # Geo is not in it
    assert "the lift to court" in geo  # his third highlight is another thank-you
    channel_copy = bot.digests(CHANNEL)[0].text()
    assert "the duty cover" in channel_copy and "Hendersons" not in channel_copy and "sorting" not in channel_copy

    # Slack was asked once per channel for the run, not once per manager or per quote.
    asked = [c.params["channel"] for c in bot.fake.calls_to("conversations.info")]
    assert sorted(asked) == sorted({CASEWORK, CHANNEL, GENERAL})
    assert [c.params["channel"] for c in bot.fake.calls_to("conversations.members")] == [CASEWORK]


def test_a_group_dm_counts_like_a_private_channel_and_a_dm_the_bot_cannot_see_is_quoted_to_nobody(bot):
    bot.services.workspaces.update(TEAM, DANI, {"managers": [ALICE, GEO]})
    bot.fake.private_channel("G0VISITS", GEO, CAROL, mpim=True)
    bot.thank(CAROL, (GEO,), "the joint visit on Friday", channel_id="G0VISITS")
    bot.thank(BOB, (FRAN,), "the late call with the family", channel_id="D0BOBFRAN")  # typed in Bob and Fran's DM

    bot.tick(TUESDAY)

    alice, geo = bot.digests(ALICE)[0].text(), bot.digests(GEO)[0].text()
    assert "the joint visit on Friday" in geo and "the joint visit on Friday" not in alice
    assert "the late call" not in geo and "the late call" not in alice
    assert "2 thank-yous from 2 people to 2 people." in alice


def test_a_manager_removed_from_a_private_channel_no_longer_reads_it_in_the_next_digest(bot):
    bot.fake.private_channel(CASEWORK, ALICE, BOB, FRAN)
    bot.thank(BOB, (FRAN,), "the handover notes for the panel", channel_id=CASEWORK)
    bot.tick(TUESDAY)
    assert "the handover notes for the panel" in bot.digests(ALICE)[-1].text()

    bot.fake.channel_members[CASEWORK].remove(ALICE)
    bot.thank(BOB, (FRAN,), "the court bundle", channel_id=CASEWORK, at=TUESDAY + timedelta(days=1))
    assert reasons(bot.tick(TUESDAY + timedelta(weeks=1)))[ALICE] == "sent"

    later = bot.digests(ALICE)[-1].text()
    assert "Team digest: 23 Nov–29 Nov 2026" in later
    assert "1 thank-you from 1 person to 1 person." in later and "court bundle" not in later
    assert len(bot.fake.calls_to("conversations.members")) == 2  # asked afresh for each digest


def test_a_big_private_channel_is_read_page_by_page(bot):
    crowd = [f"U0M{n:03d}" for n in range(250)]
    bot.fake.private_channel(CASEWORK, *crowd, ALICE)  # Alice is on the second page of 200
    bot.thank(BOB, (FRAN,), "the handover notes for the panel", channel_id=CASEWORK)

    bot.tick(TUESDAY)

    assert "the handover notes for the panel" in bot.digests(ALICE)[0].text()
    assert [c.params.get("cursor") for c in bot.fake.calls_to("conversations.members")] == [None, "200"]


def test_when_slack_will_not_say_who_may_read_a_channel_nothing_said_there_is_quoted_and_the_digest_goes_out(bot):
    bot.fake.private_channel(CASEWORK, ALICE, BOB, FRAN)  # Alice is in it, but the bot can't find that out
    bot.thank(CAROL, (GEO,), "the lift to court", channel_id=GENERAL)
    bot.thank(BOB, (FRAN,), "the handover notes #honest", channel_id=CASEWORK)
    bot.fake.fail("conversations.members", "internal_error")  # ok: false, so no retry

    why = reasons(bot.tick(TUESDAY))

    assert why[ALICE] == "sent" and why[CHANNEL] == "sent"
    [dm] = bot.digests(ALICE)
    assert "2 thank-yous from 2 people to 2 people." in dm.text()
    assert "the lift to court" in dm.text() and "handover notes" not in dm.text()

    # A week on, conversations.info fails too (a 500 through every retry): still nothing from #casework.
    bot.thank(BOB, (FRAN,), "the court bundle #honest", channel_id=CASEWORK, at=TUESDAY + timedelta(days=1))
    bot.thank(CAROL, (GEO,), "the rota", channel_id=GENERAL, at=TUESDAY + timedelta(days=1))
    bot.fake.fail("conversations.info", "internal_error", status=500, times=3)
    assert reasons(bot.tick(TUESDAY + timedelta(weeks=1)))[ALICE] == "sent"
    failed = [c.params["channel"] for c in bot.fake.calls_to("conversations.info") if "_failed" in c.params]
    assert failed == [CASEWORK] * 3  # the first try and both retries, for #casework's thank-you (ranked first)
    later = bot.digests(ALICE)[-1].text()
    assert "the rota" in later and "court bundle" not in later
