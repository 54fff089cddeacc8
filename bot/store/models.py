"""Typed SQLAlchemy models. Every row carries its workspace; unique constraints stop duplicates."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
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
    __table_args__ = (UniqueConstraint("workspace_id", "giver_id", "giver_day", "daily_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"), index=True)
    giver_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    giver_day: Mapped[date] = mapped_column(Date)
    daily_seq: Mapped[int] = mapped_column(Integer)

    recipients: Mapped[list[ThanksRecipient]] = relationship(
        back_populates="thanks", cascade="all, delete-orphan", lazy="selectin"
    )
    values: Mapped[list[ThanksValue]] = relationship(
        back_populates="thanks", cascade="all, delete-orphan", lazy="selectin"
    )


class ThanksRecipient(Base):
    __tablename__ = "thanks_recipients"
    __table_args__ = (UniqueConstraint("thanks_id", "recipient_id"),)

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


class Backing(Base):
    """One person backing one change; the unique constraint makes a second impossible."""

    __tablename__ = "backings"
    __table_args__ = (UniqueConstraint("change_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    change: Mapped[Change] = relationship(back_populates="backings")


class ChangeEvent(Base):
    """The history of a change: created, status and owner moves, with who and when."""

    __tablename__ = "change_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    old: Mapped[str | None] = mapped_column(String(64))
    new: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
