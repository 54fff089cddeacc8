"""What follows a saved record in Slack, through the outbox (bot.core.outbox): a thank-you's post and DMs, an idea
card posted or brought up to date. The messages are written with the record; this module says what they are and
sends them.

Kinds of message:
- ``post``: chat.postMessage; if Slack refuses it for good, an optional ``instead`` post (a note to the giver);
  once it is out, an optional ``then`` post (a confirmation to the sender).
- ``respond``: a reply through a command's or a click's response_url, which Slack honours for 30 minutes;
  after that, or if it is refused, the ``instead`` post.
- ``card``: an idea card, rendered when it is sent from the change as stored then, so the latest click shows;
  posted (and its place remembered) or updated in place.
- ``update``: chat.update of a message the bot posted (the one leaders answered on), as written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.core.changes import ChangeService
from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.core.model import GivenThanks, LeaderNews, Team
from bot.core.outbox import Message, Outbox
from bot.core.ports import SendFailed
from bot.delivery import Delivery
from bot.slack import blocks, leader_blocks
from bot.slack.installs import NotInstalled, Workspaces

log = logging.getLogger(__name__)
RESPONSE_URL_LIFETIME = timedelta(minutes=29)  # Slack honours a response_url for 30 minutes
# Errors that will not go away by trying again: the person or the conversation is gone, or we may not post there.
PERMANENT = {
    "user_not_found",
    "account_inactive",
    "cannot_dm_bot",
    "channel_not_found",
    "is_archived",
    "user_disabled",
    "not_in_channel",
    "restricted_action",
    "messages_tab_disabled",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "invalid_blocks",
    "msg_too_long",
    "no_text",
    "expired_url",
    "used_url",
}
ERROR_CODE = re.compile(r"[a-z0-9_.]{1,60}")  # Slack's error codes, as against a proxy's HTML page
OUTAGE = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}


def send_failure(exc: Exception) -> SendFailed:
    """A Slack error as the outbox and the sends ledger understand it: for good, for now, or Slack is down."""
    if isinstance(exc, SlackApiError):
        response = exc.response
        status = response.status_code
        said = response.get("error") if isinstance(response.data, dict) else None
        error = said if isinstance(said, str) and ERROR_CODE.fullmatch(said) else f"http {status}"  # not a page
        if status == 429:
            wait = (response.headers or {}).get("Retry-After") or (response.headers or {}).get("retry-after")
            return SendFailed("ratelimited", False, retry_after=float(wait or 1))
        if status >= 500 or error in OUTAGE:
            return SendFailed(error, False, outage=True)
        return SendFailed(error, permanent=error in PERMANENT)
    if isinstance(exc, NotInstalled):
        return SendFailed("app not installed", permanent=True)
    if isinstance(exc, StoreUnavailable):
        return SendFailed("database unavailable", False, outage=True)
    return SendFailed(f"connection: {type(exc).__name__}", False, outage=True)


# -- the messages ----------------------------------------------------------------------------------------------------
def post(lane: str, channel: str, text: str, message_blocks: list | None = None, **extra) -> Message:
    return Message(lane, "post", {"channel": channel, "text": text, "blocks": message_blocks, **extra})


def dm(user_id: str, text: str, message_blocks: list | None = None, **extra) -> Message:
    return post(f"dm:{user_id}", user_id, text, message_blocks, **extra)


def thanks_messages(
    given: GivenThanks,
    channel_id: str | None,
    *,
    response_url: str | None = None,
    share: bool = True,
) -> list[Message]:
    """A saved thank-you's messages: the post where it was given (unless private), a receipt for a private one
    given with /thanks, and each recipient's DM."""
    out: list[Message] = []
    if share and channel_id and not given.private:
        headline, shown = blocks.thanks_post(given)
        not_posted = (
            "Your thank-you is saved and each person got it, but I couldn't post it in that channel "
            "(invite me there with /invite)."
        )
        instead = {"channel": given.giver.id, "text": not_posted}
        if response_url:
            body = {"text": headline, "blocks": shown, "response_type": "in_channel"}
            fallback = {"channel": channel_id, "text": headline, "blocks": shown, "instead": instead}
            out.append(respond(f"respond:{given.giver.id}", response_url, body, instead=fallback))
        else:
            out.append(post(f"channel:{channel_id}", channel_id, headline, shown, instead=instead))
    elif response_url and given.private:
        receipt = blocks.thanks_private_receipt(given)
        out.append(respond(f"respond:{given.giver.id}", response_url, {"text": receipt}))
    headline, note = blocks.thanks_dm(given, channel_id)
    out += [dm(recipient.id, headline, note) for recipient in given.recipients]
    return out


