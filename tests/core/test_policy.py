"""Who is due a nudge: the policy's rules as pure functions. No database, no clock: every "now" is an aware
datetime in the person's own timezone, built with zoneinfo exactly as the nudge clock builds it.

Dates: the week of Monday 18 May 2026 starts both a fortnight and a four-week period (periods count whole
weeks from Monday 1 January 2024), so Tuesday 19 May is the first working day of a fresh period.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import PersonState, WorkspaceConfig
from bot.core.policy import arm_for, decide, is_away, next_period_start, period_weeks, unanswered

DEFAULTS = WorkspaceConfig.defaults()


def config(**changes) -> WorkspaceConfig:
    """The shipped defaults with an admin's changes, in their stored form."""
    return DEFAULTS.with_changes(changes)


def person(**fields) -> PersonState:
    return PersonState(user_id=fields.pop("user_id", "U1"), name="Ada", tz=fields.pop("tz", "Europe/London"), **fields)


def at(y: int, m: int, d: int, h: int = 11, mi: int = 0, tz: str = "Europe/London") -> datetime:
    """A wall-clock time in a zone."""
    return datetime(y, m, d, h, mi, tzinfo=ZoneInfo(tz))


def seen_in(instant: datetime, tz: str) -> datetime:
    """One instant as a person in `tz` sees it: what the clock passes to decide()."""
    return instant.astimezone(ZoneInfo(tz))


def nudged(decision) -> bool:
    return decision.kind == "nudge"


# -- the shipped defaults --------------------------------------------------------------------------------------


def test_shipped_defaults_are_fortnightly_tue_to_thu_10_to_15_one_a_week_no_guests():
    assert DEFAULTS.cadence == "fortnightly"
    assert DEFAULTS.days == (1, 2, 3)  # Tuesday, Wednesday, Thursday
    assert (DEFAULTS.start, DEFAULTS.end) == (time(10), time(15))
    assert DEFAULTS.weekly_cap == 1
    assert DEFAULTS.nudge_guests is False
    assert period_weeks(DEFAULTS, person(), None) == 2


def test_an_ordinary_person_is_nudged_inside_working_hours():
    decision = decide(DEFAULTS, person(), at(2026, 5, 20, 11))
    assert decision.kind == "nudge"
    assert decision.period  # the ledger's once-only key
    assert decision.arm is None


# -- timezones ------------------------------------------------------------------------------------------------


def test_same_instant_inside_hours_in_kolkata_and_outside_in_los_angeles():
    instant = datetime(2026, 5, 20, 5, 0, tzinfo=UTC)  # Wed 10:30 in Kolkata, Tue 22:00 in Los Angeles
    kolkata, la = person(tz="Asia/Kolkata"), person(tz="America/Los_Angeles")
    assert nudged(decide(DEFAULTS, kolkata, seen_in(instant, kolkata.tz)))
    blocked = decide(DEFAULTS, la, seen_in(instant, la.tz))
    assert blocked.kind is None and "outside working hours" in blocked.reason


def test_same_instant_inside_hours_in_los_angeles_and_after_midnight_in_kolkata():
    instant = datetime(2026, 5, 20, 18, 0, tzinfo=UTC)  # Wed 11:00 in Los Angeles, Wed 23:30 in Kolkata
    kolkata, la = person(tz="Asia/Kolkata"), person(tz="America/Los_Angeles")
    assert nudged(decide(DEFAULTS, la, seen_in(instant, la.tz)))
    assert decide(DEFAULTS, kolkata, seen_in(instant, kolkata.tz)).kind is None


