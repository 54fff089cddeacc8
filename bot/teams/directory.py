"""The people of a Teams tenant as the bot has met them: whoever wrote to it, was mentioned to it, or was in a team's
roster when it was added there. Teams has no "who is an admin" to ask, so admins are the people the operator names
(ADMIN_USER_IDS, as Entra object ids)."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.model import Audience, Person, Team
from bot.teams.addresses import PERSON, Addresses


class TeamsDirectory:
    def __init__(
        self,
        addresses: Addresses,
        members: Callable[[Team, str], frozenset[str]],
        timezone: Callable[[Team], str],
    ):
        """`timezone` is the workspace's default, for people who have not written to the bot (Teams sends a
        person's timezone with their messages, not in its roster)."""
        self.addresses, self.members, self.timezone = addresses, members, timezone

    def person(self, team: Team, user_id: str) -> Person | None:
        found = self.addresses.get(team, PERSON, user_id)
        return _person(found, self.timezone(team)) if found else None

    def everyone(self, team: Team) -> list[Person]:
        default = self.timezone(team)
        return [_person(a, default) for a in self.addresses.people(team)]

    def audience(self, team: Team, channel_id: str) -> Audience:
        """Who may read a conversation: its members now, as Teams lists them (a channel's are its team's, or its own
        for a private channel). One the bot does not know has no readers: a digest quotes nothing said there."""
        return Audience(members=self.members(team, channel_id))


def _person(address, default_tz: str) -> Person:
    return Person(address.key, address.name or "a colleague", tz=address.tz or default_tz)
