"""The floor for /thanks: a Bolt app that does only the platform work no thank-you can avoid (ack, the
in-channel post through response_url, one DM to the recipient) with no validation and no database,
served by the same gunicorn server with the same options as `python -m bot serve`.

Reads the same environment as the bot (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL, PORT,
LOG_LEVEL, WEB_CONCURRENCY, WEB_THREADS).   python benchmarks/floor_app.py
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable

from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot import logs
from bot.settings import Settings
from bot.slack.web import GunicornServer, gunicorn_options

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


def web_app(handler: SlackRequestHandler) -> Callable[[dict, Callable], Iterable[bytes]]:
    """Bolt behind the same routes as the bot; /healthz only says the process is up (there is no database)."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"status": "ok"}).encode()]
        return handler(environ, start_response)

    return app


def main() -> None:
    settings = Settings.from_env()
    settings.require("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    secrets = (settings.slack_bot_token, settings.slack_signing_secret)
    logs.configure(settings.log_level, secrets)

    def load():
        logs.configure(settings.log_level, secrets)  # as serve() does, in each worker after the fork
        return web_app(SlackRequestHandler(build(settings)))

    GunicornServer(load, gunicorn_options(settings)).run()


if __name__ == "__main__":
    sys.exit(main())
