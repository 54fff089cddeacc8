"""A stand-in for Slack's Web API on loopback: a real HTTP server that answers the methods the bot uses
in Slack's documented shapes and records every call. The console plays against it; tests assert on it."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse


@dataclass
class Call:
    method: str  # a Web API method such as "chat.postMessage", or "response_url"
    params: dict
    path: str = ""
    token: str | None = None
    result: dict = field(default_factory=dict)  # what the fake answered

    def text(self) -> str:
        """Everything a person would read in this message: text plus the text inside its blocks."""
        return "\n".join([self.params.get("text") or ""] + list(_block_texts(self.params.get("blocks") or [])))


def _block_texts(value) -> list[str]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    found: list[str] = []
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            found.append(value["text"])
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                found += _block_texts(item) if isinstance(item, dict | list) else []
    elif isinstance(value, list):
        for item in value:
            found += _block_texts(item)
    return found


def user(user_id: str, name: str, *, tz: str = "Europe/London", **extra) -> dict:
    """A users.info `user` object."""
    base = {
        "id": user_id,
        "team_id": "T0SAMPLE",
        "name": name.lower().split()[0],
        "real_name": name,
        "deleted": False,
        "is_bot": False,
        "is_admin": False,
        "is_owner": False,
        "tz": tz,
        "profile": {"display_name": name.split()[0], "real_name": name},
    }
    base.update(extra)
    return base


def conversation(channel_id: str, *, private: bool, mpim: bool, member: bool) -> dict:
    """A conversations.info `channel` object for a channel or a group DM."""
    return {
        "id": channel_id,
        "name": f"mpdm-{channel_id.lower()}" if mpim else channel_id.lower(),
        "is_channel": not mpim,
        "is_group": False,
        "is_im": False,
        "is_mpim": mpim,
        "is_private": private,
        "is_archived": False,
        "is_member": member,
    }


@dataclass
class Failure:
    error: str
    status: int = 200
    retry_after: int | None = None
    times: int = 1


@dataclass
class FakeSlack:
    team_id: str = "T0SAMPLE"
    bot_user_id: str = "U0BOT"
    users: dict[str, dict] = field(default_factory=dict)
    not_in: set[str] = field(default_factory=set)  # channels where chat.postMessage answers not_in_channel
    dnd: dict[str, dict] = field(default_factory=dict)  # dnd.info answers by user id (default: DND off)
    # Conversations declared by private_channel() (conversations.info objects) and who is in them, by id. A "C…" id
    # nobody declared is a public channel; any other is one the bot cannot see (channel_not_found).
    conversations: dict[str, dict] = field(default_factory=dict)
    channel_members: dict[str, list[str]] = field(default_factory=dict)
    # OAuth installs: the app's credentials, the codes Slack hands a browser once someone approves an install
    # (grant()), and the bot token of each installed workspace (any other token is the default team's).
    client_credentials: tuple[str, str] | None = None
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # bot token -> team id
    revoked: set[str] = field(default_factory=set)
    # The first message's ts, in microseconds. The console starts it at the real time, as Slack's are, so that messages
    # from different runs on one database (an idea card's, kept with the idea) never share a ts.
    first_ts: int = 1_700_000_001_000_100

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self._failures: dict[str, list[Failure]] = {}
        self._changed = threading.Condition()
        self._ts = itertools.count(1)
        self._message_ts = itertools.count(self.first_ts)
        self._server: ThreadingHTTPServer | None = None
        self.down_until = 0.0
        self._held: dict[str, threading.Event] = {}

    def new_ts(self) -> str:
        """A new message's ts, unique in the workspace."""
        micros = next(self._message_ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                raw = body.decode(errors="replace")
                params = dict(parse_qsl(url.query))
                if "json" in (self.headers.get("Content-Type") or ""):
                    params.update(json.loads(raw or "{}"))
                elif raw:
                    params.update(parse_qsl(raw))
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ") or params.get("token")
                if url.path.startswith("/upload/"):  # the upload URL files.getUploadURLExternal handed out
                    params = {"content": raw if raw.encode() == body else body}  # an image stays bytes
                status, headers, body = fake._answer(url.path, params, token)
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.url}/response/{name}"

    # -- scripting ------------------------------------------------------------------------------------------------
    def add_user(self, user_object: dict) -> dict:
        self.users[user_object["id"]] = user_object
        return user_object

    def private_channel(self, channel_id: str, *members: str, mpim: bool = False) -> None:
        """A private channel (or a group DM) the bot is in, with these members; tests edit channel_members later."""
        self.conversations[channel_id] = conversation(channel_id, private=True, mpim=mpim, member=True)
        self.channel_members[channel_id] = [*members, self.bot_user_id]

    def grant(self, code: str, team_id: str, *, enterprise_id: str | None = None, org_wide: bool = False) -> str:
        """Someone approved an install into `team_id` (or, `org_wide`, into the whole Enterprise Grid org): Slack
        redirects their browser back with `code`, which oauth.v2.access exchanges once for this bot token."""
        token = f"xoxb-{team_id}-{len(self.tokens) + 1}-fake"
        self.tokens[token] = team_id
        enterprise = {"id": enterprise_id, "name": "Sample org"} if enterprise_id else None
        self.codes[code] = {  # oauth.v2.access's documented answer for a bot-only install
            "ok": True,
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write",
            "bot_user_id": self.bot_user_id,
            "app_id": "A0SMALLCHG",
            "team": None if org_wide else {"id": team_id, "name": f"Team {team_id}"},
            "enterprise": enterprise,
            "is_enterprise_install": org_wide,
            "authed_user": {"id": "U0INSTALLER"},
        }
        return token

    @contextmanager
    def holding(self, method: str) -> Iterator[threading.Event]:
        """Calls to `method` wait for an answer until the block ends (or the event is set): Slack being slow."""
        release = threading.Event()
        self._held[method] = release
        try:
            yield release
        finally:
            release.set()
            self._held.pop(method, None)

    @property
    def is_down(self) -> bool:
        return time.monotonic() < self.down_until

    @contextmanager
    def outage(self) -> Iterator[None]:
        """Slack is down: every call, Web API and response_url alike, answers 503 with an HTML page, as a load
        balancer in front of a broken service does. The calls are recorded as "unanswered"."""
        self.down_until = float("inf")
        try:
            yield
        finally:
            self.down_until = 0.0

    def fail(self, method: str, error: str, *, status: int = 200, retry_after: int | None = None, times: int = 1):
        """The next `times` calls to `method` fail (a 429 with Retry-After, a 5xx, or an `ok: false`)."""
        self._failures.setdefault(method, []).append(Failure(error, status, retry_after, times))

    # -- reading what happened -------------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until `method` has been called `count` times; returns those calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(found := [c for c in self.calls if c.method == method]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} call(s) to {method}, saw {len(found)}: {self.calls}")
                self._changed.wait(left)
            return found

    def clear(self) -> None:
        with self._changed:
            self.calls.clear()

    # -- answering ------------------------------------------------------------------------------------------------
    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _answer(self, path: str, params: dict, token: str | None) -> tuple[int, dict, dict | str]:
        if path == "/_stats":  # calls so far per method, for a fake running in another process (benchmarks/)
            with self._changed:
                return 200, {"Content-Type": "application/json"}, dict(Counter(c.method for c in self.calls))
        if path == "/_down":  # ?seconds=N: Slack is down that long, for a fake in another process (benchmarks/)
            self.down_until = time.monotonic() + float(params.get("seconds") or 0)
            return 200, {"Content-Type": "text/plain"}, "ok"
        if self.is_down:
            self._record(Call("unanswered", params | {"_path": path}, path, token))
            return 503, {"Content-Type": "text/html"}, "<html><body>503 Service Unavailable</body></html>"
        if path.startswith("/response/"):
            self._record(Call("response_url", params, path))
            return 200, {"Content-Type": "text/plain"}, "ok"
        if path.startswith("/upload/"):
            self._record(Call("file_upload", params | {"file_id": path.removeprefix("/upload/")}, path))
            return 200, {"Content-Type": "text/plain"}, "OK - 1"
        method = path.removeprefix("/api/")
        held = self._held.get(method)
        if held is not None:
            held.wait(30)
        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            self._record(Call(method, params | {"_failed": failure.error}, path, token))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return failure.status, headers, {"ok": False, "error": failure.error}
        if method == "oauth.v2.access":
            result = self._exchange(params, token)
            self._record(Call(method, {k: v for k, v in params.items() if k != "client_secret"}, path, None, result))
            return 200, {"Content-Type": "application/json"}, result
        if not token:
            return 200, {}, {"ok": False, "error": "not_authed"}
        if token in self.revoked:
            self._record(Call(method, params | {"_failed": "token_revoked"}, path, token))
            return 200, {"Content-Type": "application/json"}, {"ok": False, "error": "token_revoked"}
        result = self._result(method, params, token)
        self._record(Call(method, params, path, token, result))
        return 200, {"Content-Type": "application/json"}, result

    def _exchange(self, params: dict, authorization: str | None) -> dict:
        """oauth.v2.access: the app's credentials (HTTP Basic, as slack_sdk sends them) and a code, used once."""
        if self.client_credentials is not None:
            expected = base64.b64encode(":".join(self.client_credentials).encode()).decode()
            if authorization != f"Basic {expected}":
                return {"ok": False, "error": "invalid_client_id"}
        granted = self.codes.pop(params.get("code", ""), None)
        return granted or {"ok": False, "error": "invalid_code"}

    def _result(self, method: str, params: dict, token: str | None = None) -> dict:
        if method == "auth.revoke":
            self.revoked.add(token)
            return {"ok": True, "revoked": True}
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://sample.slack.com/",
                "team": "Sample team",
                "user": "smallchanges",
                "team_id": self.tokens.get(token, self.team_id),
                "user_id": self.bot_user_id,
                "bot_id": "B0BOT",
            }
        if method == "users.info":
            found = self.users.get(params.get("user", ""))
            return {"ok": True, "user": found} if found else {"ok": False, "error": "user_not_found"}
        if method == "users.list":
            return {"ok": True} | _page(list(self.users.values()), params, "members")
        if method == "conversations.info":
            found = self._conversation(params.get("channel", ""))
            return {"ok": True, "channel": found} if found else {"ok": False, "error": "channel_not_found"}
        if method == "conversations.members":
            channel = params.get("channel", "")
            if not self._conversation(channel):
                return {"ok": False, "error": "channel_not_found"}
            everyone = [u for u in self.users if not self.users[u].get("deleted")]  # a public channel nobody declared
            members = self.channel_members.get(channel, everyone)
            return {"ok": True} | _page(members, params, "members", default_limit=100)
        if method in ("chat.postMessage", "chat.update"):
            channel = params.get("channel", "")
            if channel in self.not_in:
                return {"ok": False, "error": "not_in_channel"}
            if channel.startswith(("U", "W")):
                channel = "D" + channel[1:]
            ts = params.get("ts") or self.new_ts()
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": params.get("text", ""), "blocks": params.get("blocks", []), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.new_ts()}
        if method == "dnd.info":
            off = {"dnd_enabled": False, "next_dnd_start_ts": 1, "next_dnd_end_ts": 1, "snooze_enabled": False}
            return {"ok": True} | off | self.dnd.get(params.get("user", ""), {})
        if method == "chat.getPermalink":
            channel, ts = params.get("channel", ""), params.get("message_ts", "")
            link = f"https://sample.slack.com/archives/{channel}/p{ts.replace('.', '')}"
            return {"ok": True, "channel": channel, "permalink": link}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ts)}"
            return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", ""), "name": ""} for f in files]}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(params.get("users", "X"))[1:]}}
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": (view or {}) | {"id": f"V{next(self._ts)}"}}
        return {"ok": False, "error": "unknown_method"}

    def _conversation(self, channel_id: str) -> dict | None:
        if channel_id in self.conversations:
            return self.conversations[channel_id]
        return conversation(channel_id, private=False, mpim=False, member=False) if channel_id.startswith("C") else None


def _page(items: list, params: dict, key: str, default_limit: int = 200) -> dict:
    """One page of a cursor-paginated list, in Slack's shape: an empty next_cursor on the last page."""
    start = int(params.get("cursor") or 0)
    limit = int(params.get("limit") or default_limit)
    cursor = str(start + limit) if start + limit < len(items) else ""
    return {key: items[start : start + limit], "response_metadata": {"next_cursor": cursor}}
