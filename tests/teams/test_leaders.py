"""Ideas the team can't do alone, raised with leaders in Teams: the idea card's Raise with leaders (a dialog), the card
leaders answer on (in the leadership conversation and each named leader's chat), the dialogs of their answers, and
who hears each one, through the real Teams app and a fake Bot Connector. The clock is fixed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.store.models import Change, LeaderRaise
from bot.teams.bot import short_key
from bot.teams.cards import card_as_text
from tests.teams.conftest import ADMIN, ALICE, BOB, CAROL, GROUP_CHAT, TENANT, button_titles
from tests.teams.test_console import after, play
from tests.teams.test_digests import cards_in

TEAM = Team("teams", TENANT)
LEE = {"id": "29:1lee", "name": "Lee Leader", "aadObjectId": "eeeeeeee-0000-0000-0000-00000000000e"}
LEADERSHIP = short_key(GROUP_CHAT)  # the core's id for the leaders' group chat
NOT_A_LEADER = "Only the leaders named in Small Changes' settings, or an admin, can answer for leaders."


@pytest.fixture
def teams_settings(teams_settings):
    """Lee as the named leader and the leaders' group chat as the leadership conversation (LEADER_USER_IDS and
    LEADERSHIP_CHANNEL)."""
    return replace(teams_settings, leader_user_ids=(LEE["aadObjectId"],), leadership_channel=LEADERSHIP)


def text_of(card) -> str:
    return json.dumps(card, ensure_ascii=False)


def invoke(teams, name: str, value: dict, sender: dict, where: str = "channel", card: str | None = None) -> dict:
    more = {"replyToId": card} if card else {}
    status, body = teams.answer(teams.activity("invoke", sender, where, name=name, value=value, **more))
    assert status == 200, (status, body)
    return body["task"]


def the_change(store) -> Change:
    with store.session() as s:
        return s.scalars(select(Change).order_by(Change.id.desc())).first()


def raises(store) -> list[LeaderRaise]:
    with store.session() as s:
        return list(s.scalars(select(LeaderRaise).order_by(LeaderRaise.id)))


def suggest_outside(teams, store, idea: str, anonymous: bool = False) -> Change:
    """Alice's idea, from the change form (opened from Home in the channel), marked "No, it needs someone else"."""
    data = {"action": "change_form", "change": idea, "obstacle": "", "gift": "outside", "anonymous": str(anonymous)}
    assert invoke(teams, "task/submit", {"data": data}, ALICE)["value"].startswith("Posted")
    return the_change(store)


def raise_it(teams, store, who: dict, needs: str = "funding,permission", note: str = "", where: str = "channel"):
    """Press Raise with leaders on the idea card (its dialog opens) and send the form; what the dialog said."""
    change = the_change(store)
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "change_raise", "change": change.id}}, who, where)
    assert opened["type"] == "continue", opened
    data = {"action": "raise_form", "change": change.id, "needs": needs, "note": note}
    return invoke(teams, "task/submit", {"data": data}, who, where)["value"]


def leaders_cards(teams) -> list[tuple[str, dict]]:
    """The cards leaders answer on, as (activity id, card), in the leadership chat and Lee's chat."""
    found = []
    for call in teams.connector.sent():
        if call.path in (
            f"/v3/conversations/{GROUP_CHAT}/activities",
            f"/v3/conversations/a:1on1-{LEE['id']}/activities",
        ):
            for attachment in (call.body or {}).get("attachments") or []:
                if "raised an idea the team can't do alone" in text_of(attachment["content"]):
                    found.append((call.answer["id"], attachment["content"]))
    return found


def answer(teams, card_id: str, verb: str, who: dict = LEE, **inputs) -> str:
    """Press an answer on the leaders' card in their group chat and send its form; what the dialog said."""
    raise_id = raises_of(teams)[-1]
    value = {"data": {"dialog_id": f"leaders_{verb}", "raised": raise_id}}
    opened = invoke(teams, "task/fetch", value, who, "groupChat", card=card_id)
    if opened["type"] != "continue":
        return opened["value"]
    form = opened["value"]["card"]["content"]
    data = next(a for a in form["actions"] if a["type"] == "Action.Submit")["data"] | inputs
    return invoke(teams, "task/submit", {"data": data}, who, "groupChat")["value"]


def raises_of(teams) -> list[int]:
    with teams.bot.services.store.session() as s:
        return list(s.scalars(select(LeaderRaise.id).order_by(LeaderRaise.id)))


def meet_everyone(teams) -> None:
    """Lee writes in the leaders' group chat, so the bot knows it and him; the others act in the channel."""
    assert teams.say("hello", sender=LEE, where="groupChat") == 200


