"""The App Home tab: published when a person opens it, and again after each change that touches them."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack import blocks, home_blocks, modals
from bot.slack.listeners.replies import why_not

log = logging.getLogger(__name__)
FAILURES = (StoreUnavailable, PlatformUnavailable)


def _publish(client: WebClient, user_id: str, view: dict) -> None:
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
            _publish(client, user_id, home_blocks.home_view(services.home.page(team, user_id)))
    except FAILURES as exc:
        log.warning("could not refresh a Home: %s", why_not(exc))
    except Exception:
        log.exception("refreshing a Home failed")


def register(app: App, services: Services) -> None:
    defaults = services.settings.defaults

    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab") != "home":
            return  # the Messages tab
        user_id = event["user"]
        try:
            view = home_blocks.home_view(services.home.opened(Team("slack", body["team_id"]), user_id))
        except FAILURES as exc:
            view = home_blocks.unavailable_view(why_not(exc))
        _publish(client, user_id, view)

    def my_nudges(team: Team, user_id: str) -> dict:
        try:
            return modals.my_nudges_modal(services.nudges.preferences(team, user_id), services.workspaces.get(team))
        except FAILURES as exc:
            return home_blocks.unavailable_modal("Your nudges", why_not(exc))

    def opens(form: Callable[[Team, str], dict]):
        """A Home button that opens a form; the forms' own listeners save what is submitted."""

        def listener(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            team, user_id = Team("slack", body["team"]["id"]), body["user"]["id"]
            try:
                client.views_open(trigger_id=body["trigger_id"], view=form(team, user_id))
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                with contextlib.suppress(SlackApiError):
                    client.chat_postMessage(
                        channel=user_id, text="I couldn't open that form just now; please try again."
                    )

        return listener

    app.action("home_suggest")(opens(lambda *_: blocks.change_modal("", defaults.change_max_chars)))
    app.action("home_thank")(opens(lambda *_: modals.thanks_modal(defaults.reason_max_chars)))
    app.action("home_my_nudges")(opens(my_nudges))
