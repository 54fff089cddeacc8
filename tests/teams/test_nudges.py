"""Nudges reach Teams people from the clock, in their 1:1 chats, under the same attention budget and ledger as on
Slack; their answers are card buttons."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot import clock as clock_module
from bot.core.model import Team, WorkspaceConfig
from bot.store.models import NudgeResponse
from tests.teams.conftest import ALICE, BOB, TENANT, button_titles


def nudge_cards(teams, person: dict) -> list[dict]:
    chat = f"/v3/conversations/a:1personal-{person['id']}/activities"
    return [a["content"] for c in teams.connector.sent() if c.path == chat for a in c.body.get("attachments") or []]


def send_id_of(card: dict) -> int:
    return int(json.dumps(card).split('"send": ')[1].split("}")[0].split(",")[0])


def tick(teams) -> clock_module.Platform:
    platform = clock_module.Platform(teams.bot.services, teams.bot.delivery, teams.bot.tenants.served)
    clock_module.every_tick([platform])
    return platform


def test_the_clock_nudges_each_teams_person_it_knows_once_in_their_chat(teams):
    teams.say("hello", sender=ALICE, where="personal")  # each has met the bot: it knows their chat and timezone
    teams.say("hello", sender=BOB, where="personal")
    tick(teams)  # Tuesday 10:30 in London: inside the team's working hours
    [alice] = nudge_cards(teams, ALICE)
    [bob] = nudge_cards(teams, BOB)
    assert any(prompt in json.dumps(alice) for prompt in WorkspaceConfig.defaults().prompts)
    assert {"Not this week", "Fewer of these", "Stop"} <= set(button_titles(alice))
    tick(teams)  # again, in the same period: nothing more
    assert len(nudge_cards(teams, ALICE)) == 1 and len(nudge_cards(teams, BOB)) == 1
    assert send_id_of(alice) != send_id_of(bob)


def test_answers_on_the_nudge_card_are_recorded_and_answered_on_the_card(teams, store):
    teams.say("hello", sender=ALICE, where="personal")
    tick(teams)
    [card] = nudge_cards(teams, ALICE)
    answered = teams.press("nudge_stop", sender=ALICE, where="personal", send=send_id_of(card))
    assert answered["type"] == "application/vnd.microsoft.card.adaptive"
    assert "no more nudges from me" in json.dumps(answered["value"])
    assert "Start again" in button_titles(answered["value"])
    with store.session() as s:
        assert s.scalars(select(NudgeResponse.action)).all() == ["stop"]
    assert teams.bot.services.nudges.preferences(Team("teams", TENANT), ALICE["aadObjectId"]).opted_out


def test_someone_else_cannot_answer_your_nudge(teams, store):
    teams.say("hello", sender=ALICE, where="personal")
    tick(teams)
    [card] = nudge_cards(teams, ALICE)
    refused = teams.press("nudge_stop", sender=BOB, where="personal", send=send_id_of(card))
    assert refused == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "That message isn't yours to answer.",
    }
    with store.session() as s:
        assert s.scalars(select(NudgeResponse)).all() == []
