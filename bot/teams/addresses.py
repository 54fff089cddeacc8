"""Where the bot can reach people and conversations in Teams, as Teams last told us.

A person is known to the core by their Entra object id (stable, and the id an admin can look up); Teams mentions
them and opens their 1:1 chat by their Teams id (29:…). Every message the bot receives says both, with the
conversation it came from and the `serviceUrl` to answer through, so each is remembered here for the clock's
messages later: nudges and digests go out long after anyone wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.core.model import Team
from bot.core.ports import utc_now
from bot.store.db import Store
from bot.store.models import TeamsAddress

PERSON, CONVERSATION, TENANT = "person", "conversation", "tenant"


@dataclass(frozen=True)
class Address:
    key: str  # a person's Entra object id, a conversation's id as the core keeps it, or a tenant's id
    service_url: str
    teams_id: str | None = None  # a person's Teams id (29:…)
    name: str = ""
    tz: str | None = None
    chat_id: str | None = None  # where to write: a person's 1:1 chat with the bot, or a conversation's whole id


class Addresses:
    def __init__(self, store: Store, now: Callable[[], datetime] = utc_now):
        self.store, self.now = store, now

    def remember(self, team: Team, kind: str, key: str, service_url: str, **known) -> None:
        """Record or refresh one address; what is not known this time (None) keeps its earlier value."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        known = {k: v for k, v in known.items() if v is not None}
        for _ in range(2):  # two first messages at once: the second finds the first one's row
            try:
                with self.store.session() as session:
                    row = self._row(session, workspace_id, kind, key)
                    if row is None:
                        row = TeamsAddress(workspace_id=workspace_id, kind=kind, key=key)
                        session.add(row)
                    elif row.service_url == service_url and all(getattr(row, k) == v for k, v in known.items()):
                        return  # as it was: every message says who wrote, and most of the time nothing changed
                    row.service_url, row.updated_at = service_url, self.now()
                    for name, value in known.items():
                        setattr(row, name, value)
                return
            except IntegrityError:
                continue

    def get(self, team: Team, kind: str, key: str) -> Address | None:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            row = self._row(session, workspace_id, kind, key)
            return _address(row) if row else None

    def person_by_teams_id(self, team: Team, teams_id: str) -> Address | None:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            row = session.scalar(
                select(TeamsAddress).where(
                    TeamsAddress.workspace_id == workspace_id,
                    TeamsAddress.kind == PERSON,
                    TeamsAddress.teams_id == teams_id,
                )
            )
            return _address(row) if row else None

    def people(self, team: Team) -> list[Address]:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        with self.store.session() as session:
            rows = session.scalars(
                select(TeamsAddress).where(TeamsAddress.workspace_id == workspace_id, TeamsAddress.kind == PERSON)
            )
            return [_address(row) for row in rows]

    def tenants(self) -> list[str]:
        """Every tenant that installed the bot."""
        with self.store.session() as session:
            return list(session.scalars(select(TeamsAddress.key).where(TeamsAddress.kind == TENANT)))

    @staticmethod
    def _row(session, workspace_id: int, kind: str, key: str) -> TeamsAddress | None:
        return session.scalar(
            select(TeamsAddress).where(
                TeamsAddress.workspace_id == workspace_id, TeamsAddress.kind == kind, TeamsAddress.key == key
            )
        )


def _address(row: TeamsAddress) -> Address:
    return Address(row.key, row.service_url, row.teams_id, row.name or "", row.tz, row.chat_id)
