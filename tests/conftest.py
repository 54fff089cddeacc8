"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when TEST_DATABASE_URL is set), the fake
Slack Web API on loopback, and the real web app served by uvicorn over HTTP on a free port. The work after each
ack runs inline (bot.slack.work.Inline), so a test sees a request's whole effect once its answer is in; the tests
of bursts use the real work pool."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import uvicorn
from sqlalchemy import text

from bot.app import build_slack
from bot.console.fake_slack import FakeSlack
from bot.console.team import SAMPLE_TEAM
from bot.settings import Defaults, Settings
from bot.slack.web import SlackGate
from bot.slack.work import Inline
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


@dataclass
class Served:
    """An ASGI app served by uvicorn on a free loopback port, in a thread, as `python -m bot serve` serves it."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(app) -> Served:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_keep_alive=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    return Served(f"http://127.0.0.1:{listener.getsockname()[1]}", server, thread)


def gate(bot, store: Store) -> SlackGate:
    return SlackGate(bot.app, store, SIGNING_SECRET, outbox=bot.services.outbox, work=bot.work)


@pytest.fixture
def settings(fake_slack) -> Settings:
    return make_settings(fake_slack)


@pytest.fixture
def slack(fake_slack, store, clock, settings):
    """The real Bolt app behind the real WSGI app, on HTTP; work finishes before each response returns."""
    bot = build_slack(settings, store=store, work=Inline(), now=clock, sleep=lambda _: None)
    served = serve(gate(bot, store))
    fake_slack.clear()  # forget the start-up auth.test calls
    driver = SlackDriver(served.url, fake_slack, SIGNING_SECRET)
    driver.services = bot.services  # for what the clock does between requests (a tick)
    driver.delivery = bot.delivery  # the outbox's retries, as the clock drains it
    yield driver
    served.stop()


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
    bot = build_slack(settings, store=outage.store, work=Inline(), now=clock)
    served = serve(gate(bot, outage.store))
    fake_slack.clear()
    driver = SlackDriver(served.url, fake_slack, SIGNING_SECRET)
    driver.services, driver.delivery = bot.services, bot.delivery
    yield driver
    served.stop()
