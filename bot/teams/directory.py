"""The people of a Teams tenant as the bot has met them: whoever wrote to it, was mentioned to it, or was in a team's
roster when it was added there. Teams has no "who is an admin" to ask, so admins are the people the operator names
(ADMIN_USER_IDS, as Entra object ids)."""

from __future__ import annotations

from bot.core.model import Audience, Person, Team
from bot.teams.addresses import PERSON, Addresses


class TeamsDirectory:
    def __init__(self, addresses: Addresses):
        self.addresses = addresses

    def person(self, team: Team, user_id: str) -> Person | None:
        found = self.addresses.get(team, PERSON, user_id)
        return _person(found) if found else None

    def everyone(self, team: Team) -> list[Person]:
        return [_person(a) for a in self.addresses.people(team)]

    def audience(self, team: Team, channel_id: str) -> Audience:
        """Who may read a Teams conversation is not something the bot is told; fail closed, so a digest quotes
        only what was said in its own channel."""
        return Audience()


def _person(address) -> Person:
    return Person(address.key, address.name or "a colleague", tz=address.tz or "UTC")
