"""Idea card buttons: back, take on, hand back, status. Every change re-renders the card in place, through the
outbox, from the change as stored when the update is sent."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from slack_bolt import App, Respond
from slack_sdk import WebClient

from bot.core.changes import Cards
from bot.core.errors import Refused, StoreUnavailable
from bot.core.grammar import record_id
from bot.core.model import ChangeView, Team
from bot.core.services import Services
from bot.slack import blocks
from bot.slack.delivery import SlackDelivery, card
from bot.slack.listeners.lazy import lazily
from bot.slack.listeners.refresh import refresh_home
from bot.slack.listeners.replies import OUTAGES, told

log = logging.getLogger(__name__)
GONE = "That change no longer exists."
# What a card action returns: the change as it now stands, and what to tell the clicker alone (text, or a message
# with blocks), if anything.
Act = Callable[[Team, int, str, dict, Cards], tuple[ChangeView, str | dict | None]]


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    changes = services.changes

    def card_action(act: Act, name: str):
        """Run one card action, then re-render the card or explain the refusal to the clicker alone."""

        def work(body: dict, action: dict, respond: Respond, client: WebClient, team: Team) -> None:
            user_id = body["user"]["id"]
            container = body.get("container") or {}
            channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
            # Buttons carry the id as their value; the status menu's block is named change_<id>.
            change_id = record_id(action.get("value") or str(action.get("block_id", "")).removeprefix("change_"))
            if change_id is None:
                respond(text=GONE, replace_original=False)
                return

            def cards(change: ChangeView) -> list:
                ts, url = container.get("message_ts"), body.get("response_url")
                return [card(change.id, channel_id, ts, response_url=url)]

            try:
                change, note = act(team, change_id, user_id, action, cards)
            except (Refused, *OUTAGES) as exc:
                respond(text=told(exc, "That wasn't saved"), replace_original=False)
                if isinstance(exc, Refused) and exc.field == "status":  # the menu shows the stored status again
                    put_back(team, change_id, cards)
                return
            if note:
                respond(**(note if isinstance(note, dict) else {"text": note}), replace_original=False)
            refresh_home(services, client, team, user_id, change.suggester_id, change.owner_id)

        work.__name__ = name
        return work

    def put_back(team: Team, change_id: int, cards: Cards) -> None:
        """A refused status choice: the menu shows the stored status again."""
        with contextlib.suppress(Refused, StoreUnavailable):
            changes.show_again(team, change_id, cards)

    def back(team, change_id, user_id, _action, cards):
        change, backed = changes.toggle_backing(team, change_id, user_id, cards)
        return change, "You're backing this change." if backed else "You've withdrawn your backing."

    def take(team, change_id, user_id, _action, cards):
        return changes.take_on(team, change_id, user_id, cards), "It's yours. Move the status along as it goes."

    def hand_back(team, change_id, user_id, _action, cards):
        return changes.hand_back(team, change_id, user_id, cards), "You've handed it back; it needs a new owner now."

    def status(team, change_id, user_id, action, cards):
        chosen = (action.get("selected_option") or {}).get("value", "")
        change = changes.set_status(team, change_id, user_id, chosen, cards)
        if chosen == "adopted" and changes.may_say_time_freed(team, change, user_id):
            text, shown = blocks.time_freed_offer(change)  # the one who adopted it is asked how much time it frees
            return change, {"text": text, "blocks": shown}
        return change, None

    app.action("change_back")(**lazily(services, delivery, card_action(back, "change_back")))
    app.action("change_take")(**lazily(services, delivery, card_action(take, "change_take")))
    app.action("change_hand_back")(**lazily(services, delivery, card_action(hand_back, "change_hand_back")))
    app.action("change_status")(**lazily(services, delivery, card_action(status, "change_status")))
