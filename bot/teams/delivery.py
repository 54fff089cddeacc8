"""The outbox's messages to Teams, and how they are sent.

The core is synchronous and the Teams SDK is not, so the SDK's clients live on one event loop of their own, in a
thread; the outbox hands each message over and waits for its answer, as it does for Slack. The SDK does not retry
what the Bot Connector refuses: a 429 (with its Retry-After), a 412 or a 5xx is told to the outbox, which tries
again with back-off; a person or conversation that is gone (403, 404) is recorded and not retried.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Coroutine
from datetime import datetime

import httpx
from microsoft_teams.api import Account, ApiClient, Attachment, CreateConversationParams, MessageActivityInput
from microsoft_teams.cards import AdaptiveCard

from bot.core.changes import ChangeService
from bot.core.errors import PlatformUnavailable, Refused
from bot.core.model import SOURCES, GivenThanks, LeaderNews, Team
from bot.core.outbox import Message, Outbox
from bot.core.ports import FORMER_COLLEAGUE, SendFailed
from bot.delivery import Delivery
from bot.teams import cards
from bot.teams.addresses import CONVERSATION, PERSON, Addresses
from bot.teams.text import escape

log = logging.getLogger(__name__)
RETRY = {412, 429, 502, 503, 504}
SEND_SECONDS = 20


# -- the messages ----------------------------------------------------------------------------------------------------
def post(conversation_id: str, text: str, card: dict | None = None) -> Message:
    """A message (with an Adaptive Card) in a channel or chat; its lane is the conversation, whose id can be long,
    hence the digest."""
    return Message(
        conversation_lane(conversation_id), "post", {"conversation": conversation_id, "text": text, "card": card}
    )


def conversation_lane(conversation_id: str) -> str:
    return "conv:" + hashlib.sha256(conversation_id.encode()).hexdigest()[:24]


def dm(user_id: str, text: str, card: dict | None = None, image: tuple[str, bytes] | None = None) -> Message:
    """A message in a person's 1:1 chat with the bot, which is opened for it if there is none yet; `image` is a PNG
    (its file name and bytes), sent inline as a data URI: Teams shows it in the chat and stores no file."""
    payload = {"user": user_id, "text": text, "card": card}
    if image:
        payload["image"] = {"name": image[0], "png": base64.b64encode(image[1]).decode()}
    return Message(f"dm:{user_id}", "dm", payload)


def card_message(change_id: int, conversation: str | None, activity_id: str | None = None, *, to: str) -> Message:
    """Post a change's card in `conversation` (or, from a 1:1 chat, to `to`), or bring a posted one (`activity_id`)
    up to date: rendered when sent, from the change as it then stands."""
    lane = f"card:{change_id}:{activity_id}" if activity_id else f"card:{change_id}"
    payload = {"change_id": change_id, "conversation": conversation, "activity": activity_id, "to": to}
    return Message(lane, "card", payload, replaces_waiting=activity_id is not None)


def updated(where: dict, activity_id: str, text: str, card: dict) -> Message:
    """Replace a message the bot sent with this card: `where` is {"conversation": key} for a channel or group chat,
    or {"user": id} for that person's 1:1 chat with the bot."""
    lane = f"dm:{where['user']}" if "user" in where else conversation_lane(where["conversation"])
    return Message(lane, "update", where | {"activity": activity_id, "text": text, "card": card})


def raised_messages(news: LeaderNews, names: Callable[[str], str]) -> list[Message]:
    """An idea raised with leaders: the card they answer on, in the leadership channel and each named leader's chat."""
    card = cards.leaders_card(news.change, names)
    text = "🙋 Raised with leaders: " + escape(news.change.text[:200])
    out = [post(news.channel, text, card)] if news.channel else []
    return out + [dm(leader, text, card) for leader in news.people]


def answered_messages(news: LeaderNews, names: Callable[[str], str]) -> list[Message]:
    """Leaders answered: each person it concerns, as the core decided, hears it in their chat with the bot."""
    card = cards.answered_card(news.change, names)
    text = "🙋 " + cards.ANSWERED.get(news.change.raised.answer if news.change.raised else "", "Leaders answered.")
    return [dm(person, text, card) for person in news.people]


def activity(payload: dict) -> MessageActivityInput:
    message = MessageActivityInput(text=payload["text"])
    if image := payload.get("image"):
        url = "data:image/png;base64," + image["png"]
        message = message.add_attachments(Attachment(content_type="image/png", content_url=url, name=image["name"]))
    return message.add_card(AdaptiveCard.model_validate(payload["card"])) if payload.get("card") else message


def thanks_messages(given: GivenThanks, conversation_id: str | None) -> list[Message]:
    """A saved thank-you's messages: the post where it was given (a channel or group chat, unless private), and
    each recipient's 1:1 message."""
    names = ", ".join(escape(p.name) for p in given.recipients)
    giver, reason = escape(given.giver.name), escape(given.reason)
    privately = " privately" if given.private else ""
    if given.source:  # the kind of source only: a family or a young person is never named
        said = f"🙏 Thanks from {SOURCES[given.source]} for **{names}**, passed on by **{giver}**: {reason}"
        to_each = f"🙏 Thanks from {SOURCES[given.source]} for you, passed on{privately} by **{giver}**: {reason}"
    else:
        said = f"🙏 **{giver}** thanked **{names}**: {reason}"
        to_each = f"🙏 **{giver}** thanked you{' (privately)' if given.private else ''}: {reason}"
    out = [post(conversation_id, said)] if conversation_id and not given.private else []
    return out + [dm(recipient.id, to_each) for recipient in given.recipients]


