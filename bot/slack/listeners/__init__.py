"""Bolt listeners, one module per kind; each has register(app, services)."""

from __future__ import annotations

from slack_bolt import App

from bot.core.services import Services
from bot.slack.listeners import actions, admin, commands, digests, home, nudges, thanks_ways, views


def register(app: App, services: Services) -> None:
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    nudges.register(app, services)
    thanks_ways.register(app, services)
    admin.register(app, services)
    digests.register(app, services)
    home.register(app, services)