@pytest.mark.parametrize(
    "instant, working_day, due_in, not_due_in",
    [
        # Wed 14:00 in Los Angeles is Thu 11:00 in Kiritimati (UTC+14)
        (datetime(2026, 5, 20, 21, 0, tzinfo=UTC), "wed", "America/Los_Angeles", "Pacific/Kiritimati"),
        (datetime(2026, 5, 20, 21, 0, tzinfo=UTC), "thu", "Pacific/Kiritimati", "America/Los_Angeles"),
        # Tue 13:00 in Los Angeles is Wed 10:00 in Kiritimati
        (datetime(2026, 5, 19, 20, 0, tzinfo=UTC), "tue", "America/Los_Angeles", "Pacific/Kiritimati"),
        (datetime(2026, 5, 19, 20, 0, tzinfo=UTC), "wed", "Pacific/Kiritimati", "America/Los_Angeles"),
    ],
)
def test_the_working_day_is_the_persons_own_day(instant, working_day, due_in, not_due_in):
    one_day = config(days=[working_day])
    assert nudged(decide(one_day, person(tz=due_in), seen_in(instant, due_in)))
    blocked = decide(one_day, person(tz=not_due_in), seen_in(instant, not_due_in))
    assert blocked.kind is None and blocked.reason == "not a working day"


def test_thursday_afternoon_in_los_angeles_is_friday_in_kiritimati_so_only_la_is_nudged():
    instant = datetime(2026, 5, 21, 21, 0, tzinfo=UTC)  # Thu 14:00 in Los Angeles, Fri 11:00 in Kiritimati
    assert nudged(decide(DEFAULTS, person(tz="America/Los_Angeles"), seen_in(instant, "America/Los_Angeles")))
    friday = decide(DEFAULTS, person(tz="Pacific/Kiritimati"), seen_in(instant, "Pacific/Kiritimati"))
    assert friday.kind is None and friday.reason == "not a working day"


# -- clock changes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tz, before, after",
    [
        # London leaves BST on Sunday 25 October 2026: 10:00 local is 09:00 UTC before, 10:00 UTC after.
        ("Europe/London", datetime(2026, 10, 20, 9, 30, tzinfo=UTC), datetime(2026, 10, 27, 9, 30, tzinfo=UTC)),
        # New York leaves EDT on Sunday 1 November 2026: 10:00 local is 14:00 UTC before, 15:00 UTC after.
        ("America/New_York", datetime(2026, 10, 27, 14, 30, tzinfo=UTC), datetime(2026, 11, 3, 14, 30, tzinfo=UTC)),
    ],
)
def test_the_same_utc_time_a_week_apart_is_inside_hours_before_the_clocks_go_back_and_outside_after(tz, before, after):
    someone = person(tz=tz)
    assert nudged(decide(DEFAULTS, someone, seen_in(before, tz)))  # 10:30 local
    too_early = decide(DEFAULTS, someone, seen_in(after, tz))  # 09:30 local
    assert too_early.kind is None and "outside working hours" in too_early.reason


@pytest.mark.parametrize(
    "tz, opens, last_minute, closes",
    [
        (
            "Europe/London",
            datetime(2026, 10, 27, 10, 0, tzinfo=UTC),
            datetime(2026, 10, 27, 14, 59, tzinfo=UTC),
            datetime(2026, 10, 27, 15, 0, tzinfo=UTC),
        ),
        (
            "America/New_York",
            datetime(2026, 11, 3, 15, 0, tzinfo=UTC),
            datetime(2026, 11, 3, 19, 59, tzinfo=UTC),
            datetime(2026, 11, 3, 20, 0, tzinfo=UTC),
        ),
    ],
)
def test_after_the_clocks_go_back_hours_are_10_to_15_local(tz, opens, last_minute, closes):
    someone = person(tz=tz)
    assert nudged(decide(DEFAULTS, someone, seen_in(opens, tz)))
    assert nudged(decide(DEFAULTS, someone, seen_in(last_minute, tz)))
    assert decide(DEFAULTS, someone, seen_in(closes, tz)).kind is None


# -- holidays, away, personal days off -------------------------------------------------------------------------


