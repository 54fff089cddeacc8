"""The composition root: settings -> store, services, Slack client and Bolt app. The only place that wires."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core.changes import ChangeService
from bot.core.ports import Directory, utc_now
from bot.core.services import Services
from bot.core.thanks import ThanksService
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.directory import SlackDirectory
from bot.store.db import Store


def build_services(
    settings: Settings, store: Store, directory: Directory, now: Callable[[], datetime] = utc_now
) -> Services:
    return Services(
        settings=settings,
        store=store,
        thanks=ThanksService(store, directory, settings.defaults, now=now),
        changes=ChangeService(store, directory, settings.defaults, admin_ids=settings.admin_user_ids, now=now),
    )


def slack_client(settings: Settings) -> WebClient:
    """A Web API client that retries 429s (honouring Retry-After), 5xx and dropped connections."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


@dataclass(frozen=True)
class SlackBot:
    app: App
    services: Services


def build_slack(
    settings: Settings,
    *,
    store: Store | None = None,
    process_before_response: bool = False,
    now: Callable[[], datetime] = utc_now,
) -> SlackBot:
    """The Bolt app with every listener registered, on the given (or configured) database."""
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    client = slack_client(settings)
    store = store or Store.from_url(settings.database_url)
    services = build_services(settings, store, SlackDirectory(client), now=now)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=process_before_response,
    )
    listeners.register(app, services)
    return SlackBot(app, services)
