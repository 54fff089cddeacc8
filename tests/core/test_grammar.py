"""The thanks and small change grammar on neutral tokens, as any platform's adapter hands them over."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.errors import Refused
from bot.core.grammar import (
    EveryoneMention,
    GroupMention,
    PersonMention,
    SmallChangeCommand,
    Words,
    read_smallchange,
    read_thanks,
)

BOB, CAROL, DANI = PersonMention("U1", "bob"), PersonMention("U2", "carol"), PersonMention("U3")


def test_recipients_private_flag_and_reason_are_read():
    parsed = read_thanks(
        [Words("private "), BOB, Words(", "), CAROL, Words(" and "), DANI, Words(" for covering my visit")]
    )
    assert parsed.private is True
    assert parsed.recipient_ids == ("U1", "U2", "U3")
    assert parsed.reason == "covering my visit"


def test_names_joined_by_an_ampersand_are_all_recipients():
    parsed = read_thanks([BOB, Words(" & "), CAROL, Words(" for the court report")])
    assert parsed.recipient_ids == ("U1", "U2") and parsed.reason == "the court report"


def test_mentions_later_in_the_reason_are_not_recipients_and_read_as_names():
    parsed = read_thanks([BOB, Words(" for helping "), CAROL, Words(" with the court report")])
    assert parsed.recipient_ids == ("U1",)
    assert parsed.reason == "helping @carol with the court report"


def test_the_leading_for_is_optional():
    assert read_thanks([BOB, Words(" the lift to court")]).reason == "the lift to court"
    assert read_thanks([BOB, Words(" For: the lift")]).reason == "the lift"
    assert read_thanks([BOB, Words(" fortune favoured us")]).reason == "fortune favoured us"


def test_typed_names_that_are_not_mentions_are_reported_unresolved():
    parsed = read_thanks([Words("@bob, "), CAROL, Words(" for the cover")])
    assert parsed.unresolved_names == ("@bob",) and parsed.recipient_ids == ("U2",)
    assert parsed.reason == "the cover"


def test_group_and_everyone_mentions_are_reported_as_groups():
    parsed = read_thanks([EveryoneMention("@here"), Words(" "), GroupMention("@fostering"), Words(" for the week")])
    assert parsed.groups == ("@here", "@fostering") and parsed.recipient_ids == ()
    assert parsed.reason == "the week"


def test_the_word_private_only_counts_first():
    parsed = read_thanks([BOB, Words(" for keeping it private")])
    assert parsed.private is False and parsed.reason == "keeping it private"
    assert read_thanks([Words("Privately "), BOB, Words(" for the cover")]).private is True


@pytest.mark.parametrize(
    ("phrase", "source"),
    [
        ("from a family:", "family"),
        ("From Parents :", "family"),
        ("from a foster carer:", "family"),
        ("from the young people:", "young person"),
        ("from a care leaver:", "young person"),
        ("from our partner agency:", "agency"),
        ("from the school:", "agency"),
    ],
)
def test_thanks_from_outside_the_team_is_recognised_by_its_everyday_names(phrase, source):
    parsed = read_thanks([BOB, Words(f" {phrase} thank you for the letter")])
    assert (parsed.source, parsed.reason) == (source, "thank you for the letter")


def test_any_other_from_is_part_of_the_reason():
    parsed = read_thanks([BOB, Words(" from the heart: thank you")])
    assert (parsed.source, parsed.reason) == (None, "from the heart: thank you")
    parsed = read_thanks([BOB, Words(" for the visit, from a family: they were so pleased")])
    assert (parsed.source, parsed.reason) == (None, "the visit, from a family: they were so pleased")


def test_private_thanks_can_be_passed_on_from_outside():
    parsed = read_thanks([Words("private "), BOB, Words(" from a young person: you listened")])
    assert (parsed.private, parsed.source, parsed.reason) == (True, "young person", "you listened")


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("", SmallChangeCommand("form")),
        ("   ", SmallChangeCommand("form")),
        ("HELP", SmallChangeCommand("help")),
        ("list", SmallChangeCommand("list")),
        ("Mine ", SmallChangeCommand("mine")),
        ("nudges", SmallChangeCommand("nudges")),
        ("admin", SmallChangeCommand("admin")),
        ("one shared visit diary", SmallChangeCommand("suggest", idea="one shared visit diary")),
        ("anon a quiet room", SmallChangeCommand("suggest", idea="a quiet room", anonymous=True)),
        ("Anonymous a quiet room", SmallChangeCommand("suggest", idea="a quiet room", anonymous=True)),
    ],
)
def test_subcommands_are_read_and_anything_else_is_an_idea(text, command):
    assert read_smallchange(text) == command


@pytest.mark.parametrize("text", ["list the ideas on the wall", "admin time on Fridays", "help desk for the rota"])
def test_a_subcommand_word_followed_by_more_is_an_idea(text):
    assert read_smallchange(text) == SmallChangeCommand("suggest", idea=text)


@pytest.mark.parametrize(
    ("text", "since", "format"),
    [
        ("export", None, "csv"),
        ("export json", None, "json"),
        ("export since 2026-01-01", date(2026, 1, 1), "csv"),
        ("export SINCE 2026-01-01 JSON", date(2026, 1, 1), "json"),
        ("export csv since 2026-11-25", date(2026, 11, 25), "csv"),
    ],
)
def test_export_reads_its_options(text, since, format):
    assert read_smallchange(text) == SmallChangeCommand("export", since=since, format=format)


def test_an_idea_that_starts_with_the_word_export_is_still_an_idea():
    text = "export the rota to the shared calendar"
    assert read_smallchange(text) == SmallChangeCommand("suggest", idea=text)


def test_an_export_date_that_cannot_be_read_is_refused_in_plain_words():
    with pytest.raises(Refused) as refused:
        read_smallchange("export since 2026-13-01")
    assert "couldn't read 2026-13-01 as a date" in refused.value.message
    assert "/" not in refused.value.message and "`" not in refused.value.message
