"""The web front (ASGI, served by uvicorn): POST /slack/events, GET /healthz, GET /metrics, and with installs
(bot.slack.installs) GET /slack/install and GET /slack/oauth_redirect.

Whatever the internet sends is dealt with here before Bolt parses a byte of it:
- the event loop reads requests, so a slow client holds a connection, never a thread;
- a body over 1 MiB gets 413 without being read further, and one that takes over 10 s to arrive gets 408;
- the signature is checked first (401), then the body must be UTF-8 and one of Slack's payloads (400);
- Bolt runs on a thread pool of its own (WEB_THREADS), and the work after each ack on another (the work pool),
  so an ack never waits behind a database or a Slack call.
One log line per request says what kind it was, the answer and how long it took; never a secret or a message.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot import metrics
from bot.core.outbox import Outbox
from bot.slack.middleware import BUSY_START
from bot.store.db import Store

log = logging.getLogger("bot.web")
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller
READ_SECONDS = 10.0
DRAIN_SECONDS = 25.0  # at shutdown, for work already acked (Heroku-style hosts allow 30 s)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def plain(status: int, text: str) -> Answer:
    return Answer(status, text.encode())


def for_bolt(text: str, content_type: str | None) -> str:
    """The same form body, written so that Bolt reads it as it is. Bolt takes any form body in which the word
    "payload" appears as an interactive payload, so `/thanks @bob for the payload fix` reached no listener; here
    that word is percent-encoded (the form decodes to the same values). The signature was checked on the body as
    Slack sent it, so Bolt's own check is off (bot.app)."""
    if (content_type or "").startswith("application/json") or text.startswith("{"):
        return text
    if "payload=" in text and ("&payload=" in text or text.startswith("payload=")):
        return text  # an interaction: its payload field is the point
    return text.replace("payload", "%70ayload")


def kind_of(body: object) -> str:
    """What a payload is, for logs and metrics: a command's name, an action's, an event's type (never its text)."""

    def field(value: object, key: str) -> str:
        return str(value.get(key))[:60] if isinstance(value, dict) else "?"

    if not isinstance(body, dict):
        return "malformed"
    if "command" in body:
        return f"command {field(body, 'command')}"
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        return "action " + field(actions[0] if isinstance(actions, list) and actions else None, "action_id")
    if kind in ("view_submission", "view_closed"):
        return "view " + field(body.get("view"), "callback_id")
    if kind in ("message_action", "shortcut"):
        return "shortcut " + field(body, "callback_id")
    if kind == "event_callback":
        return "event " + field(body.get("event"), "type")
    return str(kind)[:60]


def malformed(body: object) -> str | None:
    """Why a signed body is not a payload the listeners can trust the shape of (None when it is)."""
    if not isinstance(body, dict):
        return "not an object"

    def text(value: object) -> bool:
        return isinstance(value, str) and bool(value)

    if "command" in body:
        missing = [k for k in ("command", "team_id", "user_id", "trigger_id", "response_url") if not text(body.get(k))]
        return f"command without {', '.join(missing)}" if missing else None
    kind = body.get("type")
    if kind == "url_verification":
        return None if text(body.get("challenge")) else "no challenge"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not text(event.get("type")):
            return "event is not an object with a type"
        return None if text(body.get("team_id")) or body.get("authorizations") else "event without team"
    if kind in ("block_actions", "view_submission", "view_closed", "message_action", "shortcut"):
        user, team = body.get("user"), body.get("team")
        if not (isinstance(user, dict) and text(user.get("id"))):
            return f"{kind} without user"
        if not (isinstance(team, dict) and text(team.get("id"))) and not text(user.get("team_id")):
            return f"{kind} without team"
        if kind == "block_actions":
            actions = body.get("actions")
            if not (isinstance(actions, list) and actions and all(isinstance(a, dict) for a in actions)):
                return "block_actions without actions"
            if not all(text(a.get("action_id")) for a in actions):
                return "an action without action_id"
        if kind.startswith("view"):
            view = body.get("view")
            if not (isinstance(view, dict) and text(view.get("type")) and text(view.get("callback_id"))):
                return f"{kind} without a view"
            state = view.get("state")
            if not (isinstance(state, dict) and isinstance(state.get("values"), dict)):
                return f"{kind} without view state"
        if kind == "message_action" and not (isinstance(body.get("message"), dict) and text(body.get("trigger_id"))):
            return "message_action without message"
        return None
    return None  # anything else Bolt does not handle, it answers 404 itself


