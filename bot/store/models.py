"""Typed SQLAlchemy models. Every row carries its workspace; unique constraints stop duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class hours_after(FunctionElement):
    """A moment plus whole hours, computed by the database and exact to the microsecond on every engine, so a
    query can compare another moment with it (a reply within 48 h of its nudge, both ends included)."""

    type = UTCDateTime()
    name = "hours_after"
    inherit_cache = True

    def __init__(self, moment, hours: int):
        super().__init__(moment, literal_column(str(int(hours))))


@compiles(hours_after)
def _hours_after(element: hours_after, compiler, **kw) -> str:
    moment, hours = (compiler.process(c, **kw) for c in element.clauses)
    return f"({moment} + make_interval(hours => {hours}))"


@compiles(hours_after, "sqlite")
def _hours_after_sqlite(element: hours_after, compiler, **kw) -> str:
    # SQLite keeps UTCDateTime as 'YYYY-MM-DD HH:MM:SS.ffffff' and its date functions round to milliseconds: shift
    # the whole seconds, then put the microseconds back, so the result compares as text exactly as stored values do.
    moment, hours = (compiler.process(c, **kw) for c in element.clauses)
    return f"(datetime(substr({moment}, 1, 19), '+{hours} hours') || substr({moment}, 20))"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    """A Slack team or a Teams tenant."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Thanks(Base):
    """One appreciation from a giver to one or more recipients.

    (giver, giver_day, daily_seq) is unique and daily_seq never exceeds the cap, so the
    database itself holds the daily cap even when two /thanks race.
    """

    __tablename__ = "thanks"
    __table_args__ = (
        UniqueConstraint("workspace_id", "giver_id", "giver_day", "daily_seq"),
        UniqueConstraint("event_id", "workspace_id"),  # a platform event (a reaction) Slack retries counts once
        # With the id alongside, a digest finds a period's thanks without reading the table (benchmarks/README.md).
        Index("ix_thanks_workspace_id_created_at", "workspace_id", "created_at", postgresql_include=["id"]),
        # A person's thanks in a period: whether they answered a nudge, and the report's counts per person.
        Index("ix_thanks_workspace_id_giver_id_created_at", "workspace_id", "giver_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    giver_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    giver_day: Mapped[date] = mapped_column(Date)
    daily_seq: Mapped[int] = mapped_column(Integer)
    via: Mapped[str] = mapped_column(String(16), default="command")  # command | modal | reaction | shortcut | leader
    source: Mapped[str | None] = mapped_column(String(32))  # relayed from outside: family | young person | agency
    event_id: Mapped[str | None] = mapped_column(String(64))
    message_ref: Mapped[str | None] = mapped_column(String(200))  # the message thanked for (a reaction, a shortcut)

    recipients: Mapped[list[ThanksRecipient]] = relationship(
        back_populates="thanks", cascade="all, delete-orphan", lazy="selectin"
    )
    values: Mapped[list[ThanksValue]] = relationship(
        back_populates="thanks", cascade="all, delete-orphan", lazy="selectin"
    )


class ThanksRecipient(Base):
    __tablename__ = "thanks_recipients"
    __table_args__ = (
        UniqueConstraint("thanks_id", "recipient_id"),
        # Who was thanked lately, read by a digest without the table (benchmarks/README.md).
        Index(
            "ix_thanks_recipients_workspace_id_thanks_id",
            "workspace_id",
            "thanks_id",
            postgresql_include=["recipient_id"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    thanks_id: Mapped[int] = mapped_column(ForeignKey("thanks.id", ondelete="CASCADE"))
    recipient_id: Mapped[str] = mapped_column(String(64), index=True)

    thanks: Mapped[Thanks] = relationship(back_populates="recipients")


class ThanksValue(Base):
    """A configured value (#supportive …) that a thank-you was tagged with."""

    __tablename__ = "thanks_values"
    __table_args__ = (UniqueConstraint("thanks_id", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    thanks_id: Mapped[int] = mapped_column(ForeignKey("thanks.id", ondelete="CASCADE"))
    value: Mapped[str] = mapped_column(String(100))

    thanks: Mapped[Thanks] = relationship(back_populates="values")


class Change(Base):
    """A small change somebody suggested. A null suggester_id means it was posted anonymously."""

    __tablename__ = "changes"
    # A person's ideas in a period: whether they answered a nudge, and the report's counts per person.
    __table_args__ = (
        Index("ix_changes_workspace_id_suggester_id_created_at", "workspace_id", "suggester_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    obstacle: Mapped[str | None] = mapped_column(Text)
    within_gift: Mapped[bool | None] = mapped_column(Boolean)
    suggester_id: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="idea")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    backings: Mapped[list[Backing]] = relationship(
        back_populates="change", cascade="all, delete-orphan", lazy="selectin"
    )
    time_freed: Mapped[list[TimeFreedAnswer]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TimeFreedAnswer.id"
    )
    raises: Mapped[list[LeaderRaise]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LeaderRaise.id"
    )


class Backing(Base):
    """One person backing one change; the unique constraint makes a second impossible."""

    __tablename__ = "backings"
    __table_args__ = (
        UniqueConstraint("change_id", "user_id"),
        Index("ix_backings_workspace_id_created_at", "workspace_id", "created_at"),  # a digest's period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    change: Mapped[Change] = relationship(back_populates="backings")


class ChangeEvent(Base):
    """The history of a change: created, status and owner moves, with who and when."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_workspace_id_at", "workspace_id", "at"),)  # a digest's period

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    old: Mapped[str | None] = mapped_column(String(64))
    new: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class TimeFreedAnswer(Base):
    """One answer to "how much time does it free?" for an adopted change: minutes a week for how many people, or
    what else it does ("not about time"). Never changed: an edit is a new row, and the latest stands."""

    __tablename__ = "time_freed"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    minutes: Mapped[int | None] = mapped_column(Integer)  # a week, for each person
    people: Mapped[int | None] = mapped_column(Integer)
    benefit: Mapped[str | None] = mapped_column(String(16))  # not about time: safer | kinder | clearer | other
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LeaderRaise(Base):
    """An idea raised with leaders (who raised it, when, what it needs) and their answer (who, when, which, with whom
    taking it up or what they said). At most one raise of an idea waits for an answer at a time: the partial unique
    index holds that even when its owner and its suggester raise it at the same moment."""

    __tablename__ = "leader_raises"
    __table_args__ = (
        Index("ix_leader_raises_workspace_id_answer", "workspace_id", "answer"),  # a digest's ideas waiting
        Index(
            "uq_leader_raises_waiting",
            "change_id",
            unique=True,
            postgresql_where=text("answer IS NULL"),
            sqlite_where=text("answer IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    raised_by: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    needs: Mapped[str] = mapped_column(String(200))  # keys of bot.core.model.NEEDS, comma-separated
    note: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[str | None] = mapped_column(String(16))  # take_up | more_info | not_now
    answered_by: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    taker_id: Mapped[str | None] = mapped_column(String(64))
    said: Mapped[str | None] = mapped_column(Text)


class Person(Base):
    """Someone in a workspace as the platform last told us, plus their own nudge choices."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    is_guest: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    status_text: Mapped[str] = mapped_column(String(200), default="")
    status_emoji: Mapped[str] = mapped_column(String(100), default="")
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The person's own choices
    cadence: Mapped[str | None] = mapped_column(String(16))  # None: the workspace's
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    alternate_day_off: Mapped[date | None] = mapped_column(Date)  # a day off, repeating every 14 days
    unanswered: Mapped[int] = mapped_column(Integer, default=0)
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # their App Home is kept up to date


class WorkspaceSettings(Base):
    """An admin's overrides of config/defaults.toml for one workspace, as JSON."""

    __tablename__ = "workspace_settings"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), primary_key=True)
    overrides: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str | None] = mapped_column(String(64))


class SettingsChange(Base):
    """Who changed which setting, when, from what to what."""

    __tablename__ = "settings_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    actor_id: Mapped[str] = mapped_column(String(64))
    setting: Mapped[str] = mapped_column(String(64))
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Send(Base):
    """The exactly-once ledger of bot-initiated messages: one row per (person, kind, period), recorded before
    the message goes out. A pending row is retried on a later tick; a sent row is never sent again."""

    __tablename__ = "sends"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", "kind", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # nudge | stop_check | digest | remind
    period: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(100))
    arm: Mapped[str | None] = mapped_column(String(16))
    prompt: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when a clock started sending it
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class NudgeResponse(Base):
    """A click on a nudge's buttons."""

    __tablename__ = "nudge_responses"
    __table_args__ = (Index("ix_nudge_responses_workspace_id_at", "workspace_id", "at"),)  # the report's period

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    send_id: Mapped[int] = mapped_column(ForeignKey("sends.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # suggest | thank | snooze | fewer | stop | resume
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """A message that must follow a saved record (a thank-you's post and DMs, an idea card), written in the same
    transaction as the record and sent afterwards: once, and in order within its lane (one channel or person).
    The payload is cleared once the message is sent or given up, so the table keeps no one's words for long."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_state_due_at", "state", "due_at"),  # what is due now
        # Nothing overtakes in a lane: what is still waiting there is found without reading what was sent.
        Index(
            "ix_outbox_waiting_in_lane",
            "workspace_id",
            "lane",
            "id",
            postgresql_where=text("state IN ('pending', 'sending')"),
            sqlite_where=text("state IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    lane: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # what the adapter does: post | respond | card
    payload: Mapped[str | None] = mapped_column(Text)  # JSON, None once done
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())  # not before then (back-off after a failure)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SeenRequest(Base):
    """Signed requests already acted on, by their signature: the same signed body sent again (a replay, within the
    five minutes a signature is good for) finds its row and changes nothing."""

    __tablename__ = "seen_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    key: Mapped[str] = mapped_column(String(100), unique=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class TeamsAddress(Base):
    """Where the bot reaches a person or a conversation in Teams, and which tenants installed it (bot.teams.addresses).
    Teams ids and conversation ids are long, so they are kept here rather than as the core's ids."""

    __tablename__ = "teams_addresses"
    __table_args__ = (
        UniqueConstraint("workspace_id", "kind", "key"),
        Index("ix_teams_addresses_teams_id", "workspace_id", "teams_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    kind: Mapped[str] = mapped_column(String(16))  # person | conversation | tenant
    key: Mapped[str] = mapped_column(String(300))  # an Entra object id, a conversation id, or the tenant id
    service_url: Mapped[str] = mapped_column(String(300))
    teams_id: Mapped[str | None] = mapped_column(String(300))  # a person's Teams id (29:…)
    name: Mapped[str] = mapped_column(String(200), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    chat_id: Mapped[str | None] = mapped_column(String(300))  # a person's 1:1 chat with the bot; a conversation's id
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# Slack's OAuth installs (bot.slack.installs): slack_sdk's own tables, declared here from its own definitions so that
# Alembic manages them with the rest (migration 0007) and the stores in slack_sdk read and write them as they are.
SLACK_BOTS = SQLAlchemyInstallationStore.build_bots_table(Base.metadata, "slack_bots")
SLACK_INSTALLATIONS = SQLAlchemyInstallationStore.build_installations_table(Base.metadata, "slack_installations")
SLACK_OAUTH_STATES = SQLAlchemyOAuthStateStore.build_oauth_states_table(Base.metadata, "slack_oauth_states")
