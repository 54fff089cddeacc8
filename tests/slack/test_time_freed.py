"""How much time an adopted change frees, through the real Slack app: whoever adopts it is asked (an ephemeral button
that opens a form), its card and its owner's or suggester's Home carry the button, nobody else may answer, the numbers
are checked, and an edit is a new answer that wins while the old ones are kept. The admin view sums the quarter."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

from sqlalchemy import select

from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.store.models import TimeFreedAnswer
from tests.slack.test_home import home_of, open_home, part
from tests.slack.test_nudge_interactions import state
from tests.slack.test_smallchange import blocks_of, click, ephemeral, newest_card, replies_to, suggest

IDEA = "one shared template for visit notes"


def answers(store) -> list[tuple]:
    with store.session() as s:
        rows = s.scalars(select(TimeFreedAnswer).order_by(TimeFreedAnswer.id))
        return [(a.actor_id, a.minutes, a.people, a.benefit, a.note) for a in rows]


def adopt(slack, idea: str = IDEA, suggester: str = ALICE, owner: str = BOB, by: str | None = None) -> str:
    """Suggest an idea, have `owner` take it on and `by` (the owner unless said) move it to Adopted; returns the body
    of the status click, to find the replies to it."""
    suggest(slack, idea, suggester)
    click(slack, newest_card(slack.fake), "change_take", owner)
    return click(slack, newest_card(slack.fake), "change_status", by or owner, choose="adopted")


def time_button(blocks: list[dict]) -> dict:
    """The "How much time does it free?" button, in an actions block or beside a section's text."""
    for block in blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == "change_time_freed":
                return element
    raise AssertionError(f"no time freed button in {blocks}")


def press_on_card(slack, who: str):
    """Press the button on the newest idea card, as Slack holds it."""
    card = newest_card(slack.fake)
    message = {"type": "message", "ts": card.ts, "blocks": blocks_of(card.call)}
    body = slack.requests.block_action(message, card.channel, time_button(blocks_of(card.call)), who)
    assert slack.signed(body).status == 200
    return body


