"""A digest's buttons: remind a stuck change's owner, take it on, and a leader's personal thank-you (its form and
what happens when it is sent). Answers go to the clicker alone; problems with the form show inline in it."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core.grammar import record_id
from bot.core.model import ChangeView, Team, ThanksRequest
from bot.core.services import Services
from bot.slack import digest_blocks
from bot.slack.delivery import SlackDelivery, card, dm
from bot.slack.listeners.lazy import form, lazily
from bot.slack.listeners.replies import act_or_explain, open_form, privately, save_from_modal
from bot.slack.metadata import seal, unseal

log = logging.getLogger(__name__)
NO_SUCH_CHANGE = "That change no longer exists."


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    digests = services.digests
    max_chars = services.settings.defaults.reason_max_chars
    secret = services.settings.slack_signing_secret

    def remind_owner(body: dict, action: dict, respond: Respond, team: Team) -> None:
        change_id = record_id(action.get("value"))
        if change_id is None:
            respond(text=NO_SUCH_CHANGE, replace_original=False)
            return
        user_id = body["user"]["id"]
        reminded = act_or_explain(
            respond, "No reminder was sent", lambda: digests.remind_owner(team, change_id, user_id)
        )
        if reminded is None:
            return
        respond(text=digest_blocks.reminder_outcome(reminded), replace_original=False)

    app.action("digest_remind")(**lazily(services, delivery, remind_owner))

    def take_on(body: dict, action: dict, respond: Respond, team: Team) -> None:
        change_id = record_id(action.get("value"))
        if change_id is None:
            respond(text=NO_SUCH_CHANGE, replace_original=False)
            return

        # The card is brought up to date where it was posted; the click's response_url would replace the digest.
        def cards(change: ChangeView) -> list:
            return [card(change.id, change.channel_id, change.message_ts)] if change.message_ts else []

        change = act_or_explain(
            respond, "That wasn't saved", lambda: services.changes.take_on(team, change_id, body["user"]["id"], cards)
        )
        if change is None:
            return
        respond(text="It's yours. Move its status along on the idea card as it goes.", replace_original=False)

    app.action("digest_take")(**lazily(services, delivery, take_on))

    def open_personal_thanks(body: dict, action: dict, respond: Respond, client: WebClient, team: Team) -> None:
        user_id, _, period = str(action.get("value") or "").partition(" ")
        leader_id = body["user"]["id"]
        thanks = act_or_explain(
            respond,
            "I couldn't open the form",
            lambda: digests.peer_thanks(team, user_id, period, leader_id, max_chars),
        )
        if thanks is None:
            return
        view = digest_blocks.personal_thanks_modal(thanks, max_chars, seal(secret, {"person": thanks.user_id}))
        open_form(client, privately(respond), body["trigger_id"], view)

    app.action("digest_personal_thanks")(**lazily(services, delivery, open_personal_thanks))

    def personal_thanks_sent(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        message = (view["state"]["values"].get("message", {}).get("text") or {}).get("value") or ""
        if not isinstance(message, str) or not message.strip():
            ack(response_action="errors", errors={"message": "Write a few words of thanks."})
            return None
        person_id = (unseal(secret, view.get("private_metadata")) or {}).get("person")
        if not isinstance(person_id, str):
            ack(response_action="errors", errors={"message": "This form has expired. Please press the button again."})
            return None
        leader_id = body["user"]["id"]

        def messages(given) -> list:
            sent = f":white_check_mark: Your personal thank-you went to <@{person_id}>, from you by name."
            not_sent = (
                f"Your thank-you to <@{person_id}> is saved, but I couldn't DM it to them. Please tell them yourself."
            )
            text = digest_blocks.personal_thanks_dm(leader_id, given.reason)
            return [dm(person_id, text, then=dm(leader_id, sent).payload, instead=dm(leader_id, not_sent).payload)]

        request = ThanksRequest(leader_id, (person_id,), message, private=True, via="leader")
        given = save_from_modal(ack, "message", lambda: services.thanks.give(team, request, messages))
        if given is None:
            return None
        ack()
        return (leader_id, person_id)

    app.view("personal_thanks_submit")(**form(services, delivery, personal_thanks_sent))
