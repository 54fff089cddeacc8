"""What the core needs from a chat platform, as small interfaces the adapters implement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


@dataclass(frozen=True)
class Team:
    """A workspace as the platform names it: ("slack", "T123") or ("teams", tenant id)."""

    platform: str
    external_id: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    tz: str = "UTC"


class Directory(Protocol):
    def person(self, team: Team, user_id: str) -> Person | None:
        """The person with this id, or None when the platform does not know them."""


def utc_now() -> datetime:
    return datetime.now(UTC)
