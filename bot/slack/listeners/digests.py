"""A digest's buttons: remind a stuck change's owner, take it on, and a leader's personal thank-you (its form and
what happens when it is sent). Answers go to the clicker alone; problems with the form show inline in it."""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.ports import Team
from bot.core.services import Services
from bot.core.thanks import ThanksRequest
from bot.slack import digest_blocks
from bot.slack.listeners.cards import update_card
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.replies import act_or_explain, save_from_modal

log = logging.getLogger(__name__)


def _leave_the_digest_alone(**_message) -> None:
    """update_card falls back to replacing the clicked message; here that is the digest, not the card."""


def register(app: App, services: Services) -> None:
    digests = services.digests
    max_chars = services.settings.defaults.reason_max_chars

    @app.action("digest_remind")
    def remind_owner(ack: Ack, body: dict, action: dict, respond: Respond) -> None:
        ack()
        team, user_id = Team("slack", body["team"]["id"]), body["user"]["id"]
        reminded = act_or_explain(
            respond, "No reminder was sent", lambda: digests.remind_owner(team, int(action["value"]), user_id)
        )
        if reminded is None:
            return
        owner_id, outcome = reminded
        respond(text=digest_blocks.reminder_outcome(owner_id, outcome), replace_original=False)

    @app.action("digest_take")
    def take_on(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        team, user_id = Team("slack", body["team"]["id"]), body["user"]["id"]
        change = act_or_explain(
            respond, "That wasn't saved", lambda: services.changes.take_on(team, int(action["value"]), user_id)
        )
        if change is None:
            return
        if change.channel_id and change.message_ts:
            update_card(client, change, change.channel_id, change.message_ts, _leave_the_digest_alone)
        respond(text="It's yours. Move its status along on the idea card as it goes.", replace_original=False)

    @app.action("digest_personal_thanks")
    def open_personal_thanks(ack: Ack, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        ack()
        team = Team("slack", body["team"]["id"])
        user_id, _, period = action["value"].partition(" ")
        thanks = act_or_explain(respond, "I couldn't open the form", lambda: digests.peer_thanks(team, user_id, period))
        if thanks is None:
            return
        try:
            client.views_open(
                trigger_id=body["trigger_id"], view=digest_blocks.personal_thanks_modal(thanks, max_chars)
            )
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            respond(text="I couldn't open the form just now; please press the button again.", replace_original=False)

    @app.view("personal_thanks_submit")
    def personal_thanks_sent(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        message = (view["state"]["values"].get("message", {}).get("text") or {}).get("value") or ""
        if not message.strip():
            ack(response_action="errors", errors={"message": "Write a few words of thanks."})
            return
        team, leader_id, person_id = Team("slack", body["team"]["id"]), body["user"]["id"], view["private_metadata"]
        request = ThanksRequest(leader_id, (person_id,), message, private=True, via="leader")
        given = save_from_modal(ack, "message", lambda: services.thanks.give(team, request))
        if given is None:
            return
        ack()
        try:
            client.chat_postMessage(channel=person_id, text=digest_blocks.personal_thanks_dm(leader_id, given.reason))
        except SlackApiError as exc:
            log.warning("personal thank-you DM failed: %s", exc.response.get("error"))
            note = (
                f"Your thank-you to <@{person_id}> is saved, but I couldn't DM it to them. Please tell them yourself."
            )
        else:
            note = f":white_check_mark: Your personal thank-you went to <@{person_id}>, from you by name."
        client.chat_postMessage(channel=leader_id, text=note)
        refresh_home(services, client, team, leader_id, person_id)