def test_an_idea_raised_in_teams_reaches_the_leaders_chat_and_lee_and_its_card_says_so(teams, store, clock):
    meet_everyone(teams)
    change = suggest_outside(teams, store, "a shared diary with the health visitors")
    [card] = teams.cards()
    assert "Raise with leaders" in button_titles(card)

    refused = invoke(teams, "task/fetch", {"data": {"dialog_id": "change_raise", "change": change.id}}, CAROL)
    assert refused == {
        "type": "message",
        "value": "Only the person who suggested it (Alice Example) can raise it with leaders. Take it on first if "
        "you'd like to raise it yourself.",
    }
    form = invoke(teams, "task/fetch", {"data": {"dialog_id": "change_raise", "change": change.id}}, ALICE)
    assert "What does it need?" in text_of(form) and "Another service's help" in text_of(form)
    said = raise_it(teams, store, ALICE, note="their lead would need to agree")
    assert said == "Raised with leaders. Their answer will show on the idea's card, and everyone behind it will hear."

    [(_, in_chat), (_, to_lee)] = leaders_cards(teams)
    for shown in (in_chat, to_lee):
        text = text_of(shown)
        assert "a shared diary with the health visitors" in text and "needs: funding, permission" in text
        assert "their lead would need to agree" in text
        assert button_titles(shown) == ["We'll take this up", "Need more information", "Not now"]
    [updated] = teams.connector.sent("PUT", f"/activities/{change.message_ts}")
    shown = text_of(updated.body["attachments"][0]["content"])
    assert "Raised with leaders" in shown and "24 Nov 2026 · needs: funding, permission" in shown
    assert "Raise with leaders" not in shown and "Waiting for their answer." in shown
    [row] = raises(store)
    assert (row.raised_by, row.raised_at) == (ALICE["aadObjectId"], clock.at)


def test_an_answer_in_teams_reaches_owner_suggester_and_backers_and_closes_the_leaders_card(teams, store, clock):
    meet_everyone(teams)
    change = suggest_outside(teams, store, "a shared diary with the health visitors")
    teams.press("change_take", sender=BOB, card=change.message_ts, change=change.id)
    teams.press("change_back", sender=CAROL, card=change.message_ts, change=change.id)
    raise_it(teams, store, BOB)
    [(card_id, _), _] = leaders_cards(teams)
    clock.advance(days=2)

    said = answer(teams, card_id, "take_up", taker=CAROL["aadObjectId"], said="I'll find the budget")

    assert said == "Sent: We'll take this up. Everyone behind the idea hears it in their chat with me."
    for person in (ALICE, BOB, CAROL):
        [told] = teams.chat_with(person)
        assert told == "🙋 Leaders will take up a small change you're part of."
    [told_card] = [c for c in cards_in(teams, f"a:1on1-{BOB['id']}")]
    assert "Carol Example is on it." in text_of(told_card) and "I'll find the budget" in text_of(told_card)
    assert teams.chat_with(LEE) == ["🙋 Raised with leaders: a shared diary with the health visitors"]  # no more
    [closed] = teams.connector.sent("PUT", f"/activities/{card_id}")
    assert GROUP_CHAT in closed.path and button_titles(closed.body["attachments"][0]["content"]) == []
    assert "We'll take this up" in text_of(closed.body["attachments"][0]["content"])
    idea = teams.connector.sent("PUT", f"/activities/{change.message_ts}")[-1].body["attachments"][0]["content"]
    assert "✅ We'll take this up (Lee Leader, 26 Nov 2026): Carol Example is on it." in card_as_text(idea)
    [row] = raises(store)
    assert (row.answer, row.answered_by, row.taker_id) == ("take_up", LEE["aadObjectId"], CAROL["aadObjectId"])

    again = answer(teams, card_id, "not_now", said="changed my mind")
    assert again == "Lee Leader already answered on 26 Nov 2026: We'll take this up."


def test_questions_and_not_now_need_words_and_an_anonymous_suggester_hears_nothing(teams, store):
    meet_everyone(teams)
    change = suggest_outside(teams, store, "fewer forms for the duty team", anonymous=True)  # Alice typed it
    teams.press("change_take", sender=BOB, card=change.message_ts, change=change.id)
    teams.press("change_back", sender=CAROL, card=change.message_ts, change=change.id)
    raise_it(teams, store, BOB, needs="time")
    [(card_id, _), _] = leaders_cards(teams)

    assert answer(teams, card_id, "not_now", who=CAROL) == NOT_A_LEADER  # a backer is not a leader
    assert answer(teams, card_id, "more_info", said=" ") == (
        "Write your question for the owner: it's what they will answer. Nothing was saved."
    )
    assert answer(teams, card_id, "more_info", said="Which forms?").startswith("Sent: Need more information.")
    assert (
        teams.chat_with(BOB)
        == teams.chat_with(CAROL)
        == ["🙋 Leaders need more information about a small change you're part of."]
    )

    assert "Which forms?" in text_of(
        invoke(teams, "task/fetch", {"data": {"dialog_id": "change_raise", "change": change.id}}, BOB)
    )
    raise_it(teams, store, BOB, needs="time", note="Six forms, two hours a week")
    card_id = leaders_cards(teams)[-2][0]
    assert answer(teams, card_id, "not_now", said="") == (
        "Say why not now: a reason is required, so the team knows where it stands. Nothing was saved."
    )
    assert answer(teams, card_id, "not_now", said="After the new system, in April").startswith("Sent: Not now.")
    assert (
        teams.chat_with(BOB)[-1]
        == teams.chat_with(CAROL)[-1]
        == ("🙋 Leaders said not now to a small change you're part of.")
    )
    assert teams.chat_with(ALICE) == [], "the anonymous suggester is never told: the idea keeps no trace of her"
    assert not [c for c in teams.connector.sent("POST", "/v3/conversations") if ALICE["id"] in json.dumps(c.body)]
    assert [(r.answer, r.said) for r in raises(store)] == [
        ("more_info", "Which forms?"),
        ("not_now", "After the new system, in April"),
    ]


