"""Export a workspace's records, and erase one person's personal data on request."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import delete, func, or_, select, update

from bot.core.admins import Actor, Admins
from bot.core.errors import Refused
from bot.core.model import Team
from bot.core.ports import FORMER_PREFIX, former_colleague_id, is_former_colleague, utc_now
from bot.store.db import Store
from bot.store.models import (
    Backing,
    Change,
    ChangeEvent,
    LeaderRaise,
    NudgeResponse,
    OutboxMessage,
    Person,
    Send,
    SettingsChange,
    TeamsAddress,
    Thanks,
    ThanksRecipient,
    ThanksValue,
    TimeFreedAnswer,
    Workspace,
    WorkspaceSettings,
)

PRIVATE_NOTE = "Private thanks are counted, never quoted: their reason is left out of every export."
FORMER_NOTE = f"An id starting with {FORMER_PREFIX!r} is a former colleague whose personal data was erased."
TIME_FREED_NOTE = (
    "time_freed is an adopted idea's latest answer to how much time it frees (minutes a week for each of so many "
    "people, or what it does if not about time); time_freed_history keeps every answer."
)
PRIVATE_CELL = "(private: not quoted)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would run as a formula
NOT_ADMIN = (
    "Only workspace admins and owners (and people the bot's operator has named) can export the team's records. "
    "Nothing was exported."
)


PEOPLE_SETTINGS = ("managers", "admins", "leaders")  # settings that list people
RAISE_PEOPLE = ("raised_by", "answered_by", "taker_id")  # who a raise with leaders names


class UnknownWorkspace(Refused):
    """Nothing has ever been recorded for this workspace here."""


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def safe_cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ would otherwise make it a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


@dataclass(frozen=True)
class Export:
    """One workspace's thanks, ideas (with their history) and nudge outcomes, in plain data."""

    workspace: str
    exported_at: datetime
    since: date | None
    thanks: list[dict]
    ideas: list[dict]
    nudges: list[dict]

    def document(self) -> dict:
        return {
            "workspace": self.workspace,
            "exported_at": self.exported_at.isoformat(),
            "since": self.since.isoformat() if self.since else None,
            "notes": [PRIVATE_NOTE, FORMER_NOTE, TIME_FREED_NOTE],
            "thanks": self.thanks,
            "ideas": self.ideas,
            "nudges": self.nudges,
        }

    def to_json(self) -> str:
        return json.dumps(self.document(), indent=2, ensure_ascii=False)

    def csv_files(self) -> dict[str, str]:
        """Six tables, by file name: the idea history, the answers about time freed, the nudge answers and the times
        ideas were raised with leaders (each with its answer) flattened to one row per event, answer, send or raise."""
        thanks = [
            t
            | {
                "recipients": "; ".join(t["recipients"]),
                "values": "; ".join(t["values"]),
                "private": _yes_no(t["private"]),
                "reason": PRIVATE_CELL if t["private"] else t["reason"],
            }
            for t in self.thanks
        ]
        ideas = [
            i
            | {"within_gift": _yes_no(i["within_gift"])}
            | {f"time_freed_{k}": v for k, v in (i["time_freed"] or {}).items() if k not in ("at", "by")}
            for i in self.ideas
        ]
        history = [{"idea_id": i["id"]} | event for i in self.ideas for event in i["history"]]
        freed = [{"idea_id": i["id"]} | answer for i in self.ideas for answer in i["time_freed_history"]]
        raised = [{"idea_id": i["id"]} | r | {"needs": "; ".join(r["needs"])} for i in self.ideas for r in i["leaders"]]
        nudges = [
            n | {"responses": "; ".join(f"{r['action']} at {r['at']}" for r in n["responses"])} for n in self.nudges
        ]
        return {
            "thanks.csv": _csv(THANKS_COLUMNS, thanks),
            "ideas.csv": _csv(IDEA_COLUMNS, ideas),
            "idea_history.csv": _csv(HISTORY_COLUMNS, history),
            "time_freed.csv": _csv(TIME_FREED_COLUMNS, freed),
            "nudges.csv": _csv(NUDGE_COLUMNS, nudges),
            "raised_with_leaders.csv": _csv(RAISED_COLUMNS, raised),
        }


