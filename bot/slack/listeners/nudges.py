"""Answers to nudges (the five buttons and "shall I stop?"), and the modals they and the settings open.
The thanks form is submitted in thanks_ways, wherever it was opened from."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack import blocks, modals
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.replies import act_or_explain, save_from_modal

log = logging.getLogger(__name__)
FAILURES = (StoreUnavailable, PlatformUnavailable)
ANSWERS = {
    "nudge_snooze": "snooze",
    "nudge_fewer": "fewer",
    "nudge_stop": "stop",
    "nudge_stop_yes": "stop_yes",
    "nudge_stop_no": "stop_no",
    "nudge_resume": "resume",
}


def _selected_date(values: dict, block: str) -> date | None:
    picked = (values.get(block, {}).get("date") or {}).get("selected_date")
    return date.fromisoformat(picked) if picked else None


def register(app: App, services: Services) -> None:
    nudges = services.nudges

    def answer(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        team, user_id = Team("slack", body["team"]["id"]), body["user"]["id"]
        what = ANSWERS[action["action_id"]]
        saved = act_or_explain(
            respond,
            "That wasn't saved",
            lambda: (nudges.respond(team, int(action["value"]), user_id, what), nudges.preferences(team, user_id)),
        )
        if saved is None:
            return
        note, mine = saved
        stopped = mine.opted_out or mine.cadence == "off"  # then the answer offers "Start again"
        text, answered = blocks.nudge_answer(note, int(action["value"]), stopped)
        respond(text=text, blocks=answered, replace_original=True)
        refresh_home(services, client, team, user_id)

    for action_id in ANSWERS:
        app.action(action_id)(answer)

    def open_from_nudge(what: str, view: dict):
        def listener(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
            ack()
            try:
                nudges.respond(Team("slack", body["team"]["id"]), int(action["value"]), body["user"]["id"], what)
            except (Refused, *FAILURES) as exc:
                log.info("could not record a nudge click: %s", exc)
            try:
                client.views_open(trigger_id=body["trigger_id"], view=view)
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                respond(
                    text="I couldn't open the form just now; please press the button again.", replace_original=False
                )

        return listener

    defaults = services.settings.defaults
    app.action("nudge_suggest")(open_from_nudge("suggest", blocks.change_modal("", defaults.change_max_chars)))
    app.action("nudge_thank")(open_from_nudge("thank", modals.thanks_modal(defaults.reason_max_chars)))

    @app.view("my_nudges_submit")
    def my_nudges_submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = view["state"]["values"]
        choice = (values.get("cadence", {}).get("choice") or {}).get("selected_option", {}).get("value", "team")
        note = save_from_modal(
            ack,
            "cadence",
            lambda: nudges.set_preferences(
                Team("slack", body["team"]["id"]),
                body["user"]["id"],
                None if choice == "team" else choice,
                _selected_date(values, "day_off"),
                _selected_date(values, "snooze"),
            ),
        )
        if note is None:
            return
        ack()
        client.chat_postMessage(channel=body["user"]["id"], text=note)
        refresh_home(services, client, Team("slack", body["team"]["id"]), body["user"]["id"])
