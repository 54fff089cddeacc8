"""The /smallchange modal. Problems are shown inline in the modal, so nothing typed is lost."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App

from bot.core.model import WITHIN_GIFT, Team
from bot.core.services import Services
from bot.slack.delivery import SlackDelivery, card
from bot.slack.listeners.lazy import form
from bot.slack.listeners.replies import save_from_modal
from bot.slack.metadata import unseal
from bot.slack.text import conversation_id

log = logging.getLogger(__name__)


def typed(values: dict, block: str) -> str | None:
    """What was typed in a form's text input (action id "text"); None if it was not a string."""
    value = (values.get(block, {}).get("text") or {}).get("value")
    return value if isinstance(value, str) else None


def chosen(values: dict, block: str) -> list[str]:
    """The values chosen in a form's menu, radio buttons or checkboxes (action id "choice")."""
    element = values.get(block, {}).get("choice") or {}
    if element.get("selected_option"):
        return [element["selected_option"].get("value")]
    return [o.get("value") for o in element.get("selected_options") or []]


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    secret = services.settings.slack_signing_secret

    def change_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        values = view["state"]["values"]
        text, obstacle = typed(values, "change"), typed(values, "obstacle")
        errors = {}
        if not (text or "").strip():
            errors["change"] = "Describe the change in a few words."
        if obstacle is not None and not obstacle.strip():
            errors["obstacle"] = "Leave this empty, or say what gets in the way."
        if errors:
            ack(response_action="errors", errors=errors)
            return None
        gift = chosen(values, "gift")
        picked = (values.get("channel", {}).get("choice") or {}).get("selected_conversation")
        opened_in = (unseal(secret, view.get("private_metadata")) or {}).get("channel")
        channel_id = conversation_id(opened_in) or conversation_id(picked)
        user_id = body["user"]["id"]
        saved = save_from_modal(
            ack,
            "change",
            lambda: services.changes.suggest(
                team,
                user_id,
                text or "",
                anonymous="anon" in chosen(values, "anon"),
                obstacle=obstacle,
                within_gift=WITHIN_GIFT.get(gift[0], ("", None))[1] if gift else None,
                channel_id=channel_id,
                cards=lambda change: [card(change.id, channel_id, to=user_id)],
            ),
            view,
        )
        if saved is None:
            return None
        ack()
        return (user_id,)

    app.view("change_submit")(**form(services, delivery, change_submitted))
