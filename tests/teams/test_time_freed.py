"""How much time an adopted change frees, in Teams: whoever adopts it sees the question on the card they are shown, the
card's button opens a dialog, nobody else may answer (the dialog says so, to them alone), the numbers are checked,
an edit is a new answer that wins, Home lists the adopted changes, and the admin dialog and the digest sum the
quarter as the test works it out itself."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.store.models import Change, TimeFreedAnswer
from tests.teams.conftest import ADMIN, ALICE, BOB, CAROL, CHANNEL, TENANT, button_titles, elements
from tests.teams.test_digests import OTHERS, TUESDAY, cards_in
from tests.test_time_freed_sums import expected, seed

TEAM = Team("teams", TENANT)


def text_of(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def adopted(teams, store) -> tuple[int, str, dict]:
    """Alice's idea, taken on and adopted by Bob: (change id, card id, the card Bob is shown)."""
    teams.say("smallchange one shared template for visit notes")
    with store.session() as s:
        change_id, card_id = s.execute(select(Change.id, Change.message_ts)).one()
    teams.press("change_take", sender=BOB, card=card_id, change=change_id)
    shown = teams.press("change_status", sender=BOB, card=card_id, change=change_id, status="adopted")
    return change_id, card_id, shown["value"]


def open_dialog(teams, change_id: int, sender: dict, where: str = "channel") -> dict:
    value = {"data": {"dialog_id": "change_time_freed", "action": "change_time_freed", "change": change_id}}
    status, opened = teams.answer(teams.activity("invoke", sender, where, name="task/fetch", value=value))
    assert status == 200
    return opened["task"]


def submit(teams, change_id: int, sender: dict, **answer: str) -> str:
    data = {"action": "time_freed_form", "change": change_id, "minutes": "", "people": "", "benefit": "", "note": ""}
    invoke = teams.activity("invoke", sender, "channel", name="task/submit", value={"data": data | answer})
    status, said = teams.answer(invoke)
    assert status == 200
    return said["task"]["value"]


def answers(store) -> list[tuple]:
    with store.session() as s:
        rows = s.scalars(select(TimeFreedAnswer).order_by(TimeFreedAnswer.id))
        return [(a.actor_id, a.minutes, a.people, a.benefit, a.note) for a in rows]


def test_adopting_asks_the_adopter_and_the_dialogs_answer_shows_on_everyones_card(teams, store):
    change_id, card_id, mine = adopted(teams, store)

    assert "🎉 Adopted. How much time does it free?" in text_of(mine)
    [ask] = [a for a in elements(mine, "Action.Submit") if a["title"] == "How much time does it free?"]
    assert ask["data"] == {
        "msteams": {"type": "task/fetch"},
        "dialog_id": "change_time_freed",
        "action": "change_time_freed",
        "change": change_id,
    }
    everyones = teams.connector.sent("PUT", f"/activities/{card_id}")[-1].body["attachments"][0]["content"]
    assert "Time freed: " in text_of(everyones) and "not said yet" in text_of(everyones)
    assert "🎉" not in text_of(everyones), "the question is for the one who adopted it"

    dialog = open_dialog(teams, change_id, BOB)
    form = dialog["value"]["card"]["content"]
    assert dialog["value"]["title"] == "Time freed"
    assert [i["id"] for i in elements(form, "Input.")] == ["minutes", "people", "benefit", "note"]
    assert submit(teams, change_id, BOB, minutes="30", people="6") == (
        "Saved: 30 minutes a week for each of 6 people (about 3 hours a week in all). It shows on the idea card now."
    )
    latest = teams.connector.sent("PUT", f"/activities/{card_id}")[-1].body["attachments"][0]["content"]
    assert "30 minutes a week for each of 6 people (about 3 hours a week in all)" in text_of(latest)
    assert "Change time freed" in button_titles(latest)
    assert answers(store) == [(BOB["aadObjectId"], 30, 6, None, None)]


