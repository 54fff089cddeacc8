"""Nudges reach Teams people from the clock, in their 1:1 chats, under the same attention budget and ledger as on
Slack; their answers are card buttons."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot import clock as clock_module
from bot.core.model import Team, WorkspaceConfig
from bot.core.policy import arm_for
from bot.store.models import NudgeResponse, Person, Send
from tests.teams.conftest import ADMIN, ALICE, BOB, TENANT, button_titles


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


def test_the_overload_guard_tells_a_teams_admin_once_in_their_chat(teams, store, clock):
    """Twelve people in each arm of the weekly or fortnightly experiment, nudged once (seeded in the store); half
    the weekly arm asked for fewer. The admin hears it once, however many ticks follow."""
    team = Team("teams", TENANT)
    teams.say("hello", sender=ADMIN, where="personal")  # the admin has met the bot: it knows their chat
    arms = ("weekly", "fortnightly")
    teams.bot.services.workspaces.update(team, ADMIN["aadObjectId"], {"experiment": list(arms)})
    workspace_id = store.workspace_id("teams", TENANT)
    by_arm: dict[str, list[str]] = {arm: [] for arm in arms}
    n = 0
    while any(len(people) < 12 for people in by_arm.values()):
        user_id, n = f"00000000-0000-4000-8000-{n:012d}", n + 1
        arm = arm_for(TENANT, user_id, arms)
        if len(by_arm[arm]) < 12:
            by_arm[arm].append(user_id)
    with store.session() as s:
        for arm, people in by_arm.items():
            for user_id in people:
                s.add(Person(workspace_id=workspace_id, user_id=user_id, name=user_id[-4:], unanswered=0))
                nudge = Send(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    kind="nudge",
                    period="1w151",
                    state="sent",
                    attempts=1,
                    arm=arm,
                    created_at=clock.at,
                    sent_at=clock.at,
                )
                s.add(nudge)
                s.flush()
                if arm == "weekly" and people.index(user_id) < 6:
                    s.add(
                        NudgeResponse(
                            workspace_id=workspace_id, send_id=nudge.id, user_id=user_id, action="fewer", at=clock.at
                        )
                    )

    tick(teams)
    tick(teams)

    warnings = [text for text in teams.replies("personal", sender=ADMIN) if "looks like too much" in text]
    assert len(warnings) == 1
    assert "6 of its 12 people asked for fewer nudges" in warnings[0] and "send me `admin`" in warnings[0]
