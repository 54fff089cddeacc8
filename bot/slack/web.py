"""The WSGI web app (POST /slack/events, GET /healthz) and the gunicorn server that runs it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from gunicorn.app.base import BaseApplication
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.settings import Settings
from bot.store.db import Store

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def web_app(slack: SlackRequestHandler, store: Store) -> WSGIApp:
    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            ok = store.ping()
            body = json.dumps({"status": "ok" if ok else "unavailable", "database": ok}).encode()
            start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
            return [body]
        return slack(environ, start_response)

    return app


def gunicorn_options(settings: Settings) -> dict:
    """Threaded workers: Bolt acks, then finishes each request's work on a thread of the same worker."""
    return {
        "bind": f"0.0.0.0:{settings.port}",
        "worker_class": "gthread",
        "workers": settings.web_workers,
        "threads": settings.web_threads,
        "loglevel": settings.log_level.lower(),
        "accesslog": None,
        "timeout": 30,
    }


class GunicornServer(BaseApplication):
    """gunicorn with threads; each worker builds its own app (and database pool) after the fork."""

    def __init__(self, load: Callable[[], WSGIApp], options: dict):
        self._load, self._options = load, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApp:
        return self._load()
