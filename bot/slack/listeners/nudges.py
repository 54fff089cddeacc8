"""Answers to nudges (the five buttons and "shall I stop?"), and the modals they and the settings open.
The thanks form is submitted in thanks_ways, wherever it was opened from."""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import Refused
from bot.core.grammar import record_id
from bot.core.model import Team
from bot.core.services import Services
from bot.slack import blocks, modals
from bot.slack.delivery import SlackDelivery, dm
from bot.slack.listeners.lazy import form, lazily
from bot.slack.listeners.refresh import refresh_home
from bot.slack.listeners.replies import OUTAGES, act_or_explain, save_from_modal

log = logging.getLogger(__name__)
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
    try:
        return date.fromisoformat(picked) if isinstance(picked, str) and picked else None
    except ValueError:
        return None


NOT_YOURS = "That message isn't yours to answer."


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    nudges = services.nudges
    defaults = services.settings.defaults

    def answer(body: dict, action: dict, respond: Respond, client: WebClient, team: Team) -> None:
        user_id, send_id = body["user"]["id"], record_id(action.get("value"))
        what = ANSWERS[action["action_id"]]
        if send_id is None:
            respond(text=NOT_YOURS, replace_original=False)
            return
        saved = act_or_explain(
            respond,
            "That wasn't saved",
            lambda: (nudges.respond(team, send_id, user_id, what), nudges.preferences(team, user_id)),
        )
        if saved is None:
            return
        note, mine = saved
        stopped = mine.opted_out or mine.cadence == "off"  # then the answer offers "Start again"
        text, answered = blocks.nudge_answer(note, send_id, stopped)
        respond(text=text, blocks=answered, replace_original=True)
        refresh_home(services, client, team, user_id)

    for action_id in ANSWERS:
        app.action(action_id)(**lazily(services, delivery, answer))

    def open_from_nudge(what: str, view: dict, name: str):
        def work(body: dict, action: dict, client: WebClient, respond: Respond, team: Team) -> None:
            send_id = record_id(action.get("value"))
            try:
                if send_id is not None:
                    nudges.respond(team, send_id, body["user"]["id"], what)
            except (Refused, *OUTAGES) as exc:
                log.info("could not record a nudge click: %s", exc)
            try:
                client.views_open(trigger_id=body["trigger_id"], view=view)
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                respond(
                    text="I couldn't open the form just now; please press the button again.", replace_original=False
                )

        work.__name__ = name
        return work

    suggest_form = blocks.change_modal(defaults.change_max_chars)
    app.action("nudge_suggest")(**lazily(services, delivery, open_from_nudge("suggest", suggest_form, "nudge_suggest")))
    thank_form = modals.thanks_modal(defaults.reason_max_chars)
    app.action("nudge_thank")(**lazily(services, delivery, open_from_nudge("thank", thank_form, "nudge_thank")))

    def my_nudges_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        values = view["state"]["values"]
        choice = ((values.get("cadence", {}).get("choice") or {}).get("selected_option") or {}).get("value", "team")
        user_id = body["user"]["id"]
        saved = save_from_modal(
            ack,
            "cadence",
            lambda: nudges.set_preferences(
                team,
                user_id,
                None if choice == "team" else choice,
                _selected_date(values, "day_off"),
                _selected_date(values, "snooze"),
                lambda note: [dm(user_id, note)],
            ),
        )
        if saved is None:
            return None
        ack()
        return (user_id,)

    app.view("my_nudges_submit")(**form(services, delivery, my_nudges_submitted))
