"""Idea card buttons: back, take on, hand back, status. Every change re-renders the card in place."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.changes import ChangeView
from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack.listeners.cards import update_card
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.replies import why_not
from bot.slack.text import escape

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    changes = services.changes

    def card_action(act: Callable[[Team, int, str, dict], tuple[ChangeView, str | None]]):
        """Run one card action, then re-render the card or explain the refusal to the clicker alone."""

        def listener(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
            ack()
            team = Team("slack", body["team"]["id"])
            user_id = body["user"]["id"]
            channel_id = (body.get("channel") or {}).get("id")
            ts = (body.get("container") or {}).get("message_ts")
            try:
                # Buttons carry the id as their value; the status menu's block is named change_<id>.
                change_id = int(action.get("value") or action.get("block_id", "").removeprefix("change_"))
                change, note = act(team, change_id, user_id, action)
            except ValueError:
                respond(text="That change no longer exists.", replace_original=False)
                return
            except Refused as refusal:
                respond(text=escape(refusal.message), replace_original=False)
                if action.get("type") == "static_select":
                    # Put the menu back to the stored status.
                    with contextlib.suppress(Refused, StoreUnavailable):
                        update_card(client, changes.get(team, change_id), channel_id, ts, respond)
                return
            except (StoreUnavailable, PlatformUnavailable) as exc:
                respond(text=f":warning: That wasn't saved: {why_not(exc)}. Please try again.", replace_original=False)
                return
            show_latest(team, change, channel_id, ts, respond, client)
            if note:
                respond(text=note, replace_original=False)
            refresh_home(services, client, team, user_id, change.suggester_id, change.owner_id)

        return listener

    def show_latest(team: Team, change: ChangeView, channel_id, ts, respond: Respond, client: WebClient) -> None:
        """Re-render the card, then check it against the store: when several people click at once, an
        earlier render can land after a later one, so whoever sees a newer state renders again."""
        for _ in range(3):
            update_card(client, change, channel_id, ts, respond)
            try:
                latest = changes.get(team, change.id)
            except (Refused, StoreUnavailable):
                return
            if latest == change:
                return
            change = latest

    def back(team, change_id, user_id, _action):
        change, backed = changes.toggle_backing(team, change_id, user_id)
        note = "You're backing this change." if backed else "You've withdrawn your backing."
        return change, note

    def take(team, change_id, user_id, _action):
        return changes.take_on(team, change_id, user_id), "It's yours. Move the status along as it goes."

    def hand_back(team, change_id, user_id, _action):
        return changes.hand_back(team, change_id, user_id), "You've handed it back; it needs a new owner now."

    def status(team, change_id, user_id, action):
        chosen = (action.get("selected_option") or {}).get("value", "")
        return changes.set_status(team, change_id, user_id, chosen), None

    app.action("change_back")(card_action(back))
    app.action("change_take")(card_action(take))
    app.action("change_hand_back")(card_action(hand_back))
    app.action("change_status")(card_action(status))
