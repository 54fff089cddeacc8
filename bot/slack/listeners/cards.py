"""Posting an idea card and re-rendering it in place after every change."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.changes import ChangeView
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack import blocks

log = logging.getLogger(__name__)


def post_card(
    services: Services,
    client: WebClient,
    team: Team,
    change: ChangeView,
    channel_id: str | None,
    user_id: str,
    respond: Callable | None = None,
) -> None:
    """Post the card with chat.postMessage so its ts is known; where the bot can't post, fall back."""
    text, card = blocks.change_card(change)
    if channel_id:
        try:
            result = client.chat_postMessage(channel=channel_id, text=text, blocks=card)
            services.changes.place_card(team, change.id, result["channel"], result["ts"])
            return
        except SlackApiError as exc:
            log.info("could not post the idea card in the channel: %s", exc.response.get("error"))
    if respond is not None:
        # Private channels and DMs the bot isn't in: the response_url can still post there.
        respond(text=text, blocks=card, response_type="in_channel")
        return
    intro = (
        "I couldn't post in that channel (invite me with /invite), so here's your idea card."
        if channel_id
        else "Here's your idea card. Share it where the team will see it, so they can back it."
    )
    client.chat_postMessage(channel=user_id, text=intro)
    result = client.chat_postMessage(channel=user_id, text=text, blocks=card)
    if change.suggester_id is not None:
        # An anonymous idea keeps no trace of its author, and a DM's address would be one.
        services.changes.place_card(team, change.id, result["channel"], result["ts"])


def update_card(client: WebClient, change: ChangeView, channel_id: str | None, ts: str | None, respond) -> None:
    """Re-render the card where it was clicked (chat.update), or through response_url if that fails."""
    text, card = blocks.change_card(change)
    if channel_id and ts:
        try:
            client.chat_update(channel=channel_id, ts=ts, text=text, blocks=card)
            return
        except SlackApiError as exc:
            log.info("chat.update of an idea card failed: %s", exc.response.get("error"))
    respond(text=text, blocks=card, replace_original=True)
