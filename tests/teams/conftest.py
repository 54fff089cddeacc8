"""The Teams bot served by uvicorn on loopback, as `python -m bot teams` serves it, receiving activities in the shapes
Teams sends, and answering through a fake Bot Connector (the activities' serviceUrl) that records what it was sent.

Inbound tokens are not checked here (DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS): the keys that sign them live at
login.botframework.com, which tests cannot reach. tests/teams/test_teams.py shows a request with no token is
refused when the check is on."""

from __future__ import annotations

import asyncio
import itertools
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import pytest

from bot.app import Teams, build_teams
from bot.console.fake_connector import FakeConnector
from bot.settings import Settings
from tests.conftest import serve

TENANT = "72f988bf-0000-0000-0000-0000000000aa"
BOT = {"id": "28:00000000-0000-0000-0000-0000000000b0", "name": "Small Changes"}
ALICE = {"id": "29:1alice", "name": "Alice Example", "aadObjectId": "aaaaaaaa-0000-0000-0000-000000000001"}
BOB = {"id": "29:1bob", "name": "Bob Example", "aadObjectId": "bbbbbbbb-0000-0000-0000-000000000002"}
ADMIN = {"id": "29:1dani", "name": "Dani Admin", "aadObjectId": "dddddddd-0000-0000-0000-00000000000d"}
CAROL = {"id": "29:1carol", "name": "Carol Example", "aadObjectId": "cccccccc-0000-0000-0000-000000000003"}
CHANNEL = "19:general@thread.tacv2"
GROUP_CHAT = "19:aaaaaaaa-0000-0000-0000-000000000001_bbbbbbbb-0000-0000-0000-000000000002@unq.gbl.spaces"
IDS = itertools.count(1_700_000_000_001)


@dataclass
class TeamsDriver:
    url: str
    bot: Teams | None  # None when the bot runs in a process of its own
    connector: FakeConnector
    service_url: str
    tenant: str = TENANT
    sent: list[dict] = field(default_factory=list)

    def post(self, activity: dict, headers: dict | None = None) -> int:
        return self.answer(activity, headers)[0]

    def answer(self, activity: dict, headers: dict | None = None) -> tuple[int, dict | None]:
        """The HTTP status and body the bot answered an activity with."""
        self.sent.append(activity)
        request = urllib.request.Request(
            self.url + "/api/messages",
            data=json.dumps(activity).encode(),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, None

    def activity(self, kind: str, sender: dict, where: str, **more) -> dict:
        ids = {
            "personal": f"a:1personal-{sender['id']}",
            "channel": CHANNEL + ";messageid=1700000000000",
            "groupChat": GROUP_CHAT,
        }
        conversation = {"id": ids[where], "conversationType": where, "tenantId": self.tenant}
        return {
            "type": kind,
            "id": str(next(IDS)),
            "timestamp": "2026-11-30T09:15:00.123Z",
            "localTimezone": "Europe/London",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": sender,
            "conversation": conversation,
            "recipient": BOT,
            "channelData": {"tenant": {"id": self.tenant}},
            **more,
        }

    def say(self, text: str, sender: dict = ALICE, where: str = "channel", mentions: tuple[dict, ...] = ()) -> int:
        """A message as Teams sends it: in a channel the bot is @mentioned first, and each person mentioned is an
        `<at>` in the text and a mention entity."""
        entities = [{"type": "mention", "text": f"<at>{p['name']}</at>", "mentioned": p} for p in mentions]
        if where != "personal":
            text = f"<at>{BOT['name']}</at> {text}"
            entities.insert(0, {"type": "mention", "text": f"<at>{BOT['name']}</at>", "mentioned": BOT})
        entities.append({"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"})
        return self.post(self.activity("message", sender, where, text=text, entities=entities))

    def press(self, verb: str, sender: dict = ALICE, where: str = "channel", card: str = "", **data) -> dict:
        """A button on a card (Action.Execute): Teams sends an adaptiveCard/action invoke, and shows the clicker the
        card or the message the bot answers with."""
        value = {
            "action": {"type": "Action.Execute", "verb": verb, "data": {"action": verb, **data}},
            "trigger": "manual",
        }
        invoke = self.activity("invoke", sender, where, name="adaptiveCard/action", value=value, replyToId=card)
        status, body = self.answer(invoke)
        assert status == 200, (status, body)
        return body

    def cards(self, where: str = "channel") -> list[dict]:
        """The Adaptive Cards the bot posted in a conversation, as (activity id, card) pairs' cards, newest last."""
        conversation = CHANNEL if where == "channel" else f"a:1personal-{ALICE['id']}"
        return [
            a["content"]
            for c in self.connector.sent()
            if c.path.startswith(f"/v3/conversations/{conversation}")
            for a in (c.body or {}).get("attachments") or []
        ]

    def replies(self, where: str = "channel", sender: dict = ALICE) -> list[str]:
        """What the bot said in the conversation a message came from."""
        conversations = {"personal": f"a:1personal-{sender['id']}", "channel": CHANNEL, "groupChat": GROUP_CHAT}
        return self.connector.texts(conversations[where])

    def chat_with(self, person: dict) -> list[str]:
        """What the bot said in its 1:1 chat with someone it had to open that chat with."""
        return self.connector.texts(f"a:1on1-{person['id']}")


@pytest.fixture
def connector():
    fake = FakeConnector(members=[BOB, CAROL])
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def teams_settings(database_url) -> Settings:
    return Settings(
        database_url=database_url,
        tenant_id=TENANT,
        teams_unauthenticated=True,
        admin_user_ids=frozenset({ADMIN["aadObjectId"]}),
    )


@pytest.fixture
def teams(teams_settings, store, connector, clock):
    bot = build_teams(teams_settings, store=store, now=clock)
    asyncio.run(bot.app.initialize())
    served = serve(bot.app.server.adapter.app)
    yield TeamsDriver(served.url, bot, connector, connector.url)
    served.stop()


def elements(card: dict, kind: str) -> list[dict]:
    """Every element of a card whose type starts with `kind` ("Action.", "Input."), in order."""
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith(kind):
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


def button_titles(card: dict) -> list[str]:
    """Every button on a card, in order."""
    return [button["title"] for button in elements(card, "Action.") if "title" in button]
