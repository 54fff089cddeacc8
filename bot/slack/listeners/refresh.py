"""Keeping Home tabs current: published when a person opens theirs, and again after each change that touches them."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.model import Team
from bot.core.services import Services
from bot.slack import home_blocks
from bot.slack.listeners.replies import OUTAGES, why_not

log = logging.getLogger(__name__)


def publish(client: WebClient, user_id: str, view: dict) -> None:
    """A Home that can't be published stays as it was; the next open or change tries again."""
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("views.publish failed: %s", exc.response.get("error"))
    except OSError as exc:
        log.warning("views.publish did not answer: %s", type(exc).__name__)


def refresh_home(services: Services, client: WebClient, team: Team, *user_ids: str | None) -> None:
    """Re-publish the Home tab of each of these people who has opened it before; never raises, as the change
    is saved whatever happens here. None (an anonymous suggester, no owner) and repeats are skipped."""
    try:
        for user_id in services.home.watching(team, user_ids):
            publish(client, user_id, home_blocks.home_view(services.home.page(team, user_id)))
    except OUTAGES as exc:
        log.warning("could not refresh a Home: %s", why_not(exc))
    except Exception:
        log.exception("refreshing a Home failed")