THANKS_COLUMNS = ("id", "created_at", "giver", "recipients", "values", "private", "reason", "via", "source", "channel")
FREED_COLUMNS = ("minutes", "people", "minutes_a_week", "not_about_time", "note")
IDEA_COLUMNS = (
    "id",
    "created_at",
    "suggester",
    "owner",
    "status",
    "text",
    "obstacle",
    "within_gift",
    "backers",
) + tuple(f"time_freed_{c}" for c in FREED_COLUMNS)
HISTORY_COLUMNS = ("idea_id", "at", "actor", "kind", "old", "new")
TIME_FREED_COLUMNS = ("idea_id", "at", "by", *FREED_COLUMNS)
RAISED_COLUMNS = (
    "idea_id", "raised_at", "raised_by", "needs", "note", "answer", "answered_at", "answered_by", "taken_up_by", "said",
)  # fmt: skip
NUDGE_COLUMNS = ("id", "kind", "period", "state", "attempts", "sent_at", "arm", "responses")


def _csv(columns: tuple[str, ...], rows: Iterable[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


@dataclass(frozen=True)
class Erasure:
    """What forgetting one person does (or, in a dry run, would do), counted per table."""

    workspace: str
    user_id: str
    dry_run: bool
    people: int = 0
    sends: int = 0
    nudge_responses: int = 0
    backings: int = 0
    thanks_given: int = 0
    thanks_received: int = 0
    thanks_deleted: int = 0
    ideas_suggested: int = 0
    ideas_owned: int = 0
    change_events: int = 0
    time_freed: int = 0  # their answers about the time an adopted change frees
    leader_raises: int = 0  # ideas they raised with leaders, answered as a leader, or took up
    settings_changes: int = 0
    outbox: int = 0
    addresses: int = 0  # where a chat platform reaches them (Teams: their Teams id, name and 1:1 chat)
    manager: bool = False
    admin: bool = False
    leader: bool = False

    @property
    def found(self) -> bool:
        """Whether the database held anything of this person at all."""
        counts = (v for k, v in vars(self).items() if k not in ("workspace", "user_id", "dry_run"))
        return any(counts)

    def lines(self) -> list[str]:
        head = (
            f"Dry run: nothing was changed. Forgetting {self.user_id} in {self.workspace} would do this:"
            if self.dry_run
            else f"Forgot {self.user_id} in {self.workspace}:"
        )
        gone, former = "deleted", "they show as a former colleague"
        rows = [
            ("people", self.people, f"{gone} (profile, nudge choices, App Home)"),
            ("sends", self.sends, f"{gone} (the nudges and digests sent to them)"),
            ("nudge_responses", self.nudge_responses, gone),
            ("backings", self.backings, f"{gone} (the ideas' backer counts drop)"),
            ("thanks they gave", self.thanks_given, f"kept for the people thanked; {former}"),
            ("thanks they received", self.thanks_received, f"kept for the giver; {former}"),
            ("thanks", self.thanks_deleted, f"{gone}: everyone else in them is a former colleague too"),
            ("ideas they suggested", self.ideas_suggested, f"kept, text unchanged; {former}"),
            ("ideas they owned", self.ideas_owned, "kept with no owner, so someone else can take them on"),
            ("change_events", self.change_events, f"kept; {former}"),
            ("time_freed answers", self.time_freed, f"kept; {former}"),
            ("leader_raises", self.leader_raises, f"kept; {former}"),
            ("settings_changes", self.settings_changes, f"kept; {former}"),
            ("outbox", self.outbox, f"{gone} (messages to them or replies to them, sent or waiting)"),
            ("addresses", self.addresses, f"{gone} (how the bot reached them in Teams: id, name, chat)"),
            ("workspace managers", int(self.manager), "removed from the managers list"),
            ("workspace admins", int(self.admin), "removed from the admins list"),
            ("workspace leaders", int(self.leader), "removed from the leaders list"),
        ]
        width = max(len(name) for name, _, _ in rows)
        return [
            head,
            *(f"  {name:<{width}}  {count:>5}  {what}" for name, count, what in rows),
            "Free text others typed (thank-you reasons, ideas) may still name them; that text is not changed.",
        ]


class RecordsService:
    def __init__(self, store: Store, admins: Admins, now: Callable[[], datetime] = utc_now):
        self.store, self.admins, self.now = store, admins, now

    def workspaces(self, platform: str) -> list[str]:
        """The external ids of the platform's workspaces this database knows."""
        with self.store.session() as session:
            query = select(Workspace.external_id).where(Workspace.platform == platform).order_by(Workspace.id)
            return list(session.scalars(query))

    # -- export ------------------------------------------------------------------------------------------------
    def export(self, team: Team, actor_id: Actor, since: date | None = None) -> Export:
        """Thanks given, ideas created or moved, and nudges recorded on or after `since` (midnight UTC): the whole
        team's records, so for admins only. `actor_id` is the chat user asking, or OPERATOR for the command line."""
        self.admins.require(team, actor_id, NOT_ADMIN)
        start = datetime.combine(since, time(), UTC) if since else None
        with self.store.session() as session:
            workspace_id = self._workspace_id(session, team)
            return Export(
                workspace=team.external_id,
                exported_at=self.now(),
                since=since,
                thanks=self._thanks(session, workspace_id, start),
                ideas=self._ideas(session, workspace_id, start),
                nudges=self._nudges(session, workspace_id, start),
            )

    @staticmethod
    def _thanks(session, workspace_id: int, start: datetime | None) -> list[dict]:
        query = select(Thanks).where(Thanks.workspace_id == workspace_id).order_by(Thanks.created_at, Thanks.id)
        if start:
            query = query.where(Thanks.created_at >= start)
        return [
            {
                "id": t.id,
                "created_at": _iso(t.created_at),
                "giver": t.giver_id,
                "recipients": [r.recipient_id for r in sorted(t.recipients, key=lambda r: r.id)],
                "values": [v.value for v in sorted(t.values, key=lambda v: v.id)],
                "private": t.private,
                "reason": None if t.private else t.reason,
                "via": t.via,
                "source": t.source,
                "channel": t.channel_id,
            }
            for t in session.scalars(query)
        ]

    @staticmethod
    def _ideas(session, workspace_id: int, start: datetime | None) -> list[dict]:
        chosen = [Change.workspace_id == workspace_id] + ([Change.updated_at >= start] if start else [])
        changes = list(session.scalars(select(Change).where(*chosen).order_by(Change.created_at, Change.id)))
        history: dict[int, list[dict]] = defaultdict(list)
        events = (
            select(ChangeEvent)
            .where(ChangeEvent.change_id.in_(select(Change.id).where(*chosen)))
            .order_by(ChangeEvent.at, ChangeEvent.id)
        )
        for e in session.scalars(events):
            history[e.change_id].append(
                {"at": _iso(e.at), "actor": e.actor_id or "anonymous", "kind": e.kind, "old": e.old, "new": e.new}
            )
        return [
            {
                "id": c.id,
                "created_at": _iso(c.created_at),
                "suggester": c.suggester_id or "anonymous",
                "owner": c.owner_id,
                "status": c.status,
                "text": c.text,
                "obstacle": c.obstacle,
                "within_gift": c.within_gift,
                "backers": len(c.backings),
                "history": history[c.id],
                "time_freed": _freed(c.time_freed[-1]) if c.time_freed else None,
                "time_freed_history": [_freed(a) for a in c.time_freed],
                "leaders": [
                    {
                        "raised_at": _iso(r.raised_at),
                        "raised_by": r.raised_by,
                        "needs": [n for n in r.needs.split(",") if n],
                        "note": r.note,
                        "answer": r.answer,
                        "answered_at": _iso(r.answered_at),
                        "answered_by": r.answered_by,
                        "taken_up_by": r.taker_id,
                        "said": r.said,
                    }
                    for r in c.raises
                ],
            }
            for c in changes
        ]

    @staticmethod
    def _nudges(session, workspace_id: int, start: datetime | None) -> list[dict]:
        """Outcomes, not people: who was nudged is left out, so the export measures the nudges, not anyone."""
        chosen = [Send.workspace_id == workspace_id] + ([Send.created_at >= start] if start else [])
        sends = list(session.scalars(select(Send).where(*chosen).order_by(Send.created_at, Send.id)))
        responses: dict[int, list[dict]] = defaultdict(list)
        answers = (
            select(NudgeResponse)
            .where(NudgeResponse.send_id.in_(select(Send.id).where(*chosen)))
            .order_by(NudgeResponse.at, NudgeResponse.id)
        )
        for r in session.scalars(answers):
            responses[r.send_id].append({"action": r.action, "at": _iso(r.at)})
        return [
            {
                "id": s.id,
                "kind": s.kind,
                "period": s.period,
                "state": s.state,
                "attempts": s.attempts,
                "sent_at": _iso(s.sent_at),
                "arm": s.arm,
                "responses": responses[s.id],
            }
            for s in sends
        ]

    # -- erasure -----------------------------------------------------------------------------------------------
    def forget(self, team: Team, user_id: str, dry_run: bool = False) -> Erasure:
        """Erase a person's personal data in one transaction. Rows someone else's record needs (thanks, ideas,
        history) stay, with the person replaced by one fresh placeholder id that renders as "a former colleague".
        A dry run counts the same rows and changes nothing."""
        with self.store.session() as session:
            ws = self._workspace_id(session, team)
            received_ids = select(ThanksRecipient.thanks_id).where(
                ThanksRecipient.workspace_id == ws, ThanksRecipient.recipient_id == user_id
            )
            involved = session.scalars(
                select(Thanks).where(
                    Thanks.workspace_id == ws, or_(Thanks.giver_id == user_id, Thanks.id.in_(received_ids))
                )
            ).all()
            # A thank-you whose every other party was already erased is nobody's record any more.
            orphaned = {
                t.id
                for t in involved
                if all(
                    is_former_colleague(p)
                    for p in [t.giver_id, *(r.recipient_id for r in t.recipients)]
                    if p != user_id
                )
            }
            kept = [t for t in involved if t.id not in orphaned]
            their_sends = select(Send.id).where(Send.workspace_id == ws, Send.user_id == user_id)
            responses = (
                NudgeResponse.workspace_id == ws,
                or_(NudgeResponse.user_id == user_id, NudgeResponse.send_id.in_(their_sends)),
            )
            events = (
                ChangeEvent.workspace_id == ws,
                or_(
                    ChangeEvent.actor_id == user_id,
                    (ChangeEvent.kind == "owner") & or_(ChangeEvent.old == user_id, ChangeEvent.new == user_id),
                ),
            )
            owned = session.scalars(select(Change).where(Change.workspace_id == ws, Change.owner_id == user_id)).all()
            settings_rows = [
                row
                for row in session.scalars(
                    select(SettingsChange).where(
                        SettingsChange.workspace_id == ws,
                        or_(SettingsChange.actor_id == user_id, SettingsChange.setting.in_(PEOPLE_SETTINGS)),
                    )
                )
                if row.actor_id == user_id or _mentions(row.old, user_id) or _mentions(row.new, user_id)
            ]
            answered = (TimeFreedAnswer.workspace_id == ws, TimeFreedAnswer.actor_id == user_id)
            raises = (
                LeaderRaise.workspace_id == ws,
                or_(*(getattr(LeaderRaise, column) == user_id for column in RAISE_PEOPLE)),
            )
            theirs = (OutboxMessage.workspace_id == ws, OutboxMessage.lane.in_((f"dm:{user_id}", f"respond:{user_id}")))
            addressed = (TeamsAddress.workspace_id == ws, TeamsAddress.kind == "person", TeamsAddress.key == user_id)
            overrides_row = session.get(WorkspaceSettings, ws)
            overrides = json.loads(overrides_row.overrides or "{}") if overrides_row else {}
            erasure = Erasure(
                workspace=team.external_id,
                user_id=user_id,
                dry_run=dry_run,
                people=_count(session, Person, Person.workspace_id == ws, Person.user_id == user_id),
                sends=_count(session, Send, Send.workspace_id == ws, Send.user_id == user_id),
                nudge_responses=_count(session, NudgeResponse, *responses),
                backings=_count(session, Backing, Backing.workspace_id == ws, Backing.user_id == user_id),
                thanks_given=sum(t.giver_id == user_id for t in kept),
                thanks_received=sum(t.giver_id != user_id for t in kept),
                thanks_deleted=len(orphaned),
                ideas_suggested=_count(session, Change, Change.workspace_id == ws, Change.suggester_id == user_id),
                ideas_owned=len(owned),
                change_events=_count(session, ChangeEvent, *events),
                time_freed=_count(session, TimeFreedAnswer, *answered),
                leader_raises=_count(session, LeaderRaise, *raises),
                settings_changes=len(settings_rows),
                outbox=_count(session, OutboxMessage, *theirs),
                addresses=_count(session, TeamsAddress, *addressed),
                manager=user_id in overrides.get("managers", []),
                admin=user_id in overrides.get("admins", []),
                leader=user_id in overrides.get("leaders", []),
            )
            if dry_run:
                return erasure

            former = former_colleague_id()
            now = self.now()
            if orphaned:
                session.execute(delete(ThanksRecipient).where(ThanksRecipient.thanks_id.in_(orphaned)))
                session.execute(delete(ThanksValue).where(ThanksValue.thanks_id.in_(orphaned)))
                session.execute(delete(Thanks).where(Thanks.id.in_(orphaned)))
            session.execute(
                update(Thanks).where(Thanks.workspace_id == ws, Thanks.giver_id == user_id).values(giver_id=former)
            )
            session.execute(
                update(ThanksRecipient)
                .where(ThanksRecipient.workspace_id == ws, ThanksRecipient.recipient_id == user_id)
                .values(recipient_id=former)
            )
            session.execute(
                update(ChangeEvent)
                .where(ChangeEvent.workspace_id == ws, ChangeEvent.actor_id == user_id)
                .values(actor_id=former)
            )
            session.execute(update(TimeFreedAnswer).where(*answered).values(actor_id=former))
            for column in ("old", "new"):
                attribute = getattr(ChangeEvent, column)
                session.execute(
                    update(ChangeEvent)
                    .where(ChangeEvent.workspace_id == ws, ChangeEvent.kind == "owner", attribute == user_id)
                    .values({column: former})
                )
            for column in RAISE_PEOPLE:
                attribute = getattr(LeaderRaise, column)
                session.execute(
                    update(LeaderRaise)
                    .where(LeaderRaise.workspace_id == ws, attribute == user_id)
                    .values({column: former})
                )
            for change in owned:  # handed back by the former colleague, so the history says why it has no owner
                change.owner_id, change.updated_at = None, now
                session.add(
                    ChangeEvent(
                        workspace_id=ws,
                        change_id=change.id,
                        actor_id=former,
                        kind="owner",
                        old=former,
                        new=None,
                        at=now,
                    )
                )
            session.execute(
                update(Change)
                .where(Change.workspace_id == ws, Change.suggester_id == user_id)
                .values(suggester_id=former)
            )
            session.execute(delete(Backing).where(Backing.workspace_id == ws, Backing.user_id == user_id))
            session.execute(delete(OutboxMessage).where(*theirs))
            session.execute(delete(TeamsAddress).where(*addressed))
            for row in settings_rows:
                row.actor_id = former if row.actor_id == user_id else row.actor_id
                row.old, row.new = _replaced(row.old, user_id, former), _replaced(row.new, user_id, former)
            if overrides_row is not None:
                for listed in PEOPLE_SETTINGS:
                    if user_id in overrides.get(listed, []):
                        overrides[listed] = [m for m in overrides[listed] if m != user_id]
                overrides_row.overrides = json.dumps(overrides)
                if overrides_row.updated_by == user_id:
                    overrides_row.updated_by = former
            session.execute(delete(NudgeResponse).where(*responses))
            session.execute(delete(Send).where(Send.workspace_id == ws, Send.user_id == user_id))
            session.execute(delete(Person).where(Person.workspace_id == ws, Person.user_id == user_id))
            return erasure

    def _workspace_id(self, session, team: Team) -> int:
        """The workspace's row id; unlike Store.workspace_id this never creates one."""
        found = session.scalar(
            select(Workspace.id).where(Workspace.platform == team.platform, Workspace.external_id == team.external_id)
        )
        if found is None:
            raise UnknownWorkspace(f"Nothing is recorded for the {team.platform} workspace {team.external_id} here.")
        return found


def _freed(answer: TimeFreedAnswer) -> dict:
    return {
        "at": _iso(answer.at),
        "by": answer.actor_id,
        "minutes": answer.minutes,
        "people": answer.people,
        "minutes_a_week": answer.minutes * answer.people if answer.minutes and answer.people else None,
        "not_about_time": answer.benefit,
        "note": answer.note,
    }


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _mentions(stored: str | None, user_id: str) -> bool:
    """Whether a settings value (JSON) is the person's id, or a list (managers) holding it."""
    try:
        value = json.loads(stored) if stored else None
    except ValueError:
        return False
    return value == user_id or (isinstance(value, list) and user_id in value)


def _replaced(stored: str | None, user_id: str, former: str) -> str | None:
    if not _mentions(stored, user_id):
        return stored
    value = json.loads(stored or "null")
    return json.dumps([former if v == user_id else v for v in value] if isinstance(value, list) else former)
