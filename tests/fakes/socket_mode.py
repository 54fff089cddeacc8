"""A stand-in for Slack's Socket Mode side, on loopback.

Slack's flow, which this plays: the app calls the Web API method `apps.connections.open` with its app-level
token (xapp-…) and gets a one-time WebSocket URL; it connects there; Slack sends `{"type": "hello"}` and then
envelopes (`{"envelope_id", "type", "accepts_response_payload", "payload"}`), and the app acks each one by
sending back `{"envelope_id", "payload"?}`.

`SocketModeSlack` is the fake Web API (bot.console.fake_slack.FakeSlack) that also answers
`apps.connections.open`, handing out URLs on its `socket`, a `FakeSocketMode` WebSocket server. The URLs are
plain ws:// on 127.0.0.1: slack_sdk's builtin client picks TLS by port (443) rather than by scheme, so any
other port gets a plain TCP socket.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from bot.console.fake_slack import Call, FakeSlack

APP_ID = "A0SMALLCHG"


class FakeSocketMode:
    """Slack's Socket Mode WebSocket endpoint: admits holders of an issued ticket, says hello, sends envelopes
    to the newest connection and records every message the app sends back (its acks)."""

    def __init__(self, app_id: str = APP_ID):
        self.app_id = app_id
        self.received: list[dict] = []  # every JSON message the app sent, in order
        self.refused: list[str] = []  # request paths turned away (unknown or reused ticket)
        self._tickets: set[str] = set()
        self._connections: list[ServerConnection] = []
        self._changed = threading.Condition()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        # No keepalive pings from our side: the builtin client pings us (websockets answers), which is enough.
        self._server = serve(self._serve, "127.0.0.1", 0, process_request=self._admit, ping_interval=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server = None
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server, "start() the fake first"
        return self._server.socket.getsockname()[1]

    def issue_url(self) -> str:
        """A fresh one-time URL, as apps.connections.open hands out."""
        ticket = secrets.token_hex(8)
        with self._changed:
            self._tickets.add(ticket)
        return f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"

    # -- the server side -----------------------------------------------------------------------------------------
    def _admit(self, connection: ServerConnection, request):
        ticket = (parse_qs(urlparse(request.path).query).get("ticket") or [""])[0]
        with self._changed:
            if ticket in self._tickets:
                self._tickets.discard(ticket)
                return None  # go on with the WebSocket handshake
            self.refused.append(request.path)
        return connection.respond(401, "invalid ticket\n")

    def _serve(self, connection: ServerConnection) -> None:
        with self._changed:
            self._connections.append(connection)
            self._changed.notify_all()
        try:
            connection.send(
                json.dumps(
                    {
                        "type": "hello",
                        "num_connections": len(self._connections),
                        "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 3600},
                        "connection_info": {"app_id": self.app_id},
                    }
                )
            )
            for message in connection:
                data = json.loads(message)
                with self._changed:
                    self.received.append(data)
                    self._changed.notify_all()
        except ConnectionClosed:
            pass
        finally:
            with self._changed:
                self._connections.remove(connection)
                self._changed.notify_all()

    # -- driving it from a test ----------------------------------------------------------------------------------
    def wait_for_connection(self, timeout: float = 5.0, *, alive: Callable[[], bool] | None = None) -> ServerConnection:
        """Wait until an app has connected; `alive()` returning False (its process died) stops the wait early."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._connections:
                left = deadline - time.monotonic()
                if left <= 0 or (alive is not None and not alive()):
                    raise AssertionError(f"no Socket Mode connection within {timeout}s; refused: {self.refused}")
                self._changed.wait(min(left, 0.2))
            return self._connections[-1]

    def send(self, kind: str, payload: dict, *, accepts_response_payload: bool = True) -> str:
        """Send one envelope to the newest connection; returns its envelope_id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "accepts_response_payload": accepts_response_payload,
            "payload": payload,
        }
        self.wait_for_connection(timeout=0).send(json.dumps(envelope))
        return envelope_id

    def slash_command(self, payload: dict) -> str:
        return self.send("slash_commands", payload)

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict:
        """The app's ack for `envelope_id`: {"envelope_id": …} plus an optional "payload"."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not (acks := [m for m in self.received if m.get("envelope_id") == envelope_id]):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s: {self.received}")
                self._changed.wait(left)
            return acks[0]


class SocketModeSlack(FakeSlack):
    """The fake Web API plus `apps.connections.open`, which (like Slack) wants an app-level token and answers
    with a one-time URL on `self.socket`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.socket = FakeSocketMode()

    def start(self) -> SocketModeSlack:
        self.socket.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        self.socket.stop()

    def _answer(self, path: str, params: dict, token: str | None) -> tuple[int, dict, dict | str]:
        if path == "/api/apps.connections.open" and token and not token.startswith("xapp-"):
            refusal = {"ok": False, "error": "not_allowed_token_type"}
            self._record(Call("apps.connections.open", params, path, token, refusal))
            return 200, {"Content-Type": "application/json"}, refusal
        return super()._answer(path, params, token)

    def _result(self, method: str, params: dict, token: str | None = None) -> dict:
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket.issue_url()}
        return super()._result(method, params, token)
