"""The floor for a Teams thank-you: a bare Teams SDK app whose message handler does only what a thank-you in a channel
shows people, with no validation and no database, served like `python -m bot teams`.

For each message it posts the thanks in the channel (`POST /v3/conversations/{channel}/activities`, the channel's
id without the thread's `;messageid=`, as bot.teams.delivery does) and sends each person mentioned a message in
their 1:1 chat with the bot, opening that chat (`POST /v3/conversations`) the first time, as the bot does; the
chats it opened are kept in memory. Both through the SDK's own client for the turn (`ctx.api`).

The App is built by the bot's own `bot.teams.bot.teams_app` (the same options: no credentials here, a 10 s client
timeout) and served by uvicorn with the options of `python -m bot teams` (bot/__main__.py). Reads the same
environment as the bot (PORT, TENANT_ID, DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS, LOG_LEVEL).

    python benchmarks/teams_floor_app.py
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn

import bot.teams  # noqa: F401  (imports the SDK with its .env loading off, as the bot does)
from bot import logs
from bot.settings import Settings
from bot.teams.bot import teams_app


def build(settings: Settings):
    # The SDK is imported after bot.teams, which turns its .env loading off first.
    from microsoft_teams.api import Account, CreateConversationParams, MessageActivity, MessageActivityInput
    from microsoft_teams.apps import ActivityContext

    app, _ = teams_app(settings)
    chats: dict[str, str] = {}  # a person's Teams id -> their 1:1 chat with the bot

    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]):
        activity = ctx.activity
        people = [
            e.mentioned
            for e in activity.entities or ()
            if getattr(e, "type", None) == "mention" and e.mentioned.id != activity.recipient.id
        ]
        giver, text = activity.from_.name, activity.text or ""
        names = ", ".join(p.name or "" for p in people)
        channel = activity.conversation.id.split(";messageid=")[0]
        api = ctx.api.conversations
        await api.create_activity(channel, MessageActivityInput(text=f"🙏 **{giver}** thanked **{names}**: {text}"))
        for person in people:
            chat = chats.get(person.id)
            if chat is None:
                tenant = activity.conversation.tenant_id
                opened = await api.create(CreateConversationParams(members=[Account(id=person.id)], tenant_id=tenant))
                chat = chats[person.id] = opened.id
            await api.create_activity(chat, MessageActivityInput(text=f"🙏 **{giver}** thanked you: {text}"))

    return app


def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    app = build(settings)

    async def serve() -> None:
        await app.initialize()
        config = uvicorn.Config(  # as bot/__main__.py `teams` configures it
            app.server.adapter.app,
            host="0.0.0.0",
            port=settings.teams_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=30,
        )
        await uvicorn.Server(config).serve()

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
