"""The floor for /thanks: a Bolt app that does only the platform work no thank-you can avoid (ack, the
in-channel post through response_url, one DM to the recipient) with no validation and no database,
served by the same uvicorn server, behind the same gate (signature, size and shape checks), with the same options
as `python -m bot serve`.

Reads the same environment as the bot (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, PORT,
LOG_LEVEL, WEB_CONCURRENCY, WEB_THREADS).   python benchmarks/floor_app.py
"""

from __future__ import annotations

import re
import sys

import uvicorn
from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot import logs
from bot.settings import Settings
from bot.slack.web import SlackGate, server_options

MENTION = re.compile(r"<@([UW][A-Z0-9]+)")


def build(settings: Settings) -> App:
    app = App(
        client=WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10),
        signing_secret=settings.slack_signing_secret,
    )

    @app.command("/thanks")
    def thanks(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        text = command.get("text") or ""
        respond(text=f":sparkles: <@{command['user_id']}> said thanks: {text}", response_type="in_channel")
        mentioned = MENTION.search(text)
        if mentioned:
            client.chat_postMessage(channel=mentioned.group(1), text=f"<@{command['user_id']}> thanked you: {text}")

    return app


def create_app() -> SlackGate:
    """uvicorn's factory, in each worker: the floor's Bolt app behind the bot's gate (no database)."""
    settings = Settings.from_env()
    logs.configure(settings.log_level, (settings.slack_bot_token, settings.slack_signing_secret))
    return SlackGate(build(settings), None, settings.slack_signing_secret, threads=settings.web_threads)


def main() -> None:
    settings = Settings.from_env()
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    logs.configure(settings.log_level, (settings.slack_bot_token, settings.slack_signing_secret))
    uvicorn.run(**server_options(settings, "floor_app:create_app"))


if __name__ == "__main__":
    sys.exit(main())
