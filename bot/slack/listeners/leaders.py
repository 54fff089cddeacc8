"""Ideas raised with leaders: an idea card's Raise with leaders (its form, and what raising sends), and the leaders'
answers on the message they get (each answer's form, and who hears of it). Who may do what is the core's: a refusal
goes to the clicker alone before any form opens, and a form shows its problems inline."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.grammar import record_id
from bot.core.model import LEADER_ANSWERS, ChangeView, Team
from bot.core.services import Services
from bot.slack import leader_blocks
from bot.slack.delivery import SlackDelivery, answered_messages, card, raised_messages, update
from bot.slack.listeners.lazy import form, lazily
from bot.slack.listeners.replies import act_or_explain, open_form, privately, save_from_modal
from bot.slack.listeners.views import chosen, typed
from bot.slack.metadata import seal, unseal
from bot.slack.text import conversation_id

log = logging.getLogger(__name__)
GONE = "That idea, or its request to leaders, no longer exists."
EXPIRED = "This form has expired. Please press the button again."


def clicked_in(body: dict) -> dict:
    """Where the button was: the message to bring up to date once the form is sent."""
    container = body.get("container") or {}
    return {
        "channel": (body.get("channel") or {}).get("id") or container.get("channel_id"),
        "ts": container.get("message_ts"),
    }


def the_message(sealed: dict) -> tuple[str | None, str | None]:
    """The message a form's button was on, as its signed metadata says."""
    ts = sealed.get("ts")
    return conversation_id(sealed.get("channel")), ts if isinstance(ts, str) and ts else None


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    leaders = services.leaders
    secret = services.settings.slack_signing_secret
    max_chars = services.settings.defaults.change_max_chars

    # -- raising -------------------------------------------------------------------------------------------------
    def open_raise(body: dict, action: dict, respond: Respond, client: WebClient, team: Team) -> None:
        change_id = record_id(action.get("value"))
        if change_id is None:
            respond(text=GONE, replace_original=False)
            return
        user_id = body["user"]["id"]
        change = act_or_explain(
            respond, "I couldn't open the form", lambda: leaders.check_raise(team, change_id, user_id)
        )
        if change is None:
            return
        metadata = seal(secret, {"change": change.id} | clicked_in(body))
        view = leader_blocks.raise_modal(change, max_chars, metadata)
        open_form(client, privately(respond), body["trigger_id"], view)

    def raise_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        sealed = unseal(secret, view.get("private_metadata")) or {}
        change_id = sealed.get("change")
        if not isinstance(change_id, int):
            ack(response_action="errors", errors={"needs": EXPIRED})
            return None
        values = view["state"]["values"]
        channel, ts = the_message(sealed)

        def cards(change: ChangeView) -> list:
            if channel and ts:
                return [card(change.id, channel, ts)]
            return [card(change.id, change.channel_id, change.message_ts)] if change.message_ts else []

        user_id = body["user"]["id"]
        needs, note = chosen(values, "needs"), typed(values, "note")
        raised = save_from_modal(
            ack,
            "needs",
            lambda: leaders.raise_with_leaders(team, change_id, user_id, needs, note, cards, raised_messages),
            view,
        )
        if raised is None:
            return None
        ack()
        return ()

    app.action("change_raise")(**lazily(services, delivery, open_raise))
    app.view("leaders_raise_submit")(**form(services, delivery, raise_submitted))

    # -- answering -----------------------------------------------------------------------------------------------
    def answer_opener(answer: str):
        def open_answer(body: dict, action: dict, respond: Respond, client: WebClient, team: Team) -> None:
            raise_id = record_id(action.get("value"))
            if raise_id is None:
                respond(text=GONE, replace_original=False)
                return
            user_id = body["user"]["id"]
            change = act_or_explain(
                respond, "I couldn't open the form", lambda: leaders.check_answer(team, raise_id, user_id)
            )
            if change is None:
                return
            metadata = seal(secret, {"raise": raise_id, "answer": answer} | clicked_in(body))
            view = leader_blocks.answer_modal(answer, change, user_id, max_chars, metadata)
            open_form(client, privately(respond), body["trigger_id"], view)

        open_answer.__name__ = f"open_leaders_{answer}"  # Bolt tells lazy functions apart by name
        return open_answer

    def answer_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        sealed = unseal(secret, view.get("private_metadata")) or {}
        raise_id, answer = sealed.get("raise"), sealed.get("answer")
        if not isinstance(raise_id, int) or answer not in LEADER_ANSWERS:
            ack(response_action="errors", errors={"said": EXPIRED})
            return None
        values = view["state"]["values"]
        taker = (values.get("taker", {}).get("user") or {}).get("selected_user")
        taker = taker if isinstance(taker, str) else None
        channel, ts = the_message(sealed)

        def cards(change: ChangeView) -> list:
            """The message the leader answered on shows the answer instead of its buttons; the idea card shows it
            where it was posted."""
            out = [update(channel, ts, *leader_blocks.leaders_message(change))] if channel and ts else []
            if change.message_ts:
                out.append(card(change.id, change.channel_id, change.message_ts))
            return out

        user_id = body["user"]["id"]
        said = typed(values, "said")
        answered = save_from_modal(
            ack,
            "said",
            lambda: leaders.answer(team, raise_id, user_id, answer, said, taker, cards, answered_messages),
            view,
        )
        if answered is None:
            return None
        ack()
        return ()

    for answer in LEADER_ANSWERS:
        app.action(f"leaders_{answer}")(**lazily(services, delivery, answer_opener(answer)))
    app.view("leaders_answer_submit")(**form(services, delivery, answer_submitted))