def press_on_home(slack, who: str) -> None:
    """Press the button on the person's Home tab: a block_actions payload from a view, with no response_url."""
    view = home_of(slack, who)
    button = time_button(view["blocks"])
    payload = {
        "type": "block_actions",
        "team": {"id": "T0SAMPLE", "domain": "sample"},
        "user": {"id": who, "username": who.lower(), "name": who.lower(), "team_id": "T0SAMPLE"},
        "api_app_id": "A0SMALLCHG",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": "1.home.trigger",
        "view": view | {"id": "V0HOME", "team_id": "T0SAMPLE", "state": {"values": {}}, "hash": "1700.ab"},
        "actions": [button | {"block_id": "home", "action_ts": f"{time.time():.6f}"}],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    assert slack.signed(urlencode({"payload": json.dumps(payload)})).status == 200


def answer(minutes="", people="", benefit=None, note="") -> dict:
    values = state(minutes=("number", "number_input", minutes), people=("number", "number_input", people))
    values |= state(note=("text", "plain_text_input", note))
    values["benefit"] = {"choice": {"type": "static_select", "selected_option": None}}
    if benefit:
        values |= state(benefit=("choice", "static_select", benefit))
    return values


def test_adopting_a_change_asks_whoever_adopted_it_and_the_answer_shows_on_the_card(slack, store, clock):
    adopted = adopt(slack)

    [offer] = [r for r in replies_to(slack.fake, adopted) if ephemeral(r)]
    assert "How much time does it free?" in offer.text() and "optional" in offer.text()
    card = newest_card(slack.fake)
    assert card.status == "Adopted" and "*Time freed:* not said yet" in card.text

    slack.press(offer, "change_time_freed", BOB)
    form = slack.opened_view()
    assert form["callback_id"] == "time_freed_submit" and IDEA in json.dumps(form)
    response = slack.submit_view(form, answer(minutes="30", people="6"), BOB)

    assert response.status == 200
    saved = response.json()
    assert saved["response_action"] == "update"
    assert "Saved: 30 minutes a week for each of 6 people (about 3 hours a week in all)" in json.dumps(saved["view"])
    shown = newest_card(slack.fake)
    assert shown.call.method == "chat.update" and (shown.channel, shown.ts) == (card.channel, card.ts)
    assert "*Time freed:* 30 minutes a week for each of 6 people (about 3 hours a week in all)" in shown.text
    assert time_button(blocks_of(shown.call))["text"]["text"] == "Change time freed"
    assert answers(store) == [(BOB, 30, 6, None, None)]
    with store.session() as s:
        assert s.scalars(select(TimeFreedAnswer.at)).one() == clock.at


def test_only_the_owner_or_the_suggester_may_answer_and_anyone_else_is_told_privately(slack, store):
    adopt(slack)
    for someone in (CAROL, DANI):  # a colleague, and an admin: the idea has a named suggester to answer for it
        pressed = press_on_card(slack, someone)
        [refusal] = replies_to(slack.fake, pressed)
        assert ephemeral(refusal)
        assert refusal.text() == (
            "Only its owner (Bob) or the person who suggested it (Alice) can say how much time this change frees."
        )
        assert slack.fake.calls_to("views.open") == []

    press_on_card(slack, ALICE)  # the suggester may, as the owner may
    form = slack.opened_view()
    forged = slack.submit_view(form, answer(minutes="60", people="2"), CAROL)  # Carol submits Alice's form
    assert "Only its owner (Bob)" in forged.json()["errors"]["minutes"]
    assert answers(store) == []


def test_an_anonymous_idea_is_answered_by_its_owner_or_an_admin(slack, store):
    adopt(slack, "anon fewer meetings on Mondays", suggester=CAROL, owner=BOB)
    assert "Only its owner (Bob) or a workspace admin" in replies_to(slack.fake, press_on_card(slack, CAROL))[0].text()
    press_on_card(slack, DANI)
    assert slack.submit_view(slack.opened_view(), answer(benefit="kinder"), DANI).status == 200
    assert answers(store) == [(DANI, None, None, "kinder", None)]
    assert "*Time freed:* not about time: it makes things kinder" in newest_card(slack.fake).text


def test_an_admin_who_adopts_someone_elses_idea_is_not_asked(slack):
    adopted = adopt(slack, by=DANI)
    assert [r for r in replies_to(slack.fake, adopted) if ephemeral(r)] == []
    assert newest_card(slack.fake).status == "Adopted"


def test_bad_numbers_are_refused_on_the_field_they_are_about_and_nothing_is_saved(slack, store):
    adopt(slack)
    press_on_card(slack, BOB)
    form = slack.opened_view()
    refused = {
        "minutes": answer(minutes="0", people="4"),
        "people": answer(minutes="30", people="501"),
        "benefit": answer(minutes="30", people="4", benefit="safer"),
        "note": answer(benefit="other"),
    }
    said = {field: slack.submit_view(form, values, BOB).json()["errors"] for field, values in refused.items()}
    assert {field: list(errors) for field, errors in said.items()} == {f: [f] for f in refused}
    assert said["minutes"]["minutes"].startswith("Minutes a week must be a whole number from 1 to 2,400")
    assert said["people"]["people"] == "People must be a whole number from 1 to 500."
    assert "not both" in said["benefit"]["benefit"]
    assert "whole number" in slack.submit_view(form, answer(minutes="1.5", people="2"), BOB).json()["errors"]["minutes"]
    assert "minutes" in slack.submit_view(form, answer(), BOB).json()["errors"]
    assert answers(store) == []


def test_an_edit_is_a_new_answer_the_latest_wins_and_every_answer_is_kept(slack, store, clock):
    adopt(slack)
    press_on_card(slack, BOB)
    slack.submit_view(slack.opened_view(), answer(minutes="30", people="6"), BOB)
    clock.advance(days=3)

    press_on_card(slack, ALICE)
    form = slack.opened_view()
    shown = {b["block_id"]: b.get("element", {}).get("initial_value") for b in form["blocks"] if b["type"] == "input"}
    assert (shown["minutes"], shown["people"]) == ("30", "6"), "the form opens with the latest answer"
    slack.submit_view(form, answer(minutes="45", people="4", note="fewer duplicate notes"), ALICE)
    assert (
        "*Time freed:* 45 minutes a week for each of 4 people (about 3 hours a week in all): fewer duplicate notes"
        in (newest_card(slack.fake).text)
    )

    press_on_card(slack, BOB)
    slack.submit_view(slack.opened_view(), answer(benefit="other", note="families hear back sooner"), BOB)
    assert "*Time freed:* not about time: families hear back sooner" in newest_card(slack.fake).text
    assert answers(store) == [
        (BOB, 30, 6, None, None),
        (ALICE, 45, 4, None, "fewer duplicate notes"),
        (BOB, None, None, "other", "families hear back sooner"),
    ]


def test_home_lists_my_adopted_changes_with_the_same_button_and_shows_the_answer(slack, store):
    adopt(slack)
    open_home(slack, ALICE)
    mine = part(home_of(slack, ALICE), "Your adopted changes")
    assert IDEA in mine and "*Time freed:* not said yet" in mine
    open_home(slack, CAROL)
    assert "Your adopted changes" not in json.dumps(home_of(slack, CAROL)), "Carol neither suggested nor owns it"

    press_on_home(slack, ALICE)
    slack.submit_view(slack.opened_view(), answer(minutes="20", people="3"), ALICE)
    assert "*Time freed:* 20 minutes a week for each of 3 people (about 1 hour a week in all)" in part(
        home_of(slack, ALICE), "Your adopted changes"
    )
    assert answers(store) == [(ALICE, 20, 3, None, None)]


def test_a_change_no_longer_adopted_cannot_be_answered_and_home_drops_it(slack, store):
    [offer] = [r for r in replies_to(slack.fake, adopt(slack)) if ephemeral(r)]
    open_home(slack, BOB)
    click(slack, newest_card(slack.fake), "change_status", BOB, choose="trying")
    assert "Time freed" not in newest_card(slack.fake).text
    assert "Your adopted changes" not in json.dumps(home_of(slack, BOB))

    slack.press(offer, "change_time_freed", BOB)  # the question asked when it was adopted, pressed late
    refusal = slack.said()[-1]
    assert refusal.text() == "You can say how much time a change frees once it's adopted; this one is trying it."
    assert ephemeral(refusal) and slack.fake.calls_to("views.open") == [] and answers(store) == []
