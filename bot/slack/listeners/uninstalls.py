"""The bot removed from a workspace (app_uninstalled, or its bot token revoked): its installation goes, so no request,
tick or outbox message for it gets a token any more, and what was still waiting to be sent there is dropped. Its
records stay until an admin erases them (python -m bot forget-user, or the workspace's data on request)."""

from __future__ import annotations

import logging

from slack_bolt import App, BoltContext
from slack_bolt.listener.builtins import TokenRevocationListeners

from bot.core.model import Team
from bot.core.services import Services
from bot.slack.delivery import SlackDelivery
from bot.slack.listeners.lazy import lazily

log = logging.getLogger(__name__)


def register(app: App, services: Services, delivery: SlackDelivery, revocations: TokenRevocationListeners | None):
    """`revocations`: Bolt's own handling, which deletes the installation (OAuth mode); None in token mode, where the
    token lives in the environment and Slack's own refusal stops each send."""

    def stop_sending(team: Team, why: str) -> None:
        dropped = services.outbox.drop_waiting(team, why)
        log.info("%s in workspace %s: %d waiting messages dropped", why, team.external_id, dropped)

    def uninstalled(context: BoltContext, team: Team) -> None:
        if revocations is not None:
            revocations.handle_app_uninstalled_events(context)
        stop_sending(team, "app uninstalled")

    def revoked(event: dict, context: BoltContext, team: Team) -> None:
        if revocations is not None:
            revocations.handle_tokens_revoked_events(event, context)
        if (event.get("tokens") or {}).get("bot"):
            stop_sending(team, "bot token revoked")

    app.event("app_uninstalled")(**lazily(services, delivery, uninstalled))
    app.event("tokens_revoked")(**lazily(services, delivery, revoked))
