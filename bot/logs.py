"""Logging set-up: one format, and a filter that keeps tokens and secrets out of every log line."""

from __future__ import annotations

import logging
import re

SECRET = re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+")


class RedactSecrets(logging.Filter):
    """Replace Slack tokens, and any configured secret, wherever they appear in a record."""

    def __init__(self, secrets: tuple[str, ...] = ()):
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = SECRET.sub(r"\1-[redacted]", message)
        for secret in self.secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, None
        return True


class BoltTokenUnused(logging.Filter):
    """Bolt warns that its token is unused whenever it is given a client while SLACK_BOT_TOKEN is set, which is
    always so here: the client it is given (bot.app.slack_client) carries that very token."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "As you gave `client` as well, `token` will be unused."


def configure(level: str = "INFO", secrets: tuple[str, ...] = ()) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets(secrets))
        handler.addFilter(BoltTokenUnused())
    # Alembic announces every migration step, and APScheduler every job it adds or runs, at INFO: keep the output to
    # what matters.
    for chatty in ("alembic", "apscheduler"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLevelName(level)))
