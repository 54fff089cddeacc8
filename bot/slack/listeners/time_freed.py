"""How much time an adopted change frees: the button (on its card, after choosing Adopted, and on Home) that opens the
form, and the form's submission. The core decides who may answer and checks the numbers; a refusal goes to the
person who pressed alone, or shows on the form's field."""

from __future__ import annotations

import contextlib
import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.grammar import record_id
from bot.core.model import ChangeView, Team
from bot.core.services import Services
from bot.slack import blocks
from bot.slack.delivery import SlackDelivery, card
from bot.slack.listeners.lazy import form, lazily
from bot.slack.listeners.replies import attempt, open_form, save_from_modal
from bot.slack.metadata import seal, unseal

log = logging.getLogger(__name__)
EXPIRED = "This form has expired. Please press the button again."


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    changes = services.changes
    secret = services.settings.slack_signing_secret

    def open_time_freed(body: dict, action: dict, respond: Respond | None, client: WebClient, team: Team) -> None:
        user_id = body["user"]["id"]

        def tell(text: str) -> None:
            """To the person who pressed alone: an ephemeral reply, or (from Home, which has none) a DM."""
            if respond is not None:
                respond(text=text, replace_original=False)
            else:
                with contextlib.suppress(SlackApiError):
                    client.chat_postMessage(channel=user_id, text=text)

        change_id = record_id(action.get("value"))
        if change_id is None:
            tell("That change no longer exists.")
            return
        not_done = "I couldn't open the form"
        change = attempt(tell, not_done, lambda: changes.time_freed_question(team, change_id, user_id))
        if change is None:
            return
        view = blocks.time_freed_modal(change, seal(secret, {"change": change.id}))
        open_form(client, tell, body["trigger_id"], view)

    app.action("change_time_freed")(**lazily(services, delivery, open_time_freed))

    def time_freed_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str | None, ...] | None:
        values = view["state"]["values"]
        change_id = (unseal(secret, view.get("private_metadata")) or {}).get("change")
        if not isinstance(change_id, int):
            ack(response_action="errors", errors={"minutes": EXPIRED})
            return None

        def typed(block: str, element: str, key: str):
            return (values.get(block, {}).get(element) or {}).get(key)

        def posted_card(change: ChangeView) -> list:  # brought up to date where it was posted
            return [card(change.id, change.channel_id, change.message_ts)] if change.message_ts else []

        user_id = body["user"]["id"]
        saved = save_from_modal(
            ack,
            "minutes",
            lambda: changes.say_time_freed(
                team,
                change_id,
                user_id,
                minutes=typed("minutes", "number", "value"),
                people=typed("people", "number", "value"),
                benefit=(typed("benefit", "choice", "selected_option") or {}).get("value"),
                note=typed("note", "text", "value"),
                cards=posted_card,
            ),
            view,
        )
        if saved is None:
            return None
        ack(response_action="update", view=blocks.time_freed_saved(saved))
        return (user_id, saved.owner_id, saved.suggester_id)

    app.view("time_freed_submit")(**form(services, delivery, time_freed_submitted))
