"""Forms in Teams: a message's "Thank the author", and the thanks and change forms that nudge and Home buttons
open, as the dialogs (task modules) Teams shows; and `home`."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.core.model import Team
from bot.store.models import Change, SettingsChange, TeamsAddress, Thanks
from tests.teams.conftest import ADMIN, ALICE, BOB, CHANNEL, TENANT, elements

MESSAGE = {
    "id": "1700000000099",
    "messageType": "message",
    "from": {"user": {"id": BOB["aadObjectId"], "displayName": BOB["name"], "userIdentityType": "aadUser"}},
    "body": {"contentType": "html", "content": "<p>I moved the duty rota so Alice could do her visit</p>"},
    "linkToMessage": "https://teams.microsoft.com/l/message/19:general@thread.tacv2/1700000000099",
}


def invoke(teams, name: str, value: dict, where: str = "channel", sender: dict = ALICE) -> dict:
    status, body = teams.answer(teams.activity("invoke", sender, where, name=name, value=value))
    assert status == 200, (status, body)
    return body


def test_thank_the_author_opens_the_form_for_them_and_posts_the_thanks_where_the_message_was(teams, store):
    opened = invoke(
        teams,
        "composeExtension/fetchTask",
        {"commandId": "thankAuthor", "commandContext": "message", "messagePayload": MESSAGE},
    )
    form = opened["task"]["value"]["card"]["content"]
    assert opened["task"]["type"] == "continue" and BOB["name"] in json.dumps(form)
    assert MESSAGE["linkToMessage"] in json.dumps(form)
    data = {"action": "thanks_form", "who": BOB["aadObjectId"], "reason": "moving the rota", "private": "false"}
    sent = invoke(
        teams,
        "composeExtension/submitAction",
        {"commandId": "thankAuthor", "commandContext": "message", "messagePayload": MESSAGE, "data": data},
    )
    assert sent["task"] == {"type": "message", "value": "Thanks sent to Bob Example."}
    assert teams.replies() == ["🙏 **Alice Example** thanked **Bob Example**: moving the rota"]
    assert teams.chat_with(BOB) == ["🙏 **Alice Example** thanked you: moving the rota"]
    with store.session() as s:
        thanks = s.scalars(select(Thanks)).one()
    assert (thanks.via, thanks.channel_id, thanks.message_ref) == ("shortcut", CHANNEL, f"{CHANNEL}:1700000000099")


def test_a_refused_form_says_why_and_that_nothing_was_saved(teams, store):
    data = {"action": "thanks_form", "who": BOB["aadObjectId"], "reason": "  ", "private": "false"}
    teams.say("hello", sender=BOB, where="personal")
    said = invoke(teams, "task/submit", {"data": data}, where="personal")
    assert said["task"]["value"].startswith("What are you thanking them for?")
    assert said["task"]["value"].endswith("Nothing was saved.")
    with store.session() as s:
        assert s.scalars(select(Thanks)).all() == []


def test_the_nudges_thank_someone_button_opens_the_form_and_sends_the_thanks_privately_if_asked(teams):
    teams.say("hello", sender=BOB, where="personal")
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "nudge_thank", "send": 1}}, where="personal")
    assert "What for?" in json.dumps(opened["task"]["value"]["card"]["content"])
    data = {"action": "thanks_form", "who": BOB["aadObjectId"], "reason": "the cover", "private": "true"}
    sent = invoke(teams, "task/submit", {"data": data}, where="personal")
    assert sent["task"]["value"] == "Thanks sent to Bob Example. Only you and they can see it."
    assert teams.chat_with(BOB) == [] and teams.replies("personal", sender=BOB)[-1].endswith("(privately): the cover")


def test_the_change_form_from_home_sends_the_card_to_its_author_to_share(teams, store):
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "home_suggest"}}, where="personal")
    assert "Can the team do this itself?" in json.dumps(opened["task"]["value"]["card"]["content"])
    data = {"action": "change_form", "change": "a shared diary", "obstacle": "", "gift": "within", "anonymous": "false"}
    sent = invoke(teams, "task/submit", {"data": data}, where="personal")
    assert sent["task"]["value"] == "Sent to you: share it with your team."
    [card] = teams.cards("personal")
    assert "a shared diary" in json.dumps(card)
    with store.session() as s:
        assert s.scalars(select(Change.within_gift)).one() is True


def test_home_shows_your_thanks_and_ideas_as_a_card(teams):
    teams.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,))
    teams.say("home", sender=BOB, where="personal")
    [home] = [c for c in teams.connector.sent() if c.path == f"/v3/conversations/a:1personal-{BOB['id']}/activities"]
    card = home.body["attachments"][0]["content"]
    assert "Thanks you've received (1)" in json.dumps(card) and "the cover" in json.dumps(card)


def test_nudges_opens_your_settings_and_the_core_refuses_more_often_than_the_team(teams, store):
    teams.say("nudges", where="personal")
    [answer] = teams.cards("personal")
    assert "Change my nudges" in json.dumps(answer)
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "home_my_nudges"}}, where="personal")
    form = json.dumps(opened["task"]["value"]["card"]["content"])
    assert "As the team sets (fortnightly)" in form and '"weekly"' not in form
    data = {"action": "nudges_form", "cadence": "monthly", "day_off": "", "snooze": "2026-12-10"}
    saved = invoke(teams, "task/submit", {"data": data}, where="personal")
    assert saved["task"]["value"] == "Saved: nudges monthly, not before 10 December."
    forged = {"action": "nudges_form", "cadence": "weekly", "day_off": "", "snooze": ""}
    refused = invoke(teams, "task/submit", {"data": forged}, where="personal")
    assert refused["task"]["value"].startswith("Choose one of the offered choices")
    assert teams.bot.services.nudges.preferences(Team("teams", TENANT), ALICE["aadObjectId"]).cadence == "monthly"


def test_admin_opens_the_settings_for_admins_only_and_the_core_checks_what_is_saved(teams, store):
    teams.say("admin")
    assert teams.replies()[-1].startswith("Only workspace admins")
    teams.say("admin", sender=ADMIN)
    [button] = [c for c in teams.cards() if "Open the settings" in json.dumps(c)]
    here = json.dumps(button).split('"here": "')[1].split('"')[0]
    assert here == CHANNEL
    fetch = {"data": {"dialog_id": "admin", "here": here}}
    refused = invoke(teams, "task/fetch", fetch)  # Alice, not an admin, pressing the admin's button
    assert refused["task"]["value"].startswith("Only workspace admins")
    opened = invoke(teams, "task/fetch", fetch, sender=ADMIN)
    assert "How often people are nudged" in json.dumps(opened["task"]["value"]["card"]["content"])
    data = {
        "action": "admin_form",
        "here": here,
        "cadence": "weekly",
        "days": "mon,wed",
        "start": "09:30",
        "end": "16:00",
        "weekly_cap": "2",
        "prompts": "Who helped you this week?",
        "holidays": "2026-12-25\n2026-12-28",
        "experiment": "none",
        "timezone": "Europe/London",
        "thanks_daily_cap": "10",
        "values": "kind\nbrave",
        "digest_cadence": "weekly",
        "managers": BOB["aadObjectId"],
        "admins": "",
        "digest_here": "true",
    }
    saved = invoke(teams, "task/submit", {"data": data}, sender=ADMIN)
    assert saved["task"]["value"].startswith("Settings saved: cadence, days, start, end, weekly cap")
    config = teams.bot.services.workspaces.get(Team("teams", TENANT))
    assert (config.weekly_cap, config.digest_channel, config.managers) == (2, CHANNEL, (BOB["aadObjectId"],))
    forged = invoke(teams, "task/submit", {"data": data | {"weekly_cap": "100"}}, sender=ADMIN)
    assert forged["task"]["value"] == "Choose a whole number from 0 to 7. Nothing was saved."
    assert teams.bot.services.workspaces.get(Team("teams", TENANT)).weekly_cap == 2


def test_forgetting_a_teams_person_deletes_how_the_bot_reached_them_too(teams, store):
    teams.say("hello", sender=ALICE, where="personal")
    teams.say("hello", sender=BOB, where="personal")
    teams.bot.services.workspaces.update(Team("teams", TENANT), ADMIN["aadObjectId"], {"admins": [BOB["aadObjectId"]]})
    erasure = teams.bot.services.records.forget(Team("teams", TENANT), BOB["aadObjectId"])
    assert (erasure.addresses, erasure.admin) == (1, True)
    with store.session() as s:
        assert s.scalars(select(TeamsAddress.key).where(TeamsAddress.kind == "person")).all() == [ALICE["aadObjectId"]]
    assert teams.bot.services.workspaces.get(Team("teams", TENANT)).admins == ()


def test_an_admin_reads_the_experiment_and_stops_an_arm_in_the_settings_dialog(teams, store):
    team = Team("teams", TENANT)
    teams.say("hello", sender=ADMIN, where="personal")  # the bot meets the tenant
    teams.bot.services.workspaces.update(team, ADMIN["aadObjectId"], {"experiment": ["weekly", "fortnightly"]})
    opened = invoke(teams, "task/fetch", {"data": {"dialog_id": "admin"}}, sender=ADMIN, where="personal")
    card = opened["task"]["value"]["card"]["content"]
    assert "Verdict: too few people to say anything yet" in json.dumps(card)
    [choice] = [e for e in elements(card, "Input.") if e["id"] == "experiment_action"]
    assert [c["value"] for c in choice["choices"]] == [
        "keep",
        "stop:weekly",  # not fortnightly: its people would get the team's fortnightly, as now
        "adopt:weekly",
        "adopt:fortnightly",
    ]
    # The form as shown, with one choice made: stop the weekly arm.
    data = {e["id"]: e.get("value") or "" for e in elements(card, "Input.")} | {"action": "admin_form"}
    data["experiment_action"] = "stop:weekly"
    saved = invoke(teams, "task/submit", {"data": data}, sender=ADMIN, where="personal")
    assert saved["task"]["value"] == "Settings saved: stopped arms. Every change is recorded."
    assert teams.bot.services.workspaces.get(team).stopped_arms == ("weekly",)
    with store.session() as s:
        [entry] = s.scalars(select(SettingsChange).where(SettingsChange.setting == "stopped_arms"))
    assert (entry.actor_id, json.loads(entry.new)) == (ADMIN["aadObjectId"], ["weekly"])
    # Stopping the other arm too was never offered (its cadence is the team's), and would leave no experiment.
    again = invoke(teams, "task/submit", {"data": data | {"experiment_action": "stop:fortnightly"}}, sender=ADMIN)
    assert again["task"]["value"] == "Choose one of the experiment's choices offered. Nothing was saved."