def raised_messages(news: LeaderNews) -> list[Message]:
    """An idea raised with leaders: the message they answer on, in the leadership channel (whoever raised it is told
    if the bot may not post there) and in each named leader's DM."""
    text, shown = leader_blocks.leaders_message(news.change)
    out: list[Message] = []
    if news.channel and news.change.raised:
        not_posted = (
            f"Your idea is raised with leaders, but I couldn't post it in <#{news.channel}>: invite me there with "
            "/invite, or ask an admin to check the leadership channel in `/smallchange admin`."
        )
        instead = dm(news.change.raised.by, not_posted).payload
        out.append(post(f"channel:{news.channel}", news.channel, text, shown, instead=instead))
    return out + [dm(leader, text, shown) for leader in news.people]


def answered_messages(news: LeaderNews) -> list[Message]:
    """Leaders answered: each person it concerns, as the core decided, hears it in their DM."""
    text, shown = leader_blocks.answered_dm(news.change)
    return [dm(person, text, shown) for person in news.people]


def update(channel: str, ts: str, text: str, message_blocks: list) -> Message:
    """Replace a message the bot posted, with what is written now."""
    return Message(
        f"channel:{channel}", "update", {"channel": channel, "ts": ts, "text": text, "blocks": message_blocks}
    )


def respond(lane: str, url: str, body: dict, instead: dict | None = None) -> Message:
    return Message(lane, "respond", {"url": url, "body": body, "instead": instead})


class DurableRespond:
    """Bolt's respond, for the work after an ack: a reply Slack cannot take right now (it is down, or busy) is kept
    in the outbox and sent when it is back, within the half hour a response_url is good for. So a person whose
    thank-you was not saved because Slack was down is still told so."""

    def __init__(self, respond: Respond, outbox: Outbox, team: Team, user_id: str):
        self.respond, self.outbox, self.team, self.user_id = respond, outbox, team, user_id

    def __call__(self, text: str = "", **fields) -> None:
        try:
            reply = self.respond(text=text, **fields)
            status = reply.status_code
        except OSError:
            status = None
        if status is not None and status < 500 and status != 429:
            return  # taken, or refused for good (an expired response_url): keeping it would not help
        body = {"text": text} | {k: v for k, v in fields.items() if v is not None}
        try:
            self.outbox.write(self.team, [respond(f"respond:{self.user_id}", self.respond.response_url, body)])
        except StoreUnavailable:
            log.warning("a reply was lost: neither Slack nor the database answered")


def card(change_id: int, channel: str | None, ts: str | None = None, **extra) -> Message:
    """Post a change's card in `channel`, or bring the posted one (`ts`) up to date. `response_url` (a command's
    or a click's) is the way in where the bot may not post; `to` is whom to send it to when all else fails."""
    return Message(
        f"card:{change_id}:{ts}" if ts else f"card:{change_id}",  # each copy of a card is brought up to date in turn
        "card",
        {"change_id": change_id, "channel": channel, "ts": ts, **extra},
        replaces_waiting=ts is not None,
    )


