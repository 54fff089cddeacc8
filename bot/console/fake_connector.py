"""A fake Bot Connector (the `serviceUrl` Teams gives each activity) on loopback, as a real HTTP server: the Teams
console (`python -m bot console --teams`) shows what it was sent, and the tests check it.

It records every request and answers the routes the bot uses the way the connector does: a new conversation, a new
activity, an activity replaced, a conversation's members a page at a time. A failure can be queued for the next
matching request (a 429 with Retry-After, a 404 for a person who left) to see what the bot does with it.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: dict | None
    answer: dict | None = None  # what the connector answered (a new activity's id)
    raw: bytes = b""  # the body as sent (a file uploaded)


@dataclass
class Failure:
    method: str
    path: str
    status: int
    retry_after: str | None


@dataclass
class FakeConnector:
    members: list[dict] = field(default_factory=list)  # for pagedMembers, as TeamsChannelAccount JSON
    calls: list[Call] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail_next(self, method: str, path: str, status: int, retry_after: str | None = None) -> None:
        """Answer the next `method` request to exactly `path` with `status` (and Retry-After)."""
        with self.lock:
            self.failures.append(Failure(method, path, status, retry_after))

    def sent(self, method: str = "POST", suffix: str = "/activities") -> list[Call]:
        """What the bot sent that the connector took, oldest first."""
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def texts(self, conversation_id: str | None = None) -> list[str]:
        """The text of every message posted (to one conversation, or a thread in it), cards as their JSON."""
        return [
            (c.body or {}).get("text") or json.dumps((c.body or {}).get("attachments") or [])
            for c in self.sent()
            if conversation_id is None
            or unquote(c.path).split(";messageid=")[0].split("/activities")[0] == f"/v3/conversations/{conversation_id}"
        ]

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def handle_one(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else None
                call = Call(self.command, parts.path, parse_qs(parts.query), dict(self.headers), body, raw=raw)
                with fake.lock:
                    failure = next(
                        (f for f in fake.failures if f.method == call.method and f.path == unquote(call.path)), None
                    )
                    if failure:
                        fake.failures.remove(failure)
                    else:
                        status, answer = fake.route(call)
                        fake.calls.append(replace(call, answer=answer))
                if failure:
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                    error = {"error": {"code": f"Http{failure.status}", "message": "fake"}}
                    self.answer(failure.status, error, headers)
                else:
                    self.answer(status, answer)

            def answer(self, status: int, body, headers: dict | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def route(self, call: Call) -> tuple[int, dict]:
        parts = call.path.rstrip("/").split("/")  # ["", "v3", "conversations", id, "activities", activity id]
        if call.method == "POST" and call.path == "/v3/conversations":
            member = ((call.body or {}).get("members") or [{}])[0].get("id", "")
            return 201, {"id": f"a:1on1-{member}"}
        if call.method == "POST" and len(parts) == 5 and parts[4] == "activities":
            return 201, {"id": f"activity-{next(self.ids)}"}
        if call.method == "PUT" and call.path.startswith("/upload/"):  # a file, to "OneDrive"
            return 201, {"id": call.path.rsplit("/", 1)[-1]}
        if call.method == "PUT" and len(parts) == 6 and parts[4] == "activities":
            return 200, {"id": parts[5]}
        if call.method == "GET" and len(parts) == 5 and parts[4] == "pagedMembers":
            size = int(call.query.get("pageSize", ["100"])[0])
            start = int(call.query.get("continuationToken", ["0"])[0])
            more = start + size < len(self.members)
            page = {"members": self.members[start : start + size]}
            return 200, page | ({"continuationToken": str(start + size)} if more else {})
        if call.method == "GET" and len(parts) == 6 and parts[4] == "members":
            member = next((m for m in self.members if parts[5] in (m["id"], m.get("aadObjectId"))), None)
            if member is not None:
                return 200, member
        return 404, {"error": {"code": "NotFound", "message": f"no route {call.method} {call.path}"}}
