"""Ideas that are not within the team's gift, raised with leaders.

The owner or the suggester of an idea marked as needing someone outside the team (an anonymous idea has no suggester:
its owner or an admin) raises it, saying what it needs. It goes to the leadership channel and to the named leaders an
admin chose (or LEADERSHIP_CHANNEL and LEADER_USER_IDS), with buttons to answer; with neither set it is refused.
The named leaders and the workspace's admins answer: we'll take this up (with who), need more information (a question
for the owner) or not now (with a reason). Every answer is told to the owner, the suggester, whoever raised it or
takes it up, and the backers, each in their DM. The core decides all of this; adapters write the messages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from bot.core.admins import Admins
from bot.core.changes import Cards, no_messages, raised_of, stored_change, view_of
from bot.core.errors import Refused
from bot.core.model import (
    CLOSED_STATUSES,
    LEADER_ANSWERS,
    MORE_INFO,
    NEEDS,
    NOT_NOW,
    STATUS_LABELS,
    TAKE_UP,
    ChangeView,
    LeaderNews,
    Raised,
    Team,
    WorkspaceConfig,
)
from bot.core.outbox import Message, Outbox
from bot.core.ports import FORMER_COLLEAGUE, Directory, is_former_colleague, utc_now
from bot.core.words import check_text
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults
from bot.store.db import Store
from bot.store.models import Change, LeaderRaise

NO_LEADERS = (
    "There's no one to raise it with yet: an admin must choose a leadership channel or name leaders in Small Changes' "
    "settings (admin)."
)
NOT_A_LEADER = "Only the leaders named in Small Changes' settings, or an admin, can answer for leaders."
GONE = "That request to leaders no longer exists."

Tell = Callable[[LeaderNews], Iterable[Message]]  # the messages that tell people, as an adapter writes them


def no_news(_news: LeaderNews) -> tuple[Message, ...]:
    return ()


def day(at: datetime) -> str:
    """A date as every message about leaders writes it, e.g. "24 Nov 2026" (UTC)."""
    return f"{at:%-d %b %Y}"


class LeaderService:
    """The platform's directory (who is an admin, people's names) is asked outside any transaction: never while a
    write holds the database."""

    def __init__(
        self,
        store: Store,
        directory: Directory,
        defaults: Defaults,
        workspaces: WorkspaceSettingsService,
        outbox: Outbox,
        admins: Admins,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.directory, self.defaults, self.workspaces = store, directory, defaults, workspaces
        self.outbox, self.admins, self.now = outbox, admins, now

    # -- raising -------------------------------------------------------------------------------------------------
    def check_raise(self, team: Team, change_id: int, actor_id: str) -> ChangeView:
        """The idea, if `actor_id` may raise it with leaders now: asked before its form opens, so nobody fills in a
        form only to be told no. Raises Refused saying why not."""
        config = self.workspaces.get(team)
        with self.store.session() as session:
            change = view_of(stored_change(self.store, session, team, change_id))
        self._may_raise(team, change, actor_id, config)
        return change

    def raise_with_leaders(
        self,
        team: Team,
        change_id: int,
        actor_id: str,
        needs: Iterable[str],
        note: str | None = None,
        cards: Cards = no_messages,
        tell: Tell = no_news,
    ) -> ChangeView:
        """Record the raise with the messages that take it to the leadership channel and the named leaders (`tell`)
        and bring the idea's card up to date (`cards`), in one transaction. Raises Refused."""
        chosen = tuple(dict.fromkeys(needs))
        if not chosen or any(need not in NEEDS for need in chosen):
            raise Refused(f"Choose what it needs: {', '.join(NEEDS.values())}.", field="needs")
        note = self._words("Your note", note, "note")
        self.check_raise(team, change_id, actor_id)  # who may, with names: asked of the platform outside the write
        config = self.workspaces.get(team)
        now = self.now()
        try:
            with self.store.session() as session:
                row = stored_change(self.store, session, team, change_id)
                if not view_of(row).raisable:  # moved on since the check, a moment ago
                    raise Refused("It can't be raised with leaders just now: its card shows where it stands.")
                row.raises.append(
                    LeaderRaise(
                        workspace_id=row.workspace_id,
                        change_id=row.id,
                        raised_by=actor_id,
                        raised_at=now,
                        needs=",".join(chosen),
                        note=note,
                    )
                )
                row.updated_at = now
                session.flush()
                change = view_of(row)
                news = LeaderNews(change, config.leadership_channel, config.leaders)
                self.outbox.add(session, row.workspace_id, [*cards(change), *tell(news)])
                return change
        except IntegrityError:  # raised by someone else this very moment: one raise waits at a time
            raise Refused("It has just been raised with leaders; their answer will show on its card.") from None

    def _may_raise(self, team: Team, change: ChangeView, actor_id: str, config: WorkspaceConfig) -> None:
        if change.within_gift is not False:
            raise Refused("Only ideas marked as needing someone outside the team are raised with leaders.")
        if change.status in CLOSED_STATUSES:
            status = STATUS_LABELS[change.status].lower()
            raise Refused(f"This idea is {status}, so there's nothing to raise with leaders.")
        mine = actor_id in (change.owner_id, change.suggester_id)
        if not (mine or (change.suggester_id is None and self.admins.includes(team, actor_id))):
            owner = f"its owner ({self._name(team, change.owner_id)})" if change.owner_id else None
            other = (
                f"the person who suggested it ({self._name(team, change.suggester_id)})" if change.suggester_id else ""
            )
            who = " or ".join(filter(None, (owner, other or "an admin")))
            hint = "" if change.owner_id else " Take it on first if you'd like to raise it yourself."
            raise Refused(f"Only {who} can raise it with leaders.{hint}")
        raised = change.raised
        if raised is not None and raised.answer is None:
            raise Refused(f"It was raised with leaders on {day(raised.at)} and is waiting for their answer.")
        if raised is not None and raised.answer == TAKE_UP:
            raise Refused(f"Leaders have taken this up already: {self._name(team, raised.taker_id)} is on it.")
        if not (config.leadership_channel or config.leaders):
            raise Refused(NO_LEADERS)

    # -- answering -----------------------------------------------------------------------------------------------
    def check_answer(self, team: Team, raise_id: int, actor_id: str) -> ChangeView:
        """The idea waiting for leaders, if `actor_id` may answer it (asked before the answer's form opens); raises
        Refused saying why not: not a leader, or already answered."""
        self._may_answer(team, actor_id, self.workspaces.get(team))
        with self.store.session() as session:
            row = self._raise(session, team, raise_id)
            raised, change = raised_of(row), view_of(session.get(Change, row.change_id))
        if raised.answer is not None:
            raise Refused(self._answered(team, raised))
        return change

    def answer(
        self,
        team: Team,
        raise_id: int,
        actor_id: str,
        answer: str,
        said: str | None = None,
        taker_id: str | None = None,
        cards: Cards = no_messages,
        tell: Tell = no_news,
    ) -> ChangeView:
        """A leader's answer, recorded with who and when, with the messages that tell everyone it concerns (`tell`,
        see `told`) and bring the idea's card up to date (`cards`). Only the first answer to a raise counts: a second
        leader is told who answered. Raises Refused."""
        if answer not in LEADER_ANSWERS:
            raise Refused(f"Choose one of the answers: {', '.join(LEADER_ANSWERS.values())}.")
        said = self._words("Your answer", said, "said")
        if answer == MORE_INFO and not said:
            raise Refused("Write your question for the owner: it's what they will answer.", field="said")
        if answer == NOT_NOW and not said:
            raise Refused("Say why not now: a reason is required, so the team knows where it stands.", field="said")
        taker = (taker_id or actor_id) if answer == TAKE_UP else None
        self._may_answer(team, actor_id, self.workspaces.get(team))
        if taker is not None and taker != actor_id:
            self._can_take_up(team, taker)
        now = self.now()
        with self.store.session() as session:
            row = self._raise(session, team, raise_id)
            change = session.get(Change, row.change_id)
            written = session.execute(
                update(LeaderRaise)
                .where(LeaderRaise.id == row.id, LeaderRaise.answer.is_(None))
                .values(answer=answer, answered_by=actor_id, answered_at=now, taker_id=taker, said=said)
                .execution_options(synchronize_session=False)
            )
            session.refresh(row)  # as stored now, whoever answered first
            if written.rowcount == 1:
                change.updated_at = now
                session.flush()
                view = view_of(change)
                news = LeaderNews(view, None, told(view, actor_id))
                self.outbox.add(session, change.workspace_id, [*cards(view), *tell(news)])
                return view
            first = raised_of(row)
        raise Refused(self._answered(team, first))

    def _may_answer(self, team: Team, actor_id: str, config: WorkspaceConfig) -> None:
        """The rule: the leaders named in the settings (or LEADER_USER_IDS), and admins. Who is in the leadership
        channel is not asked: anyone may join a public channel."""
        if actor_id not in config.leaders and not self.admins.includes(team, actor_id):
            raise Refused(NOT_A_LEADER)

    def _can_take_up(self, team: Team, user_id: str) -> None:
        person = self.directory.person(team, user_id)
        if person is None or person.is_bot:
            raise Refused("I couldn't find that person. Choose who will take it up from the list.", field="taker")
        if person.deleted:
            raise Refused(f"{person.name}'s account has been deactivated: choose someone else.", field="taker")

    def _raise(self, session, team: Team, raise_id: int) -> LeaderRaise:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        row = session.get(LeaderRaise, raise_id)
        if row is None or row.workspace_id != workspace_id:
            raise Refused(GONE)
        return row

    def _answered(self, team: Team, raised: Raised) -> str:
        who = self._name(team, raised.answered_by)
        return f"{who} already answered on {day(raised.answered_at)}: {LEADER_ANSWERS[raised.answer]}."

    def _words(self, label: str, text: str | None, field: str) -> str | None:
        text = check_text(label, (text or "").strip(), field=field)
        limit = self.defaults.change_max_chars
        if len(text) > limit:
            raise Refused(
                f"{label} is {len(text):,} characters; the limit is {limit:,}. Please shorten it.", field=field
            )
        return text or None

    def _name(self, team: Team, user_id: str | None) -> str:
        person = self.directory.person(team, user_id) if user_id and not is_former_colleague(user_id) else None
        return person.name if person else FORMER_COLLEAGUE


def told(change: ChangeView, answerer: str) -> tuple[str, ...]:
    """Everyone a leaders' answer concerns, once each: the owner, the suggester (an anonymous idea stores none, so its
    author is never told), whoever raised it and whoever takes it up, and the backers; not the leader who answered,
    nor anyone erased."""
    raised = change.raised
    people = (change.owner_id, change.suggester_id, raised.by if raised else None, raised and raised.taker_id)
    return tuple(
        p for p in dict.fromkeys((*people, *change.backers)) if p and p != answerer and not is_former_colleague(p)
    )
