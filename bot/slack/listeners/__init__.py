"""Bolt listeners, one module per kind; each has register(app, services, delivery)."""

from __future__ import annotations

from slack_bolt import App

from bot.core.services import Services
from bot.slack.delivery import SlackDelivery
from bot.slack.listeners import (
    actions,
    admin,
    commands,
    digests,
    home,
    leaders,
    nudges,
    thanks_ways,
    time_freed,
    views,
)


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    for kind in (commands, actions, views, nudges, thanks_ways, admin, digests, home, time_freed, leaders):
        kind.register(app, services, delivery)
