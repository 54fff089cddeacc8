"""Test doubles for what lies outside the bot: Slack (a real HTTP server on loopback) and a cuttable
database connection. The fake Slack lives in bot.console because the local console plays against it too."""

from bot.console.fake_slack import Call, FakeSlack, user

__all__ = ["Call", "FakeSlack", "user"]
