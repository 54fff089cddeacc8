"""The composition root: settings -> store, services, and the Slack or Teams adapter. The only place that wires."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime

from slack_bolt import App
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.listener.builtins import TokenRevocationListeners
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.core.admins import Admins
from bot.core.changes import ChangeService
from bot.core.digests import DigestService
from bot.core.home import HomeService
from bot.core.leaders import LeaderService
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
from bot.slack.installs import (
    INSTALL_PATH,
    REDIRECT_PATH,
    SCOPES,
    STATE_SECONDS,
    InstalledWorkspaces,
    OneWorkspace,
    WorkspaceInstalls,
    Workspaces,
    callback_options,
    installed_only,
)
from bot.slack.listeners import uninstalls
from bot.slack.middleware import admit, as_workspace, only_our_workspace, views_once
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
    leaders_env = {"leadership_channel": settings.leadership_channel, "leaders": settings.leader_user_ids}  # and these
    outbox = Outbox(store, now=now)
    admins = Admins(directory, settings.admin_user_ids, added=lambda team: workspaces.get(team).admins)
    defaults = WorkspaceConfig.defaults().with_changes(digest_env | leaders_env)
    workspaces = WorkspaceSettingsService(store, defaults, outbox, admins, now=now)
    changes = ChangeService(store, directory, settings.defaults, outbox, admins, now=now)
    nudges = NudgeService(store, directory, notifier, workspaces, outbox, now=now, sleep=sleep)
    return Services(
        settings=settings,
        store=store,
        thanks=ThanksService(store, directory, settings.defaults, workspaces, outbox, now=now),
        changes=changes,
        leaders=LeaderService(store, directory, settings.defaults, workspaces, outbox, admins, now=now),
        workspaces=workspaces,
        nudges=nudges,
        digests=DigestService(store, directory, notifier, workspaces, nudges, now=now, sleep=sleep),
        home=HomeService(store, changes, nudges, workspaces, now=now),
        records=RecordsService(store, admins, now=now),
        outbox=outbox,
        replays=Replays(store, now=now),
    )


def slack_client(settings: Settings, retries: bool = True, token: str | None = None) -> WebClient:
    """A Web API client that retries 429s (honouring Retry-After), 5xx and dropped connections; or, for the outbox,
    one that doesn't, as the outbox retries with back-off without holding a thread while Slack is down."""
    return WebClient(
        token=token or settings.slack_bot_token,
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


def slack_workspaces(settings: Settings, store: Store, retries: bool = True) -> Workspaces:
    """The workspaces the bot serves and a client for each: the token's one, or every installation's."""
    if not settings.slack_installs:
        return OneWorkspace(slack_client(settings, retries))
    installations = SQLAlchemyInstallationStore(settings.slack_client_id, store.engine)
    return InstalledWorkspaces(installations, lambda token: slack_client(settings, retries, token))


@dataclass(frozen=True)
class Slack:
    """The services with what they need of Slack: the workspaces served (and a client for each), and the outbox's
    delivery through them."""

    services: Services
    workspaces: Workspaces
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
    settings.require_slack()
    store = store or Store.from_url(settings.database_url, pool_size=settings.work_threads + 2)
    workspaces = slack_workspaces(settings, store)
    directory = SlackDirectory(workspaces)
    services = build_services(settings, store, directory, SlackNotifier(workspaces, directory), now, sleep)
    delivery = SlackDelivery(slack_workspaces(settings, store, retries=False), services.outbox, services.changes, now)
    return Slack(services, workspaces, delivery)


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
    settings.require_slack("SLACK_SIGNING_SECRET")
    slack = slack_services(settings, store, now, sleep)
    work = work or WorkPool(settings.work_threads, settings.work_queue)
    common = dict(
        signing_secret=settings.slack_signing_secret,
        process_before_response=True,  # the ack function runs on the request's thread, lazy work on `work`
        listener_executor=work,
        request_verification_enabled=False,  # the web gate checks signatures first (bot.slack.web.for_bolt)
    )
    if isinstance(slack.workspaces, InstalledWorkspaces):
        app = App(
            client=slack_client(settings),  # no token: Bolt gives each request the token of its workspace
            oauth_flow=installs_flow(settings, slack.workspaces),
            authorize=InstallationStoreAuthorize(
                installation_store=slack.workspaces.installations,
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret,
                bot_only=True,
                cache_enabled=True,  # auth.test once per token; the installation is still looked up each time
                logger=logging.getLogger("slack_bolt.App"),
            ),
            before_authorize=installed_only(slack.workspaces),
            **common,
        )
        app.use(as_workspace)
    else:
        app = App(client=slack.workspaces.client, **common)
        ours = slack.workspaces.client.auth_test()  # the one workspace this token serves
        app.use(only_our_workspace(ours["team_id"], ours.get("enterprise_id")))
    app.use(admit(work))
    app.use(views_once(slack.services.replays))
    listeners.register(app, slack.services, slack.delivery)
    revocations = TokenRevocationListeners(app.installation_store) if app.installation_store else None
    uninstalls.register(app, slack.services, slack.delivery, revocations)
    return SlackBot(slack.services, slack.workspaces, slack.delivery, app, work)


def installs_flow(settings: Settings, workspaces: InstalledWorkspaces) -> WorkspaceInstalls:
    """Slack's OAuth v2 install (GET /slack/install, then /slack/oauth_redirect), asking for the scopes the app's
    manifest declares, with the installations and the install's one-time states in our database."""
    oauth = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        installation_store=workspaces.installations,
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(STATE_SECONDS, workspaces.installations.engine),
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=callback_options(),
    )
    return WorkspaceInstalls(client=slack_client(settings), settings=oauth)


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
