"""More ways to thank: the thanks form (from /thanks, a nudge or a message's Thank the author) and a reaction.

A reaction counts as thanks to the message's author. Slack retries events it thinks went unanswered, so each
one is recorded with its event_id and counted once; so is one person's reaction added, removed and added again.
"""

from __future__ import annotations

import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import Refused
from bot.core.model import SOURCES, Team, ThanksRequest
from bot.core.services import Services
from bot.core.thanks import AlreadyCounted, NotAPerson
from bot.slack import modals
from bot.slack.delivery import SlackDelivery, thanks_messages
from bot.slack.listeners.lazy import form, lazily
from bot.slack.listeners.refresh import refresh_home
from bot.slack.listeners.replies import OUTAGES, told, told_in_form, why_not
from bot.slack.metadata import seal, unseal
from bot.slack.text import conversation_id

log = logging.getLogger(__name__)
FORM_WAYS = ("modal", "shortcut")  # how a thanks form may say it was opened (private_metadata)
NO_ONE = (
    "That message isn't from a colleague I can find (it came from an app, a bot or someone outside this "
    "workspace), so there's no one to thank for it."
)


def _selected(values: dict, block: str, action_id: str, key: str):
    return (values.get(block, {}).get(action_id) or {}).get(key)


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.info("chat.getPermalink failed: %s", exc.response.get("error"))
        return None


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    max_chars = services.settings.defaults.reason_max_chars
    secret = services.settings.slack_signing_secret

    def thanks_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        values = view["state"]["values"]
        recipients = tuple(u for u in _selected(values, "who", "users", "selected_users") or [] if isinstance(u, str))
        reason = _selected(values, "reason", "text", "value") or ""
        channel = conversation_id(_selected(values, "channel", "choice", "selected_conversation"))
        source = (_selected(values, "source", "choice", "selected_option") or {}).get("value")
        if not isinstance(reason, str) or not reason.strip():
            ack(response_action="errors", errors={"reason": "Say what you're thanking them for."})
            return None
        opened_by = unseal(secret, view.get("private_metadata")) or {}
        giver = body["user"]["id"]
        request = ThanksRequest(
            giver,
            recipients,
            reason,
            private=channel is None,
            channel_id=channel,
            via=opened_by.get("via") if opened_by.get("via") in FORM_WAYS else "modal",
            source=source if source in SOURCES else None,
            message_ref=opened_by.get("message_ref"),
        )
        try:
            given = services.thanks.give(team, request, lambda given: thanks_messages(given, channel))
        except Refused as refusal:
            ack(response_action="errors", errors={refusal.field or "who": told_in_form(refusal)})
            return None
        except OUTAGES as exc:
            ack(response_action="errors", errors={"reason": told_in_form(exc)})
            return None
        ack()
        return (given.giver.id, *(p.id for p in given.recipients))

    app.view("thanks_submit")(**form(services, delivery, thanks_submitted))

    def thank_author(shortcut: dict, client: WebClient, respond: Respond, team: Team) -> None:
        """Opens the thanks form for the message's author, with a link to the message as the reason."""
        message, channel = shortcut.get("message") or {}, conversation_id((shortcut.get("channel") or {}).get("id"))
        giver, author = shortcut["user"]["id"], message.get("user")
        if not author or not channel or message.get("bot_id") or message.get("subtype") == "bot_message":
            respond(NO_ONE)
            return
        try:
            services.thanks.recipient(team, giver, author)
        except NotAPerson:
            respond(NO_ONE)
            return
        except Refused as refusal:
            respond(told(refusal))
            return
        except OUTAGES as exc:
            log.info("could not check the author before opening the form: %s", exc)  # the submission checks again
        ts = str(message.get("ts") or "")
        link = _permalink(client, channel, ts)
        view = modals.thanks_modal(
            max_chars,
            recipient_id=author,
            reason=f"For this: {link}" if link else None,
            channel_id=channel,
            metadata=seal(secret, {"via": "shortcut", "message_ref": f"{channel}/{ts}"}),
        )
        try:
            client.views_open(trigger_id=shortcut["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            respond("I couldn't open the form just now. Please choose *Thank the author* again.")

    app.message_shortcut("thank_author")(**lazily(services, delivery, thank_author))

    def reaction_added(event: dict, body: dict, client: WebClient, team: Team) -> None:
        """The thanks reaction on a person's message thanks them, quietly: a DM to them, nothing in the channel."""
        item, reactor, author = event.get("item") or {}, event.get("user"), event.get("item_user")
        channel, ts = conversation_id(item.get("channel")), item.get("ts")
        if item.get("type") != "message" or not reactor or not author or author == reactor or not channel or not ts:
            return
        emoji = str(event.get("reaction") or "").split("::")[0]  # pray::skin-tone-3 is still :pray:
        if not services.thanks.thanks_by_reaction(team, emoji):
            return
        link = _permalink(client, channel, ts)
        request = ThanksRequest(
            reactor,
            (author,),
            f":{emoji}: on this message: {link}" if link else f":{emoji}: on a message",
            channel_id=channel,
            via="reaction",
            event_id=body.get("event_id"),
            message_ref=f"{channel}/{ts}",
        )
        try:
            given = services.thanks.give(team, request, lambda given: thanks_messages(given, channel, share=False))
        except (AlreadyCounted, NotAPerson):
            return  # a retried event, a second go at the same message, or a bot's message: nothing to say
        except Refused as refusal:
            _tell(client, channel, reactor, f"Your :{emoji}: wasn't counted as a thank-you. {told(refusal)}")
            return
        except OUTAGES as exc:
            log.warning("a thanks reaction was not saved: %s", why_not(exc))
            not_done = f"Your :{emoji}: was *not* saved as a thank-you"
            _tell(client, channel, reactor, told(exc, not_done, "Remove it and add it again in a minute to try again."))
            return
        refresh_home(services, client, team, given.giver.id, author)

    app.event("reaction_added")(**lazily(services, delivery, reaction_added))


def _tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A note only the reactor sees, in the channel where they reacted."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell the reactor: %s", exc.response.get("error"))
