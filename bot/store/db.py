"""Engine, sessions and migrations. Connection failures surface as StoreUnavailable."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import StoreUnavailable
from bot.store.models import Workspace

log = logging.getLogger(__name__)


class _Held:
    connection: Connection | None = None
    first: Callable[[Connection], None] | None = None  # to run in the first transaction, whichever it is


_held: ContextVar[_Held | None] = ContextVar("store_connection", default=None)
AFTER_COMMIT = "after_commit"  # in a transaction's info: what to run once it has committed
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Let `postgres://` and `postgresql://` URLs (as hosts hand them out) use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 2})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record) -> None:
            dbapi_conn.isolation_level = None  # let the "begin" hook below open transactions
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            # Take the write lock up front: a read-then-write transaction would otherwise fail at once
            # (SQLITE_BUSY) when another thread wrote in between, instead of waiting its turn.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("connect_args", {"connect_timeout": 2})
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextmanager
def answering() -> Iterator[None]:
    """A database that is down or unreachable surfaces as StoreUnavailable, never as a driver error."""
    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        log.warning("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        raise StoreUnavailable() from exc


class Store:
    """One database: sessions that commit or roll back as a unit, and workspace lookup."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._workspace_ids: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> Store:
        return cls(make_engine(url, **kwargs))

    @contextmanager
    def one_connection(self, first: Callable[[Connection], None] | None = None) -> Iterator[None]:
        """Every transaction in this block (one request's work) runs on one pooled connection, taken at the first:
        one checkout and one liveness check (pre-ping) instead of one per transaction, which cost a /thanks more
        than its own SQL did (benchmarks/README.md). `first` runs in the first transaction, and again in the next if
        that one rolled back (or, if none committed, in one of its own at the end): what the request must record
        with whatever it does."""
        if _held.get() is not None:
            yield
            return
        held = _Held()
        held.first = first
        token = _held.set(held)
        try:
            yield
            if held.first is not None:
                with self.transaction():
                    pass  # runs `first`
        finally:
            _held.reset(token)
            if held.connection is not None:
                with contextlib.suppress(OperationalError, InterfaceError):
                    held.connection.close()

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        held = _held.get()
        if held is None:
            with self.engine.connect() as conn:
                yield conn
            return
        if held.connection is None or held.connection.closed:
            held.connection = self.engine.connect()
        yield held.connection

    @staticmethod
    @contextmanager
    def _begun(conn: Connection) -> Iterator[None]:
        """Around a transaction just begun: run what the request's first transaction must also do. Should this
        transaction roll back (a clash with another process's, tried again), it takes that with it, so the next
        transaction does it again."""
        held = _held.get()
        first = held.first if held is not None else None
        if first is None:
            yield
            return
        held.first = None
        try:
            first(conn)
            yield
        except BaseException:
            held.first = first
            raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back if it raises. Callables appended to
        `session.info[AFTER_COMMIT]` run once it has committed (never if it rolled back)."""
        with answering(), self._connection() as conn, self._sessions(bind=conn) as session, session.begin():
            hooks = session.info[AFTER_COMMIT] = []
            with self._begun(session.connection()):
                yield session
        for hook in hooks:
            hook()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The same, in Core, for a hot path that needs no ORM objects (benchmarks/README.md)."""
        with answering(), self._connection() as conn, conn.begin():
            hooks = conn.info[AFTER_COMMIT] = []
            try:
                with self._begun(conn):
                    yield conn
            finally:
                conn.info.pop(AFTER_COMMIT, None)  # the pooled connection's info outlives this transaction
        for hook in hooks:
            hook()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except (OperationalError, InterfaceError):
            return False

    def workspace_id(self, platform: str, external_id: str) -> int:
        """The workspace's row id, created on first sight (safe when two requests race)."""
        key = (platform, external_id)
        if key in self._workspace_ids:
            return self._workspace_ids[key]
        query = select(Workspace.id).where(Workspace.platform == platform, Workspace.external_id == external_id)
        with self.session() as session:
            found = session.scalar(query)
        if found is None:
            try:
                with self.session() as session:
                    ws = Workspace(platform=platform, external_id=external_id, created_at=datetime.now(UTC))
                    session.add(ws)
                    session.flush()
                    found = ws.id
            except IntegrityError:
                with self.session() as session:
                    found = session.scalar(query)
        with self._lock:
            self._workspace_ids[key] = found
        return found

    def migrate(self) -> None:
        """Bring the schema up to date (Alembic); safe to run from several processes at once."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(74201)"))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
