"""The composition root: settings -> store, services, and the Slack or Teams adapter. The only place that wires."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.core.admins import Admins
from bot.core.changes import ChangeService
from bot.core.digests import DigestService
from bot.core.home import HomeService
from bot.core.model import WorkspaceConfig
from bot.core.nudges import NudgeService
from bot.core.outbox import Outbox, Replays
from bot.core.ports import Directory, Notifier, utc_now
from bot.core.records import RecordsService
from bot.core.services import Services
from bot.core.thanks import ThanksService
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.delivery import SlackDelivery
from bot.slack.directory import SlackDirectory
from bot.slack.middleware import admit, only_our_workspace, views_once
from bot.slack.notifier import SlackNotifier
from bot.slack.work import WorkPool
from bot.store.db import Store
from bot.teams import bot as teams_bot
from bot.teams.addresses import Addresses
from bot.teams.bot import Tenants, teams_app
from bot.teams.delivery import Loop, TeamsDelivery, TeamsSender
from bot.teams.directory import TeamsDirectory
from bot.teams.export import Exports
from bot.teams.notifier import TeamsNotifier

log = logging.getLogger(__name__)


def build_services(
    settings: Settings,
    store: Store,
    directory: Directory,
    notifier: Notifier,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Services:
    digest_env = {"digest_channel": settings.digest_channel, "managers": settings.manager_user_ids}  # admins override
    outbox = Outbox(store, now=now)
    admins = Admins(directory, settings.admin_user_ids, added=lambda team: workspaces.get(team).admins)
    defaults = WorkspaceConfig.defaults().with_changes(digest_env)
    workspaces = WorkspaceSettingsService(store, defaults, outbox, admins, now=now)
    changes = ChangeService(store, directory, settings.defaults, outbox, admins, now=now)
    nudges = NudgeService(store, directory, notifier, workspaces, outbox, now=now, sleep=sleep)
    return Services(
        settings=settings,
        store=store,
        thanks=ThanksService(store, directory, settings.defaults, workspaces, outbox, now=now),
        changes=changes,
        workspaces=workspaces,
        nudges=nudges,
        digests=DigestService(store, directory, notifier, workspaces, nudges, now=now, sleep=sleep),
        home=HomeService(store, changes, nudges, workspaces, now=now),
        records=RecordsService(store, admins, now=now),
        outbox=outbox,
        replays=Replays(store, now=now),
    )


def slack_client(settings: Settings, retries: bool = True) -> WebClient:
    """A Web API client that retries 429s (honouring Retry-After), 5xx and dropped connections; or, for the outbox,
    one that doesn't, as the outbox retries with back-off without holding a thread while Slack is down."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
        if retries
        else [],
    )


@dataclass(frozen=True)
class Slack:
    """The services with what they need of Slack: the client, and the outbox's delivery through it."""

    services: Services
    client: WebClient
    delivery: SlackDelivery


@dataclass(frozen=True)
class SlackBot(Slack):
    app: App
    work: Executor


def slack_services(
    settings: Settings,
    store: Store | None = None,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Slack:
    """The services on Slack's directory and notifier, and the outbox's delivery: all the clock needs."""
    settings.require("SLACK_BOT_TOKEN")
    client = slack_client(settings)
    directory = SlackDirectory(client)
    store = store or Store.from_url(settings.database_url, pool_size=settings.work_threads + 2)
    services = build_services(settings, store, directory, SlackNotifier(client, directory), now, sleep)
    delivery = SlackDelivery(slack_client(settings, retries=False), services.outbox, services.changes, now)
    return Slack(services, client, delivery)


def build_slack(
    settings: Settings,
    *,
    store: Store | None = None,
    work: Executor | None = None,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> SlackBot:
    """The Bolt app with every listener registered, on the given (or configured) database. Each listener acks on
    the request's thread and does its work on `work` (a WorkPool, or bot.slack.work.Inline in tests and the
    console, where a request's whole effect is done when dispatch returns)."""
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    slack = slack_services(settings, store, now, sleep)
    work = work or WorkPool(settings.work_threads, settings.work_queue)
    app = App(
        client=slack.client,
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,  # the ack function runs on the request's thread, lazy work on `work`
        listener_executor=work,
        request_verification_enabled=False,  # the web gate checks signatures first (bot.slack.web.for_bolt)
    )
    ours = slack.client.auth_test()  # the one workspace this token serves
    app.use(only_our_workspace(ours["team_id"], ours.get("enterprise_id")))
    app.use(admit(work))
    app.use(views_once(slack.services.replays))
    listeners.register(app, slack.services, slack.delivery)
    return SlackBot(slack.services, slack.client, slack.delivery, app, work)


@dataclass(frozen=True)
class Teams:
    """The services on the Teams directory and notifier, the outbox's delivery through the Bot Connector, and the
    SDK's App that holds the bot's credentials: all the clock needs."""

    services: Services
    app: teams_bot.App
    delivery: TeamsDelivery
    addresses: Addresses
    tenants: Tenants


def teams_services(
    settings: Settings,
    store: Store | None = None,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Teams:
    """Without DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS (tests only) the bot needs its app registration, to check
    every inbound request's token and to get its own for sending."""
    if settings.teams_unauthenticated:
        log.warning(
            "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS is on: anyone can send this bot requests as anyone. "
            "Use it for local tests only."
        )
    else:
        settings.require("CLIENT_ID", "CLIENT_SECRET")
    store = store or Store.from_url(settings.database_url, pool_size=settings.work_threads + 2)
    addresses = Addresses(store, now=now)
    app, api_for = teams_app(settings)
    sender = TeamsSender(api_for, addresses, Loop())
    directory = TeamsDirectory(addresses, sender.members, lambda team: services.workspaces.get(team).timezone)
    services = build_services(settings, store, directory, TeamsNotifier(sender), now, sleep)
    delivery = TeamsDelivery(sender, services.outbox, services.changes)
    return Teams(services, app, delivery, addresses, Tenants(addresses, settings.tenant_id))


def build_teams(
    settings: Settings,
    *,
    store: Store | None = None,
    now: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
) -> Teams:
    """The Teams bot: the services, and the SDK's App with every handler registered."""
    teams = teams_services(settings, store, now, sleep)
    exports = Exports(teams.services.records, now=now)
    teams_bot.register(teams.app, teams.services, teams.delivery, teams.addresses, teams.tenants, exports)
    return teams
