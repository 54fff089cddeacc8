"""The /smallchange modal. Problems are shown inline in the modal, so nothing typed is lost."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack.listeners.cards import post_card
from bot.slack.listeners.home import refresh_home

log = logging.getLogger(__name__)


def _text(values: dict, block: str) -> str | None:
    return (values.get(block, {}).get("text") or {}).get("value")


def _choice(values: dict, block: str) -> list[str]:
    element = values.get(block, {}).get("choice") or {}
    if element.get("selected_option"):
        return [element["selected_option"]["value"]]
    return [o["value"] for o in element.get("selected_options") or []]


def register(app: App, services: Services) -> None:
    @app.view("change_submit")
    def change_submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = view["state"]["values"]
        text, obstacle = _text(values, "change"), _text(values, "obstacle")
        errors = {}
        if not (text or "").strip():
            errors["change"] = "Describe the change in a few words."
        if obstacle is not None and not obstacle.strip():
            errors["obstacle"] = "Leave this empty, or say what gets in the way."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        gift = _choice(values, "gift")
        chosen = (values.get("channel", {}).get("choice") or {}).get("selected_conversation")
        channel_id = view.get("private_metadata") or chosen or None
        team = Team("slack", body["team"]["id"])
        user_id = body["user"]["id"]
        try:
            change = services.changes.suggest(
                team,
                user_id,
                text or "",
                anonymous="anon" in _choice(values, "anon"),
                obstacle=obstacle,
                within_gift={"within": True, "outside": False}.get(gift[0]) if gift else None,
                channel_id=channel_id,
            )
        except Refused as refusal:
            ack(response_action="errors", errors={"change": refusal.message})
            return
        except (StoreUnavailable, PlatformUnavailable):
            ack(response_action="errors", errors={"change": "Not saved: the database isn't answering. Try again."})
            return
        ack()
        post_card(services, client, team, change, channel_id, user_id)
        refresh_home(services, client, team, user_id)
