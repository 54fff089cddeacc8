"""Rules for giving thanks: who can be thanked, the daily cap, values, and recording it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Insert, Select, and_, bindparam, func, insert, or_, select
from sqlalchemy.exc import IntegrityError

from bot.core.errors import Refused, StoreUnavailable
from bot.core.model import SOURCES, GivenThanks, Person, Team, ThanksRequest, zone
from bot.core.outbox import Message, Outbox
from bot.core.ports import Directory, utc_now
from bot.core.words import check_text
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults
from bot.store.db import Store
from bot.store.models import Thanks, ThanksRecipient, ThanksValue

TAG = re.compile(r"#([\w-]+)")
YOURSELF = "You can't thank yourself, though it sounds like you did something worth thanking!"


class AlreadyCounted(Refused):
    """A retried event, or the same reaction removed and added again: it was counted the first time."""


class NotAPerson(Refused):
    """A bot or someone the platform does not know: a reaction on their message is simply not thanks."""


def value_key(text: str) -> str:
    """`#Open-To-New-Ideas`, `#opentonewideas` and "open to new ideas" all match."""
    return re.sub(r"[\W_]+", "", text.lower())


def tagged_values(reason: str, values: Iterable[str]) -> tuple[str, ...]:
    """The configured values the reason tags, in the order they were written; unknown tags are ignored."""
    by_key = {value_key(v): v for v in values}
    found: list[str] = []
    for tag in TAG.findall(reason):
        value = by_key.get(value_key(tag))
        if value and value not in found:
            found.append(value)
    return tuple(found)


RECORDED = (
    "workspace_id", "giver_id", "reason", "private", "channel_id", "created_at", "giver_day",
    "via", "source", "event_id", "message_ref",
)  # fmt: skip


def _record_within_cap() -> Insert:
    """One statement that counts the giver's thanks today and, below the cap, inserts the next one as
    `daily_seq` count + 1, returning its id (no row at the cap). /thanks is the hot path: as Core, built
    once, it costs one round trip and none of the ORM's bookkeeping (benchmarks/README.md)."""
    thanks = Thanks.__table__
    today = (
        select(func.count().label("given"))
        .where(
            thanks.c.workspace_id == bindparam("workspace_id"),
            thanks.c.giver_id == bindparam("giver_id"),
            thanks.c.giver_day == bindparam("giver_day"),
        )
        .cte("today")
    )
    fields = [bindparam(name, type_=thanks.c[name].type) for name in RECORDED]
    next_one = select(*fields, today.c.given + 1).where(today.c.given < bindparam("cap"))
    return insert(thanks).from_select([*RECORDED, "daily_seq"], next_one).returning(thanks.c.id)


RECORD_WITHIN_CAP = _record_within_cap()


