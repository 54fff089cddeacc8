"""One command line: python -m bot serve | socket | console | migrate."""

from __future__ import annotations

import argparse
import logging
import sys
from threading import Event

from slack_sdk.errors import SlackApiError

from bot import logs
from bot.settings import Settings

log = logging.getLogger("bot")


def serve(settings: Settings) -> None:
    """Production HTTP: gunicorn (threaded workers) running Bolt's WSGI adapter on $PORT."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from bot.app import build_slack
    from bot.slack.web import GunicornServer, gunicorn_options, web_app
    from bot.store.db import Store

    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    check_bot_token(settings)
    Store.from_url(settings.database_url).migrate()

    def load():
        logs.configure(settings.log_level, secrets(settings))
        bot = build_slack(settings)
        return web_app(SlackRequestHandler(bot.app), bot.services.store)

    log.info("serving POST /slack/events and GET /healthz on port %s", settings.port)
    GunicornServer(load, gunicorn_options(settings)).run()


def socket(settings: Settings) -> None:
    """Socket Mode: no public URL needed, for development."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import build_slack
    from bot.store.db import Store

    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")
    check_bot_token(settings)
    Store.from_url(settings.database_url).migrate()
    handler = SocketModeHandler(build_slack(settings).app, settings.slack_app_token)
    try:
        handler.connect()
    except SlackApiError as exc:
        raise SystemExit(
            f"Slack refused SLACK_APP_TOKEN ({exc.response.get('error')}): it must be an app-level token "
            "(xapp-…) with the connections:write scope, from Basic Information -> App-Level Tokens."
        ) from None
    log.info("connected to Slack in Socket Mode")
    Event().wait()


def check_bot_token(settings: Settings) -> None:
    """Ask Slack about the bot token once, so a wrong one stops start-up with one clear line."""
    from bot.app import slack_client

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


def console(settings: Settings) -> None:
    from bot.console import run

    run(settings)


def secrets(settings: Settings) -> tuple[str, ...]:
    return tuple(s for s in (settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token) if s)


COMMANDS = {"serve": serve, "socket": socket, "console": console, "migrate": migrate}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="Small Changes: a bot for thanks and ideas.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (production) on $PORT")
    sub.add_parser("socket", help="run in Slack Socket Mode (development, no public URL)")
    sub.add_parser("console", help="try the bot in this terminal with a sample team; no Slack account needed")
    sub.add_parser("migrate", help="bring the database schema up to date")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    logs.configure(settings.log_level if args.command != "console" else "WARNING", secrets(settings))
    COMMANDS[args.command](settings)


if __name__ == "__main__":
    sys.exit(main())
