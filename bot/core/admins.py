"""Who may act for a whole workspace: change its settings, export its records, move anyone's idea."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from bot.core.errors import Refused
from bot.core.model import Team
from bot.core.ports import Directory


class Operator:
    """The person running the bot's command line. They hold the database already, so no chat user's rights apply.
    Only the command line passes OPERATOR; a chat adapter always passes the user id from the request, and a missing
    id (None) is refused like anyone else's."""

    recorded_as = "operator"  # who made a change, in the settings' history

    def __repr__(self) -> str:
        return "OPERATOR"


OPERATOR = Operator()
Actor = str | Operator


class Admins:
    """One rule for who is an admin: the workspace's admins and owners as the platform's directory says, the people
    the bot's operator named (ADMIN_USER_IDS), and the people an admin added in the workspace's settings."""

    def __init__(
        self,
        directory: Directory | None,
        named: Iterable[str] = (),
        added: Callable[[Team], Iterable[str]] = lambda _team: (),
    ):
        """`directory` is None where no chat platform is at hand (the command line): then only the named people and
        the operator are admins."""
        self.directory, self.named, self.added = directory, frozenset(named), added

    def includes(self, team: Team, actor: Actor | None) -> bool:
        if actor is OPERATOR:
            return True
        if not isinstance(actor, str) or not actor:
            return False
        if actor in self.named or actor in self.added(team):
            return True
        person = self.directory.person(team, actor) if self.directory else None
        return bool(person and person.is_admin)

    def among(self, team: Team, people: Iterable[tuple[str, bool]]) -> list[str]:
        """Of these people the workspace knows, as (id, the platform says they are an admin), its admins: without
        asking the platform, for the clock."""
        added = set(self.added(team))
        return [user_id for user_id, flagged in people if flagged or user_id in self.named or user_id in added]

    def require(self, team: Team, actor: Actor | None, refusal: str) -> None:
        """Raise Refused(refusal) unless `actor` is an admin of `team`."""
        if not self.includes(team, actor):
            raise Refused(refusal)
