"""Rules for small changes: suggesting, backing, owning and moving an idea through its statuses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.admins import Admins
from bot.core.errors import Refused
from bot.core.freed import answer_of, read_answer
from bot.core.model import OPEN_STATUSES, STATUS_LABELS, STATUSES, ChangeView, Raised, Team
from bot.core.outbox import Message, Outbox
from bot.core.ports import Directory, is_former_colleague, utc_now
from bot.core.words import check_text
from bot.settings import Defaults
from bot.store.db import Store
from bot.store.models import Backing, Change, ChangeEvent, LeaderRaise, TimeFreedAnswer


def raised_of(row: LeaderRaise) -> Raised:
    """A time an idea was raised with leaders, as adapters see it."""
    return Raised(
        id=row.id,
        by=row.raised_by,
        at=row.raised_at,
        needs=tuple(filter(None, row.needs.split(","))),
        note=row.note,
        answer=row.answer,
        answered_by=row.answered_by,
        answered_at=row.answered_at,
        taker_id=row.taker_id,
        said=row.said,
    )


def view_of(change: Change) -> ChangeView:
    """A stored change as adapters see it."""
    return ChangeView(
        id=change.id,
        text=change.text,
        obstacle=change.obstacle,
        within_gift=change.within_gift,
        suggester_id=change.suggester_id,
        owner_id=change.owner_id,
        status=change.status,
        backers=tuple(b.user_id for b in sorted(change.backings, key=lambda b: b.id)),
        channel_id=change.channel_id,
        message_ts=change.message_ts,
        time_freed=answer_of(change.time_freed[-1]) if change.time_freed else None,
        raised=raised_of(change.raises[-1]) if change.raises else None,
    )


def _unnamed(suggester_id: str | None) -> bool:
    """Suggested anonymously, or by someone since erased: nobody can answer for it as its suggester."""
    return suggester_id is None or is_former_colleague(suggester_id)


def stored_change(store: Store, session, team: Team, change_id: int, lock: dict | None = None) -> Change:
    """The change with this id in this workspace (its row locked as `lock` says, for update); Refused when there is
    none (or it is another workspace's)."""
    workspace_id = store.workspace_id(team.platform, team.external_id)
    change = session.get(Change, change_id, with_for_update=lock)
    if change is None or change.workspace_id != workspace_id:
        raise Refused("That change no longer exists.")
    return change


Cards = Callable[[ChangeView], Iterable[Message]]  # the messages that show a change as it now stands


def no_messages(_change: ChangeView) -> tuple[Message, ...]:
    return ()


class ChangeService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        defaults: Defaults,
        outbox: Outbox,
        admins: Admins,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.directory, self.defaults, self.now = store, directory, defaults, now
        self.outbox, self.admins = outbox, admins

    def suggest(
        self,
        team: Team,
        suggester_id: str,
        text: str,
        *,
        anonymous: bool = False,
        obstacle: str | None = None,
        within_gift: bool | None = None,
        channel_id: str | None = None,
        cards: Cards = no_messages,
    ) -> ChangeView:
        """Record an idea, with the messages that post its card. Anonymous ideas store no suggester at all."""
        text = text.strip()
        obstacle = (obstacle or "").strip() or None
        limit = self.defaults.change_max_chars
        if not text:
            raise Refused("What's the small change? Describe it in a sentence, for example: one shared visit diary.")
        for label, value, field in (("The idea", text, "change"), ("What gets in the way", obstacle or "", "obstacle")):
            check_text(label, value, field=field)
            if len(value) > limit:
                raise Refused(
                    f"{label} is {len(value):,} characters; the limit is {limit:,}. Please shorten it.", field=field
                )
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        now = self.now()
        with self.store.session() as session:
            change = Change(
                workspace_id=workspace_id,
                text=text,
                obstacle=obstacle,
                within_gift=within_gift,
                suggester_id=None if anonymous else suggester_id,
                status="idea",
                channel_id=channel_id,
                created_at=now,
                updated_at=now,
                backings=[],
            )
            session.add(change)
            session.flush()
            self._event(session, change, None if anonymous else suggester_id, "created", None, "idea")
            return self._shown(session, change, cards)

    def place_card(self, team: Team, change_id: int, channel_id: str, message_ts: str) -> None:
        """Remember where the idea card is so it can be updated in place."""
        with self.store.session() as session:
            change = self._get(session, team, change_id)
            change.channel_id, change.message_ts = channel_id, message_ts

    def get(self, team: Team, change_id: int) -> ChangeView:
        """The change as stored, read between changes to it, never during one (see _shown): a card is rendered
        from this as it is sent."""
        with self.store.session() as session:
            return view_of(self._get(session, team, change_id, lock={"read": True}))

    def show_again(self, team: Team, change_id: int, cards: Cards) -> ChangeView:
        """Write the messages that show the change as stored (a refused status choice puts the menu back)."""
        with self.store.session() as session:
            return self._shown(session, self._get(session, team, change_id), cards)

    def toggle_backing(
        self, team: Team, change_id: int, user_id: str, cards: Cards = no_messages
    ) -> tuple[ChangeView, bool]:
        """Back the change, or withdraw an earlier backing. Returns the change and whether it is now backed."""
        try:
            with self.store.session() as session:
                change = self._get(session, team, change_id)
                mine = next((b for b in change.backings if b.user_id == user_id), None)
                if mine is not None:
                    # A statement, not an ORM delete: when the same person's double-click withdraws twice at
                    # once, the second finds the row already gone, which is fine.
                    session.execute(delete(Backing).where(Backing.id == mine.id))
                    backed = False
                else:
                    session.add(
                        Backing(
                            workspace_id=change.workspace_id,
                            change_id=change.id,
                            user_id=user_id,
                            created_at=self.now(),
                        )
                    )
                    backed = True
                session.flush()
                session.refresh(change)  # the backers as stored now, including anyone who clicked meanwhile
                return self._shown(session, change, cards), backed
        except IntegrityError:
            # A simultaneous click by the same person backed it first; one backing stands.
            return self.get(team, change_id), True

    def take_on(self, team: Team, change_id: int, user_id: str, cards: Cards = no_messages) -> ChangeView:
        """Become the owner. Only one of several people clicking at once gets it; the others are told who did."""
        with self.store.session() as session:
            change = self._get(session, team, change_id)
            claimed = change.owner_id is None and self._set_owner(session, change, expected=None, owner=user_id)
            if not claimed:
                if change.owner_id == user_id:
                    raise Refused("You already own this change.")
                owner = self._name(team, change.owner_id)
                raise Refused(
                    f"{owner} already owns this change. Ask them to hand it back if you'd like to take it on."
                )
            self._event(session, change, user_id, "owner", None, user_id)
            return self._shown(session, change, cards)

    def hand_back(self, team: Team, change_id: int, user_id: str, cards: Cards = no_messages) -> ChangeView:
        with self.store.session() as session:
            change = self._get(session, team, change_id)
            handed = change.owner_id == user_id and self._set_owner(session, change, expected=user_id, owner=None)
            if not handed:
                owner = self._name(team, change.owner_id) if change.owner_id else "nobody"
                raise Refused(f"Only the owner can hand this change back, and that's {owner}.")
            self._event(session, change, user_id, "owner", user_id, None)
            return self._shown(session, change, cards)

    def _set_owner(self, session, change: Change, *, expected: str | None, owner: str | None) -> bool:
        """Change the owner only if it is still `expected` when the row is written, so two people taking it
        on at once cannot both win. Afterwards `change` shows what is stored, whoever won."""
        still = Change.owner_id.is_(None) if expected is None else Change.owner_id == expected
        written = session.execute(
            update(Change)
            .where(Change.id == change.id, still)
            .values(owner_id=owner, updated_at=self.now())
            .execution_options(synchronize_session=False)
        )
        session.refresh(change)
        return written.rowcount == 1

    def set_status(
        self, team: Team, change_id: int, actor_id: str, status: str, cards: Cards = no_messages
    ) -> ChangeView:
        """Only the owner, the suggester or an admin may move a change. A refused choice names the status field, so
        a menu can show the stored status again."""
        if status not in STATUSES:
            raise Refused(f"Unknown status {status!r}.", field="status")
        with self.store.session() as session:
            change = self._get(session, team, change_id)
            if actor_id not in (change.owner_id, change.suggester_id) and not self.admins.includes(team, actor_id):
                raise Refused(self._who_can_change(team, change), field="status")
            if change.status != status:
                change.updated_at = self.now()
                self._event(session, change, actor_id, "status", change.status, status)
                change.status = status
                session.flush()
            return self._shown(session, change, cards)

    # -- time freed ---------------------------------------------------------------------------------------------------
    def may_say_time_freed(self, team: Team, change: ChangeView, user_id: str | None) -> bool:
        """Whether this person may say how much time an adopted change frees: its owner or the person who suggested
        it; for an anonymous idea (or one whose suggester was erased), its owner or an admin."""
        if change.status != "adopted" or not user_id:
            return False
        if user_id in (change.owner_id, change.suggester_id):
            return True
        return _unnamed(change.suggester_id) and self.admins.includes(team, user_id)

    def time_freed_question(self, team: Team, change_id: int, user_id: str) -> ChangeView:
        """The change, to ask this person how much time it frees; Refused, saying who may, for anyone else."""
        change = self.get(team, change_id)
        self._check_may_say_time(team, change, user_id)
        return change

    def say_time_freed(
        self,
        team: Team,
        change_id: int,
        user_id: str,
        *,
        minutes: object = None,
        people: object = None,
        benefit: object = None,
        note: object = None,
        cards: Cards = no_messages,
    ) -> ChangeView:
        """Record how much time an adopted change frees (minutes a week, for how many people) or, not about time,
        what it does. Each answer is kept, with who and when; the latest is the one shown and summed. Raises Refused
        naming the field that is wrong, or saying who may answer."""
        minutes, people, benefit, note = read_answer(minutes, people, benefit, note)
        with self.store.session() as session:
            change = self._get(session, team, change_id)
            self._check_may_say_time(team, view_of(change), user_id)
            change.updated_at = self.now()
            change.time_freed.append(
                TimeFreedAnswer(
                    workspace_id=change.workspace_id,
                    change_id=change.id,
                    actor_id=user_id,
                    minutes=minutes,
                    people=people,
                    benefit=benefit,
                    note=note,
                    at=change.updated_at,
                )
            )
            session.flush()
            return self._shown(session, change, cards)

    def _check_may_say_time(self, team: Team, change: ChangeView, user_id: str) -> None:
        if not self.may_say_time_freed(team, replace(change, status="adopted"), user_id):
            who = [f"its owner ({self._name(team, change.owner_id)})"] if change.owner_id else []
            if _unnamed(change.suggester_id):
                who.append("a workspace admin")
            else:
                who.append(f"the person who suggested it ({self._name(team, change.suggester_id)})")
            raise Refused(f"Only {' or '.join(who)} can say how much time this change frees.")
        if change.status != "adopted":
            status = STATUS_LABELS[change.status].lower()
            raise Refused(f"You can say how much time a change frees once it's adopted; this one is {status}.")

    def open_changes(self, team: Team, limit: int = 20) -> list[ChangeView]:
        """The workspace's open ideas, most-backed first."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        backers = func.count(Backing.id)
        query = (
            select(Change)
            .outerjoin(Backing, Backing.change_id == Change.id)
            .where(Change.workspace_id == workspace_id, Change.status.in_(OPEN_STATUSES))
            .group_by(Change.id)
            .order_by(backers.desc(), Change.created_at.desc(), Change.id.desc())
            .limit(limit)
        )
        with self.store.session() as session:
            return [view_of(c) for c in session.scalars(query)]

    def mine(self, team: Team, user_id: str, limit: int = 20) -> list[ChangeView]:
        """Changes this person suggested (by name), owns or backs."""
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        backed = select(Backing.change_id).where(Backing.user_id == user_id)
        query = (
            select(Change)
            .where(
                Change.workspace_id == workspace_id,
                or_(Change.suggester_id == user_id, Change.owner_id == user_id, Change.id.in_(backed)),
            )
            .order_by(Change.updated_at.desc(), Change.id.desc())
            .limit(limit)
        )
        with self.store.session() as session:
            return [view_of(c) for c in session.scalars(query)]

    def _who_can_change(self, team: Team, change: Change) -> str:
        who = []
        if change.owner_id:
            who.append(f"its owner ({self._name(team, change.owner_id)})")
        if change.suggester_id:
            who.append(f"the person who suggested it ({self._name(team, change.suggester_id)})")
        who.append("a workspace admin")
        hint = "" if change.owner_id else " Take it on first if you'd like to move it along."
        return f"Only {', '.join(who[:-1]) + ' or ' if len(who) > 1 else ''}{who[-1]} can change this.{hint}"

    def _name(self, team: Team, user_id: str) -> str:
        person = self.directory.person(team, user_id)
        return person.name if person else "a former colleague"

    def _get(self, session, team: Team, change_id: int, lock: dict | None = None) -> Change:
        return stored_change(self.store, session, team, change_id, lock)

    def _shown(self, session, change: Change, cards: Cards) -> ChangeView:
        """The change as stored now, with the messages that show it written in the same transaction. Its row stays
        locked from before the messages are written until the transaction ends, and a card is rendered (get) only
        outside that: so on PostgreSQL, where other processes send the outbox meanwhile, a card update this change
        leaves to one already waiting is not rendered before this change is saved, and two changes made at once
        write their updates one after the other, in order. Otherwise the card could be left showing the state
        before the last click. (SQLite writes one transaction at a time anyway.)"""
        session.execute(select(Change.id).where(Change.id == change.id).with_for_update(key_share=True))
        view = view_of(change)
        self.outbox.add(session, change.workspace_id, cards(view))
        return view

    @staticmethod
    def _event(session, change: Change, actor_id, kind: str, old, new) -> None:
        session.add(
            ChangeEvent(
                workspace_id=change.workspace_id,
                change_id=change.id,
                actor_id=actor_id,
                kind=kind,
                old=old,
                new=new,
                at=change.updated_at,
            )
        )
