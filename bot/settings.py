"""Settings from the environment and a `.env` file, plus the defaults in config/."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

PACKAGE_DIR = Path(__file__).resolve().parent
# config/ lies at the repository's root; an installed wheel carries it inside the package (pyproject.toml).
CONFIG_DIR = PACKAGE_DIR / "config" if (PACKAGE_DIR / "config").is_dir() else PACKAGE_DIR.parent / "config"
SLACK_API_URL = "https://slack.com/api/"


class MissingSetting(SystemExit):
    """Start-up stops with one line naming the setting, not a traceback."""

    def __init__(self, name: str, why: str, placeholder: bool = False):
        if placeholder:
            super().__init__(f"{name} is not filled in: it still says what .env.example says. It should be {why}.")
        else:
            super().__init__(f"Missing setting {name}: {why}. Set it in the environment or in .env (see .env.example).")


def _given(value: str | None) -> str | None:
    """A setting's value, or None when it is empty or still .env.example's placeholder (`xoxb-...`)."""
    return value if value and not value.endswith("...") else None


@dataclass(frozen=True)
class Defaults:
    """Fixed limits from config/defaults.toml. What admins tune per workspace (the daily thanks cap, the values,
    the nudges) is bot.core.workspace.WorkspaceConfig."""

    reason_max_chars: int = 1000
    max_recipients: int = 10
    change_max_chars: int = 1000

    @classmethod
    def load(cls, path: Path = CONFIG_DIR / "defaults.toml") -> Defaults:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        thanks, changes = data.get("thanks", {}), data.get("changes", {})
        return cls(
            reason_max_chars=int(thanks.get("reason_max_chars", cls.reason_max_chars)),
            max_recipients=int(thanks.get("max_recipients", cls.max_recipients)),
            change_max_chars=int(changes.get("text_max_chars", cls.change_max_chars)),
        )


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None  # with the secret: any workspace may install the bot (OAuth), not one token's
    slack_client_secret: str | None = None
    database_url: str = "sqlite:///smallchanges.db"
    port: int = 3000
    log_level: str = "INFO"
    slack_api_url: str = SLACK_API_URL
    admin_user_ids: frozenset[str] = frozenset()
    digest_channel: str | None = None  # defaults for the digests; what an admin saves in the settings overrides them
    manager_user_ids: tuple[str, ...] = ()
    leadership_channel: str | None = None  # defaults for ideas raised with leaders; admins' choices override them
    leader_user_ids: tuple[str, ...] = ()
    web_workers: int = 2
    web_threads: int = 8  # per process: answering requests (signature, parsing, the ack)
    work_threads: int = 8  # per process: the work after the ack (database, Slack)
    work_queue: int = 500  # per process: work waiting beyond this is refused at once, with a clear answer
    metrics_token: str | None = None  # GET /metrics answers only with this bearer token (and not at all without)
    metrics_port: int | None = None  # the clock's own metrics, on 127.0.0.1
    # Microsoft Teams: the bot's app registration, and the tenant it serves (unset: each tenant that installs it)
    client_id: str | None = None
    client_secret: str | None = None
    tenant_id: str | None = None
    teams_port: int = 3978
    teams_unauthenticated: bool = False  # tests only: inbound requests' tokens are not checked
    defaults: Defaults = field(default_factory=Defaults)
    placeholders: frozenset[str] = frozenset()  # settings still as .env.example has them: not filled in

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        if env is None:
            load_dotenv(Path.cwd() / ".env")
            env = dict(os.environ)
        api_url = env.get("SLACK_API_URL") or SLACK_API_URL
        return cls(
            slack_bot_token=_given(env.get("SLACK_BOT_TOKEN")),
            slack_signing_secret=_given(env.get("SLACK_SIGNING_SECRET")),
            slack_app_token=_given(env.get("SLACK_APP_TOKEN")),
            slack_client_id=_given(env.get("SLACK_CLIENT_ID")),
            slack_client_secret=_given(env.get("SLACK_CLIENT_SECRET")),
            database_url=env.get("DATABASE_URL") or cls.database_url,
            port=int(env.get("PORT") or cls.port),
            log_level=(env.get("LOG_LEVEL") or cls.log_level).upper(),
            slack_api_url=api_url if api_url.endswith("/") else api_url + "/",
            admin_user_ids=frozenset(filter(None, (env.get("ADMIN_USER_IDS") or "").replace(",", " ").split())),
            digest_channel=(env.get("DIGEST_CHANNEL") or "").strip() or None,
            manager_user_ids=tuple(filter(None, (env.get("MANAGER_USER_IDS") or "").replace(",", " ").split())),
            leadership_channel=(env.get("LEADERSHIP_CHANNEL") or "").strip() or None,
            leader_user_ids=tuple(filter(None, (env.get("LEADER_USER_IDS") or "").replace(",", " ").split())),
            web_workers=int(env.get("WEB_CONCURRENCY") or cls.web_workers),
            web_threads=int(env.get("WEB_THREADS") or cls.web_threads),
            work_threads=int(env.get("WORK_THREADS") or cls.work_threads),
            work_queue=int(env.get("WORK_QUEUE") or cls.work_queue),
            metrics_token=env.get("METRICS_TOKEN") or None,
            metrics_port=int(env["METRICS_PORT"]) if env.get("METRICS_PORT") else None,
            client_id=env.get("CLIENT_ID") or None,
            client_secret=env.get("CLIENT_SECRET") or None,
            tenant_id=env.get("TENANT_ID") or None,
            teams_port=int(env.get("PORT") or cls.teams_port),
            teams_unauthenticated=(env.get("DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS") or "").lower()
            in ("1", "true", "yes", "on"),
            defaults=Defaults.load(),
            placeholders=frozenset(name for name, value in env.items() if value and not _given(value)),
        )

    @property
    def slack_installs(self) -> bool:
        """Whether the bot serves any Slack workspace that installs it (OAuth), rather than one token's."""
        return bool(self.slack_client_id or self.slack_client_secret)

    def require_slack(self, *names: str) -> None:
        """Start-up for Slack: one workspace's token, or the app's client id and secret, never both (which one
        would the bot use?), with the other settings named."""
        if self.slack_installs and self.slack_bot_token:
            raise SystemExit(
                "Set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (any workspace "
                "that installs the bot), not both."
            )
        self.require(*(("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if self.slack_installs else ("SLACK_BOT_TOKEN",)))
        self.require(*names)

    def require(self, *names: str) -> None:
        """Stop start-up naming the first missing setting."""
        why = {
            "SLACK_BOT_TOKEN": "the bot token (xoxb-…) from your Slack app's OAuth & Permissions page",
            "SLACK_SIGNING_SECRET": "the signing secret from your Slack app's Basic Information page",
            "SLACK_APP_TOKEN": "an app-level token (xapp-…) with connections:write, needed for Socket Mode",
            "SLACK_CLIENT_ID": "the Client ID from your Slack app's Basic Information page",
            "SLACK_CLIENT_SECRET": "the Client Secret from your Slack app's Basic Information page",
            "CLIENT_ID": "the bot's Microsoft app (client) id, from its Azure Bot or Developer Portal registration",
            "CLIENT_SECRET": "a client secret of the bot's Microsoft app registration",
        }
        for name in names:
            if not getattr(self, name.lower()):
                raise MissingSetting(name, why.get(name, "required"), placeholder=name in self.placeholders)
