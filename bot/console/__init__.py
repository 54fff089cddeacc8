"""The local console: try the bot with no Slack account.

It runs the real Bolt app and its listeners against a fake Slack on loopback with a sample team. What
you type is turned into the signed request Slack would send; what Slack would show each person is
printed as text. Same handlers, same database (SQLite by default) as the real bot.
"""

from __future__ import annotations

import html
import json
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TextIO

from slack_bolt import App
from slack_bolt.request import BoltRequest
from sqlalchemy.engine import make_url

from bot.charts import saved
from bot.console.fake_slack import Call, FakeSlack
from bot.console.payloads import SlackRequests
from bot.console.team import ALICE, DANI, SAMPLE_TEAM, SAMPLE_TEAM_ID
from bot.core.errors import Refused
from bot.core.model import STATUSES, Team
from bot.core.services import Services
from bot.settings import Settings
from bot.slack.blocks import change_card
from bot.slack.web import for_bolt

CHANNELS = {"C0GENERAL": "general"}
NUDGE_BUTTONS = {
    "suggest": "nudge_suggest",
    "thank": "nudge_thank",
    "snooze": "nudge_snooze",
    "fewer": "nudge_fewer",
    "stop": "nudge_stop",
    "resume": "nudge_resume",
    "yes": "nudge_stop_yes",
    "keep": "nudge_stop_no",
}
CARD_PRESS = re.compile(r"(?:#(\d+)\s+)?(\w+)(?:\s+(\w+))?(?:\s+#?(\d+))?")  # `#5 back` or `back #5`
COMMANDS = ("/thanks", "/smallchange")  # the app's slash commands (config/manifest)
INTRO = """Small Changes console: you are in #general of a sample team. Type what a Slack user types:
  /thanks @bob for covering my home visit #supportive     /thanks private @carol for …
  /smallchange one shared template for visit notes        /smallchange anon …   /smallchange list | mine | help
  /smallchange            (on its own: fills in the form)
Cards show numbered buttons: type `1` or `back`, `2` or `take`, `status trying`; for card N, `#N back` or `back #N`
(`/smallchange list` shows the numbers, and cards from earlier runs still work).
  `raise` raises an idea the team can't do alone with leaders (Dani leads here): its buttons come to them as [bN].
  tick [2026-11-24T10:30:00+00:00]   run the nudge clock now, or at that time (the console's clock moves there
                          and runs on); answer a nudge with snooze | fewer | stop | resume (as the one it went to)
  say <text>              post a message in #general; others can then:
  react [emoji]           react to the latest message someone else said (:pray: thanks its author)
  thank author            the message shortcut "Thank the author" on that message
  home                    open your Home tab in the app
  digest                  send the managers this week's digest, as it goes out once the week is over (the
                          console's clock moves there); `digest 2026-11-24T10:30:00+00:00` runs the digests then
  b1, b2 …                press a button shown as [b1] in a digest or on Home
  as bob                  act as someone else (people: {people})
  help | quit             (all you do is kept in the database: delete smallchanges.db to start afresh)"""


