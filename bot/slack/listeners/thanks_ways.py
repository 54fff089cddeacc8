"""More ways to thank: the thanks form (from /thanks, a nudge or a message's Thank the author) and a reaction.

A reaction counts as thanks to the message's author. Slack retries events it thinks went unanswered, so each
one is recorded with its event_id and counted once; so is one person's reaction added, removed and added again.
"""

from __future__ import annotations

import json
import logging

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.core.thanks import SOURCES, AlreadyCounted, GivenThanks, NotAPerson, ThanksRequest
from bot.slack import blocks, modals
from bot.slack.listeners.home import refresh_home
from bot.slack.listeners.replies import why_not
from bot.slack.listeners.thanks_notes import send_thank_you_notes
from bot.slack.text import escape

log = logging.getLogger(__name__)
FAILURES = (StoreUnavailable, PlatformUnavailable)
FORM_WAYS = ("modal", "shortcut")  # how a thanks form may say it was opened (private_metadata)
NO_ONE = (
    "That message isn't from a colleague I can find (it came from an app, a bot or someone outside this "
    "workspace), so there's no one to thank for it."
)


def _selected(values: dict, block: str, action_id: str, key: str):
    return (values.get(block, {}).get(action_id) or {}).get(key)


def _opened_by(view: dict) -> dict:
    """What the opener put in the form's private_metadata: how it was opened and the message it thanks for."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    if not isinstance(metadata, dict) or metadata.get("via") not in FORM_WAYS:
        return {"via": "modal"}
    return metadata


def _permalink(client: WebClient, channel: str, ts: str) -> str | None:
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except SlackApiError as exc:
        log.info("chat.getPermalink failed: %s", exc.response.get("error"))
        return None


def _thanked(services: Services, client: WebClient, team: Team, given: GivenThanks, channel: str | None) -> None:
    """After a thanks is saved: the DMs, and the Home tabs of everyone it touches."""
    send_thank_you_notes(client, given, channel)
    refresh_home(services, client, team, given.giver.id, *(p.id for p in given.recipients))


def register(app: App, services: Services) -> None:
    max_chars = services.settings.defaults.reason_max_chars

    @app.view("thanks_submit")
    def thanks_submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        values = view["state"]["values"]
        recipients = tuple(_selected(values, "who", "users", "selected_users") or [])
        reason = _selected(values, "reason", "text", "value") or ""
        channel = _selected(values, "channel", "choice", "selected_conversation")
        source = (_selected(values, "source", "choice", "selected_option") or {}).get("value")
        if not reason.strip():
            ack(response_action="errors", errors={"reason": "Say what you're thanking them for."})
            return
        opened_by = _opened_by(view)
        team, giver = Team("slack", body["team"]["id"]), body["user"]["id"]
        request = ThanksRequest(
            giver,
            recipients,
            reason,
            private=channel is None,
            channel_id=channel,
            via=opened_by["via"],
            source=source if source in SOURCES else None,
            message_ref=opened_by.get("message_ref"),
        )
        try:
            given = services.thanks.give(team, request)
        except Refused as refusal:
            block = "reason" if "reason" in refusal.message or "characters" in refusal.message else "who"
            ack(response_action="errors", errors={block: refusal.message})
            return
        except FAILURES as exc:
            ack(response_action="errors", errors={"reason": f"Not saved: {why_not(exc)}. Try again."})
            return
        ack()
        if channel:
            headline, post = blocks.thanks_post(given)
            try:
                client.chat_postMessage(channel=channel, text=headline, blocks=post)
            except SlackApiError as exc:
                log.info("could not share thanks in the channel: %s", exc.response.get("error"))
                client.chat_postMessage(
                    channel=giver,
                    text="Your thanks is saved and sent, but I couldn't post it in that channel (invite me there).",
                )
        _thanked(services, client, team, given, channel)

    @app.message_shortcut("thank_author")
    def thank_author(ack: Ack, shortcut: dict, client: WebClient, respond: Respond) -> None:
        """Opens the thanks form for the message's author, with a link to the message as the reason."""
        ack()
        message, channel = shortcut.get("message") or {}, shortcut["channel"]["id"]
        team, giver, author = Team("slack", shortcut["team"]["id"]), shortcut["user"]["id"], message.get("user")
        if not author or message.get("bot_id") or message.get("subtype") == "bot_message":
            respond(NO_ONE)
            return
        try:
            services.thanks.recipient(team, giver, author)
        except NotAPerson:
            respond(NO_ONE)
            return
        except Refused as refusal:
            respond(escape(refusal.message))
            return
        except FAILURES as exc:
            log.info("could not check the author before opening the form: %s", exc)  # the submission checks again
        link = _permalink(client, channel, message["ts"])
        view = modals.thanks_modal(
            max_chars,
            recipient_id=author,
            reason=f"For this: {link}" if link else None,
            channel_id=channel,
            metadata=json.dumps({"via": "shortcut", "message_ref": f"{channel}/{message['ts']}"}),
        )
        try:
            client.views_open(trigger_id=shortcut["trigger_id"], view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            respond("I couldn't open the form just now. Please choose *Thank the author* again.")

    @app.event("reaction_added")
    def reaction_added(event: dict, body: dict, client: WebClient) -> None:
        """The thanks reaction on a person's message thanks them, quietly: a DM to them, nothing in the channel."""
        item, reactor, author = event.get("item") or {}, event.get("user"), event.get("item_user")
        if item.get("type") != "message" or not reactor or not author or author == reactor:
            return
        team = Team("slack", body["team_id"])
        emoji = (event.get("reaction") or "").split("::")[0]  # pray::skin-tone-3 is still :pray:
        try:
            wanted = services.workspaces.get(team).thanks_reaction
        except FAILURES:
            wanted = services.workspaces.defaults.thanks_reaction  # then saving it will say it wasn't saved
        if emoji != wanted.split("::")[0]:
            return
        channel, ts = item["channel"], item["ts"]
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
            given = services.thanks.give(team, request)
        except (AlreadyCounted, NotAPerson):
            return  # a retried event, a second go at the same message, or a bot's message: nothing to say
        except Refused as refusal:
            _tell(client, channel, reactor, f"Your :{emoji}: wasn't counted as a thank-you. {escape(refusal.message)}")
            return
        except FAILURES as exc:
            log.warning("a thanks reaction was not saved: %s", why_not(exc))
            _tell(
                client,
                channel,
                reactor,
                f":warning: Your :{emoji}: was *not* saved as a thank-you: {why_not(exc)}. "
                "Remove it and add it again in a minute to try again.",
            )
            return
        _thanked(services, client, team, given, channel)


def _tell(client: WebClient, channel: str, user: str, text: str) -> None:
    """A note only the reactor sees, in the channel where they reacted."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.warning("could not tell the reactor: %s", exc.response.get("error"))
