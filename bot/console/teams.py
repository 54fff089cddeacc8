"""The local console, playing Teams: `python -m bot console --teams`.

It runs the real Teams bot (the SDK's app with every handler, the same database code) in this process and a fake Bot
Connector on loopback, with the sample team as Teams people. What you type becomes the activity Teams would send: a
channel message @mentioning the bot, a message in your 1:1 chat with it, or a card button pressed (an Action.Execute
invoke). Everything the bot sends through the connector, and what it answers a button with, is printed as text,
Adaptive Cards through bot.teams.cards.card_as_text.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import logging
import re
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TextIO
from urllib.parse import unquote

from bot.console.fake_connector import Call, FakeConnector
from bot.console.team import TEAMS_BOT, TEAMS_PEOPLE, TEAMS_TENANT, TeamsPerson
from bot.core.model import STATUSES
from bot.settings import Settings
from bot.teams.cards import card_as_text

CHANNEL = "19:general@thread.tacv2"
CHAT_PREFIX = "a:1on1-"  # the fake connector's id for a 1:1 chat it opens, used for one a person writes in too
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
BUTTONS = {  # what is typed -> the buttons (verbs) it may mean on an idea card, as the Slack console numbers them
    "1": ("change_back",),
    "back": ("change_back",),
    "unback": ("change_back",),
    "2": ("change_take", "change_hand_back"),
    "take": ("change_take",),
    "handback": ("change_hand_back",),
    "3": ("change_status",),
    "status": ("change_status",),
}
DIALOGS = {  # what is typed -> a card button that opens a dialog (a task module)
    "time": "change_time_freed",
    "raise": "change_raise",
}
PRESS = re.compile(r"(?:press\s+)?(?:#(\d+)\s+)?(\w+)(?:\s+(\w+))?(?:\s+#(\d+))?")  # `#1 back` or `back #1`
INTRO = """Small Changes console, Teams: you are in the #general channel of a sample team. Type what a Teams user types;
in the channel `@Small Changes` is put in front for you, and `@Bob` becomes a mention of Bob:
  thanks @Bob for covering my home visit #supportive     thanks private @Carol for …
  thanks @Bob from a family: what they said             smallchange one shared template for visit notes
  smallchange anon …    list    mine    home    nudges    admin (Dani)    (anything else: the bot's help)
  chat                    write in your 1:1 chat with the bot instead; `channel` goes back to #general
Idea cards are numbered: press a button with `back`, `take`, `handback`, `status trying` (or 1, 2, 3), on the
latest card or name card N before or after: `back #1`, `#1 back`, `press status adopted #2`. On an adopted change's
card, `time` opens the dialog asking how much time it frees, and on an idea the team can't do alone, `raise` opens
Raise with leaders; answer a dialog's questions one by one (Enter keeps what is shown in [brackets]). Any button that
opens a dialog shows as [f1], [f2] …: type `f1` to open it (Home's Suggest a change, the answers leaders get: Dani
leads here).
  as bob                  act as someone else (people: {people})
  help | quit"""


@dataclass
class PostedCard:
    """An idea card as everyone who can see it sees it, and where it is."""

    conversation: str  # the channel, or the 1:1 chat it was sent to
    activity_id: str
    card: dict


class TeamsConsole:
    def __init__(self, post: Callable[[dict], tuple[int, dict | None]], connector: FakeConnector, out: TextIO):
        self.post, self.connector, self.out = post, connector, out
        self.people = {p.first_name.lower(): p for p in TEAMS_PEOPLE}
        self.user: TeamsPerson = TEAMS_PEOPLE[0]
        self.in_chat = False
        self.cards: dict[int, PostedCard] = {}  # change id -> its card, the most recently shown last
        self.forms: dict[str, tuple[PostedCard, dict]] = {}  # "f1" -> a button that opens a dialog, and its card
        self.threads: dict[str, str] = {}  # a channel post's id -> who wrote it (the bot answers in its thread)
        # Activity ids as Teams' (milliseconds): the bot ignores an id it has seen, and the database outlives a run.
        self.ids: Iterator[int] = itertools.count(int(datetime.now(UTC).timestamp() * 1000))
        self.seen = 0

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    @property
    def prompt(self) -> str:
        return f"{self.user.first_name} in {'chat' if self.in_chat else '#general'}> "

    # -- input ---------------------------------------------------------------------------------------------------
    def handle(self, line: str, ask: Callable[[str], str] = input) -> bool:
        """Act on one line (`ask` reads the answers to a dialog's questions); False means quit."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        if word in ("help", "?") and not rest:
            self.say(INTRO.format(people=", ".join(self.people)))
        elif word == "as" and rest:
            self.switch(rest.strip().lstrip("@").lower())
        elif line.lower() in ("chat", "channel"):
            self.in_chat = line.lower() == "chat"
            self.say(f"(you are in {'your 1:1 chat with Small Changes' if self.in_chat else '#general'})")
        elif word in self.forms and not rest:
            self.open_form(word, ask)
        elif self.is_press(line):
            self.press(line, ask)
        else:
            self.message(line)
        return True

    def switch(self, name: str) -> None:
        person = self.people.get(name)
        if person is None:
            self.say(f"No one called {name!r} here. People: {', '.join(self.people)}")
            return
        self.user = person
        self.say(f"You are now {person.first_name}.")

    def activity(self, kind: str, conversation: str, conversation_type: str, **more) -> dict:
        return {
            "type": kind,
            "id": str(next(self.ids)),
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "localTimezone": self.user.tz,
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": self.user.account(),
            "conversation": {"id": conversation, "conversationType": conversation_type, "tenantId": TEAMS_TENANT},
            "recipient": TEAMS_BOT,
            "channelData": {"tenant": {"id": TEAMS_TENANT}}
            | ({} if conversation_type == "personal" else {"channel": {"id": CHANNEL}, "team": {"id": CHANNEL}}),
            **more,
        }

    def mentioned(self, typed: str) -> tuple[str, list[dict]]:
        """Typed text as Teams sends it: HTML-escaped, each @Name of someone in the team as `<at>Their Name</at>` with
        a mention entity, as the @ picker writes them."""
        text = html.escape(typed, quote=False)
        entities: list[dict] = []

        def mention(match: re.Match[str]) -> str:
            person = self.people.get(match.group(1).lower())
            if person is None:
                return match.group(0)
            entities.append({"type": "mention", "text": f"<at>{person.name}</at>", "mentioned": person.account()})
            return f"<at>{person.name}</at>"

        return re.sub(r"@([\w.-]+)", mention, text), entities

    def message(self, typed: str) -> None:
        text, entities = self.mentioned(typed)
        if self.in_chat:
            activity = self.activity("message", CHAT_PREFIX + self.user.teams_id, "personal", text=text)
        else:
            bot = f"<at>{TEAMS_BOT['name']}</at>"
            entities.insert(0, {"type": "mention", "text": bot, "mentioned": TEAMS_BOT})
            activity = self.activity("message", "", "channel", text=f"{bot} {text}")
            activity["conversation"]["id"] = f"{CHANNEL};messageid={activity['id']}"  # a new post: its own thread
            self.threads[activity["id"]] = self.user.first_name
        entities.append({"type": "clientInfo", "locale": "en-GB", "timezone": self.user.tz})
        activity["entities"] = entities
        status, _ = self.post(activity)
        if status >= 400:
            self.say(f"(Teams got HTTP {status} from the bot)")
        self.show_new()

    # -- card buttons --------------------------------------------------------------------------------------------
    @staticmethod
    def is_press(line: str) -> bool:
        match = PRESS.fullmatch(line.strip().lower())
        if not match:
            return False
        _, what, choice, _ = match.groups()
        pressed = line.lower().startswith("press ")
        return pressed or what in BUTTONS or what in DIALOGS or (what in STATUSES and what != "idea" and choice is None)

    def press(self, line: str, ask: Callable[[str], str] = input) -> None:
        number_first, what, choice, number_last = PRESS.fullmatch(line.strip().lower()).groups()
        number = number_first or number_last
        if what in STATUSES and choice is None:
            what, choice = "status", what
        visible = [n for n, c in self.cards.items() if self.sees(c)]
        key = int(number) if number else (visible[-1] if visible else None)
        if key is None:
            self.say("There is no idea card you can see yet: `smallchange …` posts one.")
            return
        if key not in self.cards:
            self.say("No such card. Idea cards are numbered card #N: `back #1`, `take`, `status trying #2`.")
            return
        posted = self.cards[key]
        if key not in visible:
            owner = self.where(posted.conversation).removesuffix("'s chat")
            self.say(f"Card #{key} is in {owner}'s chat with the bot: only {owner} can see it.")
            return
        if what in DIALOGS:
            button = next((a for a in dialog_buttons(posted.card) if a["data"].get("dialog_id") == DIALOGS[what]), None)
            if button is None:
                self.say("That button isn't on this card.")
                return
            self.dialog(posted, button, ask)
            return
        personal = posted.conversation.startswith(CHAT_PREFIX)
        conversation = posted.conversation if personal else f"{posted.conversation};messageid={posted.activity_id}"
        verbs = BUTTONS.get(what, ())
        action = next((a for a in executes(posted.card) if a.get("verb") in verbs), None)
        if action is None:
            self.say("That button isn't on this card. Buttons: 1 back, 2 take / handback, 3 status <status>.")
            return
        data = dict(action.get("data") or {})
        if action.get("verb") == "change_status":
            if choice not in STATUSES:
                self.say(f"Choose a status: {' / '.join(STATUSES)}, e.g. `status trying`.")
                return
            data["status"] = choice  # the card's status menu, sent with "Set status"
        value = {"action": {"type": "Action.Execute", "verb": action["verb"], "data": data}, "trigger": "manual"}
        invoke = self.activity(
            "invoke",
            conversation,
            "personal" if personal else "channel",
            name="adaptiveCard/action",
            value=value,
            replyToId=posted.activity_id,
        )
        status, body = self.post(invoke)
        if status >= 400 or not isinstance(body, dict):
            self.say(f"(Teams got HTTP {status} from the bot)")
        elif body.get("type") == CARD_TYPE:
            self.say(self.block(f"only you see this (card #{key})", card_as_text(body.get("value") or {})))
        else:
            self.say(self.block("only you see this", str(body.get("value", ""))))
        self.show_new()

    def open_form(self, key: str, ask: Callable[[str], str]) -> None:
        """`fN`: press a button shown as [fN], on whichever card it is, if this person can see it."""
        posted, button = self.forms[key]
        if not self.sees(posted):
            self.say(f"That button is in {self.where(posted.conversation)}: only they can see it.")
            return
        self.dialog(posted, button, ask)

    def dialog(self, posted: PostedCard, button: dict, ask: Callable[[str], str]) -> None:
        """A button that opens a dialog: Teams asks the bot for it (task/fetch), the person answers its inputs one by
        one, and Teams sends them with the dialog's submit button's data (task/submit)."""
        fetch = {"data": {k: v for k, v in button["data"].items() if k != "msteams"}}
        task = self.invoke(posted, "task/fetch", fetch)
        if task.get("type") != "continue":
            self.say(self.block("only you see this", str(task.get("value", ""))))
            self.show_new()
            return
        card = task["value"]["card"]["content"]
        self.say(
            f"-- dialog: {task['value'].get('title', '')} (Enter keeps what is shown in [brackets]; `-` clears it) --"
        )
        answers = {}
        try:
            for element in inputs(card):
                answers[element["id"]] = self.answer(element, ask)
        except (EOFError, KeyboardInterrupt):
            self.say("-- dialog closed; nothing was sent --")
            return
        submit = next(a for a in card.get("actions") or [] if a.get("type") == "Action.Submit")
        said = self.invoke(posted, "task/submit", {"data": submit["data"] | answers})
        self.say(self.block("only you see this", str(said.get("value", ""))))
        self.show_new()

    def answer(self, element: dict, ask: Callable[[str], str]) -> str:
        """One input's value as Teams sends it, from what is typed (choices by their numbers, people by @name), or as
        it was."""
        kind, label = element["type"], element.get("label") or element.get("title") or element.get("id", "")
        initial = "" if element.get("value") is None else str(element["value"])
        choices = element.get("choices") or []
        if kind == "Input.Toggle":
            on = initial == element.get("valueOn", "true")
            typed = ask(f"{label} (y/n) [{'y' if on else 'n'}]: ").strip().lower()
            on = typed.startswith("y") if typed else on
            return element.get("valueOn", "true") if on else element.get("valueOff", "false")
        if kind == "Input.ChoiceSet" and "choices.data" in element:  # Teams' people picker: names typed, ids sent
            ids = {p.aad_object_id: p for p in self.people.values()}
            shown = " ".join("@" + ids[i].first_name.lower() for i in initial.split(",") if i in ids)
            typed = ask(f"{label} (@names){f' [{shown}]' if shown else ''}: ").strip()
            names = (shown if not typed else "" if typed == "-" else typed).replace(",", " ").split()
            picked = [
                self.people[n.lstrip("@").lower()].aad_object_id for n in names if n.lstrip("@").lower() in self.people
            ]
            return ",".join(picked)
        if choices:
            label += " (" + ", ".join(f"{n}: {c['title']}" for n, c in enumerate(choices, 1)) + ")"
        shown = ", ".join(c["title"] for c in choices if c["value"] in initial.split(",")) if choices else initial
        typed = ask(f"{label}{f' [{shown}]' if shown else ''}: ").strip()
        if typed == "-":
            return ""
        if not typed:
            return initial
        numbers = [int(n) for n in re.findall(r"\d+", typed) if 0 < int(n) <= len(choices)]
        if choices and numbers:
            picked = [choices[n - 1]["value"] for n in numbers]
            return ",".join(picked if element.get("isMultiSelect") else picked[:1])
        return typed

    def invoke(self, posted: PostedCard, name: str, value: dict) -> dict:
        """An invoke activity from the person, from a button on `posted`; the task Teams would show them."""
        personal = posted.conversation.startswith(CHAT_PREFIX)
        conversation = posted.conversation if personal else f"{posted.conversation};messageid={posted.activity_id}"
        kind = "personal" if personal else ("channel" if posted.conversation == CHANNEL else "groupChat")
        more = {"replyToId": posted.activity_id} if name == "task/fetch" else {}  # as Teams: not on submit
        status, body = self.post(self.activity("invoke", conversation, kind, name=name, value=value, **more))
        if status >= 400 or not isinstance(body, dict):
            return {"type": "message", "value": f"(Teams got HTTP {status} from the bot)"}
        return body.get("task") or {}

    def sees(self, posted: PostedCard) -> bool:
        """A card in the channel is seen by everyone, one in a 1:1 chat by that person alone."""
        chat = posted.conversation.startswith(CHAT_PREFIX)
        return not chat or posted.conversation == CHAT_PREFIX + self.user.teams_id

    # -- output --------------------------------------------------------------------------------------------------
    def show_new(self) -> None:
        calls = self.connector.calls[self.seen :]
        self.seen += len(calls)
        for call in calls:
            if shown := self.render(call):
                self.say(shown)

    def render(self, call: Call) -> str | None:
        """A message the bot posted or replaced, as the people in that conversation see it."""
        path = unquote(call.path)
        if call.method not in ("POST", "PUT") or "/activities" not in path or not call.body:
            return None
        conversation, _, activity_id = path.removeprefix("/v3/conversations/").partition("/activities")
        activity_id = activity_id.strip("/") or (call.answer or {}).get("id", "")
        where = self.where(conversation) + (" (updated)" if call.method == "PUT" else "")
        cards = [a["content"] for a in call.body.get("attachments") or [] if a.get("contentType") == CARD_TYPE]
        if not cards:
            return self.block(where, call.body.get("text") or "")
        shown = []
        for card in cards:
            posted = PostedCard(conversation.split(";messageid=")[0], activity_id, card)
            text = self.number_forms(posted)
            change = change_of(card)
            if change is not None:
                self.cards.pop(change, None)
                self.cards[change] = posted
                shown.append(self.block(f"{where} card #{change}", text))
            else:
                shown.append(self.block(where, text))
        return "\n".join(shown)

    def number_forms(self, posted: PostedCard) -> str:
        """The card as text, each button that opens a dialog numbered [fN] for `fN` to press."""
        text = card_as_text(posted.card)
        for button in dialog_buttons(posted.card):
            key = f"f{len(self.forms) + 1}"
            self.forms[key] = (posted, button)
            text = text.replace(f"[{button['title']}]", f"[{key}] {button['title']}", 1)
        return text

    def where(self, conversation: str) -> str:
        channel, _, thread = conversation.partition(";messageid=")
        if channel == CHANNEL:
            return f"#general, replying to {self.threads[thread]}" if thread in self.threads else "#general"
        teams_id = conversation.removeprefix(CHAT_PREFIX)
        person = next((p for p in TEAMS_PEOPLE if p.teams_id == teams_id), None)
        return f"{person.first_name}'s chat" if person else conversation

    @staticmethod
    def block(where: str, text: str) -> str:
        lines = [line for line in html.unescape(text).splitlines() if line.strip()]
        return f"[{where}]\n" + "\n".join("    " + line for line in lines)


def found(element, keep: Callable[[dict], bool]) -> Iterator[dict]:
    """The parts of a card that `keep` picks, in the order they show."""
    if isinstance(element, dict):
        if keep(element):
            yield element
        for value in element.values():
            yield from found(value, keep)
    elif isinstance(element, list):
        for item in element:
            yield from found(item, keep)


def executes(card: dict) -> Iterator[dict]:
    """A card's Action.Execute buttons."""
    return found(card, lambda e: e.get("type") == "Action.Execute")


def dialog_buttons(card: dict) -> Iterator[dict]:
    """A card's buttons that open a dialog (Action.Submit with msteams task/fetch)."""
    return found(card, lambda e: e.get("type") == "Action.Submit" and "dialog_id" in (e.get("data") or {}))


def inputs(card: dict) -> Iterator[dict]:
    """A dialog card's inputs."""
    return found(card, lambda e: str(e.get("type", "")).startswith("Input."))


def change_of(card: dict) -> int | None:
    """The idea a card is about, if its buttons belong to one."""
    for action in executes(card):
        change = (action.get("data") or {}).get("change")
        if isinstance(change, int):
            return change
    return None


class InProcess:
    """The SDK's web app on an event loop of its own thread, taking activities as Teams POSTs them to /api/messages,
    without a port: httpx's ASGI transport calls the app directly."""

    def __init__(self, app):
        import httpx

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="teams-console", daemon=True)
        self.thread.start()
        self.run(app.initialize())
        transport = httpx.ASGITransport(app=app.server.adapter.app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://teams.console.invalid", timeout=60)

    def run(self, work):
        return asyncio.run_coroutine_threadsafe(work, self.loop).result()

    def post(self, activity: dict) -> tuple[int, dict | None]:
        response = self.run(self.client.post("/api/messages", json=activity))
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    def close(self) -> None:
        self.run(self.client.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def run(settings: Settings, lines: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Start the fake Bot Connector and the real Teams bot, then read lines until EOF, Ctrl-C or `quit`."""
    try:
        play(settings, lines, out)
    except KeyboardInterrupt:  # while starting up
        print(file=out)


def play(settings: Settings, lines: TextIO, out: TextIO) -> None:
    from bot.app import build_teams
    from bot.console import asker
    from bot.store.db import Store

    store = Store.from_url(settings.database_url)
    store.migrate()
    connector = FakeConnector(members=[p.account() for p in TEAMS_PEOPLE])
    connector.start()
    local = replace(
        settings,
        client_id=None,
        client_secret=None,
        tenant_id=TEAMS_TENANT,
        teams_unauthenticated=True,  # nothing reaches the app but this console: it has no port
        admin_user_ids=settings.admin_user_ids or frozenset({TEAMS_PEOPLE[3].aad_object_id}),  # Dani, as in Slack
        leader_user_ids=settings.leader_user_ids or (TEAMS_PEOPLE[3].aad_object_id,),  # and Dani leads
    )
    # The warnings about unauthenticated requests are for a bot with a port; this one has none.
    quieted = [logging.getLogger(name) for name in ("bot.app", "microsoft_teams.apps.http.http_server")]
    levels = [log.level for log in quieted]
    for log in quieted:
        log.setLevel(logging.ERROR)
    try:
        bot = build_teams(local, store=store)
        served = InProcess(bot.app)
    finally:
        for log, level in zip(quieted, levels, strict=True):
            log.setLevel(level)
    console = TeamsConsole(served.post, connector, out)
    try:
        # The bot is added to the team, as an admin would: it learns who is in it (names for cards, mentions).
        console.post(console.activity("installationUpdate", CHANNEL, "channel", action="add"))
        console.show_new()
        console.say(INTRO.format(people=", ".join(console.people)))
        console.say(f"(database: {settings.database_url})")
        interactive = lines.isatty()
        ask = asker(lines, console.say)
        while True:
            if interactive:
                try:
                    line = input(console.prompt)
                except EOFError:
                    console.say()
                    break
            else:
                line = lines.readline()
                if not line:
                    break
                console.say(console.prompt + line.rstrip("\n"))
            if not console.handle(line, ask):
                break
    except KeyboardInterrupt:
        console.say()
    finally:
        served.close()
        connector.stop()
        store.engine.dispose()