def test_nobody_else_may_answer_bad_numbers_are_refused_and_an_edit_wins_with_history_kept(teams, store):
    change_id, _, _ = adopted(teams, store)

    refused = open_dialog(teams, change_id, CAROL)
    assert refused["type"] == "message"
    assert refused["value"] == (
        "Only its owner (Bob Example) or the person who suggested it (Alice Example) can say how much time this "
        "change frees."
    )
    assert submit(teams, change_id, CAROL, minutes="30", people="2").endswith("change frees. Nothing was saved.")
    assert submit(teams, change_id, ADMIN, minutes="30", people="2").startswith("Only its owner (Bob Example)")
    assert submit(teams, change_id, BOB, minutes="2401", people="2") == (
        "Minutes a week must be a whole number from 1 to 2,400 (40 hours): the time it frees each person. "
        "Nothing was saved."
    )
    assert submit(teams, change_id, BOB, minutes="30", people="0").startswith("People must be a whole number")
    assert "not both" in submit(teams, change_id, BOB, minutes="30", people="2", benefit="safer")
    assert answers(store) == []

    submit(teams, change_id, BOB, minutes="30", people="6")
    reopened = open_dialog(teams, change_id, ALICE)["value"]["card"]["content"]
    assert {i["id"]: i.get("value") for i in elements(reopened, "Input.")}["minutes"] == 30
    said = submit(teams, change_id, ALICE, benefit="clearer", note="one place to look")
    assert said == "Saved: not about time: it makes things clearer (one place to look). It shows on the idea card now."
    assert answers(store) == [
        (BOB["aadObjectId"], 30, 6, None, None),
        (ALICE["aadObjectId"], None, None, "clearer", "one place to look"),
    ]


def test_home_lists_my_adopted_changes_with_the_button(teams, store):
    change_id, _, _ = adopted(teams, store)
    submit(teams, change_id, BOB, minutes="20", people="3")
    teams.say("home", sender=ALICE, where="personal")
    [home] = teams.cards("personal")
    said = text_of(home)
    assert "Your adopted changes: time freed" in said
    assert "20 minutes a week for each of 3 people (about 1 hour a week in all)" in said
    assert "Change time freed" in button_titles(home)


def test_the_admin_dialog_and_the_digest_sum_the_quarter_and_the_digest_lists_ideas_waiting_on_leaders_too(
    teams, store, clock
):
    teams.connector.members = [ALICE, BOB, CAROL, *OTHERS]
    teams.post(teams.activity("installationUpdate", ALICE, "channel", action="add"))  # learns the team
    alice = ALICE["aadObjectId"]
    teams.bot.services.workspaces.update(
        TEAM,
        OPERATOR,
        {"timezone": "Europe/London", "managers": [alice], "digest_channel": CHANNEL, "leaders": [alice]},
    )
    teams.bot.services.nudges.sync_people(TEAM, force=True)
    seed(teams.bot.services, TEAM, clock, alice, BOB["aadObjectId"])
    waiting = teams.bot.services.changes.suggest(
        TEAM, alice, "a shared diary with the health visitors", within_gift=False
    )
    teams.bot.services.leaders.raise_with_leaders(TEAM, waiting.id, alice, ["funding"])
    clock.at = TUESDAY

    value = {"data": {"dialog_id": "admin", "here": None}}
    status, opened = teams.answer(teams.activity("invoke", ADMIN, "channel", name="task/fetch", value=value))
    settings = text_of(opened["task"]["value"]["card"]["content"])
    sentence, biggest = expected(until=TUESDAY)
    assert "⏳ Time freed, Q4 2026: " in settings and sentence in settings
    assert [settings.index(idea) for idea in biggest] == sorted(settings.index(idea) for idea in biggest)

    teams.bot.services.digests.tick(TEAM, TUESDAY)
    [digest] = cards_in(teams, f"a:1on1-{ALICE['id']}")
    sentence, biggest = expected(until=TUESDAY.replace(day=23, hour=0, minute=0))
    shown = text_of(digest)
    assert sentence in shown and all(idea in shown for idea in biggest)
    assert "🙋 Waiting on leaders (1): " in shown and "a shared diary with the health visitors" in shown
