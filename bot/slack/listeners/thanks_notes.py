"""The DM each person thanked receives, whether the thanks came from /thanks or from a nudge's form."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.thanks import GivenThanks
from bot.slack import blocks

log = logging.getLogger(__name__)


def send_thank_you_notes(client: WebClient, given: GivenThanks, channel_id: str | None) -> None:
    """A failed DM is logged and does not undo the thanks, which is already saved."""
    headline, note = blocks.thanks_dm(given, channel_id)
    for recipient in given.recipients:
        try:
            client.chat_postMessage(channel=recipient.id, text=headline, blocks=note)
        except SlackApiError as exc:
            log.warning("thank-you DM to a recipient failed: %s", exc.response.get("error"))