class Clock:
    """The console's time, which every service reads: the real time until `tick` or `digest` is given one, then that
    time, running on from there. So what follows a nudge (a snooze, Home's "snoozed until") happens after it."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def set(self, when: datetime) -> None:
        self.ahead = when - datetime.now(UTC)


class Console:
    def __init__(
        self, app: App, fake: FakeSlack, requests: SlackRequests, out: TextIO, services: Services, clock: Clock
    ):
        self.app, self.fake, self.requests, self.out = app, fake, requests, out
        self.services, self.clock = services, clock
        self.nudges: dict[str, tuple[dict, str]] = {}  # user id -> their latest nudge (message, channel)
        self.people = {u["name"]: u for u in SAMPLE_TEAM if not u.get("is_bot") and u["id"] != "USLACKBOT"}
        self.names = {u["id"]: u["profile"]["display_name"] for u in SAMPLE_TEAM}
        self.user = ALICE
        self.cards: dict[int, tuple[dict, str]] = {}  # change id -> (message as Slack holds it, channel)
        self.last_card: int | None = None
        self.buttons: dict[str, tuple[dict, str, dict]] = {}  # "b1" -> (message, channel, element)
        self.messages: list[dict] = []  # what people said in #general (console only: Slack would hold these)
        self.seen = 0
        self.uploads: dict[str, str | bytes] = {}  # file id: what was uploaded, until it is shared

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # -- input ---------------------------------------------------------------------------------------------------
    def handle(self, line: str, ask=input) -> bool:
        """Act on one line; False means quit."""
        line = line.strip()
        if not line:
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("quit", "exit"):
            return False
        if word in ("help", "?"):
            self.say(INTRO.format(people=", ".join(self.people)))
        elif word == "as":
            self.switch(rest.strip().lstrip("@").lower())
        elif word in COMMANDS:
            self.command(word, rest, ask)
        elif word.startswith("/"):
            self.say(f"There's no {word} here: only /thanks and /smallchange. Type `help` for the rest.")
        elif word == "tick":
            self.tick(rest.strip())
        elif word == "digest":
            self.digest(rest.strip())
        elif word == "say":
            self.post(rest.strip())
        elif word == "react":
            self.react(rest.strip().strip(":") or "pray")
        elif line.lower() == "thank author":
            self.thank_author(ask)
        elif word == "home":
            self.home(ask)
        elif word in self.buttons:
            self.press_button(word, ask)
        elif word in NUDGE_BUTTONS:
            self.answer_nudge(word)
        else:
            self.press(line, ask)
        return True

    def switch(self, name: str) -> None:
        person = self.people.get(name)
        if person is None:
            self.say(f"No one called {name!r} here. People: {', '.join(self.people)}")
            return
        self.user = person["id"]
        self.say(f"You are now {self.names[self.user]}.")

    def to_slack(self, text: str) -> str:
        """Text as Slack delivers it in a slash command (should_escape): escaped, mentions resolved."""
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(match: re.Match[str]) -> str:
            name = match.group(1).lower()
            if name in ("channel", "here", "everyone"):
                return f"<!{name}>"
            person = self.people.get(name)
            return f"<@{person['id']}|{name}>" if person else match.group(0)

        return re.sub(r"@([\w.-]+)", mention, text)

    def command(self, command: str, text: str, ask) -> None:
        body = self.requests.command(command, self.to_slack(text.strip()), self.user)
        self.dispatch(body)
        if opened := [c for c in self.new_calls(peek=True) if c.method == "views.open"]:
            self.show_new()
            self.fill_form(opened[-1], ask)
            return
        self.show_new()

    def fill_form(self, call: Call, ask) -> None:
        """Answer a modal question by question, as a person would fill it in, and submit it to the app."""
        view = call.params["view"]
        view = json.loads(view) if isinstance(view, str) else view
        self.say(f"-- form: {view['title']['text']} (Enter keeps what is shown in [brackets]; `-` clears it) --")
        for block in view["blocks"]:
            if block["type"] in ("section", "context"):
                texts = (
                    [block["text"]["text"]] if block["type"] == "section" else [e["text"] for e in block["elements"]]
                )
                self.say(self.block("form", "\n".join(texts)).split("\n", 1)[1])
        while True:
            try:
                values = {
                    block["block_id"]: {block["element"]["action_id"]: self.answer(block, ask)}
                    for block in view["blocks"]
                    if block["type"] == "input"
                }
            except (EOFError, KeyboardInterrupt):  # Ctrl-D or Ctrl-C: the form is cancelled
                self.say("-- form closed; nothing was submitted --")
                return
            response = self.dispatch(self.requests.view_submission(view, values, self.user), show_body=False)
            answer = json.loads(response.body) if response.body else {}
            errors = answer.get("errors")
            if not errors:
                if answer.get("response_action") == "update":  # the form shows what was saved
                    blocks = answer["view"]["blocks"]
                    self.say(self.block("form", "\n".join(t for b in blocks for t in self.block_lines(b, {}, ""))))
                break
            for block, message in errors.items():
                self.say(f"  ! {block}: {message}")
        self.show_new()

    def answer(self, block: dict, ask) -> dict:
        """One input's state, in the shape Slack submits, from what is typed (or its initial value)."""
        element, label = block["element"], block["label"]["text"]
        kind = element["type"]
        options = element.get("options") or []
        if kind in ("static_select", "radio_buttons", "checkboxes"):
            label += " (" + ", ".join(f"{n}: {o['text']['text']}" for n, o in enumerate(options, 1)) + ")"
        initial = {
            "plain_text_input": element.get("initial_value"),
            "number_input": element.get("initial_value"),
            "multi_users_select": " ".join(
                "@" + self.names.get(u, u).lower() for u in element.get("initial_users", [])
            ),
            "users_select": "@" + self.names.get(element["initial_user"], "").lower()
            if element.get("initial_user")
            else None,
            "conversations_select": self.channel(element["initial_conversation"])
            if element.get("initial_conversation")
            else None,
            "datepicker": element.get("initial_date"),
            "timepicker": element.get("initial_time"),
            "static_select": (element.get("initial_option") or {}).get("text", {}).get("text"),
            "radio_buttons": (element.get("initial_option") or {}).get("text", {}).get("text"),
        }.get(kind)
        typed = ask(f"{label}{f' [{initial}]' if initial else ''}: ").strip()
        if typed == "-":
            typed, initial = "", None
        state: dict = {"type": kind}
        if kind in ("plain_text_input", "number_input"):
            state["value"] = typed or initial
        elif kind in ("multi_users_select", "users_select"):
            names = (typed or initial or "").replace(",", " ").split()
            picked = [self.people[n.lstrip("@").lower()]["id"] for n in names if n.lstrip("@").lower() in self.people]
            if kind == "users_select":
                state["selected_user"] = picked[0] if picked else None
            else:
                state["selected_users"] = picked
        elif kind == "conversations_select":
            chosen = (typed or initial or "").lstrip("#")
            state["selected_conversation"] = next((c for c, name in CHANNELS.items() if name == chosen), None)
        elif kind in ("datepicker", "timepicker"):
            state["selected_date" if kind == "datepicker" else "selected_time"] = typed or initial
        else:
            picked = [options[int(n) - 1] for n in re.findall(r"\d+", typed) if 0 < int(n) <= len(options)]
            if kind == "checkboxes":
                state["selected_options"] = picked
            else:
                state["selected_option"] = picked[0] if picked else element.get("initial_option")
        return state

    def when(self, at: str) -> datetime | None:
        """The console's time now, or the time given, to which the console's clock moves."""
        if not at:
            return self.clock()
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            self.say("Give a time like 2026-11-24T10:30:00+00:00, or nothing for now.")
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        self.clock.set(when)
        return when

    def tick(self, at: str) -> None:
        """Run the nudge clock once, now or as if at an ISO time, and show what people received."""
        if when := self.when(at):
            report = self.services.nudges.tick(self.team, when)
            self.show_new()
            self.say("[clock] " + ", ".join(f"{n} {reason}" for reason, n in report.counts.most_common()))

    def digest(self, at: str) -> None:
        """Run the managers' digests at an ISO time; with none, when the digest of the period under way goes out, so
        that what was just played shows in it."""
        due = None if at else self.services.digests.next_due(self.team, self.clock())
        if due is not None:
            self.clock.set(due.at)
            covers = "week" if due.weeks == 1 else "fortnight" if due.weeks == 2 else f"{due.weeks} weeks"
            self.say(
                f"(The digest for the {covers} of {due.start:%-d %B}, as it goes out on {due.at:%A %-d %B at %H:%M} "
                f"in {due.tz}: the console's clock is there now.)"
            )
        if when := (due.at if due else self.when(at)):
            report = self.services.digests.tick(self.team, when)
            self.show_new()
            self.say("[clock] " + ", ".join(f"{n} {reason}" for reason, n in report.counts.most_common()))

    @property
    def team(self) -> Team:
        return Team("slack", self.fake.team_id)

    # -- messages people write (the console stands in for Slack holding them) -------------------------------------
    def post(self, text: str) -> None:
        if not text:
            self.say("Say something, e.g. `say I've rewritten the visit checklist`.")
            return
        ts = self.fake.new_ts()
        self.messages.append({"type": "message", "user": self.user, "text": text, "ts": ts})
        self.say(self.block("#general", f"<@{self.user}>: {text}"))

    def their_message(self) -> dict | None:
        found = next((m for m in reversed(self.messages) if m["user"] != self.user), None)
        if found is None:
            self.say("No one else has said anything yet: `as bob`, then `say …`, then come back.")
        return found

    def react(self, emoji: str) -> None:
        message = self.their_message()
        if message is None:
            return
        event = {
            "type": "reaction_added",
            "user": self.user,
            "reaction": emoji,
            "item_user": message["user"],
            "item": {"type": "message", "channel": "C0GENERAL", "ts": message["ts"]},
            "event_ts": f"{datetime.now(UTC).timestamp():.6f}",
        }
        self.say(f"(you reacted :{emoji}: to @{self.names[message['user']]}'s message)")
        self.dispatch(self.requests.event(event, "Ev" + secrets.token_hex(5))[0], show_body=False)
        self.show_new()

    def thank_author(self, ask) -> None:
        message = self.their_message()
        if message is not None:
            self.dispatch(self.requests.message_shortcut("thank_author", message, "C0GENERAL", self.user))
            self.show_and_fill(ask)

    def home(self, ask) -> None:
        event = {"type": "app_home_opened", "user": self.user, "channel": "D" + self.user[1:], "tab": "home"}
        self.dispatch(self.requests.event(event, "Ev" + secrets.token_hex(5))[0], show_body=False)
        published = [
            c for c in self.new_calls() if c.method == "views.publish" and c.params.get("user_id") == self.user
        ]
        if not published:
            self.say("(Home didn't open)")
            return
        view = published[-1].params["view"]
        view = json.loads(view) if isinstance(view, str) else view
        message = {"type": "message", "ts": "", "blocks": view["blocks"]}
        self.say(self.render_blocks("your Home tab", view["blocks"], message, "D" + self.user[1:]))

    def press_button(self, key: str, ask) -> None:
        message, channel, element = self.buttons[key]
        self.dispatch(self.requests.block_action(message, channel, element, self.user))
        self.show_and_fill(ask)

    def show_and_fill(self, ask) -> None:
        """Show what a click or shortcut produced; if it opened a form, fill it in."""
        opened = [c for c in self.new_calls(peek=True) if c.method == "views.open"]
        self.show_new()
        if opened:
            self.fill_form(opened[-1], ask)

    def answer_nudge(self, word: str) -> None:
        remembered = self.nudges.get(self.user)
        if remembered is None:
            self.say("You have no nudge to answer. Type `tick 2026-11-24T10:30:00+00:00` to run the clock.")
            return
        message, channel = remembered
        action_id = NUDGE_BUTTONS[word]
        element = next(
            (e for b in message["blocks"] for e in b.get("elements", []) if e.get("action_id") == action_id), None
        )
        if element is None:
            self.say("That button isn't on your latest nudge.")
            return
        if action_id in ("nudge_suggest", "nudge_thank"):
            self.say("(In Slack this opens a form; here, type /smallchange … or /thanks @name for … instead.)")
        self.dispatch(self.requests.block_action(message, channel, element, self.user))
        self.show_new()

    def press(self, line: str, ask) -> None:
        match = CARD_PRESS.fullmatch(line.strip().lower())
        if not match:
            self.say("I didn't understand that. Type `help` for what you can do.")
            return
        card_first, what, choice, card_last = match.groups()
        card = card_first or card_last
        if what in STATUSES:
            what, choice = "status", what
        action_id = {
            "1": "change_back",
            "back": "change_back",
            "2": "owner",
            "take": "change_take",
            "handback": "change_hand_back",
            "3": "change_status",
            "status": "change_status",
            "4": "change_raise",
            "raise": "change_raise",
        }.get(what)
        key = int(card) if card else self.last_card
        if action_id is None or not self.knows_card(key):
            self.say(
                "No such button or card. Cards are numbered #N (`/smallchange list` shows them); buttons 1 back, "
                "2 take / hand back, 3 status, 4 raise."
            )
            return
        message, channel = self.cards[key]
        elements = [e for b in message["blocks"] for e in b.get("elements", []) if "action_id" in e]
        if action_id == "owner":
            element = next(e for e in elements if e["action_id"] in ("change_take", "change_hand_back"))
        else:
            element = next((e for e in elements if e["action_id"] == action_id), None)
            if element is None:
                self.say("That button isn't on this card right now.")
                return
        if element["action_id"] == "change_status":
            if choice not in STATUSES:
                self.say(f"Choose a status: {' / '.join(STATUSES)}, e.g. `status trying`.")
                return
            element = element | {"_chosen": choice}
        self.dispatch(self.requests.block_action(message, channel, element, self.user))
        self.show_and_fill(ask)

    def knows_card(self, change_id: int | None) -> bool:
        """Whether card #N can be pressed: one shown in this run, or one posted in an earlier run, rebuilt from the
        database (where the change keeps where its card is) as Slack would hold it."""
        if change_id is None or change_id in self.cards:
            return change_id is not None
        try:
            with self.services.store.one_connection():  # as a request's work runs (one SQLite connection, not two)
                change = self.services.changes.get(self.team, change_id)
        except Refused:
            return False
        if not (change.channel_id and change.message_ts):
            return False  # an anonymous idea's card, sent to its author's DM: where it is was not kept
        message = {"type": "message", "ts": change.message_ts, "blocks": change_card(change)[1]}
        self.cards[change_id] = (message, change.channel_id)
        return True

    def dispatch(self, body: str, show_body: bool = True):
        response = self.app.dispatch(BoltRequest(body=for_bolt(body, None), headers=self.requests.sign(body)))
        if show_body and response.body:
            try:
                text = json.loads(response.body).get("text", "")
            except ValueError:
                text = response.body
            if text:
                self.say(self.block("only you see this", text))
        return response

    # -- output --------------------------------------------------------------------------------------------------
    def new_calls(self, peek: bool = False) -> list[Call]:
        calls = self.fake.calls[self.seen :]
        if not peek:
            self.seen += len(calls)
        return calls

    def show_new(self) -> None:
        for call in self.new_calls():
            shown = self.render_call(call)
            if shown:
                self.say(shown)

    def render_call(self, call: Call) -> str | None:
        params = call.params
        if call.method == "response_url":
            if params.get("replace_original"):
                channel = self.requests.channels.get(self.fake.url + call.path, "C0GENERAL")
                where = f"DM to {self.names[self.user]}" if channel.startswith("D") else self.channel(channel)
                return self.render_message(f"{where} (updated)", params, call)
            where = "#general" if params.get("response_type") == "in_channel" else "only you see this"
            return self.render_message(where, params, call)
        if call.method == "chat.postMessage":
            channel = params.get("channel", "")
            where = f"DM to {self.names.get(channel, channel)}" if channel[:1] in "UW" else self.channel(channel)
            return self.render_message(where, params, call)
        if call.method == "file_upload":
            self.uploads[call.params["file_id"]] = call.params["content"]
            return None
        if call.method == "files.completeUploadExternal":
            return self.render_files(call)
        if call.method == "chat.update":
            channel = params.get("channel", "")
            dm_with = self.names.get("U" + channel[1:]) if channel[:1] == "D" else None
            where = f"DM to {dm_with}" if dm_with else self.channel(channel)
            return self.render_message(f"{where} (updated)", params, call)
        return None

    def channel(self, channel_id: str) -> str:
        return "#" + CHANNELS.get(channel_id, channel_id)

    def render_files(self, call: Call) -> str | None:
        """Images shared in a DM (a digest's chart), saved under charts/ for the console to show as a path, with
        the alt text Slack would read out."""
        asked = {c.result.get("file_id"): c.params for c in self.fake.calls_to("files.getUploadURLExternal")}
        files = call.params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        shown = []
        for file in files:
            about = asked.get(file["id"], {})
            content = self.uploads.pop(file["id"], b"")
            if isinstance(content, bytes) and str(about.get("filename", "")).endswith(".png"):
                path = saved(about["filename"], content)
                shown.append(f"[image: {path}] {about.get('alt_txt') or file.get('title', '')}")
        channel = str(call.params.get("channel_id", ""))
        dm_with = self.names.get("U" + channel[1:]) if channel[:1] == "D" else None
        where = f"DM to {dm_with}" if dm_with else self.channel(channel)
        return self.block(where, "\n".join(shown)) if shown else None

    def render_message(self, where: str, params: dict, call: Call) -> str:
        blocks = params.get("blocks") or []
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        if not blocks:
            return self.block(where, params.get("text", ""))
        lines: list[str] = []
        message = {"type": "message", "ts": call.result.get("ts") or params.get("ts", ""), "blocks": blocks}
        channel = call.result.get("channel") or params.get("channel") or "C0GENERAL"
        for block in blocks:
            if block["type"] == "actions" and block.get("block_id", "").startswith("nudge_"):
                lines.append(self.remember_nudge(block, blocks, params, call))
            elif block["type"] == "actions" and re.fullmatch(r"change_\d+", block.get("block_id", "")):
                lines.append(self.remember_card(block, blocks, params, call))
            else:
                lines += self.block_lines(block, message, channel)
        return self.block(where, "\n".join(lines))

    def render_blocks(self, where: str, blocks: list, message: dict, channel: str) -> str:
        return self.block(where, "\n".join(line for b in blocks for line in self.block_lines(b, message, channel)))

    def block_lines(self, block: dict, message: dict, channel: str) -> list[str]:
        """A block as text; buttons become [bN] that `bN` presses."""
        if block["type"] in ("section", "header"):
            lines = [block["text"]["text"]] if block.get("text") else []
            if listed := re.fullmatch(r"listed_(\d+)", block.get("block_id", "")):  # an idea in /smallchange list
                lines[0] = f"card #{listed.group(1)}: {lines[0]}"
            for field in block.get("fields") or []:
                lines.append(field["text"])
            if accessory := block.get("accessory"):
                lines.append(self.remember_buttons([accessory], message, channel))
            return lines
        if block["type"] == "context":
            return [e.get("text", "") for e in block["elements"]]
        if block["type"] == "divider":
            return ["─" * 40]
        if block["type"] == "actions":
            return [self.remember_buttons(block["elements"], message, channel)]
        return []

    def remember_buttons(self, elements: list, message: dict, channel: str) -> str:
        shown = []
        for element in elements:
            if element.get("type") != "button":
                continue
            key = f"b{len(self.buttons) + 1}"
            self.buttons[key] = (message, channel, element)
            shown.append(f"[{key}] {element['text']['text']}")
        return "   ".join(shown)

    def remember_nudge(self, block: dict, blocks: list, params: dict, call: Call) -> str:
        user_id = params.get("channel", self.user) if call.method == "chat.postMessage" else self.user
        channel = call.result.get("channel") or "D" + user_id[1:]
        self.nudges[user_id] = ({"type": "message", "ts": call.result.get("ts", ""), "blocks": blocks}, channel)
        names = {v: k for k, v in NUDGE_BUTTONS.items()}
        return "answer with:  " + "   ".join(
            f"[{names.get(e['action_id'], e['action_id'])}] {e['text']['text']}" for e in block["elements"]
        )

    def remember_card(self, block: dict, blocks: list, params: dict, call: Call) -> str:
        change_id = int(block["block_id"].removeprefix("change_"))
        channel = call.result.get("channel") or params.get("channel") or "C0GENERAL"
        ts = call.result.get("ts") or params.get("ts") or self.cards.get(change_id, ({}, ""))[0].get("ts", "")
        self.cards[change_id] = ({"type": "message", "ts": ts, "blocks": blocks}, channel)
        self.last_card = change_id
        buttons = []
        for n, element in enumerate(block["elements"], start=1):
            if element["type"] == "button":
                buttons.append(f"[{n}] {element['text']['text']}")
            else:
                current = element.get("initial_option", {}).get("text", {}).get("text", "?")
                buttons.append(f"[{n}] Status: {current} ▾")
        return f"card #{change_id}:  " + "   ".join(buttons)

    def block(self, where: str, text: str) -> str:
        text = re.sub(r"<@(\w+)>", lambda m: "@" + self.names.get(m.group(1), m.group(1)), text)
        text = re.sub(r"<#(\w+)>", lambda m: self.channel(m.group(1)), text)
        text = re.sub(r"<!date\^[^|>]*\|([^>]*)>", r"\1", text)  # Slack shows dates in the reader's timezone
        body = "\n".join("    " + line for line in html.unescape(text).splitlines())
        return f"[{where}]\n{body}"


