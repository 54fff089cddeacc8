"""The core's thanks rules with no chat platform at all: an in-memory directory and a real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.admins import Admins
from bot.core.errors import Refused
from bot.core.model import Person, Team, ThanksRequest, WorkspaceConfig
from bot.core.outbox import Outbox
from bot.core.thanks import ThanksService, tagged_values
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults

TEAM = Team("slack", "T1")


class Directory:
    """People recorded in a dict, as the Cosmic Python fakes do."""

    def __init__(self, *people: Person):
        self.people = {p.id: p for p in people}

    def person(self, team: Team, user_id: str) -> Person | None:
        return self.people.get(user_id)


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def service(
    store, at: datetime, giver_tz: str = "Europe/London", thanks_daily_cap: int = 10, **limits
) -> ThanksService:
    people = Directory(Person("U1", "Alice", tz=giver_tz), Person("U2", "Bob"))
    outbox = Outbox(store)
    workspaces = WorkspaceSettingsService(
        store, WorkspaceConfig(thanks_daily_cap=thanks_daily_cap), outbox, Admins(people)
    )
    return ThanksService(store, people, Defaults(**limits), workspaces, outbox, now=Clock(at))


def thank(svc: ThanksService, reason: str = "for the cover") -> None:
    svc.give(TEAM, ThanksRequest(giver_id="U1", recipient_ids=("U2",), reason=reason))


def test_values_match_ignoring_case_spaces_and_punctuation():
    values = ("supportive", "open to new ideas")
    assert tagged_values("#Supportive and #open_to_new_ideas #supportive", values) == (
        "supportive",
        "open to new ideas",
    )
    assert tagged_values("#kind", values) == ()


def test_the_cap_resets_at_the_givers_midnight_across_a_clock_change(store):
    # 25 October 2026: the clocks go back in London, so that day is 25 hours long.
    svc = service(store, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), thanks_daily_cap=1)
    thank(svc)
    with pytest.raises(Refused) as refused:
        thank(svc)
    # 01:30 BST... then GMT from 01:00 UTC: midnight London is 00:00 UTC on the 26th, 23 h 30 min away.
    assert "in 23 h 30 min" in refused.value.message


def test_an_unknown_timezone_falls_back_to_utc(store):
    svc = service(store, datetime(2026, 11, 24, 22, 0, tzinfo=UTC), giver_tz="Mars/Olympus", thanks_daily_cap=1)
    thank(svc)
    with pytest.raises(Refused) as refused:
        thank(svc)
    assert "(UTC), in 2 h" in refused.value.message


def test_limits_come_from_the_defaults(store):
    svc = service(store, datetime(2026, 11, 24, 10, 0, tzinfo=UTC), reason_max_chars=10)
    with pytest.raises(Refused) as refused:
        thank(svc, "x" * 11)
    assert "limit is 10" in refused.value.message


def test_thanks_to_a_group_is_refused_before_anything_else(store):
    svc = service(store, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    request = ThanksRequest(
        giver_id="U1", recipient_ids=("U2",), reason="for the week", groups=("@here",), unresolved_names=("@bob",)
    )
    with pytest.raises(Refused) as refused:
        svc.give(TEAM, request)
    assert "Thanks go to people, not to @here" in refused.value.message
    assert "Nothing was posted" in refused.value.message


def test_refusals_are_plain_sentences_with_no_command_or_markup(store):
    svc = service(store, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    for request in (
        ThanksRequest(giver_id="U1", recipient_ids=(), reason="for the week", unresolved_names=("@bob",)),
        ThanksRequest(giver_id="U1", recipient_ids=(), reason="for the week"),
        ThanksRequest(giver_id="U1", recipient_ids=("U2",), reason=""),
        ThanksRequest(giver_id="U1", recipient_ids=("U9",), reason="for the week"),
    ):
        with pytest.raises(Refused) as refused:
            svc.give(TEAM, request)
        assert not any(mark in refused.value.message for mark in ("`", "/thanks", "*", "<@")), refused.value.message