# -- sending ---------------------------------------------------------------------------------------------------------
class SlackDelivery(Delivery):
    """Sends the outbox's messages with a client that does not retry by itself: the outbox retries, with back-off,
    without holding a thread while Slack is down."""

    def __init__(self, workspaces: Workspaces, outbox: Outbox, changes: ChangeService, now: Callable[[], datetime]):
        super().__init__("slack", self, outbox)
        self.workspaces, self.changes, self.now = workspaces, changes, now

    def __call__(self, team: Team, kind: str, payload: dict, written_at: datetime) -> None:
        # Slack honours a response_url for 30 minutes from the request that gave it, a moment before this was written.
        url_live = self.now() - written_at < RESPONSE_URL_LIFETIME
        try:
            client = self.workspaces.client_for(team)
            if kind == "post":
                self._post(client, payload)
            elif kind == "respond":
                self._respond(client, payload, url_live)
            elif kind == "update":
                client.chat_update(
                    channel=payload["channel"], ts=payload["ts"], text=payload["text"], blocks=payload["blocks"]
                )
            else:
                self._card(client, team, payload, url_live)
        except (SlackApiError, OSError, PlatformUnavailable, StoreUnavailable) as exc:
            raise send_failure(exc) from exc

    def _post(self, client: WebClient, payload: dict) -> None:
        try:
            client.chat_postMessage(channel=payload["channel"], text=payload["text"], blocks=payload.get("blocks"))
        except SlackApiError as exc:
            failure = send_failure(exc)
            if not (failure.permanent and payload.get("instead")):
                raise
            log.info("could not post (%s); sending the note instead", failure.error)
            self._post(client, payload["instead"])
            return
        if payload.get("then"):  # a confirmation, once the message itself is out; sending it again would be worse
            try:
                self._post(client, payload["then"])
            except (SlackApiError, OSError) as exc:
                log.warning("a confirmation was not sent: %s", send_failure(exc).error)

    def _respond(self, client: WebClient, payload: dict, url_live: bool) -> None:
        if url_live and self._reply(payload["url"], payload["body"]):
            return
        if not payload.get("instead"):
            raise SendFailed("response_url expired", permanent=True)
        self._post(client, payload["instead"])

    def _card(self, client: WebClient, team: Team, payload: dict, url_live: bool) -> None:
        try:
            change = self.changes.get(team, payload["change_id"])
        except Refused:
            raise SendFailed("change gone", permanent=True) from None
        text, shown = blocks.change_card(change)
        channel, ts, url = payload.get("channel"), payload.get("ts"), payload.get("response_url")
        live = bool(url) and url_live
        if ts:
            try:
                client.chat_update(channel=channel, ts=ts, text=text, blocks=shown)
                return
            except SlackApiError as exc:
                if not (send_failure(exc).permanent and live):
                    raise
            if not self._reply(url, {"text": text, "blocks": shown, "replace_original": True}):
                raise SendFailed("response_url refused", permanent=True)
            return
        if channel:
            try:
                posted = client.chat_postMessage(channel=channel, text=text, blocks=shown)
                self.changes.place_card(team, change.id, posted["channel"], posted["ts"])
                return
            except SlackApiError as exc:
                if not send_failure(exc).permanent:
                    raise
                log.info("could not post an idea card in its channel: %s", exc.response.get("error"))
            if live:  # private channels and DMs the bot isn't in: the command's response_url still reaches them
                if not self._reply(url, {"text": text, "blocks": shown, "response_type": "in_channel"}):
                    raise SendFailed("response_url refused", permanent=True)
                return
        to = payload["to"]
        intro = (
            "I couldn't post in that channel (invite me with /invite), so here's your idea card."
            if channel
            else "Here's your idea card. Share it where the team will see it, so they can back it."
        )
        posted = client.chat_postMessage(channel=to, text=text, blocks=[blocks.note(intro), *shown])
        if change.suggester_id is not None:
            # An anonymous idea keeps no trace of its author, and a DM's address would be one.
            self.changes.place_card(team, change.id, posted["channel"], posted["ts"])

    @staticmethod
    def _reply(url: str, body: dict) -> bool:
        """A reply through a response_url: True if Slack took it, False if it refused it for good (expired or used
        up); raises SendFailed for a 429 or a 5xx, which are worth trying again."""
        reply = WebhookClient(url, timeout=10, retry_handlers=[]).send_dict(body)
        if reply.status_code == 200:
            return True
        if reply.status_code == 429 or reply.status_code >= 500:
            retry_after = reply.headers.get("Retry-After") or reply.headers.get("retry-after")
            error = f"response_url: http {reply.status_code}"
            raise SendFailed(error, False, outage=reply.status_code >= 500, retry_after=float(retry_after or 0))
        log.info("a response_url refused a reply (http %s)", reply.status_code)
        return False