def test_nobody_is_nudged_on_a_workspace_holiday():
    holiday = config(holidays=["2026-05-20"])
    blocked = decide(holiday, person(), at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "holiday"
    assert nudged(decide(holiday, person(), at(2026, 5, 21, 11)))


def test_a_holiday_is_the_persons_own_date():
    holiday = config(holidays=["2026-05-20"])
    instant = datetime(2026, 5, 20, 21, 0, tzinfo=UTC)  # Wed 20th 14:00 in Los Angeles, Thu 21st 11:00 in Kiritimati
    assert decide(holiday, person(tz="America/Los_Angeles"), seen_in(instant, "America/Los_Angeles")).kind is None
    assert nudged(decide(holiday, person(tz="Pacific/Kiritimati"), seen_in(instant, "Pacific/Kiritimati")))


@pytest.mark.parametrize(
    "emoji, text",
    [
        (":palm_tree:", ""),
        (":face_with_thermometer:", ""),
        ("", "On holiday"),
        ("", "ON HOLIDAY until Monday"),
        ("", "Off sick"),
        ("", "OOO"),
        ("", "OOO until the 3rd"),
        ("", "Out of office"),
        ("", "Annual leave"),
        ("", "On annual leave, back Tuesday"),
        ("", "A/L"),
    ],
)
def test_an_away_status_blocks_the_nudge(emoji, text):
    assert is_away(text, emoji)
    blocked = decide(DEFAULTS, person(status_emoji=emoji, status_text=text), at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "away status"


@pytest.mark.parametrize(
    "emoji, text",
    [
        (":coffee:", "in a meeting"),
        (":spiral_calendar_pad:", "In a meeting"),
        (":house_with_garden:", "Working remotely"),  # Slack's own "Working remotely": at work, not away
        (":bus:", "Commuting"),
        ("", "Will reply after lunch"),
    ],
)
def test_a_status_that_is_not_away_does_not_block(emoji, text):
    assert not is_away(text, emoji)
    assert nudged(decide(DEFAULTS, person(status_emoji=emoji, status_text=text), at(2026, 5, 20, 11)))


def test_alternate_friday_off_repeats_every_14_days_and_not_every_7():
    four_days = config(days=["tue", "wed", "thu", "fri"])
    nine_day_fortnight = person(alternate_day_off=date(2026, 5, 22))  # a Friday
    for off in (at(2026, 5, 22, 11), at(2026, 6, 5, 11)):
        blocked = decide(four_days, nine_day_fortnight, off)
        assert blocked.kind is None and blocked.reason == "personal day off"
    assert nudged(decide(four_days, nine_day_fortnight, at(2026, 5, 29, 11)))  # the Friday in between
    assert nudged(decide(four_days, nine_day_fortnight, at(2026, 5, 21, 11)))  # the Thursday before


# -- the weekly cap -------------------------------------------------------------------------------------------


def test_one_bot_message_in_the_last_7_days_blocks_another_by_default():
    blocked = decide(DEFAULTS, person(sent_last_7_days=1), at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "weekly cap reached"
    assert nudged(decide(DEFAULTS, person(sent_last_7_days=0), at(2026, 5, 20, 11)))


def test_a_higher_cap_allows_up_to_that_many():
    two = config(weekly_cap=2)
    assert nudged(decide(two, person(sent_last_7_days=1), at(2026, 5, 20, 11)))
    assert decide(two, person(sent_last_7_days=2), at(2026, 5, 20, 11)).kind is None


def test_the_cap_counts_every_kind_so_it_holds_back_the_stop_check_too():
    ignored_four = person(unanswered=4, last_nudge_at=at(2026, 5, 12, 10, 5))
    assert decide(DEFAULTS, ignored_four, at(2026, 5, 20, 11)).kind == "stop_check"
    held = decide(
        DEFAULTS, person(unanswered=4, last_nudge_at=at(2026, 5, 12, 10, 5), sent_last_7_days=1), at(2026, 5, 20, 11)
    )
    assert held.kind is None and held.reason == "weekly cap reached"


# -- snooze, opt-out and who is never nudged -------------------------------------------------------------------


def test_not_this_week_snoozes_until_next_monday():
    weekly = config(cadence="weekly")
    nudge_time = at(2026, 5, 19, 10, 5)
    until = next_period_start(nudge_time)
    assert until == date(2026, 5, 25)  # the Monday after
    snoozed = person(snoozed_until=until, last_nudge_at=nudge_time)
    for later_this_week in (at(2026, 5, 20, 11), at(2026, 5, 21, 11)):
        blocked = decide(weekly, snoozed, later_this_week)
        assert blocked.kind is None and blocked.reason == "snoozed"
    assert nudged(decide(weekly, snoozed, at(2026, 5, 26, 11)))


def test_a_snooze_is_over_on_the_monday_itself():
    mondays_too = config(cadence="weekly", days=["mon", "tue", "wed", "thu"])
    snoozed = person(snoozed_until=date(2026, 5, 25), last_nudge_at=at(2026, 5, 19, 10, 5))
    assert decide(mondays_too, snoozed, at(2026, 5, 24, 11)).reason == "snoozed"  # Sunday
    assert nudged(decide(mondays_too, snoozed, at(2026, 5, 25, 11)))


@pytest.mark.parametrize(
    "clicked, monday",
    [
        (at(2026, 5, 18, 11), date(2026, 5, 25)),  # a Monday: not this week means until next Monday
        (at(2026, 5, 21, 14), date(2026, 5, 25)),
        (at(2026, 5, 24, 20), date(2026, 5, 25)),  # a Sunday
    ],
)
def test_snooze_always_ends_on_the_next_monday(clicked, monday):
    assert next_period_start(clicked) == monday


def test_someone_who_opted_out_is_never_nudged():
    blocked = decide(DEFAULTS, person(opted_out=True), at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "opted out"


def test_guests_are_not_nudged_unless_the_workspace_allows_it():
    guest = person(is_guest=True)
    blocked = decide(DEFAULTS, guest, at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "guest"
    assert nudged(decide(config(nudge_guests=True), guest, at(2026, 5, 20, 11)))


@pytest.mark.parametrize("who", [person(is_bot=True), person(deleted=True)])
def test_bots_and_deactivated_users_are_never_nudged_even_when_guests_are(who):
    assert decide(config(nudge_guests=True), who, at(2026, 5, 20, 11)).kind is None


def test_cadence_off_for_the_workspace_nudges_nobody():
    off = config(cadence="off")
    assert decide(off, person(), at(2026, 5, 20, 11)).kind is None
    assert decide(off, person(cadence="weekly"), at(2026, 5, 20, 11)).kind is None


# -- cadence and periods --------------------------------------------------------------------------------------


def test_one_nudge_per_fortnight_by_default():
    nudged_tuesday = person(last_nudge_at=at(2026, 5, 19, 10, 5))
    for same_fortnight in (at(2026, 5, 21, 11), at(2026, 5, 26, 11)):
        blocked = decide(DEFAULTS, nudged_tuesday, same_fortnight)
        assert blocked.kind is None and blocked.reason == "already nudged this period"
    assert nudged(decide(DEFAULTS, nudged_tuesday, at(2026, 6, 2, 11)))


def test_a_nudge_on_the_first_day_of_a_period_counts_for_that_period():
    mondays_too = config(days=["mon", "tue", "wed", "thu"])
    nudged_monday = person(last_nudge_at=at(2026, 5, 18, 10, 5))  # the fortnight starts that Monday
    assert decide(mondays_too, nudged_monday, at(2026, 5, 20, 11)).reason == "already nudged this period"


def test_monthly_means_every_four_weeks():
    monthly = config(cadence="monthly")
    nudged_before = person(last_nudge_at=at(2026, 5, 19, 10, 5))
    assert period_weeks(monthly, nudged_before, None) == 4
    assert decide(monthly, nudged_before, at(2026, 6, 9, 11)).kind is None  # three weeks on
    assert nudged(decide(monthly, nudged_before, at(2026, 6, 16, 11)))  # four weeks on


def test_someone_who_thanked_or_suggested_this_period_is_not_nudged():
    active_monday = person(active_at=at(2026, 5, 18, 16))
    blocked = decide(DEFAULTS, active_monday, at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "recently active"
    active_last_period = person(active_at=at(2026, 5, 15, 16))
    assert nudged(decide(DEFAULTS, active_last_period, at(2026, 5, 20, 11)))


def test_a_person_may_choose_less_often_than_the_workspace():
    weekly = config(cadence="weekly")
    nudged_last_week = at(2026, 5, 19, 10, 5)
    next_week = at(2026, 5, 26, 11)
    assert nudged(decide(weekly, person(last_nudge_at=nudged_last_week), next_week))
    chose_fortnightly = person(cadence="fortnightly", last_nudge_at=nudged_last_week)
    assert period_weeks(weekly, chose_fortnightly, None) == 2
    assert decide(weekly, chose_fortnightly, next_week).kind is None


def test_a_person_who_chose_monthly_on_a_fortnightly_workspace_waits_four_weeks():
    nudged_before = at(2026, 5, 19, 10, 5)
    two_weeks_on, four_weeks_on = at(2026, 6, 2, 11), at(2026, 6, 16, 11)
    assert nudged(decide(DEFAULTS, person(last_nudge_at=nudged_before), two_weeks_on))
    chose_monthly = person(cadence="monthly", last_nudge_at=nudged_before)
    assert decide(DEFAULTS, chose_monthly, two_weeks_on).kind is None
    assert nudged(decide(DEFAULTS, chose_monthly, four_weeks_on))


def test_a_person_cannot_choose_more_often_than_the_workspace():
    wants_weekly = person(cadence="weekly", last_nudge_at=at(2026, 5, 19, 10, 5))
    assert period_weeks(DEFAULTS, wants_weekly, None) == 2
    assert decide(DEFAULTS, wants_weekly, at(2026, 5, 26, 11)).kind is None  # one week on: still the same fortnight
    assert period_weeks(config(cadence="monthly"), wants_weekly, None) == 4


def test_a_person_who_chose_off_is_not_nudged():
    blocked = decide(DEFAULTS, person(cadence="off"), at(2026, 5, 20, 11))
    assert blocked.kind is None and blocked.reason == "chose no nudges"


# -- back-off -------------------------------------------------------------------------------------------------


def test_two_unanswered_nudges_double_the_period():
    assert period_weeks(DEFAULTS, person(unanswered=1), None) == 2
    assert period_weeks(DEFAULTS, person(unanswered=2), None) == 4
    assert period_weeks(config(cadence="weekly"), person(unanswered=2), None) == 2
    last = at(2026, 5, 19, 10, 5)
    two_weeks_on = at(2026, 6, 2, 11)
    assert nudged(decide(DEFAULTS, person(unanswered=1, last_nudge_at=last), two_weeks_on))
    assert decide(DEFAULTS, person(unanswered=2, last_nudge_at=last), two_weeks_on).kind is None


@pytest.mark.parametrize(
    "cadence, second, one_period_on, two_periods_on",
    [
        # weekly: the second unanswered nudge in the first or the second week of a fortnight
        ("weekly", date(2026, 5, 19), date(2026, 5, 26), date(2026, 6, 2)),
        ("weekly", date(2026, 5, 26), date(2026, 6, 2), date(2026, 6, 9)),
        # fortnightly: the second unanswered nudge in the first or the second half of four weeks
        ("fortnightly", date(2026, 6, 16), date(2026, 6, 30), date(2026, 7, 14)),
        ("fortnightly", date(2026, 6, 2), date(2026, 6, 16), date(2026, 6, 30)),
    ],
)
def test_after_two_unanswered_nudges_the_next_waits_twice_as_long_whatever_the_week(
    cadence, second, one_period_on, two_periods_on
):
    workspace = config(cadence=cadence)
    ignored_two = person(unanswered=2, last_nudge_at=at(second.year, second.month, second.day, 10, 5))
    one = at(one_period_on.year, one_period_on.month, one_period_on.day, 11)
    two = at(two_periods_on.year, two_periods_on.month, two_periods_on.day, 11)
    assert decide(workspace, ignored_two, one).kind is None, "backed off: one usual period is not enough"
    assert nudged(decide(workspace, ignored_two, two))


def test_activity_after_the_last_nudge_resets_the_back_off():
    last = at(2026, 5, 19, 10, 5)
    two_weeks_on = at(2026, 6, 2, 11)
    thanked_after = person(unanswered=2, last_nudge_at=last, active_at=at(2026, 5, 20, 12))
    assert unanswered(thanked_after) == 0
    assert period_weeks(DEFAULTS, thanked_after, None) == 2
    assert nudged(decide(DEFAULTS, thanked_after, two_weeks_on))
    thanked_before = person(unanswered=2, last_nudge_at=last, active_at=at(2026, 5, 15, 12))
    assert unanswered(thanked_before) == 2
    assert decide(DEFAULTS, thanked_before, two_weeks_on).kind is None


def test_three_unanswered_is_still_an_ordinary_nudge():
    ignored_three = person(unanswered=3, last_nudge_at=at(2026, 5, 19, 10, 5))
    assert decide(DEFAULTS, ignored_three, at(2026, 6, 16, 11)).kind == "nudge"


def test_four_unanswered_brings_one_stop_check_then_silence():
    last = at(2026, 5, 19, 10, 5)
    ignored_four = person(unanswered=4, last_nudge_at=last)
    check = decide(DEFAULTS, ignored_four, at(2026, 5, 27, 11))
    assert check.kind == "stop_check"
    assert check.period  # a once-only key for the ledger
    asked = person(unanswered=4, last_nudge_at=last, stop_check_sent=True)
    for later in (at(2026, 5, 28, 11), at(2026, 6, 16, 11), at(2026, 9, 15, 11)):
        silent = decide(DEFAULTS, asked, later)
        assert silent.kind is None and silent.reason.startswith("backed off")


def test_answering_after_the_stop_check_brings_nudges_back():
    answered = person(
        unanswered=4, last_nudge_at=at(2026, 5, 19, 10, 5), stop_check_sent=True, active_at=at(2026, 5, 27, 12)
    )
    assert nudged(decide(DEFAULTS, answered, at(2026, 6, 2, 11)))


# -- experiment arms ------------------------------------------------------------------------------------------


def test_a_person_always_lands_in_the_same_arm():
    arms = ("fortnightly", "monthly")
    first = arm_for("T1", "U42", arms)
    assert first in arms
    assert all(arm_for("T1", "U42", tuple(list(arms))) == first for _ in range(20))
    assert arm_for("T1", "U42", ()) is None


def test_arms_survive_a_restart():
    # Recorded once. Any change here (say, Python's per-process hash()) moves people between arms mid-experiment.
    arms = ("fortnightly", "monthly")
    letters = "".join(arm_for("T1", f"U{i}", arms)[0].upper() for i in range(16))
    assert letters == "MMMMMMFFFMMMFFMF"


@pytest.mark.parametrize("arms", [("fortnightly", "monthly"), ("weekly", "fortnightly", "monthly")])
def test_arms_are_roughly_balanced_over_1000_people(arms):
    counts = Counter(arm_for("T1", f"U{i:06d}", arms) for i in range(1000))
    expected = 1000 / len(arms)
    assert set(counts) == set(arms)
    assert all(abs(n - expected) < 0.15 * expected for n in counts.values()), counts


def test_the_arm_sets_the_persons_cadence():
    arms = ("weekly", "monthly")
    experiment = config(experiment=list(arms))
    users = {arm_for("T1", f"U{i}", arms): f"U{i}" for i in range(50)}
    last, next_week = at(2026, 5, 19, 10, 5), at(2026, 5, 26, 11)
    weekly = decide(experiment, person(user_id=users["weekly"], last_nudge_at=last), next_week, "weekly")
    assert weekly.kind == "nudge" and weekly.arm == "weekly"
    assert decide(experiment, person(user_id=users["monthly"], last_nudge_at=last), next_week, "monthly").kind is None
