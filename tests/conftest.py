"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the fake
Slack Web API on loopback, and the real web app served over HTTP on a free port."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import UTC, datetime, timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from bot.app import build_slack
from bot.console.fake_slack import FakeSlack
from bot.console.team import SAMPLE_TEAM
from bot.settings import Defaults, Settings
from bot.slack.web import web_app
from bot.store.db import Store
from bot.store.models import Base
from tests.fakes.driver import SlackDriver

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-0000-test-token-not-real"
ENGINES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


class Clock:
    """Injected time: tests set and move it; nothing patches the real clock."""

    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))  # a Tuesday morning in London


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "template.db"
    store = Store.from_url(f"sqlite:///{path}")
    store.migrate()
    store.engine.dispose()
    return str(path)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    store = Store.from_url(url)
    with store.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    store.migrate()
    store.engine.dispose()
    return url


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    store = Store.from_url(url)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    store.engine.dispose()
    return url


@pytest.fixture
def store(database_url):
    store = Store.from_url(database_url)
    yield store
    store.engine.dispose()


@pytest.fixture
def fake_slack():
    with FakeSlack(team_id="T0SAMPLE") as fake:
        for person in SAMPLE_TEAM:
            fake.add_user(dict(person))
        yield fake


def make_settings(fake: FakeSlack, **overrides) -> Settings:
    values = dict(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        admin_user_ids=frozenset(),
        defaults=Defaults.load(),
    )
    values.update(overrides)
    return Settings(**values)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def serve(app) -> tuple[str, WSGIServer]:
    server = make_server("127.0.0.1", 0, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def settings(fake_slack) -> Settings:
    return make_settings(fake_slack)


@pytest.fixture
def slack(fake_slack, store, clock, settings):
    """The real Bolt app behind the real WSGI app, on HTTP; work finishes before each response returns."""
    bot = build_slack(settings, store=store, process_before_response=True, now=clock, sleep=lambda _: None)
    url, server = serve(web_app(SlackRequestHandler(bot.app), store))
    fake_slack.clear()  # forget Bolt's start-up auth.test
    driver = SlackDriver(url, fake_slack, SIGNING_SECRET)
    driver.services = bot.services  # for what the clock does between requests (a tick)
    yield driver
    server.shutdown()
    server.server_close()


@pytest.fixture
def outage(database_url):
    """A database that tests can take down (`with outage.down():`) and bring back."""
    from tests.fakes.outage import Outage

    outage = Outage(database_url)
    yield outage
    outage.close()


@pytest.fixture
def flaky_slack(fake_slack, outage, clock, settings):
    """Like `slack`, but on the `outage` store, so a test can take the database down mid-conversation."""
    bot = build_slack(settings, store=outage.store, process_before_response=True, now=clock)
    url, server = serve(web_app(SlackRequestHandler(bot.app), outage.store))
    fake_slack.clear()
    yield SlackDriver(url, fake_slack, SIGNING_SECRET)
    server.shutdown()
    server.server_close()
