"""Passing on thanks from outside the team: `/thanks @bob from a family: …` and the form's "from outside" choice.
Only the kind of source is kept and shown; nobody outside the team is ever named."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.console.team import ALICE, BOB, CAROL, ROBOT
from bot.store.models import Thanks
from tests.slack.test_nudge_interactions import state
from tests.slack.test_thanks import assert_refused, count, mention, only_reply


def stored(store) -> Thanks:
    with store.session() as s:
        return s.scalars(select(Thanks)).one()


def mentioned(text: str) -> set[str]:
    return set(re.findall(r"<@([A-Z0-9]+)", text))


def test_thanks_from_a_family_is_shown_as_such_and_names_only_colleagues(slack, store):
    slack.thanks(f"{mention(BOB)} from a family: you listened when nobody else did", ALICE)

    [post] = slack.said()
    assert post.params["response_type"] == "in_channel"
    shown = post.text()
    assert f"Thanks from a family for <@{BOB}>, passed on by <@{ALICE}>" in shown
    assert "you listened when nobody else did" in shown
    assert "from a family:" not in shown  # the phrase became the headline, not part of the quote
    assert mentioned(shown) == {ALICE, BOB}

    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB
    assert f"Thanks from a family for you, passed on by <@{ALICE}> in <#C0GENERAL>" in dm.text()
    assert "you listened when nobody else did" in dm.text() and mentioned(dm.text()) == {ALICE}

    thanks = stored(store)
    assert (thanks.source, thanks.reason, thanks.giver_id) == ("family", "you listened when nobody else did", ALICE)
    assert [r.recipient_id for r in thanks.recipients] == [BOB]


@pytest.mark.parametrize(
    ("phrase", "source", "shown"),
    [
        ("from a foster carer:", "family", "Thanks from a family"),
        ("From Parents :", "family", "Thanks from a family"),
        ("from a young person:", "young person", "Thanks from a young person"),
        ("from a care leaver:", "young person", "Thanks from a young person"),
        ("from the school:", "agency", "Thanks from a partner agency"),
        ("from a partner agency:", "agency", "Thanks from a partner agency"),
    ],
)
def test_sources_are_recognised_by_their_everyday_names(slack, store, phrase, source, shown):
    slack.thanks(f"{mention(BOB)} {phrase} thank you for the letter", ALICE)
    assert shown in slack.said()[0].text()
    assert (stored(store).source, stored(store).reason) == (source, "thank you for the letter")


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("for help from the office", "help from the office"),
        ("from the office: the biscuits", "from the office: the biscuits"),
        ("for the visit, from a family: they were so pleased", "the visit, from a family: they were so pleased"),
    ],
)
def test_any_other_from_is_ordinary_reason_text(slack, store, typed, reason):
    slack.thanks(f"{mention(BOB)} {typed}", ALICE)
    assert f"<@{ALICE}> thanked <@{BOB}>" in slack.said()[0].text()
    assert (stored(store).source, stored(store).reason) == (None, reason)


def test_private_thanks_from_a_young_person_reaches_only_the_colleague(slack, store):
    slack.thanks(f"private {mention(BOB)} from a young person: you came to my school play", ALICE)

    assert "Sent privately" in only_reply(slack)
    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB
    assert f"Thanks from a young person for you, passed on privately by <@{ALICE}>" in dm.text()
    assert "<#C0GENERAL>" not in dm.text()
    assert (stored(store).source, stored(store).private) == ("young person", True)


def test_thanks_from_outside_to_several_colleagues(slack, store):
    slack.thanks(f"{mention(BOB)} {mention(CAROL)} from a partner agency: the joint visit went so well", ALICE)
    assert (
        f"Thanks from a partner agency for <@{BOB}> and <@{CAROL}>, passed on by <@{ALICE}>" in slack.said()[0].text()
    )
    dms = {c.params["channel"]: c.text() for c in slack.fake.calls_to("chat.postMessage")}
    assert "Thanks from a partner agency for you (and 1 other)" in dms[CAROL]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (f"{mention(BOB)} from a family:", "What are you thanking them for?"),
        ("from a family: you were wonderful", "Who would you like to thank?"),
        (f"{mention(ALICE)} from a family: you were wonderful", "passed on by a colleague"),
        (f"{mention(ROBOT)} from a family: the reminders", "is a bot"),
    ],
)
def test_relayed_thanks_are_refused_as_ordinary_thanks_are(slack, store, text, words):
    assert_refused(slack, store, text, words)


def test_relayed_thanks_count_towards_the_daily_cap(slack, store):
    for n in range(9):
        slack.thanks(f"{mention(BOB)} for thing {n}", ALICE)
    slack.thanks(f"{mention(BOB)} from a family: thank you", ALICE)
    assert count(store) == 10
    slack.fake.clear()
    slack.thanks(f"{mention(CAROL)} from a family: thank you", ALICE)
    assert "daily limit" in only_reply(slack)
    assert count(store) == 10


def test_the_usage_explains_passing_on_thanks(slack):
    slack.thanks("help", ALICE)
    usage = slack.said()[0].text()
    assert "`/thanks @bob from a family: what they said`" in usage and "never a name" in usage


def test_the_form_can_pass_on_thanks_from_outside(slack, store):
    slack.thanks("", ALICE)
    view = slack.opened_view()
    [source_block] = [b for b in view["blocks"] if b["block_id"] == "source"]
    assert source_block["optional"] is True
    assert [o["value"] for o in source_block["element"]["options"]] == ["family", "young person", "agency"]
    slack.fake.clear()

    values = state(
        who=("users", "multi_users_select", [BOB]),
        reason=("text", "plain_text_input", "the kids said you were the best"),
        channel=("choice", "conversations_select", "C0GENERAL"),
    )
    values["source"] = {
        "choice": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": "A young person"}, "value": "young person"},
        }
    }
    assert slack.submit_view(view, values, ALICE).status == 200

    post, dm = slack.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0GENERAL"
    assert f"Thanks from a young person for <@{BOB}>, passed on by <@{ALICE}>" in post.text()
    assert dm.params["channel"] == BOB and "Thanks from a young person for you" in dm.text()
    assert (stored(store).source, stored(store).via) == ("young person", "modal")
