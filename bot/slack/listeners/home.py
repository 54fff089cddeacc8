"""The App Home tab: published when a person opens it (bot.slack.listeners.refresh keeps it current), and its
buttons, which open the forms."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.model import Team
from bot.core.services import Services
from bot.slack import blocks, home_blocks, modals
from bot.slack.delivery import SlackDelivery
from bot.slack.listeners.lazy import lazily
from bot.slack.listeners.refresh import publish
from bot.slack.listeners.replies import OUTAGES, why_not

log = logging.getLogger(__name__)


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    defaults = services.settings.defaults

    def home_opened(event: dict, client: WebClient, team: Team) -> None:
        user_id = event.get("user")
        if event.get("tab") != "home" or not isinstance(user_id, str):
            return  # the Messages tab, or an event with nobody to show a Home to
        try:
            view = home_blocks.home_view(services.home.opened(team, user_id))
        except OUTAGES as exc:
            view = home_blocks.unavailable_view(why_not(exc))
        publish(client, user_id, view)

    app.event("app_home_opened")(**lazily(services, delivery, home_opened))

    def my_nudges(team: Team, user_id: str) -> dict:
        try:
            return modals.my_nudges_modal(services.nudges.preferences(team, user_id), services.workspaces.get(team))
        except OUTAGES as exc:
            return home_blocks.unavailable_modal("Your nudges", why_not(exc))

    def opens(form: Callable[[Team, str], dict], name: str):
        """A Home button that opens a form; the forms' own listeners save what is submitted."""

        def work(body: dict, client: WebClient, team: Team) -> None:
            user_id = body["user"]["id"]
            try:
                client.views_open(trigger_id=body["trigger_id"], view=form(team, user_id))
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                with contextlib.suppress(SlackApiError):
                    client.chat_postMessage(
                        channel=user_id, text="I couldn't open that form just now; please try again."
                    )

        work.__name__ = name
        return lazily(services, delivery, work)

    app.action("home_suggest")(**opens(lambda *_: blocks.change_modal(defaults.change_max_chars), "home_suggest"))
    app.action("home_thank")(**opens(lambda *_: modals.thanks_modal(defaults.reason_max_chars), "home_thank"))
    app.action("home_my_nudges")(**opens(my_nudges, "home_my_nudges"))
