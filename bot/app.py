"""The composition root: settings -> store, services, Slack client and Bolt app. The only place that wires."""

from __future__ import annotations

import time
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
from bot.core.digests import DigestService
from bot.core.home import HomeService
from bot.core.nudges import NudgeService
from bot.core.ports import Directory, Notifier, utc_now
from bot.core.records import RecordsService
from bot.core.services import Services
from bot.core.thanks import ThanksService
from bot.core.workspace import WorkspaceConfig, WorkspaceSettingsService
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.directory import SlackDirectory
from bot.slack.notifier import SlackNotifier
from bot.store.db import Store


def build_services(
    settings: Settings,
    store: Store,
    directory: Directory,
    notifier: Notifier,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Services:
    digest_env = {"digest_channel": settings.digest_channel, "managers": settings.manager_user_ids}  # admins override
    workspaces = WorkspaceSettingsService(store, WorkspaceConfig.defaults().with_changes(digest_env), now=now)
    changes = ChangeService(store, directory, settings.defaults, admin_ids=settings.admin_user_ids, now=now)
    nudges = NudgeService(store, directory, notifier, workspaces, now=now, sleep=sleep)
    return Services(
        settings=settings,
        store=store,
        thanks=ThanksService(store, directory, settings.defaults, workspaces, now=now),
        changes=changes,
        workspaces=workspaces,
        nudges=nudges,
        digests=DigestService(store, directory, notifier, workspaces, nudges, now=now, sleep=sleep),
        home=HomeService(store, changes, nudges, workspaces, now=now),
        records=RecordsService(store, now=now),
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
    client: WebClient


def slack_services(
    settings: Settings,
    store: Store | None = None,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Services, WebClient]:
    """The services on Slack's directory and notifier: all the clock needs."""
    settings.require("SLACK_BOT_TOKEN")
    client = slack_client(settings)
    directory = SlackDirectory(client)
    store = store or Store.from_url(settings.database_url)
    return build_services(settings, store, directory, SlackNotifier(client, directory), now, sleep), client


def build_slack(
    settings: Settings,
    *,
    store: Store | None = None,
    process_before_response: bool = False,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> SlackBot:
    """The Bolt app with every listener registered, on the given (or configured) database."""
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    services, client = slack_services(settings, store, now, sleep)
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=process_before_response,
    )
    listeners.register(app, services)
    return SlackBot(app, services, client)