class SlackGate:
    """The ASGI app: reads, checks and answers; Bolt does the rest."""

    def __init__(
        self,
        bolt: App,
        store: Store | None,
        signing_secret: str,
        *,
        outbox: Outbox | None = None,
        threads: int = 8,
        metrics_token: str | None = None,
        work: Executor | None = None,
        read_seconds: float = READ_SECONDS,
    ):
        self.bolt, self.store, self.outbox, self.work = bolt, store, outbox, work
        self.read_seconds = read_seconds
        self.verifier = SignatureVerifier(signing_secret)
        self.metrics_token = metrics_token
        self.acks = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ack")
        # /healthz and /metrics never queue behind a burst of Slack's requests: a load balancer must hear the truth.
        self.checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")
        self.on_stop: list[Callable[[], None]] = []

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if path == "/slack/events":
            answer = await self._slack(scope, receive) if method == "POST" else plain(405, "POST only")
        elif method == "GET" and path in self.oauth_paths:
            query = scope.get("query_string", b"").decode("latin-1")
            answer = await self._in_thread(self.install, path, query, _headers(scope))
        elif path == "/healthz" and method in ("GET", "HEAD"):
            answer = await self._in_thread(self._health, pool=self.checks)
        elif path == "/metrics" and method == "GET" and self.metrics_token:
            answer = await self._in_thread(self._metrics, _headers(scope).get("authorization", ""), pool=self.checks)
        else:
            answer = plain(404, "Not Found")
        if answer is not None:
            await _send(send, answer, head_only=method == "HEAD")

    async def _in_thread(self, fn: Callable, *args, pool: Executor | None = None):
        return await asyncio.get_running_loop().run_in_executor(pool or self.acks, fn, *args)

    async def _slack(self, scope: dict, receive: Callable) -> Answer | None:
        started = time.perf_counter()
        headers = _headers(scope)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return self._logged("oversized", started, plain(413, "Request body too large"))
        body = bytearray()
        try:
            async with asyncio.timeout(self.read_seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    body += message.get("body", b"")
                    if len(body) > MAX_BODY:
                        return self._logged("oversized", started, plain(413, "Request body too large"))
                    if not message.get("more_body"):
                        break
        except TimeoutError:
            return self._logged("slow", started, plain(408, "Request body took too long"))
        query = scope.get("query_string", b"").decode("latin-1")
        return await self._in_thread(self.answer, bytes(body), headers, query, started)

    def answer(self, raw: bytes, headers: dict[str, str], query: str, started: float) -> Answer:
        """One request, read whole: checked, handed to Bolt, answered, logged."""
        try:
            return self._checked(raw, headers, query, started)
        except Exception:
            log.exception("a request failed")  # a bug of ours: the person sees Slack's error, the log has why
            return self._logged("error", started, plain(500, "Something went wrong"))

    @property
    def oauth_paths(self) -> tuple[str, ...]:
        flow = getattr(self.bolt, "oauth_flow", None)
        return (flow.install_path, flow.redirect_uri_path) if flow else ()

    def install(self, path: str, query: str, headers: dict[str, str]) -> Answer:
        """Slack's OAuth install, as Bolt's own adapters serve it: the "Add to Slack" page (which sets the state
        cookie), then Slack's redirect back with a code, which Bolt exchanges and stores (bot.slack.installs)."""
        started = time.perf_counter()
        flow = self.bolt.oauth_flow
        request = BoltRequest(body="", query=query, headers={k: [v] for k, v in headers.items()})
        try:
            if path == flow.install_path:
                return self._logged("oauth install", started, _from_bolt(flow.handle_installation(request)))
            return self._logged("oauth redirect", started, _from_bolt(flow.handle_callback(request)))
        except Exception:
            log.exception("an install failed")
            return self._logged("oauth error", started, plain(500, "The install did not complete; please try again."))

    def _checked(self, raw: bytes, headers: dict[str, str], query: str, started: float) -> Answer:
        timestamp, signature = headers.get("x-slack-request-timestamp", ""), headers.get("x-slack-signature", "")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return self._logged("malformed", started, plain(400, "Body is not UTF-8"))
        if not (timestamp.isdigit() and signature and self.verifier.is_valid(text, timestamp, signature)):
            return self._logged("unsigned", started, plain(401, "Invalid or missing signature"))
        try:
            request = BoltRequest(
                body=for_bolt(text, headers.get("content-type")),
                query=query,
                headers={k: [v] for k, v in headers.items()},
                context={"arrived_at": started},  # the ack's clock (bot.slack.middleware.admit)
            )
        except Exception:  # noqa: BLE001 - Bolt parses as it builds the request: JSON that isn't, a payload= that isn't
            return self._logged("malformed", started, plain(400, "Not a Slack payload"))
        kind = kind_of(request.body)
        problem = malformed(request.body)
        if problem:
            log.info("bad request kind=%s: %s", kind, problem)
            return self._logged(kind, started, plain(400, "Not a Slack payload"))
        response = self.bolt.dispatch(request)
        return self._logged(kind, started, _from_bolt(response))

    def _logged(self, kind: str, started: float, answer: Answer) -> Answer:
        took = time.perf_counter() - started
        metrics.REQUESTS.labels(kind, str(answer.status)).inc()
        metrics.ACK_SECONDS.labels(kind).observe(took)
        if answer.status >= 500:
            metrics.ERRORS.labels(kind).inc()
        if took > metrics.ACK_LIMIT:
            metrics.SLOW_ACKS.labels(kind).inc()
        if self.work is not None:
            metrics.WORK_WAITING.set(getattr(self.work, "pending", 0))
        log.info(
            "request kind=%s status=%d ms=%.1f outcome=%s",
            json.dumps(kind),
            answer.status,
            took * 1000,
            outcome(answer),
        )
        return answer

    def _health(self) -> Answer:
        if self.store is None:  # a server with no database (the benchmarks' floor): up is all there is to say
            return Answer(200, b'{"status": "ok"}', "application/json")
        ok = self.store.ping()
        body = json.dumps({"status": "ok" if ok else "unavailable", "database": ok}).encode()
        return Answer(200 if ok else 503, body, "application/json")

    def _metrics(self, authorization: str) -> Answer:
        if not hmac.compare_digest(authorization.encode(), f"Bearer {self.metrics_token}".encode()):
            return plain(401, "A bearer token is needed")
        body, content_type = metrics.exposition(self.outbox)
        return Answer(200, body, content_type)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.get_running_loop().run_in_executor(None, self.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def stop(self) -> None:
        """Finish the work already acked (a thank-you acked is a thank-you owed), then let the process go."""
        for stop in self.on_stop:
            stop()
        if isinstance(self.work, ThreadPoolExecutor):
            deadline = time.monotonic() + DRAIN_SECONDS
            while getattr(self.work, "pending", 0) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.work.shutdown(wait=False, cancel_futures=False)
        self.acks.shutdown(wait=False)
        self.checks.shutdown(wait=False)


def outcome(answer: Answer) -> str:
    """The request line's outcome: acked (the work follows), busy (refused for now), refused (4xx) or error."""
    if answer.status == 503 or (answer.status == 200 and BUSY_START.encode() in answer.body):
        return "busy"
    if answer.status >= 500:
        return "error"
    return "refused" if answer.status >= 400 else "acked"


def _headers(scope: dict) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _from_bolt(response: BoltResponse) -> Answer:
    headers = {k.lower(): v for k, v in response.headers.items()}
    content_type = (headers.pop("content-type", None) or ["text/plain; charset=utf-8"])[0]
    headers.pop("content-length", None)
    body = response.body.encode() if isinstance(response.body, str) else (response.body or b"")
    others = tuple((name, value) for name, values in headers.items() for value in values)  # Set-Cookie, Location
    return Answer(response.status, body, content_type, others)


async def _send(send: Callable, answer: Answer, head_only: bool = False) -> None:
    headers = [
        (b"content-type", answer.content_type.encode()),
        (b"content-length", str(len(answer.body)).encode()),
        *((k.encode(), v.encode()) for k, v in answer.headers),
    ]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else answer.body})


def server_options(settings, factory: str) -> dict:
    """uvicorn's options for `python -m bot serve` (and the benchmarks' floor, so both are served alike):
    WEB_CONCURRENCY worker processes, each calling `factory` (an import string) to build its app."""
    return dict(
        app=factory,
        factory=True,
        host="0.0.0.0",
        port=settings.port,
        workers=settings.web_workers,
        log_config=None,  # ours (bot.logs): one line per request, secrets redacted
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=30,
    )


def create_app() -> SlackGate:
    """uvicorn's factory, called in each worker process: settings from the environment, the bot, its gate."""
    from bot import logs
    from bot.__main__ import secrets
    from bot.app import build_slack
    from bot.settings import Settings

    settings = Settings.from_env()
    logs.configure(settings.log_level, secrets(settings))
    bot = build_slack(settings)
    gate = SlackGate(
        bot.app,
        bot.services.store,
        settings.slack_signing_secret,
        outbox=bot.services.outbox,
        threads=settings.web_threads,
        metrics_token=settings.metrics_token,
        work=bot.work,
    )
    drainer = bot.delivery.start_draining()
    gate.on_stop.append(drainer)
    log.info("worker %d ready", os.getpid())
    return gate