# -- sending ---------------------------------------------------------------------------------------------------------
def send_failure(exc: Exception) -> SendFailed:
    """What the Bot Connector said, as the outbox understands it: for good, for now, or Teams is down."""
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in RETRY:
            wait = exc.response.headers.get("Retry-After")
            retry_after = float(wait) if wait and wait.replace(".", "", 1).isdigit() else None
            return SendFailed(f"http {status}", False, outage=status >= 500, retry_after=retry_after)
        if status >= 500:
            return SendFailed(f"http {status}", False, outage=True)
        return SendFailed(f"http {status}", permanent=True)
    return SendFailed(f"connection: {type(exc).__name__}", False, outage=True)


class Loop:
    """An event loop in a thread of its own, for the SDK's clients: the synchronous outbox runs coroutines on it."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="teams-sends", daemon=True).start()

    def run(self, work: Coroutine, timeout: float = SEND_SECONDS):
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)


class TeamsSender:
    """Sends one message now (the outbox's `send`, and the clock's notifier), raising SendFailed as the outbox and
    the sends ledger understand it."""

    def __init__(self, api_for: Callable[[str], ApiClient], addresses: Addresses, loop: Loop):
        self.api_for, self.addresses, self.loop = api_for, addresses, loop

    def __call__(self, team: Team, kind: str, payload: dict, written_at: datetime | None = None) -> str | None:
        """Send one message; returns the id Teams gave it."""
        try:
            return self.loop.run(self._send(team, kind, payload))
        except (httpx.HTTPError, TimeoutError) as exc:
            raise send_failure(exc) from exc

    async def _send(self, team: Team, kind: str, payload: dict) -> str | None:
        if "user" in payload:  # a person's 1:1 chat, opened for a new message if there is none yet
            api, chat = await self._chat(team, payload["user"], open_one=kind == "dm")
        else:
            conversation = self.addresses.get(team, CONVERSATION, payload["conversation"])
            if conversation is None:
                raise SendFailed("unknown conversation", permanent=True)
            api, chat = self.api_for(conversation.service_url), conversation.chat_id or conversation.key
        if kind == "update":
            await api.conversations.update_activity(chat, payload["activity"], activity(payload))
            return payload["activity"]
        sent = await api.conversations.create_activity(chat, activity(payload))
        return sent.id

    async def _chat(self, team: Team, user_id: str, open_one: bool) -> tuple[ApiClient, str]:
        person = self.addresses.get(team, PERSON, user_id)
        if person is None or not person.teams_id or (person.chat_id is None and not open_one):
            raise SendFailed("unknown person", permanent=True)
        api = self.api_for(person.service_url)
        if person.chat_id is not None:
            return api, person.chat_id
        members = [Account(id=person.teams_id)]
        opened = await api.conversations.create(CreateConversationParams(members=members, tenant_id=team.external_id))
        self.addresses.remember(team, PERSON, person.key, person.service_url, chat_id=opened.id)
        return api, opened.id

    def members(self, team: Team, conversation_key: str) -> frozenset[str]:
        """Who is in a conversation now (their Entra object ids), a page at a time; raises PlatformUnavailable if
        Teams will not say."""
        conversation = self.addresses.get(team, CONVERSATION, conversation_key)
        if conversation is None:
            return frozenset()
        api = self.api_for(conversation.service_url)
        whole = conversation.chat_id or conversation.key

        async def read() -> frozenset[str]:
            found, token = set(), None
            while True:
                page = await api.conversations.get_paged_members(whole, page_size=200, continuation_token=token)
                found |= {m.aad_object_id for m in page.members or () if m.aad_object_id}
                token = page.continuation_token
                if not token:
                    return frozenset(found)

        try:
            return self.loop.run(read())
        except (httpx.HTTPError, TimeoutError) as exc:
            raise PlatformUnavailable(f"Teams did not list a conversation's members ({type(exc).__name__})") from exc

    def names(self, team: Team) -> Callable[[str], str]:
        """People's names as the bot last saw them, for cards (Teams shows a name, not a mention, in a card): each
        looked up when a card first needs it, not the whole tenant's roster for every click."""

        @functools.cache
        def name(user_id: str) -> str:
            found = self.addresses.get(team, PERSON, user_id)
            return (found.name if found else "") or FORMER_COLLEAGUE

        return name


class TeamsDelivery(Delivery):
    """The outbox's messages to Teams: those a request saved, at once, and what waits, when the clock drains. An
    idea card is rendered as the change stands when it is sent."""

    def __init__(self, sender: TeamsSender, outbox: Outbox, changes: ChangeService):
        super().__init__("teams", self.send_one, outbox)
        self.sender, self.changes = sender, changes

    def send_one(self, team: Team, kind: str, payload: dict, written_at: datetime | None = None) -> None:
        if kind != "card":
            self.sender(team, kind, payload)
            return
        try:
            change = self.changes.get(team, payload["change_id"])
        except Refused:
            raise SendFailed("change gone", permanent=True) from None
        card = cards.idea_card(change, self.sender.names(team))
        text = "💡 " + change.text[:200]
        if payload.get("activity"):
            self.sender(
                team,
                "update",
                {"conversation": payload["conversation"], "activity": payload["activity"], "text": text, "card": card},
            )
            return
        if payload.get("conversation"):
            posted = self.sender(team, "post", {"conversation": payload["conversation"], "text": text, "card": card})
            self.changes.place_card(team, change.id, payload["conversation"], posted)
            return
        self.sender(team, "dm", {"user": payload["to"], "text": text, "card": card})
