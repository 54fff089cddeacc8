"""What a person's App Home shows: their thanks, their ideas, the team's top ideas and their nudge settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.changes import ChangeService, view_of
from bot.core.model import ChangeView, PersonState, Team, zone
from bot.core.nudges import NudgeService
from bot.core.ports import utc_now
from bot.core.workspace import WorkspaceSettingsService
from bot.store.db import Store
from bot.store.models import Backing, Change, Person, Thanks, ThanksRecipient

RECEIVED_SHOWN = 10  # the wall: enough to feel appreciated, few enough to read
GIVEN_SHOWN = 3
IDEAS_SHOWN = 10
ADOPTED_SHOWN = 5
TOP_SHOWN = 5
OPENERS_FRESH_FOR = 60.0  # seconds


@dataclass(frozen=True)
class ThanksLine:
    """One thank-you as a Home shows it."""

    giver_id: str
    recipient_ids: tuple[str, ...]
    reason: str
    values: tuple[str, ...]
    private: bool
    source: str | None  # passed on from outside the team: "family", "young person" or "agency"
    created_at: datetime


@dataclass(frozen=True)
class HomePage:
    user_id: str
    received: tuple[ThanksLine, ...]
    received_total: int
    given: tuple[ThanksLine, ...]
    given_total: int
    ideas: tuple[ChangeView, ...]  # suggested by them (by name), owned or backed; newest activity first
    ideas_total: int
    top: tuple[ChangeView, ...]  # the team's open ideas, most backed first
    nudges: PersonState
    team_cadence: str
    today: date  # in their timezone, so a snooze that has run out is not shown
    adopted: tuple[ChangeView, ...] = ()  # adopted changes they own or suggested, to say how much time each frees


def nudge_settings(page: HomePage) -> tuple[tuple[str, str], ...]:
    """A person's nudge settings for their Home, as (label, value) lines: how often, their alternate day off (the
    next one), and a snooze that has not run out."""
    mine = page.nudges
    if mine.opted_out or mine.cadence == "off":
        often = "Off: no nudges from me"
    elif mine.cadence:
        often = f"{mine.cadence.capitalize()} at most (your choice; the team's is {page.team_cadence})"
    else:
        often = f"As the team sets ({page.team_cadence})"
    day_off = "none"
    if mine.alternate_day_off:
        fortnights = max(0, -(-(page.today - mine.alternate_day_off).days // 14))  # rounded up: today counts
        upcoming = mine.alternate_day_off + timedelta(days=14 * fortnights)
        day_off = f"every other {upcoming:%A}, next on {_day(upcoming, page.today)}"
    if mine.snoozed_until and mine.snoozed_until > page.today:
        snooze = ("Snoozed until", _day(mine.snoozed_until, page.today))
    else:
        snooze = ("Snoozed", "no")
    return ("How often", often), ("Alternate day off", day_off), snooze


def _day(day: date, today: date) -> str:
    return f"{day:%A %-d %B}" + (f" {day:%Y}" if day.year != today.year else "")


class HomeService:
    def __init__(
        self,
        store: Store,
        changes: ChangeService,
        nudges: NudgeService,
        workspaces: WorkspaceSettingsService,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.changes, self.nudges, self.workspaces, self.now = store, changes, nudges, workspaces, now
        self._openers_by_workspace: dict[int, tuple[float, set[str]]] = {}

    def opened(self, team: Team, user_id: str) -> HomePage:
        """Remember that this person looks at their Home (so changes keep it current), then build it."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        now = self.now()
        seen = (
            update(Person)
            .where(Person.workspace_id == workspace_id, Person.user_id == user_id)
            .values(home_opened_at=now)
        )
        try:
            with self.store.session() as session:
                if session.execute(seen).rowcount == 0:
                    # The clock has not met them yet; its next sync fills in the rest of the row.
                    session.add(Person(workspace_id=workspace_id, user_id=user_id, unanswered=0, home_opened_at=now))
        except IntegrityError:
            with self.store.session() as session:  # a second open at the same moment created the row first
                session.execute(seen)
        if workspace_id in self._openers_by_workspace:
            self._openers_by_workspace[workspace_id][1].add(user_id)
        return self.page(team, user_id)

    def watching(self, team: Team, user_ids: Iterable[str | None]) -> list[str]:
        """Those of these people who have opened their Home, so it is worth re-publishing."""
        wanted = [u for u in dict.fromkeys(user_ids) if u]
        if not wanted:
            return []
        opened = self._openers(self.store.workspace_id(team.platform, team.external_id))
        return [u for u in wanted if u in opened]

    def _openers(self, workspace_id: int) -> set[str]:
        """Who in the workspace has ever opened their Home, read at most once a minute per process: every
        thank-you and backing asks, and a query each time was a fifth of /thanks (benchmarks/README.md).
        An open seen by another process is picked up within the minute."""
        loaded_at, openers = self._openers_by_workspace.get(workspace_id, (None, set()))
        if loaded_at is None or time.monotonic() - loaded_at > OPENERS_FRESH_FOR:
            query = select(Person.user_id).where(
                Person.workspace_id == workspace_id, Person.home_opened_at.is_not(None)
            )
            with self.store.session() as session:
                openers = set(session.scalars(query))
            self._openers_by_workspace[workspace_id] = (time.monotonic(), openers)
        return openers

    def page(self, team: Team, user_id: str) -> HomePage:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        to_me = select(ThanksRecipient.thanks_id).where(
            ThanksRecipient.workspace_id == workspace_id, ThanksRecipient.recipient_id == user_id
        )
        received = Thanks.workspace_id == workspace_id, Thanks.id.in_(to_me)
        given = Thanks.workspace_id == workspace_id, Thanks.giver_id == user_id
        backed = select(Backing.change_id).where(Backing.workspace_id == workspace_id, Backing.user_id == user_id)
        mine = (
            Change.workspace_id == workspace_id,
            or_(Change.suggester_id == user_id, Change.owner_id == user_id, Change.id.in_(backed)),
        )
        newest = (Thanks.created_at.desc(), Thanks.id.desc())
        with self.store.session() as session:
            received_rows = list(
                session.scalars(select(Thanks).where(*received).order_by(*newest).limit(RECEIVED_SHOWN))
            )
            given_rows = list(session.scalars(select(Thanks).where(*given).order_by(*newest).limit(GIVEN_SHOWN)))
            ideas = session.scalars(
                select(Change).where(*mine).order_by(Change.updated_at.desc(), Change.id.desc()).limit(IDEAS_SHOWN)
            )
            ideas = tuple(view_of(c) for c in ideas)
            adopted = session.scalars(
                select(Change)
                .where(
                    Change.workspace_id == workspace_id,
                    Change.status == "adopted",
                    or_(Change.suggester_id == user_id, Change.owner_id == user_id),
                )
                .order_by(Change.updated_at.desc(), Change.id.desc())
                .limit(ADOPTED_SHOWN)
            )
            adopted = tuple(view_of(c) for c in adopted)
            received_total = session.scalar(select(func.count()).select_from(Thanks).where(*received)) or 0
            given_total = session.scalar(select(func.count()).select_from(Thanks).where(*given)) or 0
            ideas_total = session.scalar(select(func.count()).select_from(Change).where(*mine)) or 0
        preferences = self.nudges.preferences(team, user_id)
        return HomePage(
            user_id=user_id,
            received=tuple(self._line(t) for t in received_rows),
            received_total=received_total,
            given=tuple(self._line(t) for t in given_rows),
            given_total=given_total,
            ideas=ideas,
            ideas_total=ideas_total,
            top=tuple(self.changes.open_changes(team, limit=TOP_SHOWN)),
            adopted=adopted,
            nudges=preferences,
            team_cadence=self.workspaces.get(team).cadence,
            today=self.now().astimezone(zone(preferences.tz)).date(),
        )

    @staticmethod
    def _line(thanks: Thanks) -> ThanksLine:
        return ThanksLine(
            giver_id=thanks.giver_id,
            recipient_ids=tuple(r.recipient_id for r in sorted(thanks.recipients, key=lambda r: r.id)),
            reason=thanks.reason,
            values=tuple(v.value for v in sorted(thanks.values, key=lambda v: v.id)),
            private=thanks.private,
            source=thanks.source,
            created_at=thanks.created_at,
        )