def test_with_no_leaders_set_raising_is_refused_until_an_admin_chooses_them_here(teams, store):
    services = teams.bot.services
    services.workspaces.update(TEAM, OPERATOR, {"leaders": [], "leadership_channel": ""})
    change = suggest_outside(teams, store, "a shared diary with the health visitors")
    refused = invoke(teams, "task/fetch", {"data": {"dialog_id": "change_raise", "change": change.id}}, ALICE)
    assert refused["value"].startswith("There's no one to raise it with yet: an admin must choose a leadership")

    teams.say("admin", sender=ADMIN, where="groupChat")
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "admin", "here": LEADERSHIP}}, ADMIN, "groupChat")
    form = text_of(opened["value"]["card"]["content"])
    assert "Post ideas raised with leaders in this conversation" in form and "Leaders (get ideas raised" in form
    data = {
        "action": "admin_form",
        "here": LEADERSHIP,
        "cadence": "fortnightly",
        "days": "tue,wed,thu",
        "start": "10:00",
        "end": "15:00",
        "weekly_cap": "1",
        "prompts": "Who helped you this week?",
        "experiment": "none",
        "timezone": "UTC",
        "thanks_daily_cap": "10",
        "values": "kind",
        "digest_cadence": "weekly",
        "leaders": LEE["aadObjectId"],
        "leaders_here": "true",
    }
    saved = invoke(teams, "task/submit", {"data": data}, ADMIN, "groupChat")["value"]
    assert "leadership channel" in saved and "leaders" in saved
    config = services.workspaces.get(TEAM)
    assert (config.leadership_channel, config.leaders) == (LEADERSHIP, (LEE["aadObjectId"],))
    assert raise_it(teams, store, ALICE).startswith("Raised with leaders.")


def test_the_teams_digest_lists_ideas_waiting_on_leaders_and_flags_the_long_wait(teams, store, clock):
    tuesday = clock.at
    clock.at = tuesday - timedelta(days=41)
    suggest_outside(teams, store, "a shared diary with the health visitors")
    raise_it(teams, store, ALICE)
    clock.at = tuesday
    teams.bot.services.workspaces.update(TEAM, OPERATOR, {"managers": [ALICE["aadObjectId"]], "sends_per_second": 0})
    assert teams.bot.services.digests.tick(TEAM, tuesday).sent == 1
    [digest] = [c for c in cards_in(teams, f"a:1on1-{ALICE['id']}") if "Team digest" in text_of(c)]
    text = text_of(digest)
    assert "🙋 Waiting on leaders (1): " in text and "a shared diary with the health visitors" in text
    assert "needs funding, permission; " in text and "⚠️ waiting 41 days" in text and ", more than 30" in text


def test_the_teams_console_raises_an_idea_from_its_form_and_dani_answers_in_her_chat(tmp_path):
    out = play(
        tmp_path,
        "home",
        "f1",  # Home's Suggest a change: its form, question by question
        "a shared diary with the health visitors",
        "",  # nothing in the way
        "2",  # no, it needs someone else
        "",  # not anonymous
        "as bob",
        "back",
        "as alice",
        "raise",
        "1,3",  # funding, permission
        "their lead would need to agree",
        "as dani",
        "chat",
        "f6",  # We'll take this up, on the card in Dani's chat
        "@carol",
        "I'll call their lead",
        "quit",
    )
    raised = after(out, "Alice in #general> raise\n")
    assert "Raised with leaders. Their answer will show on the idea's card" in raised
    assert "[#general (updated) card #1]" in raised and "🙋 Raised with leaders" in raised
    assert "[Dani's chat]\n    Alice Adeyemi raised an idea the team can't do alone:" in raised
    assert "[f6] We'll take this up [f7] Need more information [f8] Not now" in raised
    answered = out.split("Dani in chat> f6\n")[1]
    assert "Who will take it up? (@names) [@dani]:" in answered
    assert "[Dani's chat (updated)]" in answered and "[f6]" not in answered
    assert "✅ We'll take this up (Dani Douglas, " in answered and "): Carol Chatterjee is on it." in answered
    for person in ("Alice", "Bob", "Carol"):
        assert f"[{person}'s chat]\n    🙋 Leaders will take up a small change you're part of." in answered