def _until(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


Announce = Callable[[GivenThanks], Iterable[Message]]


class ThanksService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        defaults: Defaults,
        workspaces: WorkspaceSettingsService,
        outbox: Outbox,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.directory, self.defaults, self.now = store, directory, defaults, now
        self.workspaces = workspaces  # the daily cap and the values are each workspace's own
        self.outbox = outbox

    def give(self, team: Team, request: ThanksRequest, messages: Announce = lambda _given: ()) -> GivenThanks:
        """Check every rule, then record the thanks with the messages that must follow it (its post, the DMs), in
        one transaction; raises Refused (nothing stored) or StoreUnavailable."""
        limits = self.defaults
        if request.groups:
            raise Refused(
                f"Thanks go to people, not to {', '.join(request.groups)}. Mention each person you'd like to thank. "
                "Nothing was posted."
            )
        if request.unresolved_names:
            names = ", ".join(request.unresolved_names)
            raise Refused(f"I couldn't find {names}. Mention each person by typing @ and choosing their name.")
        recipient_ids = tuple(dict.fromkeys(request.recipient_ids))
        if not recipient_ids:
            raise Refused(
                "Who would you like to thank? Start with a mention of each person, e.g. @Bob for covering my visit."
            )
        if request.source is not None and request.source not in SOURCES:
            raise Refused(f"Thanks can be passed on from {', '.join(SOURCES.values())}.")
        if request.giver_id in recipient_ids:
            if request.source:
                raise Refused(
                    f"Thanks from {SOURCES[request.source]} to you is best passed on by a colleague, so the team "
                    "hears it from someone else: ask a teammate or your manager to share it."
                )
            raise Refused(YOURSELF)
        if len(recipient_ids) > limits.max_recipients:
            raise Refused(f"A thank-you can go to at most {limits.max_recipients} people at once.")
        reason = check_text("Your reason", request.reason.strip(), field="reason")
        if not reason:
            raise Refused(
                'What are you thanking them for? Add a reason after the names, e.g. "for covering my visit".',
                field="reason",
            )
        if len(reason) > limits.reason_max_chars:
            raise Refused(
                f"That reason is {len(reason):,} characters; the limit is {limits.reason_max_chars:,}. "
                "Please shorten it and try again.",
                field="reason",
            )
        recipients = tuple(self._thankable(team, user_id) for user_id in recipient_ids)
        giver = self.directory.person(team, request.giver_id) or Person(request.giver_id, "you")
        config = self.workspaces.get(team)
        values = tagged_values(reason, config.values)

        def given(thanks_id: int) -> GivenThanks:
            return GivenThanks(
                thanks_id, giver, recipients, reason, values, request.private, request.source, request.via
            )

        thanks_id = self._record(
            team, giver, recipients, reason, values, request, config.thanks_daily_cap, given, messages
        )
        return given(thanks_id)

    def thanks_by_reaction(self, team: Team, reaction: str) -> bool:
        """Whether a reaction with this emoji (its name, any skin tone left off) thanks the message's author: the
        workspace's chosen thanks reaction does. With the database down the default one counts, so its thanks is
        then told it wasn't saved rather than passing unnoticed."""
        try:
            wanted = self.workspaces.get(team).thanks_reaction
        except StoreUnavailable:
            wanted = self.workspaces.defaults.thanks_reaction
        return reaction == wanted

    def recipient(self, team: Team, giver_id: str, user_id: str) -> Person:
        """Whom `giver_id` may thank, checked before a form is opened for them; raises Refused if no one."""
        if user_id == giver_id:
            raise Refused(YOURSELF)
        return self._thankable(team, user_id)

    def _thankable(self, team: Team, user_id: str) -> Person:
        person = self.directory.person(team, user_id)
        if person is None:
            raise NotAPerson(
                "I couldn't find one of the people you mentioned. Mention them by typing @ and choosing their name."
            )
        if person.is_bot:
            raise NotAPerson(f"{person.name} is a bot, so there's no one to thank there. Thank a person instead.")
        if person.deleted:
            raise Refused(f"{person.name}'s account has been deactivated, so they can't receive thanks.")
        return person

    def _record(self, team, giver: Person, recipients, reason, values, request, cap: int, given, messages) -> int:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        now = self.now()
        local = now.astimezone(zone(giver.tz))
        row = dict(
            workspace_id=workspace_id,
            giver_id=giver.id,
            reason=reason,
            private=request.private,
            channel_id=request.channel_id,
            created_at=now,
            giver_day=local.date(),
            via=request.via,
            source=request.source,
            event_id=request.event_id,
            message_ref=request.message_ref,
            cap=cap,
        )
        counted = self._counted_before(workspace_id, request)
        for _attempt in range(cap + 1):
            try:
                with self.store.transaction() as conn:
                    if counted is not None and conn.scalar(counted) is not None:
                        raise AlreadyCounted("That was already counted as a thank-you.")
                    thanks_id = conn.scalar(RECORD_WITHIN_CAP, row)
                    if thanks_id is None:
                        raise Refused(self._cap_message(cap, local))
                    conn.execute(
                        insert(ThanksRecipient.__table__),
                        [dict(workspace_id=workspace_id, thanks_id=thanks_id, recipient_id=p.id) for p in recipients],
                    )
                    if values:
                        conn.execute(
                            insert(ThanksValue.__table__),
                            [dict(workspace_id=workspace_id, thanks_id=thanks_id, value=v) for v in values],
                        )
                    self.outbox.add(conn, workspace_id, messages(given(thanks_id)))
                    return thanks_id
            except IntegrityError:
                # Another /thanks from the same giver took this slot first: count again. Or the same event was
                # delivered twice at once: the check above finds it next time round.
                continue
        raise Refused("Too many thank-yous at once; please try again.")

    @staticmethod
    def _counted_before(workspace_id: int, request: ThanksRequest) -> Select | None:
        """The thanks this one repeats, if any: the same platform event, or the same person's reaction on the
        same message (added, removed and added again). None when nothing can repeat (a command, a form)."""
        same = []
        if request.event_id:
            same.append(Thanks.event_id == request.event_id)
        if request.via == "reaction" and request.message_ref:
            same.append(
                and_(
                    Thanks.giver_id == request.giver_id,
                    Thanks.via == "reaction",
                    Thanks.message_ref == request.message_ref,
                )
            )
        if not same:
            return None
        return select(Thanks.id).where(Thanks.workspace_id == workspace_id, or_(*same)).limit(1)

    @staticmethod
    def _cap_message(cap: int, local: datetime) -> str:
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), local.tzinfo)
        return (
            f"You've given {cap} thank-yous today, the daily limit. It resets at midnight your time "
            f"({local.tzinfo.key}), in {_until(midnight.astimezone(UTC) - local.astimezone(UTC))}. Nothing was posted."
        )
