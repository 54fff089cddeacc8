"""What the core needs from a chat platform, as small interfaces the adapters implement."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Protocol

from bot.core.model import Audience, ChangeView, ChannelDigest, ManagerDigest, Overload, Person, Team


class Directory(Protocol):
    def person(self, team: Team, user_id: str) -> Person | None:
        """The person with this id, or None when the platform does not know them."""

    def everyone(self, team: Team) -> list[Person]:
        """Everyone in the workspace, bots and deactivated accounts included."""

    def audience(self, team: Team, channel_id: str) -> Audience:
        """Who may read this channel, group DM or DM now. Raises PlatformUnavailable when the platform won't say."""


class SendFailed(Exception):
    """A message did not go out. Permanent failures (the person is gone) are not retried; an outage (no answer, a
    5xx) says the platform is down, so the other messages waiting can wait too; `retry_after` is the platform's
    own request to wait (a 429)."""

    def __init__(self, error: str, permanent: bool, *, outage: bool = False, retry_after: float | None = None):
        super().__init__(error)
        self.error, self.permanent, self.outage, self.retry_after = error, permanent, outage, retry_after


class Notifier(Protocol):
    def nudge(self, team: Team, user_id: str, prompt: str, send_id: int) -> None:
        """DM one nudge with its buttons; raises SendFailed."""

    def stop_check(self, team: Team, user_id: str, send_id: int) -> None:
        """DM the one "shall I stop?" question; raises SendFailed."""

    def unavailable(self, team: Team, user_id: str) -> str | None:
        """Why not to disturb this person right now (away, do not disturb), from a fresh look; None if fine."""

    def digest(self, team: Team, to: str, copy: ManagerDigest | ChannelDigest) -> None:
        """DM a manager their copy of a digest (`to` is their user id), or post the channel's copy in the channel,
        as it is. Raises SendFailed."""

    def remind(self, team: Team, owner_id: str, change: ChangeView, asker_id: str) -> None:
        """DM a change's owner that `asker_id` would like to hear how it is going; raises SendFailed."""

    def overload(self, team: Team, admin_id: str, overload: Overload) -> None:
        """DM an admin that an arm of the cadence experiment looks like too much, and where to stop it; raises
        SendFailed."""


def utc_now() -> datetime:
    return datetime.now(UTC)


FORMER_COLLEAGUE = "a former colleague"
FORMER_PREFIX = "former:"  # stands in for an erased person's id wherever someone else's record still needs the row


def former_colleague_id() -> str:
    """A fresh placeholder for one erasure, so the erased person's rows stay distinct and unique constraints hold."""
    return FORMER_PREFIX + secrets.token_hex(8)


def is_former_colleague(user_id: str | None) -> bool:
    return user_id is not None and user_id.startswith(FORMER_PREFIX)