def asker(lines: TextIO, say: Callable[[str], None]) -> Callable[[str], str]:
    """How a form's questions are answered: typed at the prompt, or, from a script, read from `lines` and shown."""

    def ask(prompt: str) -> str:
        if lines.isatty():
            return input(prompt)
        say(prompt.rstrip())
        line = lines.readline()
        if not line:
            raise EOFError
        return line.rstrip("\n")

    return ask


def shown(database_url: str) -> str:
    """The database's address, with no password in it."""
    return make_url(database_url).render_as_string(hide_password=True)


@contextmanager
def sample_slack(settings: Settings) -> Iterator[tuple[FakeSlack, Settings]]:
    """The console's stand-in for Slack, on loopback with the sample team, and the settings that point the bot at
    it. `python -m bot run … --dry-run` uses it too, on the console's database when no Slack token is set."""
    with FakeSlack(team_id=SAMPLE_TEAM_ID, first_ts=time.time_ns() // 1000) as fake:
        for person in SAMPLE_TEAM:
            fake.add_user(dict(person))
        local = replace(
            settings,
            slack_bot_token="xoxb-local-console",
            slack_client_id=None,  # the console is one workspace, whatever .env says about installs
            slack_client_secret=None,
            slack_signing_secret=secrets.token_hex(16),
            slack_api_url=fake.api_url,
            manager_user_ids=settings.manager_user_ids or (DANI,),  # so `digest` has someone to send to
            leader_user_ids=settings.leader_user_ids or (DANI,),  # and `raise` someone to raise an idea with
        )
        yield fake, local


def run(settings: Settings, lines: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Start the fake Slack and the real app, then read lines until EOF or `quit`."""
    from bot.app import build_slack
    from bot.slack.work import Inline
    from bot.store.db import Store

    store = Store.from_url(settings.database_url)
    store.migrate()
    with sample_slack(settings) as (fake, local):
        clock = Clock()
        bot = build_slack(local, store=store, work=Inline(), now=clock, sleep=lambda _: None)
        requests = SlackRequests(local.slack_signing_secret, fake.team_id, fake.url + "/response/")
        console = Console(bot.app, fake, requests, out, bot.services, clock)
        console.new_calls()  # start-up's auth.test is not for the person at the keyboard
        interactive = lines.isatty()
        ask = asker(lines, console.say)
        try:  # from the first line shown: a Ctrl-C as soon as it appears quits quietly too
            console.say(INTRO.format(people=", ".join(console.people)))
            console.say(f"(database: {shown(settings.database_url)})")
            while True:
                prompt = f"{console.names[console.user]}> "
                if interactive:
                    try:
                        line = input(prompt)
                    except EOFError:
                        break
                else:
                    line = lines.readline()
                    if not line:
                        break
                    console.say(prompt + line.rstrip("\n"))
                if not console.handle(line, ask):
                    break
        except KeyboardInterrupt:  # Ctrl-C at the prompt: quit, quietly
            console.say("")
    store.engine.dispose()
