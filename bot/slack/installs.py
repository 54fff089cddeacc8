"""Which Slack workspaces the bot serves, and the Web API client for each.

Two modes, chosen by the settings (bot.app):
- one workspace: SLACK_BOT_TOKEN, the workspace that token belongs to (auth.test);
- any workspace that installs it: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, Slack's OAuth v2 install through Bolt's
  OAuthFlow, each installation (with its bot token) kept by slack_sdk's SQLAlchemy stores in our own database.
Whatever speaks to Slack outside a request (the clock, the outbox, the directory) asks here for the client of the
workspace it is acting for; Bolt gives each request its own.
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable
from typing import Protocol

from slack_bolt import BoltContext, BoltResponse
from slack_bolt.error import BoltError
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import desc, select

from bot.core.errors import PlatformUnavailable, StoreUnavailable
from bot.core.model import Team
from bot.store.db import answering

log = logging.getLogger(__name__)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
NOT_INSTALLED = "This app is not installed in that workspace."
STATE_SECONDS = 600  # an "Add to Slack" click must come back from Slack within ten minutes
REVOCATION_EVENTS = ("app_uninstalled", "tokens_revoked")
# The bot scopes an install asks for: the ones config/slack_manifest*.yaml declare (each says why it is needed).
SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "dnd:read",
    "reactions:read",
    "im:write",
    "files:write",
    "channels:read",
    "groups:read",
    "im:read",
    "mpim:read",
)


class NotInstalled(PlatformUnavailable):
    """The workspace has no installation (never installed, or uninstalled since): nothing can be sent there."""


class Workspaces(Protocol):
    def client_for(self, team: Team) -> WebClient:
        """The Web API client for acting in this workspace; raises NotInstalled when it has no installation."""

    def teams(self) -> list[Team]:
        """Every workspace the bot serves now."""


class OneWorkspace:
    """Token mode: the workspace the token belongs to, and the token's client for everything."""

    def __init__(self, client: WebClient):
        self.client = client

    def client_for(self, team: Team) -> WebClient:
        return self.client

    @functools.cached_property
    def team(self) -> Team:
        return Team("slack", self.client.auth_test()["team_id"])

    def teams(self) -> list[Team]:
        return [self.team]


class InstalledWorkspaces:
    """OAuth mode: every workspace with an installation, each through its own bot token. Looked up afresh each time
    (one indexed query), so an uninstall in any process stops every other process's sends at once."""

    def __init__(self, installations: SQLAlchemyInstallationStore, client: Callable[[str], WebClient]):
        self.installations = installations
        self._client = functools.lru_cache(maxsize=1024)(client)  # one client per token, not one per send

    def token(self, team_id: str) -> str | None:
        """The workspace's latest bot token. A team id is unique across Slack, so a workspace in an Enterprise Grid
        org is found by its team id alone."""
        bots = self.installations.bots
        query = (
            select(bots.c.bot_token)
            .where(
                bots.c.client_id == self.installations.client_id,
                bots.c.team_id == team_id,
                bots.c.bot_token.is_not(None),
                bots.c.is_enterprise_install.is_(False),
            )
            .order_by(desc(bots.c.installed_at), desc(bots.c.id))  # a reinstall within the same second wins too
            .limit(1)
        )
        with answering(), self.installations.engine.connect() as conn:
            return conn.scalar(query)

    def client_for(self, team: Team) -> WebClient:
        token = self.token(team.external_id)
        if token is None:
            raise NotInstalled(f"no installation for {team.external_id}")
        return self._client(token)

    def teams(self) -> list[Team]:
        bots = self.installations.bots
        query = (
            select(bots.c.team_id)
            .where(bots.c.client_id == self.installations.client_id, bots.c.bot_token.is_not(None))
            .where(bots.c.team_id.is_not(None), bots.c.is_enterprise_install.is_(False))
            .distinct()
        )
        with answering(), self.installations.engine.connect() as conn:
            return [Team("slack", team_id) for team_id in conn.scalars(query)]


class OrgWideInstall(BoltError):
    """An Enterprise Grid org-wide install, which this bot does not support."""


class WorkspaceInstalls(OAuthFlow):
    """Bolt's OAuth flow, installing into one workspace at a time. An org-wide install of an Enterprise Grid org is
    refused with a page that says why and what to do, and the token it brought is revoked, so nothing is left
    half-installed: the bot keeps its records and its ledger per workspace, and an org-wide install would give it
    requests from many workspaces through one installation."""

    def store_installation(self, request, installation: Installation) -> None:
        if installation.is_enterprise_install:
            try:
                self.client.auth_revoke(token=installation.bot_token)
            except SlackApiError as exc:
                log.warning("could not revoke an org-wide install's token: %s", exc.response.get("error"))
            raise OrgWideInstall("org-wide installs are not supported")
        super().store_installation(request, installation)
        log.info("installed in workspace %s", installation.team_id)


ORG_WIDE_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Small Changes</title></head><body>
<h1>Small Changes installs into one workspace at a time</h1>
<p>This was an install for a whole Enterprise Grid organisation, which Small Changes does not support, so nothing
was installed.</p>
<p>Ask an org admin to add Small Changes to each workspace that wants it: <a href="{install}">Add to Slack</a>,
then pick a workspace rather than the organisation.</p></body></html>"""


def callback_options(install_path: str = INSTALL_PATH) -> CallbackOptions:
    def success(args: SuccessArgs) -> BoltResponse:
        return args.default.success(args)

    def failure(args: FailureArgs) -> BoltResponse:
        if isinstance(args.error, OrgWideInstall):
            page = ORG_WIDE_PAGE.format(install=html.escape(install_path))
            return BoltResponse(status=400, body=page, headers={"Content-Type": "text/html; charset=utf-8"})
        return args.default.failure(args)

    return CallbackOptions(success=success, failure=failure)


def installed_only(workspaces: InstalledWorkspaces) -> Callable:
    """Before Bolt authorizes a request: one for a workspace with no installation is refused (403) before anything is
    read or created. Bolt itself would answer 200 with an apology, which Slack shows as if it had worked. The events
    that say the app was uninstalled pass, so the installation can be removed."""

    def middleware(body: dict, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        if body.get("type") in ("url_verification", "ssl_check"):
            return next()
        if body.get("type") == "event_callback" and (body.get("event") or {}).get("type") in REVOCATION_EVENTS:
            return next()
        try:
            installed = context.team_id is not None and workspaces.token(context.team_id) is not None
        except StoreUnavailable:
            return BoltResponse(status=503, body="The database isn't answering; try again in a minute.")
        if not installed:
            log.warning("refused a request for a workspace with no installation")
            return BoltResponse(status=403, body=NOT_INSTALLED)
        return next()

    return middleware
