"""Nudges as a person meets them in Slack: the DM, its buttons, the modals they open, and the settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.console.team import ALICE, BOB, DANI
from bot.core.model import Team
from bot.store.models import NudgeResponse, Person, Send, SettingsChange, Thanks

TEAM = Team("slack", "T0SAMPLE")
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # 10:30 in London: Alice and Bob are due
WEDNESDAY = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


def tick(slack, at=TUESDAY):
    return slack.services.nudges.tick(TEAM, at)


def nudge_for(slack, user: str):
    [dm] = [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == user]
    return dm


def reason_for(report, user: str) -> str:
    return next(reason for user_id, _, reason in report.outcomes if user_id == user)


def person(store, user: str) -> Person:
    with store.session() as s:
        return s.scalars(select(Person).where(Person.user_id == user)).one()


def state(**blocks) -> dict:
    """view.state.values in Slack's shape, from block -> (action id, element type, value)."""
    shaped = {}
    for block, (action_id, kind, value) in blocks.items():
        if kind == "plain_text_input":
            element = {"value": value}
        elif kind == "number_input":
            element = {"value": str(value)}
        elif kind == "static_select":
            element = {"selected_option": {"text": {"type": "plain_text", "text": value}, "value": value}}
        elif kind == "checkboxes":
            element = {"selected_options": [{"text": {"type": "plain_text", "text": v}, "value": v} for v in value]}
        elif kind == "timepicker":
            element = {"selected_time": value}
        elif kind == "datepicker":
            element = {"selected_date": value}
        elif kind == "conversations_select":
            element = {"selected_conversation": value}
        elif kind == "multi_users_select":
            element = {"selected_users": value}
        elif kind == "users_select":
            element = {"selected_user": value}
        shaped[block] = {action_id: {"type": kind} | element}
    return shaped


def test_a_nudge_is_a_short_prompt_with_five_ways_to_answer(slack):
    tick(slack)
    dm = nudge_for(slack, ALICE)
    labels = [e["text"]["text"] for b in dm.params["blocks"] for e in b.get("elements", []) if e["type"] == "button"]
    assert labels == ["Suggest a change", "Thank someone", "Not this week", "Fewer of these", "Stop"]
    assert "?" in dm.params["text"]


