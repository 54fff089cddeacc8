"""The rules for time freed, with no platform and no database: reading an answer, saying it in words, and quarters."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.errors import Refused
from bot.core.freed import about, freed_words, quarter, read_answer, sum_words
from bot.core.model import FreedChange, TimeFreed, TimeFreedSum

AT = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def refused_field(minutes=None, people=None, benefit=None, note=None) -> tuple[str | None, str]:
    with pytest.raises(Refused) as refusal:
        read_answer(minutes, people, benefit, note)
    return refusal.value.field, refusal.value.message


def test_an_answer_about_time_is_whole_minutes_and_people_as_a_form_sends_them():
    assert read_answer("30", " 6 ", None, "") == (30, 6, None, None)
    assert read_answer(2400, 500.0, "", "  fewer phone calls ") == (2400, 500, None, "fewer phone calls")
    assert read_answer("1", "1", None, None) == (1, 1, None, None)


@pytest.mark.parametrize("minutes", ["0", "2401", "1.5", "-5", "half an hour", "３０", True, 12.5])
def test_minutes_outside_1_to_2400_or_not_whole_are_refused_naming_minutes(minutes):
    field, message = refused_field(minutes=minutes, people="3")
    assert field == "minutes" and "whole number from 1 to 2,400" in message


@pytest.mark.parametrize("people", ["0", "501", "2.5", "everyone"])
def test_people_outside_1_to_500_are_refused_naming_people(people):
    field, message = refused_field(minutes="30", people=people)
    assert field == "people" and message == "People must be a whole number from 1 to 500."


def test_a_missing_half_or_nothing_at_all_is_refused_saying_what_is_missing():
    assert refused_field(minutes="30")[0] == "people"
    assert refused_field(people="4")[0] == "minutes"
    field, message = refused_field()
    assert field == "minutes" and "or, if it's not about time, what it does" in message


def test_not_about_time_is_one_of_a_fixed_set_and_something_else_needs_words():
    assert read_answer(None, "", "safer", None) == (None, None, "safer", None)
    assert read_answer("", None, "other", "families wait less") == (None, None, "other", "families wait less")
    assert refused_field(benefit="faster")[0] == "benefit"
    assert refused_field(benefit="other") == (
        "note",
        "Say in a few words what it does, if not safer, kinder or clearer.",
    )
    field, message = refused_field(minutes="30", people="2", benefit="kinder")
    assert field == "benefit" and "not both" in message
    assert refused_field(benefit="safer", note="x" * 301)[0] == "note"


def test_time_is_said_as_a_person_would_say_it_and_always_about():
    assert [about(m) for m in (1, 7, 12, 58, 60, 75, 89, 180, 585, 599, 600, 660, 749, 750)] == [
        "about 1 minute",
        "about 7 minutes",
        "about 10 minutes",
        "about 1 hour",
        "about 1 hour",
        "about 1½ hours",
        "about 1½ hours",
        "about 3 hours",
        "about 10 hours",
        "about 10 hours",
        "about 10 hours",
        "about 11 hours",
        "about 12 hours",
        "about 13 hours",
    ]


def test_an_answer_in_words():
    assert freed_words(TimeFreed(30, 6, None, None, "U1", AT)) == (
        "30 minutes a week for each of 6 people (about 3 hours a week in all)"
    )
    alone = TimeFreed(20, 1, None, "my own notes", "U1", AT)
    assert freed_words(alone) == "20 minutes a week for 1 person: my own notes"
    assert freed_words(TimeFreed(None, None, "safer", "no lone visits", "U1", AT)) == (
        "not about time: it makes things safer (no lone visits)"
    )
    assert freed_words(TimeFreed(None, None, "other", "families wait less", "U1", AT)) == (
        "not about time: families wait less"
    )


def test_a_quarters_sum_in_one_sentence():
    big = FreedChange(1, "one template", TimeFreed(60, 10, None, None, "U1", AT))
    freed = TimeFreedSum("Q4 2026", adopted=7, weekly=660, timed=4, not_time=(("safer", 2),), biggest=(big,))
    assert sum_words(freed) == (
        "7 changes adopted this quarter, about 11 hours a week freed across the team "
        "(2 not about time: safer; 1 not yet said)."
    )
    assert sum_words(TimeFreedSum("Q1 2027", 0, 0, 0)) == "No changes adopted this quarter yet."
    assert sum_words(TimeFreedSum("Q1 2027", 1, 0, 0)) == "1 change adopted this quarter (1 not yet said)."


def test_quarters_are_calendar_quarters():
    assert quarter(date(2026, 11, 24)) == (date(2026, 10, 1), date(2027, 1, 1), "Q4 2026")
    assert quarter(date(2027, 1, 1)) == (date(2027, 1, 1), date(2027, 4, 1), "Q1 2027")
    assert quarter(date(2026, 6, 30)) == (date(2026, 4, 1), date(2026, 7, 1), "Q2 2026")
