"""One command line: python -m bot serve | socket | teams | console | migrate | clock | run | report | …"""

from __future__ import annotations

import argparse
import logging
import sys
from threading import Event

from slack_sdk.errors import SlackApiError

from bot import logs
from bot.settings import Settings

log = logging.getLogger("bot")
EXPORTS = "exports"  # where CSV exports go by default: .gitignore keeps people's records out of the repository


def serve(settings: Settings) -> None:
    """Production HTTP: uvicorn, WEB_CONCURRENCY worker processes, each building the bot (bot.slack.web)."""
    import os
    import tempfile

    import uvicorn

    from bot.slack.web import server_options
    from bot.store.db import Store

    settings.require_slack("SLACK_SIGNING_SECRET")
    check_bot_token(settings)
    Store.from_url(settings.database_url).migrate()
    if settings.slack_installs:
        log.info("any workspace may install the bot: GET /slack/install")
    if settings.web_workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="smallchanges-metrics-")  # workers add up
    log.info("serving POST /slack/events and GET /healthz on port %s", settings.port)
    uvicorn.run(**server_options(settings, "bot.slack.web:create_app"))


def teams(settings: Settings) -> None:
    """Microsoft Teams: the SDK's web app (POST /api/messages) under uvicorn on $PORT (3978 by default), with the
    outbox drained in the background."""
    import asyncio

    import uvicorn

    from bot.app import build_teams
    from bot.store.db import Store

    Store.from_url(settings.database_url).migrate()
    bot = build_teams(settings)

    async def serve_teams() -> None:
        await bot.app.initialize()
        config = uvicorn.Config(
            bot.app.server.adapter.app,
            host="0.0.0.0",
            port=settings.teams_port,
            log_config=None,  # ours (bot.logs), secrets redacted
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        log.info("serving Teams on POST /api/messages, port %s", settings.teams_port)
        await uvicorn.Server(config).serve()

    stop_draining = bot.delivery.start_draining()
    try:
        asyncio.run(serve_teams())
    finally:
        stop_draining()


def socket(settings: Settings) -> None:
    """Socket Mode: no public URL needed, for development."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_slack
    from bot.store.db import Store

    if settings.slack_installs:
        raise SystemExit(
            "Socket Mode serves one workspace, through SLACK_BOT_TOKEN. Installing into many workspaces "
            "(SLACK_CLIENT_ID and SLACK_CLIENT_SECRET) needs HTTP: python -m bot serve."
        )
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
    check_bot_token(settings)
    Store.from_url(settings.database_url).migrate()
    bot = build_slack(settings)
    handler = SocketModeHandler(bot.app, settings.slack_app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        raise SystemExit(
            f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}): it must be an app-level token "
            "(xapp-…) with the connections:write scope, from Basic Information -> App-Level Tokens."
        ) from None
    bot.delivery.start_draining()
    log.info("connected to Slack in Socket Mode")
    Event().wait()


def check_bot_token(settings: Settings) -> None:
    """Ask Slack about the bot token once, so a wrong one stops start-up with one clear line. (With installs, each
    workspace's token is Slack's own answer to its install.)"""
    from bot.app import slack_client

    if settings.slack_installs:
        return
    try:
        slack_client(settings).auth_test()
    except SlackApiError as exc:
        raise SystemExit(
            f"Slack refused SLACK_BOT_TOKEN ({exc.response.get('error')}): copy the Bot User OAuth Token "
            "(xoxb-…) from OAuth & Permissions."
        ) from None
    except OSError as exc:
        raise SystemExit(f"Could not reach Slack at {settings.slack_api_url}: {exc}") from None


def migrate(settings: Settings) -> None:
    from bot.store.db import Store

    Store.from_url(settings.database_url).migrate()
    log.info("database is up to date")


def console(settings: Settings, teams: bool = False) -> None:
    if teams:
        from bot.console.teams import run as run_teams

        run_teams(settings)
        return
    from bot.console import run

    run(settings)


def clock(settings: Settings) -> None:
    """The nudge clock (Procfile `clock:`; one is enough, a second sends nothing twice), for Slack (SLACK_BOT_TOKEN,
    or SLACK_CLIENT_ID for every workspace that installed it), Teams (CLIENT_ID) or both."""
    from bot import clock as clock_module
    from bot.app import slack_services, teams_services
    from bot.store.db import Store

    slack_on = bool(settings.slack_bot_token or settings.slack_installs)
    if not (slack_on or settings.client_id or settings.teams_unauthenticated):
        settings.require("SLACK_BOT_TOKEN")  # names what Slack needs; the Settings table says what Teams needs
    store = Store.from_url(settings.database_url)
    store.migrate()
    platforms = []
    if slack_on:
        check_bot_token(settings)
        slack = slack_services(settings, store)
        platforms.append(clock_module.Platform(slack.services, slack.delivery, slack.workspaces.teams))
    if settings.client_id or settings.teams_unauthenticated:
        teams = teams_services(settings, store)
        platforms.append(clock_module.Platform(teams.services, teams.delivery, teams.tenants.served))
    clock_module.run(platforms, metrics_port=settings.metrics_port)


def run_job(settings: Settings, job: str, at: str | None, dry_run: bool, workspace: str | None = None) -> None:
    """One tick now, or as if at `at`; a dry run sends nothing and says why each person would or wouldn't hear.
    With no Slack credentials, a dry run on the console's database plays against the console's sample team."""
    from datetime import datetime

    from bot.console import sample_slack, shown
    from bot.settings import MissingSetting
    from bot.store.db import Store

    when = datetime.fromisoformat(at) if at else None
    if when is not None and when.tzinfo is None:
        raise SystemExit("--at needs a timezone, e.g. 2026-11-24T10:30:00+00:00")
    if settings.slack_bot_token or settings.slack_installs:
        settings.require_slack()
        check_bot_token(settings)
        store = Store.from_url(settings.database_url)
        store.migrate()
        run_tick(settings, store, job, when, dry_run, workspace)
        return
    records = records_service(settings)
    played = console_team(records)
    if not (dry_run and played):
        try:
            settings.require("SLACK_BOT_TOKEN")
        except MissingSetting as missing:
            try_it = (
                f"Without it only a dry run works, on the console's sample team: `python -m bot run {job} --dry-run`."
                if played
                else "Or, to try it on the console's sample team: play `python -m bot console` first, then "
                f"`python -m bot run {job} --dry-run` here uses its database."
            )
            raise SystemExit(f"{missing.code} {try_it}") from None
    database = shown(settings.database_url)
    print(f"No SLACK_BOT_TOKEN: a dry run on the console's sample team in {database}, against its stand-in for Slack.")
    with sample_slack(settings) as (_fake, local):
        run_tick(local, records.store, job, when, dry_run)


def console_team(records) -> bool:
    """Whether the database holds the console's sample team (`python -m bot console` has played in it)."""
    from bot.console.team import SAMPLE_TEAM_ID

    return SAMPLE_TEAM_ID in records.workspaces("slack")


def run_tick(settings: Settings, store, job: str, when, dry_run: bool, workspace: str | None = None) -> None:
    from bot import clock as clock_module
    from bot.app import slack_services

    slack = slack_services(settings, store)
    team = one_team(slack.workspaces.teams(), workspace)
    job_tick = clock_module.digest_tick if job == "digests" else clock_module.tick
    report = job_tick(slack.services, team, when, dry_run=dry_run)
    if report.skipped_locked:
        print("Another clock is ticking right now; nothing done.")
    elif dry_run:
        print(clock_module.dry_run_text(report))
    else:
        print(f"sent {report.sent}, failed {report.failed}")
        print(clock_module.dry_run_text(report))


def report(settings: Settings, what: str, workspace: str | None) -> None:
    """nudges: per experiment arm, people, nudges, answers within 48 h, fewer, opt-outs, thanks and ideas, with 95%
    intervals (small-changes[stats]), the differences between arms and a verdict. quarter: the time freed this
    quarter, the twelve weeks' trends and the nudges. From the database alone: no chat platform is asked, so it works
    where Slack or Teams cannot be reached."""
    from bot.app import build_services
    from bot.core.experiment import report_lines

    records = records_service(settings)
    team = chosen_team(records, workspace)
    services = build_services(settings, records.store, directory=None, notifier=None)
    if what == "quarter":
        print("\n".join(services.digests.quarterly(team)))
    else:
        print("\n".join(report_lines(services.nudges.reading(team))))


def records_service(settings: Settings):
    """The records service on the configured database, brought up to date; an unreachable database is one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.core.admins import Admins
    from bot.core.records import RecordsService
    from bot.store.db import Store

    store = Store.from_url(settings.database_url)
    try:
        store.migrate()
    except SQLAlchemyError as exc:
        raise SystemExit(f"Could not open the database: {type(exc).__name__}. Check DATABASE_URL.") from None
    return RecordsService(store, Admins(directory=None))  # the operator exports; no chat user is asking


def chosen_team(records, given: str | None):
    """The --workspace asked for (a Slack team id or a Teams tenant id), or the only workspace in the database."""
    from bot.core.model import Team

    return one_team([Team(platform, w) for platform in ("slack", "teams") for w in records.workspaces(platform)], given)


def one_team(known: list, given: str | None):
    """The workspace named by --workspace among those known, or the only one."""
    if not known:
        raise SystemExit("There is no workspace here yet: nothing has been recorded, or installed, for one.")
    names = ", ".join(t.external_id for t in known)
    if given:
        found = [t for t in known if t.external_id == given]
        if not found:
            raise SystemExit(f"No workspace {given} in this database (it holds: {names}).")
        return found[0]
    if len(known) != 1:
        raise SystemExit(f"Name the workspace with --workspace (a Slack team or Teams tenant id): it holds {names}.")
    return known[0]


def export(settings: Settings, workspace: str | None, since, fmt: str, out: str | None) -> None:
    """Thanks, ideas with their history, and nudge outcomes: one JSON document, or six CSV files in a folder. The
    operator on the command line exports as OPERATOR: they hold the database already, so no chat user is checked."""
    from pathlib import Path

    from bot.core.admins import OPERATOR
    from bot.core.errors import Refused, StoreUnavailable

    records = records_service(settings)
    team = chosen_team(records, workspace)
    try:
        data = records.export(team, OPERATOR, since)
    except (Refused, StoreUnavailable) as exc:
        raise SystemExit(getattr(exc, "message", "The database isn't answering; nothing was exported.")) from None
    if fmt == "json":
        if out is None:
            print(data.to_json())
            return
        Path(out).write_text(data.to_json() + "\n", encoding="utf-8")
        print(out)
        return
    folder = Path(out or f"{EXPORTS}/export-{team.external_id}-{data.exported_at:%Y%m%d}")
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in data.csv_files().items():
        (folder / name).write_text(table, encoding="utf-8", newline="")
        print(folder / name)


def forget_user(settings: Settings, user_id: str, workspace: str | None, dry_run: bool) -> None:
    """Erase one person's personal data on their request; a dry run counts what would go and changes nothing."""
    from bot.core.errors import Refused, StoreUnavailable

    records = records_service(settings)
    team = chosen_team(records, workspace)
    try:
        erasure = records.forget(team, user_id, dry_run=dry_run)
    except (Refused, StoreUnavailable) as exc:
        raise SystemExit(getattr(exc, "message", "The database isn't answering; nothing was erased.")) from None
    if not erasure.found:
        raise SystemExit(f"No one with the id {user_id} is recorded in {team.external_id}: nothing was erased.")
    print("\n".join(erasure.lines()))


def teams_package(out: str | None, host: str | None) -> None:
    """The Teams app package to upload: the manifest for CLIENT_ID and the public host, with its two icons. Settings
    carries no Teams values yet, so they are read from the environment (which Settings.from_env filled from .env)."""
    import os
    from pathlib import Path

    from bot.teams.package import ManifestInvalid, PackageError, PackageSettings, schema_checked, write

    try:
        path = write(PackageSettings.from_env(os.environ, host), Path(out) if out else None)
    except PackageError as exc:
        print(exc, file=sys.stderr)
        raise SystemExit(2) from None
    except ManifestInvalid as exc:
        raise SystemExit(str(exc)) from None
    print(path)
    if not schema_checked():
        print("Checked against the manifest's rules; with jsonschema installed it is checked against the schema too.")


def iso_date(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-01-01") from None


def secrets(settings: Settings) -> tuple[str, ...]:
    given = (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.client_secret,
    )
    return tuple(s for s in given if s)


COMMANDS = {"serve": serve, "socket": socket, "teams": teams, "console": console, "migrate": migrate, "clock": clock}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Small Changes: a bot for thanks and ideas.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (production) on $PORT")
    sub.add_parser("socket", help="run in Slack Socket Mode (development, no public URL)")
    sub.add_parser("teams", help="run the Microsoft Teams bot (POST /api/messages) on $PORT, 3978 by default")
    console_parser = sub.add_parser("console", help="try the bot in this terminal, with a sample team and no account")
    console_parser.add_argument("--teams", action="store_true", help="play Microsoft Teams (cards as text), not Slack")
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser("clock", help="run the nudge clock (one is enough; a second sends nothing twice)")
    run_parser = sub.add_parser("run", help="run one job now: nudges or digests")
    run_parser.add_argument("job", choices=["nudges", "digests"])
    run_parser.add_argument("--at", help="as if at this instant, e.g. 2026-11-24T10:30:00+00:00")
    run_parser.add_argument(
        "--dry-run",
        action="store_true",
        help="send nothing; say who would hear and why not (with no SLACK_BOT_TOKEN: the console's sample team)",
    )
    run_parser.add_argument("--workspace", help="the Slack team id; optional if the bot serves only one")
    report_parser = sub.add_parser("report", help="nudges: the experiment; quarter: time freed, trends and nudges")
    report_parser.add_argument("what", choices=["nudges", "quarter"])
    report_parser.add_argument("--workspace", help="the Slack team or Teams tenant id; optional if only one")
    export_parser = sub.add_parser("export", help="a workspace's thanks, ideas and nudge outcomes, as CSV or JSON")
    export_parser.add_argument("--workspace", help="the Slack team or Teams tenant id; optional if only one")
    export_parser.add_argument("--since", type=iso_date, help="only what was recorded from this date (UTC) on")
    export_parser.add_argument("--format", choices=["csv", "json"], default="csv", help="csv (the default) or json")
    export_parser.add_argument(
        "--out", help=f"JSON: a file (default: print it); CSV: a folder (default {EXPORTS}/export-T…-DATE)"
    )
    forget_parser = sub.add_parser("forget-user", help="erase one person's personal data, on their request")
    forget_parser.add_argument("user", help="their Slack user id (U…) or Teams Entra object id")
    forget_parser.add_argument(
        "--workspace", help="the Slack team or Teams tenant id; optional if the database holds only one"
    )
    forget_parser.add_argument("--dry-run", action="store_true", help="change nothing; list what would go")
    package_parser = sub.add_parser("teams-package", help="build the Teams app package (zip) to upload in Teams")
    package_parser.add_argument("--out", help="the zip to write, or a folder for it (default ./smallchanges-teams.zip)")
    package_parser.add_argument("--host", help="the bot's public host name (default: TEAMS_PUBLIC_HOST)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    quiet = args.command in ("console", "run", "report", "export", "forget-user", "teams-package")
    logs.configure(settings.log_level if not quiet else "WARNING", secrets(settings))
    if args.command == "run":
        run_job(settings, args.job, args.at, args.dry_run, args.workspace)
    elif args.command == "report":
        report(settings, args.what, args.workspace)
    elif args.command == "export":
        export(settings, args.workspace, args.since, args.format, args.out)
    elif args.command == "forget-user":
        forget_user(settings, args.user, args.workspace, args.dry_run)
    elif args.command == "teams-package":
        teams_package(args.out, args.host)
    elif args.command == "console":
        console(settings, teams=args.teams)
    else:
        COMMANDS[args.command](settings)


if __name__ == "__main__":
    sys.exit(main())