def test_not_this_week_snoozes_until_monday(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_snooze", ALICE)
    [answer] = slack.said()
    assert answer.params["replace_original"] is True
    assert "until Monday 30 November" in answer.text()
    assert person(store, ALICE).snoozed_until == date(2026, 11, 30)
    assert reason_for(slack.services.nudges.tick(TEAM, datetime(2026, 12, 9, 11, tzinfo=UTC)), ALICE) != "snoozed"


def test_fewer_of_these_halves_my_cadence(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_fewer", ALICE)
    assert "at most monthly" in slack.said()[0].text()
    assert person(store, ALICE).cadence == "monthly"
    # Three weeks on, Bob (fortnightly) hears again; Alice (every 4 weeks) does not.
    report = tick(slack, datetime(2026, 12, 8, 11, tzinfo=UTC))
    assert reason_for(report, BOB) == "sent" and reason_for(report, ALICE) == "already nudged this period"


def test_stop_opts_out_with_a_one_click_way_back(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_stop", ALICE)
    [answer] = slack.said()
    assert "no more nudges" in answer.text()
    assert person(store, ALICE).opted_out is True
    assert reason_for(tick(slack, datetime(2026, 12, 8, 11, tzinfo=UTC)), ALICE) == "opted out"

    slack.fake.clear()
    slack.press(answer, "nudge_resume", ALICE)
    assert "Welcome back" in slack.said()[0].text()
    assert person(store, ALICE).opted_out is False


def test_only_the_person_nudged_can_answer(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_stop", BOB)
    assert "isn't yours" in slack.said()[0].text()
    assert person(store, ALICE).opted_out is False


def test_suggest_a_change_opens_the_idea_form_and_asks_where_to_post(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_suggest", ALICE)
    view = slack.opened_view()
    assert view["callback_id"] == "change_submit" and view["blocks"][0]["block_id"] == "channel"
    values = state(
        channel=("choice", "conversations_select", "C0GENERAL"),
        change=("text", "plain_text_input", "one shared visit diary"),
    )
    assert slack.submit_view(view, values, ALICE).status == 200
    [card] = [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == "C0GENERAL"]
    assert "one shared visit diary" in card.text()
    with store.session() as s:
        assert s.scalars(select(NudgeResponse.action)).all() == ["suggest"]


def test_thank_someone_from_a_nudge_privately(slack, store):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_thank", ALICE)
    view = slack.opened_view()
    slack.fake.clear()
    values = state(
        who=("users", "multi_users_select", [BOB]),
        reason=("text", "plain_text_input", "sorting the rota #supportive"),
    )
    assert slack.submit_view(view, values, ALICE).status == 200
    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB and "privately thanked you" in dm.text()
    with store.session() as s:
        assert s.scalars(select(Thanks.private)).one() is True


def test_thank_someone_shared_in_a_channel(slack):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_thank", ALICE)
    view = slack.opened_view()
    slack.fake.clear()
    values = state(
        who=("users", "multi_users_select", [BOB]),
        reason=("text", "plain_text_input", "sorting the rota"),
        channel=("choice", "conversations_select", "C0GENERAL"),
    )
    slack.submit_view(view, values, ALICE)
    channels = [c.params["channel"] for c in slack.fake.calls_to("chat.postMessage")]
    assert channels == ["C0GENERAL", BOB]


@pytest.mark.parametrize(
    ("who", "reason", "block", "words"),
    [([BOB], "   ", "reason", "what you're thanking"), ([ALICE], "being me", "who", "can't thank yourself")],
)
def test_the_thanks_form_points_at_what_is_wrong(slack, store, who, reason, block, words):
    tick(slack)
    slack.press(nudge_for(slack, ALICE), "nudge_thank", ALICE)
    view = slack.opened_view()
    values = state(who=("users", "multi_users_select", who), reason=("text", "plain_text_input", reason))
    response = slack.submit_view(view, values, ALICE)
    body = response.json()
    assert body["response_action"] == "errors" and words in body["errors"][block]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 0


def test_admin_settings_are_for_admins_only(slack):
    slack.smallchange("admin", ALICE)
    assert "Only workspace admins" in slack.said()[0].text()
    assert slack.fake.calls_to("views.open") == []


def test_an_admin_sees_the_dry_run_and_changes_settings_with_an_audit_trail(slack, store):
    tick(slack)
    slack.smallchange("admin", DANI)
    view = slack.opened_view()
    shown = json.dumps(view)
    assert "If the clock ticked now" in shown and "weekly cap reached" in shown

    values = state(
        cadence=("choice", "static_select", "monthly"),
        days=("choice", "checkboxes", ["tue", "wed"]),
        start=("time", "timepicker", "09:30"),
        end=("time", "timepicker", "14:00"),
        weekly_cap=("number", "number_input", 1),
        holidays=("text", "plain_text_input", "2026-12-25, Christmas"),
        prompts=("text", "plain_text_input", "Who helped you this week?"),
        thanks_daily_cap=("number", "number_input", 1),
        values=("text", "plain_text_input", "kind\nbrave"),
        experiment=("choice", "static_select", "none"),
    )
    response = slack.submit_view(view, values, DANI)
    assert "couldn't read Christmas" in response.json()["errors"]["holidays"]

    values["holidays"] = {"text": {"type": "plain_text_input", "value": "2026-12-25"}}
    assert slack.submit_view(view, values, DANI).body == ""
    saved = slack.fake.calls_to("chat.postMessage")[-1]
    assert saved.params["channel"] == DANI and "Settings saved: cadence" in saved.text()
    with store.session() as s:
        changes = {c.setting: (c.actor_id, json.loads(c.new)) for c in s.scalars(select(SettingsChange))}
    assert changes["cadence"] == (DANI, "monthly") and changes["holidays"] == (DANI, ["2026-12-25"])
    assert changes["thanks_daily_cap"] == (DANI, 1)

    # The new daily cap and values apply to /thanks at once.
    slack.fake.clear()
    slack.thanks(f"<@{BOB}|bob> for the cover #brave", ALICE)
    assert "Values: brave" in slack.said()[0].text()
    slack.fake.clear()
    slack.thanks(f"<@{BOB}|bob> for more", ALICE)
    assert "daily limit" in slack.said()[0].text()


def test_a_person_sets_their_own_nudges(slack, store):
    slack.smallchange("nudges", ALICE)
    view = slack.opened_view()
    options = [o["value"] for o in view["blocks"][1]["element"]["options"]]
    assert options == ["team", "monthly", "every 2 months", "off"]  # never more often than the team's fortnightly
    values = state(
        cadence=("choice", "static_select", "monthly"),
        day_off=("date", "datepicker", "2026-11-27"),
    )
    slack.submit_view(view, values, ALICE)
    assert "Saved: nudges monthly" in slack.fake.calls_to("chat.postMessage")[-1].text()
    me = person(store, ALICE)
    assert me.cadence == "monthly" and me.alternate_day_off == date(2026, 11, 27)


def test_start_again_after_fewer_reached_off_really_starts_again(slack, store):
    tick(slack)
    with store.session() as s:
        s.scalars(select(Person).where(Person.user_id == ALICE)).one().cadence = "every 2 months"
    slack.press(nudge_for(slack, ALICE), "nudge_fewer", ALICE)
    [answer] = slack.said()
    assert "won't nudge you again" in answer.text() and person(store, ALICE).cadence == "off"

    slack.fake.clear()
    slack.press(answer, "nudge_resume", ALICE)
    assert "nudges are on again, at most fortnightly" in slack.said()[0].text()
    assert reason_for(tick(slack, datetime(2026, 12, 8, 11, tzinfo=UTC)), ALICE) == "sent"


def as_shown(view: dict, **chosen: str) -> dict:
    """view.state.values as Slack submits a modal left as it was shown, but for the options `chosen` (block id ->
    option value)."""
    submitted = {}
    for block in (b for b in view["blocks"] if b["type"] == "input"):
        element = block["element"]
        kind = element["type"]
        value = {
            "plain_text_input": {"value": element.get("initial_value")},
            "number_input": {"value": element.get("initial_value")},
            "static_select": {"selected_option": element.get("initial_option")},
            "checkboxes": {"selected_options": element.get("initial_options") or []},
            "timepicker": {"selected_time": element.get("initial_time")},
            "conversations_select": {"selected_conversation": element.get("initial_conversation")},
            "multi_users_select": {"selected_users": element.get("initial_users") or []},
        }[kind]
        if block["block_id"] in chosen:
            option = chosen[block["block_id"]]
            value = {"selected_option": {"text": {"type": "plain_text", "text": option}, "value": option}}
        submitted[block["block_id"]] = {element["action_id"]: {"type": kind} | value}
    return submitted


def test_an_admin_reads_the_experiment_and_stops_an_arm_from_the_settings(slack, store):
    slack.services.workspaces.update(TEAM, DANI, {"experiment": ["weekly", "fortnightly"]})
    slack.services.nudges.sync_people(TEAM)  # the clock has met the team
    slack.smallchange("admin", DANI)
    view = slack.opened_view()
    shown = json.dumps(view)
    assert "Weekly arm: 2 people" in shown and "Fortnightly arm: 3 people" in shown  # Alice, Bob; Carol, Dani, Femi
    assert "Verdict: too few people to say anything yet" in shown
    [choice] = [b for b in view["blocks"] if b.get("block_id") == "experiment_action"]
    assert [o["value"] for o in choice["element"]["options"]] == [
        "keep",
        "stop:weekly",  # not fortnightly: its people would get the team's fortnightly, as now
        "adopt:weekly",
        "adopt:fortnightly",
    ]
    refused = slack.submit_view(view, as_shown(view, experiment_action="stop:monthly"), DANI).json()  # crafted
    assert "experiment's choices" in refused["errors"]["experiment_action"]

    assert slack.submit_view(view, as_shown(view, experiment_action="stop:weekly"), DANI).body == ""

    assert "Settings saved: stopped arms" in slack.fake.calls_to("chat.postMessage")[-1].text()
    with store.session() as s:
        [entry] = s.scalars(select(SettingsChange).where(SettingsChange.setting == "stopped_arms"))
    assert (entry.actor_id, json.loads(entry.new)) == (DANI, ["weekly"])
    # Alice was in the weekly arm: she now has the team's fortnightly cadence; nobody else moved.
    tick(slack)
    with store.session() as s:
        sent = {row.user_id: (row.arm, row.period) for row in s.scalars(select(Send).where(Send.kind == "nudge"))}
    assert sent[ALICE] == (None, "2w75") and sent[BOB] == (None, "2w75")
