"""The App Home tab: published when a person opens it, and again after each change that touches them."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.core.ports import Team
from bot.core.services import Services


def refresh_home(services: Services, client: WebClient, team: Team, *user_ids: str) -> None:
    """Re-publish the Home tab of each of these people who has opened it before; never raises."""


def register(app: App, services: Services) -> None:
    pass
