"""Drives the running web app as Slack does: signed HTTP requests in Slack's payload shapes."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from bot.console.fake_slack import Call, FakeSlack
from bot.console.payloads import SlackRequests, modal_values


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> dict:
        return json.loads(self.body) if self.body else {}


class SlackDriver:
    def __init__(self, base_url: str, fake: FakeSlack | None, signing_secret: str):
        self.base_url = base_url
        self.fake = fake
        if fake is not None:
            self.requests = SlackRequests(signing_secret, fake.team_id, fake.url + "/response/")

    def post(self, body: str, headers: dict[str, str], path: str = "/slack/events") -> Response:
        request = urllib.request.Request(self.base_url + path, data=body.encode(), headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return Response(reply.status, reply.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode())

    def get(self, path: str) -> Response:
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=10) as reply:
                return Response(reply.status, reply.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode())

    def signed(self, body: str) -> Response:
        return self.post(body, self.requests.sign(body))

    def command(self, command: str, text: str, user: str, channel: str = "C0GENERAL") -> Response:
        return self.signed(self.requests.command(command, text, user, channel))

    def thanks(self, text: str, user: str, channel: str = "C0GENERAL") -> Response:
        return self.command("/thanks", text, user, channel)

    def smallchange(self, text: str, user: str, channel: str = "C0GENERAL") -> Response:
        return self.command("/smallchange", text, user, channel)

    def event(self, event: dict, event_id: str, retry: int | None = None) -> Response:
        """Deliver an Events API event (JSON body, signed); `retry` marks a redelivery of the same event_id."""
        body, extra = self.requests.event(event, event_id, retry)
        headers = self.requests.sign(body) | {"Content-Type": "application/json"} | extra
        return self.post(body, headers)

    def message_shortcut(self, callback_id: str, message: dict, user: str, channel: str = "C0GENERAL") -> Response:
        return self.signed(self.requests.message_shortcut(callback_id, message, channel, user))

    # -- cards ---------------------------------------------------------------------------------------------------
    def last_card(self) -> tuple[dict, str]:
        """The newest message with card buttons, as Slack would hold it (with its ts), and its channel."""
        for call in reversed(self.fake.calls):
            blocks = call.params.get("blocks") or []
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            if any(e.get("action_id") == "change_back" for b in blocks for e in b.get("elements", [])):
                answered_into = self.requests.channels.get(self.fake.url + call.path)
                channel = call.result.get("channel") or call.params.get("channel") or answered_into or "C0GENERAL"
                ts = call.result.get("ts") or call.params.get("ts") or "1700000000.000100"
                return {"type": "message", "ts": ts, "text": call.params.get("text", ""), "blocks": blocks}, channel
        raise AssertionError("no idea card has been posted")

    def click(self, action_id: str, user: str, choose: str | None = None) -> Response:
        message, channel = self.last_card()
        element = next(e for b in message["blocks"] for e in b.get("elements", []) if e.get("action_id") == action_id)
        if choose is not None:
            element = element | {"_chosen": choose}
        return self.signed(self.requests.block_action(message, channel, element, user))

    def press(self, call: Call, action_id: str, user: str) -> Response:
        """Press a button in a message the bot sent (chat.postMessage) or replaced through a response_url."""
        message_blocks = call.params.get("blocks") or []
        message_blocks = json.loads(message_blocks) if isinstance(message_blocks, str) else message_blocks
        message = {"type": "message", "ts": call.result.get("ts", "1700000000.000100"), "blocks": message_blocks}
        channel = call.result.get("channel") or self.requests.channels.get(self.fake.url + call.path) or "D0"
        element = next(e for b in message_blocks for e in b.get("elements", []) if e.get("action_id") == action_id)
        return self.signed(self.requests.block_action(message, channel, element, user))

    def submit_view(self, view: dict, state: dict, user: str) -> Response:
        """Submit any modal; `state` maps block id -> Slack's element state (see tests for shapes)."""
        return self.signed(self.requests.view_submission(view, state, user))

    def submit_change_form(self, user: str, view: dict | None = None, **values) -> Response:
        view = view or self.opened_view()
        return self.signed(self.requests.view_submission(view, modal_values(**values), user))

    def opened_view(self) -> dict:
        call = self.fake.wait_for("views.open")[-1]
        view = call.params["view"]
        return json.loads(view) if isinstance(view, str) else view

    def said(self, method: str = "response_url") -> list[Call]:
        return self.fake.calls_to(method)
