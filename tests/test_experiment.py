"""The cadence experiment, read: intervals, differences and the verdict from statsmodels, the overload guard on the
nudge clock, and ending the experiment. The history is made as people make it: colleagues in London, the weekly or
fortnightly experiment, a tick of the real clock through the fake Slack, then their answers through the real nudge
service. The expected intervals are worked out here from statsmodels on the counts this test seeded."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportion_effectsize
from statsmodels.stats.rates import confint_poisson, confint_poisson_2indep

from bot.console.fake_slack import FakeSlack, user
from bot.console.team import ALICE, BOB, CAROL, DANI, FEMI
from bot.core.errors import Refused
from bot.core.experiment import verdict
from bot.core.model import ArmReport, ThanksRequest
from bot.core.policy import arm_for
from bot.store.models import SettingsChange
from tests.test_cli import bot_env, run_bot
from tests.test_nudges_tick import TEAM, TUESDAY, Bot, make_bot, reasons

ARMS = ("weekly", "fortnightly")
WEEKLY, FORTNIGHTLY = ARMS
PER_ARM = 12  # Londoners in each arm; Carol (Kolkata) and Dani (New York) are in the fortnightly arm too


def londoners(fake: FakeSlack, per_arm: int = PER_ARM) -> dict[str, list[str]]:
    """Colleagues in London added until each arm has `per_arm` Londoners (Alice, Bob and Femi among them), by arm."""
    by_arm = {arm: [u for u in (ALICE, BOB, FEMI) if arm_for(TEAM.external_id, u, ARMS) == arm] for arm in ARMS}
    n = 0
    while any(len(people) < per_arm for people in by_arm.values()):
        user_id, n = f"U1{n:03d}", n + 1
        arm = arm_for(TEAM.external_id, user_id, ARMS)
        if len(by_arm[arm]) < per_arm:
            fake.add_user(user(user_id, f"Colleague {n}"))
            by_arm[arm].append(user_id)
    return by_arm


@pytest.fixture
def bot(fake_slack, store, clock, settings) -> Bot:
    return make_bot(settings, store, clock, fake_slack)


@pytest.fixture
def arms(bot) -> dict[str, list[str]]:
    """The experiment running since Tuesday 10:30, and everyone in London nudged once at that tick."""
    by_arm = londoners(bot.fake)
    assert bot.services.workspaces.update(TEAM, DANI, {"experiment": list(ARMS)}) == ["experiment"]
    bot.tick(TUESDAY)
    assert bot.dm_counts() == {u: 1 for people in by_arm.values() for u in people}
    return by_arm


def answer(bot: Bot, people: list[str], action: str) -> None:
    for user_id in people:
        bot.respond(user_id, action, at=TUESDAY + timedelta(hours=1))


def thank(bot: Bot, givers: list[str], at=TUESDAY + timedelta(days=3)) -> None:
    """Thanks long after the nudge: counted per person, not as an answer."""
    bot.clock.at = at
    for giver in givers:
        bot.services.thanks.give(TEAM, ThanksRequest(giver, (CAROL,), "for the cover"))


def warnings_to(bot: Bot, user_id: str) -> list[str]:
    return [c.text() for c in bot.dms(user_id) if "looks like too much" in c.text()]


def points(fraction: float) -> str:
    return f"{round(fraction * 100):d}"


def test_a_clear_difference_is_read_with_the_librarys_intervals_and_said_in_plain_words(bot, arms, tmp_path):
    weekly, fortnightly = arms[WEEKLY], arms[FORTNIGHTLY]
    answer(bot, fortnightly, "thank")  # every fortnightly Londoner answers
    answer(bot, weekly[:6], "fewer")  # half the weekly arm asks for fewer, the rest say nothing
    thank(bot, weekly[:3])
    bot.clock.at = TUESDAY + timedelta(days=3)
    bot.services.changes.suggest(TEAM, fortnightly[0], "one shared visit diary")

    reading = bot.services.nudges.reading(TEAM)

    figures = {arm.counts.arm: arm for arm in reading.arms}
    people = {WEEKLY: PER_ARM, FORTNIGHTLY: PER_ARM + 2}  # Carol and Dani are fortnightly, not yet nudged
    assert {arm: f.counts.people for arm, f in figures.items()} == people
    assert (figures[WEEKLY].counts.responded, figures[FORTNIGHTLY].counts.responded) == (6, PER_ARM)
    expected = {
        (WEEKLY, "answered"): proportion_confint(6, PER_ARM, method="wilson"),
        (FORTNIGHTLY, "answered"): proportion_confint(PER_ARM, PER_ARM, method="wilson"),
        (WEEKLY, "fewer"): proportion_confint(6, people[WEEKLY], method="wilson"),
        (FORTNIGHTLY, "fewer"): proportion_confint(0, people[FORTNIGHTLY], method="wilson"),
        (WEEKLY, "thanks"): confint_poisson(3, people[WEEKLY], method="exact-c"),
        (FORTNIGHTLY, "ideas"): confint_poisson(1, people[FORTNIGHTLY], method="exact-c"),
        (FORTNIGHTLY, "nudges"): confint_poisson(PER_ARM, people[FORTNIGHTLY], method="exact-c"),
    }
    for (arm, measure), interval in expected.items():
        estimate = getattr(figures[arm], measure)
        assert (estimate.low, estimate.high) == pytest.approx(interval), (arm, measure)

    differences = {d.measure: d for d in reading.differences}
    assert {(d.arm, d.other) for d in differences.values()} == {(FORTNIGHTLY, WEEKLY)}  # each arm against the first
    answered = confint_proportions_2indep(PER_ARM, PER_ARM, 6, PER_ARM, method="newcomb", compare="diff")
    fewer = confint_proportions_2indep(0, people[FORTNIGHTLY], 6, people[WEEKLY], method="newcomb", compare="diff")
    thanks = confint_poisson_2indep(0, people[FORTNIGHTLY], 3, people[WEEKLY], method="score", compare="diff")
    assert (differences["answered"].estimate.low, differences["answered"].estimate.high) == pytest.approx(answered)
    assert (differences["fewer"].estimate.low, differences["fewer"].estimate.high) == pytest.approx(fewer)
    assert (differences["thanks"].estimate.low, differences["thanks"].estimate.high) == pytest.approx(thanks)

    assert reading.verdict == (
        f"clear difference: fortnightly's people answered 50 points more often than weekly's "
        f"(95% interval {points(answered[0])} to {points(answered[1])} points)"
    )
    [overload] = reading.overloads
    assert (overload.arm, overload.other, overload.measure, overload.count) == (WEEKLY, FORTNIGHTLY, "fewer", 6)

    # The command line shows the same, from the database alone; without the optional extra, the counts and how to
    # get the rest.
    env = bot_env(tmp_path, DATABASE_URL=bot.store.engine.url.render_as_string(hide_password=False))
    shown = run_bot(tmp_path, "report", "nudges", env=env)
    assert shown.returncode == 0, shown.stderr
    assert (
        f"  answered within 48 h: 6 of {PER_ARM} nudges, 50% ({expected[WEEKLY, 'answered'][0]:.0%} to " in shown.stdout
    )
    assert "Verdict: " + reading.verdict + "." in shown.stdout.splitlines()
    hidden = tmp_path / "hidden"
    (hidden / "statsmodels").mkdir(parents=True)
    (hidden / "statsmodels" / "__init__.py").write_text('raise ImportError("not installed")\n')
    bare = run_bot(tmp_path, "report", "nudges", env=env | {"PYTHONPATH": f"{hidden}:{env['PYTHONPATH']}"})
    assert bare.returncode == 0 and "Traceback" not in bare.stderr, bare.stderr
    assert f"  answered within 48 h: 6 of {PER_ARM} nudges, 50%; 0 snoozes" in bare.stdout.splitlines()
    assert "Verdict: install small-changes[stats] to see intervals and a verdict." in bare.stdout.splitlines()


def test_no_detectable_difference_says_how_many_more_people_would_show_one_and_the_guard_stays_quiet(bot, arms):
    weekly, fortnightly = arms[WEEKLY], arms[FORTNIGHTLY]
    answer(bot, weekly[:5], "thank")
    answer(bot, fortnightly[:5], "suggest")
    answer(bot, weekly[5:7], "fewer")  # 2 of 12 against none of 14: more, but not clearly
    bot.tick(TUESDAY + timedelta(hours=2))
    bot.tick(TUESDAY + timedelta(hours=3))

    reading = bot.services.nudges.reading(TEAM)

    answered = 7 + 5
    nudges, people = 2 * PER_ARM, 2 * PER_ARM + 2
    share = answered / nudges
    effect = abs(proportion_effectsize(share + 0.10, share))
    needed = NormalIndPower().solve_power(effect_size=effect, alpha=0.05, power=0.8, ratio=1.0)
    more = -(-needed // (nudges / people)) - PER_ARM
    assert reading.verdict == (
        f"no detectable difference yet between fortnightly and weekly: about {int(more)} more people per arm "
        "would detect a 10-point difference in answers"
    )
    assert reading.overloads == ()
    assert warnings_to(bot, DANI) == []


def test_too_few_people_to_say_anything_yet(bot):
    bot.services.workspaces.update(TEAM, DANI, {"experiment": list(ARMS)})
    bot.tick(TUESDAY)
    bot.respond(ALICE, "fewer", at=TUESDAY + timedelta(hours=1))
    bot.respond(BOB, "stop", at=TUESDAY + timedelta(hours=1))

    reading = bot.services.nudges.reading(TEAM)

    assert reading.verdict == ("too few people to say anything yet: each arm needs at least 10 people and 10 nudges")
    assert reading.overloads == ()  # Alice and Bob both asking for less is not a finding about two people


def test_the_overload_guard_tells_the_admin_once_on_the_clock(bot, arms):
    answer(bot, arms[WEEKLY][:6], "fewer")

    first = bot.tick(TUESDAY + timedelta(hours=2))
    bot.tick(TUESDAY + timedelta(hours=3))

    [warning] = warnings_to(bot, DANI)  # Dani is the workspace's admin
    assert warning.startswith(
        f"⚠️ The weekly arm of the cadence experiment looks like too much: 6 of its {PER_ARM} people asked for fewer "
        f"nudges, against 0 of {PER_ARM + 2} in the fortnightly arm"
    )
    assert "You can stop that arm, or end the experiment adopting the other, in `/smallchange admin`" in warning
    assert reasons(first)[DANI] == "overload warning (weekly arm): sent"
    assert not [c for c in bot.dms() if "looks like too much" in c.text() and c.params["channel"] != DANI]


def test_a_stopped_arms_thanks_and_ideas_end_at_its_stop_and_its_nudges_answers_still_count(bot, arms):
    weekly, fortnightly = arms[WEEKLY], arms[FORTNIGHTLY]
    thank(bot, [weekly[0], fortnightly[0]], at=TUESDAY + timedelta(hours=1))  # answers, while both arms run
    bot.clock.at = TUESDAY + timedelta(hours=2)
    bot.services.workspaces.update(TEAM, DANI, {}, experiment_action="stop:weekly")
    # After the stop: still answers to nudges sent while the arm ran, but no longer the weekly arm's thanks or ideas.
    thank(bot, [weekly[1], fortnightly[1]], at=TUESDAY + timedelta(hours=3))
    bot.services.changes.suggest(TEAM, weekly[2], "one shared visit diary")
    bot.services.changes.suggest(TEAM, fortnightly[2], "a quiet room on Fridays")

    report = {arm.arm: arm for arm in bot.services.nudges.report(TEAM)}

    figures = {arm: (r.stopped, r.nudges, r.responded, r.thanks, r.ideas) for arm, r in report.items()}
    assert figures == {WEEKLY: (True, PER_ARM, 3, 1, 0), FORTNIGHTLY: (False, PER_ARM, 3, 2, 1)}


def test_ending_the_experiment_adopts_an_arms_cadence_for_everyone_and_is_recorded_once(bot, arms):
    a_week_on = TUESDAY + timedelta(weeks=1, hours=1)
    due = {u for u, _, reason in bot.tick(a_week_on, dry_run=True).outcomes if reason == "would nudge"}
    assert due == set(arms[WEEKLY])  # weekly people are due again a week on; fortnightly people are not

    changed = bot.services.workspaces.update(TEAM, DANI, {}, experiment_action="adopt:fortnightly")

    assert changed == ["experiment_ended"]
    config = bot.services.workspaces.get(TEAM)
    assert (config.cadence, config.experiment, config.stopped_arms) == ("fortnightly", (), ())
    with bot.store.session() as session:
        entries = session.scalars(select(SettingsChange).order_by(SettingsChange.id)).all()
    assert [e.setting for e in entries] == ["experiment", "experiment_ended"]
    assert (entries[-1].actor_id, json.loads(entries[-1].new)) == (DANI, {"adopted": "fortnightly"})
    assert json.loads(entries[-1].old) == {"experiment": list(ARMS), "cadence": "fortnightly"}

    later = reasons(bot.tick(a_week_on, dry_run=True))
    assert {later[u] for u in arms[WEEKLY]} == {"already nudged this period"}  # everyone is fortnightly now


def test_an_admin_cannot_stop_the_last_arm_running_nor_one_not_offered(bot, arms):
    bot.services.workspaces.update(TEAM, DANI, {}, experiment_action="stop:weekly")
    for crafted in ("stop:fortnightly", "stop:monthly", "adopt:monthly"):
        with pytest.raises(Refused) as refused:
            bot.services.workspaces.update(TEAM, DANI, {}, experiment_action=crafted)
        assert refused.value.field == "experiment_action"
    with pytest.raises(Refused, match="not both"):
        bot.services.workspaces.update(
            TEAM, DANI, {"experiment": ["fortnightly", "monthly"]}, experiment_action="adopt:weekly"
        )
    with pytest.raises(Refused):
        bot.services.workspaces.update(TEAM, ALICE, {}, experiment_action="adopt:weekly")  # not an admin
    assert bot.services.workspaces.get(TEAM).stopped_arms == (WEEKLY,)


def test_with_enough_people_no_difference_says_any_difference_is_smaller_than_ten_points():
    weekly = ArmReport(WEEKLY, 400, 800, 400, 0, 0, 0, 0, 0)
    fortnightly = ArmReport(FORTNIGHTLY, 400, 800, 410, 0, 0, 0, 0, 0)
    low, high = confint_proportions_2indep(410, 800, 400, 800, method="newcomb", compare="diff")
    assert verdict([weekly, fortnightly]) == (
        "no detectable difference between fortnightly and weekly: a 10-point difference in answers would show by "
        f"now, so any difference is smaller (95% interval {points(low)} to {points(high)} points)"
    )
    assert verdict([weekly]) == ""  # no experiment, no verdict
