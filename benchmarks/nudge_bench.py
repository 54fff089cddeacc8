"""Plan a nudge tick for a large synthetic team, then deliver DMs through a fake Slack that rate-limits.

    /tmp/venv/bin/python benchmarks/nudge_bench.py        # from the repo root; about 17 minutes
    /tmp/venv/bin/python benchmarks/nudge_bench.py --parts plan,delivery,parallel   # + 4 clocks: about 22

Plan: 100,000 people in one workspace over 20 time zones, with a ledger of past nudges, thank-yous and
ideas, are bulk-loaded (COPY) into PostgreSQL; then NudgeService.plan(team, at) is timed for a fixed instant,
split into the time inside its database session (the four queries and their rows) and the pure decisions,
with its peak memory. Delivery: the fake Slack Web API runs in its own process and answers HTTP 429
(Retry-After: 1) to every 20th chat.postMessage; 10,000 people are due at that instant; two ticks run
(the second retries whatever the first left pending) and the DMs the fake received are checked against
the ledger for duplicates and losses. The database (smallchanges_nudge_bench by default) is dropped and
recreated at each run; the fake is stopped at the end, and a time limit (--time-limit) bounds the run.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import random
import resource
import signal
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from fake_slack_process import TEAM_ID, user_id
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy import event
from thanks_load import Child, get_json, load_average, machine, recreate_database, scalar, statement_shape

from bot.app import slack_services
from bot.core.admins import OPERATOR, Admins
from bot.core.model import Team, WorkspaceConfig, zone
from bot.core.nudges import NudgeService
from bot.core.outbox import Outbox
from bot.core.policy import decide
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults, Settings
from bot.store.db import Store, make_engine

HERE = Path(__file__).resolve().parent
BOT_TOKEN = "xoxb-bench-0000-0000-not-a-real-token"
AT = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # a Tuesday, 11:00 UTC: the instant every tick here is planned for
EPOCH_MONDAY = date(2024, 1, 1)  # as bot.core.policy counts periods
ZONES = (  # 20 real zones; at AT only the six from Atlantic/Azores to Africa/Nairobi are inside 10:00-15:00
    "Pacific/Honolulu",
    "America/Anchorage",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Atlantic/Azores",
    "Europe/London",
    "Africa/Lagos",
    "Europe/Paris",
    "Europe/Athens",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
)
DELIVERY_ZONES = ("Europe/London", "Africa/Lagos", "Europe/Paris", "Europe/Athens", "Africa/Nairobi")
STATUSES = (  # (emoji, text); the first three read as away, the rest do not
    (":palm_tree:", "On holiday"),
    (":face_with_thermometer:", "Off sick"),
    ("", "Annual leave until Monday"),
    (":spiral_calendar_pad:", "In meetings all day"),
    (":house_with_garden:", "Working from home"),
    (":train:", "Commuting"),
    (":coffee:", ""),
)
CADENCES = ((None, 0.75), ("weekly", 0.05), ("fortnightly", 0.05), ("monthly", 0.10), ("every 2 months", 0.02))
FORBIDDEN_DATABASES = {"postgres", "test", "test_lead", "test_ticks", "test_socket", "smallchanges_bench"}


class TimedStore(Store):
    """The bot's Store, adding up the wall time spent inside its sessions (queries, rows, commit)."""

    def __init__(self, engine):
        super().__init__(engine)
        self.session_seconds, self.sessions = 0.0, 0

    @contextmanager
    def session(self) -> Iterator:
        start = time.perf_counter()
        try:
            with super().session() as session:
                yield session
        finally:
            self.session_seconds += time.perf_counter() - start
            self.sessions += 1


class StatementClock:
    """Time in cursor.execute per statement (psycopg's client-side cursor: PostgreSQL's work and the transfer)."""

    def __init__(self, engine):
        self.seconds, self.statements = 0.0, 0
        self.by_shape: Counter = Counter()  # seconds per "SELECT people", "UPDATE sends", ...
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        seconds = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        self.seconds += seconds
        self.statements += 1
        self.by_shape[statement_shape(statement)] += seconds

    def reset(self) -> None:
        self.seconds, self.statements = 0.0, 0
        self.by_shape = Counter()


class Stopwatch:
    """Wall time and calls of methods wrapped on one object each (instrumentation only; behaviour unchanged)."""

    def __init__(self):
        self.seconds: Counter = Counter()
        self.calls: Counter = Counter()

    def wrap(self, obj, name: str, label: str) -> None:
        original = getattr(obj, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        setattr(obj, name, timed)


# -- synthetic data ----------------------------------------------------------------------------------------------
def week_number(day: date) -> int:
    return (day - EPOCH_MONDAY).days // 7


def working_days(first: date, last: date) -> list[date]:
    """Tuesdays to Thursdays (the default nudge days) from first to last inclusive."""
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return [day for day in days if day.weekday() in (1, 2, 3)]


def copy_rows(conn: psycopg.Connection, table: str, columns: str, rows: list[tuple]) -> None:
    with conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


@dataclass
class Seeded:
    people: int = 0
    composition: Counter = field(default_factory=Counter)
    sends: Counter = field(default_factory=Counter)
    thanks: int = 0
    changes: int = 0
    seconds: float = 0.0


@dataclass
class Person:
    """One synthetic person and their ledger rows, before they become COPY rows."""

    uid: str
    tz: str
    is_bot: bool = False
    deleted: bool = False
    is_guest: bool = False
    opted_out: bool = False
    cadence: str | None = None
    emoji: str = ""
    text: str = ""
    snoozed_until: date | None = None
    day_off: date | None = None
    unanswered: int = 0
    sends: list[tuple] = field(default_factory=list)


def synthetic_person(n: int, workspace_id: int, periods: list[tuple[str, list[date]]], rng: random.Random) -> Person:
    today = AT.date()
    next_monday = today + timedelta(days=7 - today.weekday())
    p = Person(user_id(n, "UP"), ZONES[n % len(ZONES)], is_bot=n % 100 == 7, deleted=n % 100 == 13)
    p.is_guest = rng.random() < 0.03
    p.opted_out = rng.random() < 0.04
    p.cadence = "off" if rng.random() < 0.03 else rng.choices(*zip(*CADENCES, strict=True))[0]
    if rng.random() < 0.10:
        p.emoji, p.text = rng.choice(STATUSES)
    roll = rng.random()
    if roll < 0.03:
        p.snoozed_until = next_monday  # "not this week"
    elif roll < 0.05:
        p.snoozed_until = today - timedelta(days=rng.randint(1, 30))  # a snooze that has ended
    if rng.random() < 0.04:  # a day off every 14 days; for half of these people it falls today
        p.day_off = today - timedelta(days=14 * rng.randint(1, 10) + rng.choice((0, 0, 1, 7)))
    if p.is_bot:
        return p
    nudged = [(label, rng.choice(days)) for label, days in periods[:-1] if days and rng.random() < 0.45]
    label, days = periods[-1]  # the current fortnight, before AT
    if days and rng.random() < 0.20:
        nudged.append((label, rng.choice(days)))
    last_nudge = None
    for label, day in nudged:
        at = datetime(day.year, day.month, day.day, rng.randint(9, 14), rng.randint(0, 59), tzinfo=UTC)
        state = "sent" if rng.random() > 0.01 else rng.choice(("failed", "pending"))
        error = {"sent": None, "failed": "account_inactive", "pending": "ratelimited"}[state]
        sent_at = at if state == "sent" else None
        p.sends.append(
            (workspace_id, p.uid, "nudge", label, state, 1, error, None, "Who made your week easier?", at, at, sent_at)
        )
        last_nudge = sent_at or last_nudge
    streak = rng.choices((0, 1, 2, 3, 4, 5), (0.70, 0.15, 0.07, 0.04, 0.025, 0.015))[0]
    p.unanswered = min(streak, sum(1 for row in p.sends if row[4] == "sent"))
    if p.unanswered >= 4 and last_nudge and rng.random() < 0.5 and last_nudge + timedelta(days=7) < AT:
        at = last_nudge + timedelta(days=7)
        p.sends.append(
            (workspace_id, p.uid, "stop_check", f"after-{last_nudge:%Y%m%d}", "sent", 1, None, None, None, at, at, at)
        )
    return p


def seed_plan_team(db_url: str, workspace_id: int, size: int, rng: random.Random) -> Seeded:
    """`size` people over ZONES, their ledger for the last 8 weeks, thank-yous and ideas; COPY into PostgreSQL."""
    started = time.perf_counter()
    seeded = Seeded(people=size)
    today = AT.date()
    fortnight = week_number(today) // 2
    periods = []  # (ledger period label, working days before today in it); the current fortnight last
    for index in range(fortnight - 4, fortnight + 1):
        start = EPOCH_MONDAY + timedelta(weeks=2 * index)
        periods.append((f"2w{index}", working_days(start, min(start + timedelta(days=13), today - timedelta(days=1)))))
    synced = AT - timedelta(hours=3)
    people, sends = [], []
    for n in range(size):
        p = synthetic_person(n, workspace_id, periods, rng)
        people.append(
            (
                workspace_id,
                p.uid,
                f"Person{n} Plan",
                p.tz,
                p.is_bot,
                p.deleted,
                p.is_guest,
                False,
                p.text,
                p.emoji,
                synced,
                p.cadence,
                p.opted_out,
                p.snoozed_until,
                p.day_off,
                p.unanswered,
            )
        )
        sends += p.sends
        kind = "bot" if p.is_bot else "deactivated" if p.deleted else "guest" if p.is_guest else "member"
        seeded.composition[kind] += 1
        seeded.composition["status set"] += bool(p.emoji or p.text)
        seeded.composition["opted out"] += p.opted_out
        seeded.composition["snoozed until next Monday"] += bool(p.snoozed_until and p.snoozed_until > today)
        seeded.composition["alternate day off"] += p.day_off is not None
        seeded.composition[f"cadence {p.cadence or '(workspace)'}"] += 1
        seeded.composition["unanswered >= 2"] += p.unanswered >= 2
    seeded.sends = Counter(f"{row[2]} {row[4]}" for row in sends)
    humans = [row[1] for row in people if not row[4]]
    thanks, seq = [], Counter()
    for _ in range(size * 3 // 10):
        giver = rng.choice(humans)
        at = AT - timedelta(seconds=rng.randint(60, 56 * 86400))
        seq[giver, at.date()] += 1
        reason = "for covering my home visit #supportive"
        thanks.append((workspace_id, giver, reason, False, "C0GENERAL", at, at.date(), seq[giver, at.date()]))
    changes = []
    for _ in range(size // 20):
        at = AT - timedelta(seconds=rng.randint(60, 56 * 86400))
        who = rng.choice(humans) if rng.random() > 0.1 else None  # one in ten posted anonymously
        changes.append(
            (
                workspace_id,
                "one shared template for visit notes",
                None,
                True,
                who,
                None,
                "idea",
                "C0GENERAL",
                None,
                at,
                at,
            )
        )
    seeded.thanks, seeded.changes = len(thanks), len(changes)
    with psycopg.connect(db_url) as conn:
        copy_rows(
            conn,
            "people",
            "workspace_id, user_id, name, tz, is_bot, deleted, is_guest, is_admin, "
            "status_text, status_emoji, synced_at, cadence, opted_out, snoozed_until, alternate_day_off, "
            "unanswered",
            people,
        )
        copy_rows(
            conn,
            "sends",
            "workspace_id, user_id, kind, period, state, attempts, error, arm, prompt, created_at, claimed_at, sent_at",
            sends,
        )
        copy_rows(
            conn,
            "thanks",
            "workspace_id, giver_id, reason, private, channel_id, created_at, giver_day, daily_seq",
            thanks,
        )
        copy_rows(
            conn,
            "changes",
            "workspace_id, text, obstacle, within_gift, suggester_id, owner_id, status, "
            "channel_id, message_ts, created_at, updated_at",
            changes,
        )
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # the statistics autovacuum would have gathered on tables of this age
    seeded.seconds = time.perf_counter() - started
    return seeded


# -- memory ------------------------------------------------------------------------------------------------------
def proc_status(key: str) -> int:
    """A /proc/self/status figure in KiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM (the peak RSS), so the peak of what follows can be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MiB"


# -- plan --------------------------------------------------------------------------------------------------------
@dataclass
class PlanRun:
    seconds: float
    session_seconds: float  # inside the store's session: the four queries, their rows into Python, the commit
    execute_seconds: float  # of which in cursor.execute: PostgreSQL's work and the transfer to the client
    statements: int
    people: int
    by_statement: dict[str, float] = field(default_factory=dict)

    @property
    def decide_seconds(self) -> float:
        return self.seconds - self.session_seconds


def timed_plan(nudges: NudgeService, store: TimedStore, clock: StatementClock, team: Team) -> tuple[PlanRun, list]:
    gc.collect()
    store.session_seconds, store.sessions = 0.0, 0
    clock.reset()
    started = time.perf_counter()
    plans = nudges.plan(team, AT)
    seconds = time.perf_counter() - started
    run = PlanRun(seconds, store.session_seconds, clock.seconds, clock.statements, len(plans), dict(clock.by_shape))
    return run, plans


def summarise_reasons(plans: list) -> Counter:
    reasons = Counter()
    for _, decision in plans:
        reason = decision.reason
        reasons["outside working hours (in the person's zone)" if reason.startswith("outside working") else reason] += 1
    return reasons


def plan_phase(args, db_url: str, out: dict) -> None:
    store = TimedStore(make_engine(db_url))
    clock = StatementClock(store.engine)
    team = Team("slack", "T0PLAN")
    try:
        store.migrate()
        workspace_id = store.workspace_id(team.platform, team.external_id)
        print(f"seeding {args.people:,} people over {len(ZONES)} zones ...", flush=True)
        seeded = seed_plan_team(db_url, workspace_id, args.people, random.Random(args.seed))
        print(
            f"  seeded in {seeded.seconds:.1f} s (COPY, then VACUUM ANALYZE): {dict(seeded.composition)}; ledger "
            f"{dict(seeded.sends)}; {seeded.thanks:,} thank-yous; {seeded.changes:,} ideas",
            flush=True,
        )
        outbox = Outbox(store)
        settings = WorkspaceSettingsService(store, WorkspaceConfig.defaults(), outbox, Admins(directory=None))
        nudges = NudgeService(
            store, None, None, settings, outbox, now=lambda: AT
        )  # plan() needs no directory or notifier
        config = settings.get(team)
        rss_before = proc_status("VmRSS")
        reset_ok = reset_peak_rss()
        cold, plans = timed_plan(nudges, store, clock, team)
        runs = []
        for _ in range(args.repeats):
            del plans
            run, plans = timed_plan(nudges, store, clock, team)
            runs.append(run)
        peak_rss = proc_status("VmHWM") if reset_ok else None
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux; the whole process so far
        # decide() alone, on the PersonStates the plan built
        local = {tz: AT.astimezone(zone(tz)) for tz in ZONES}
        started = time.perf_counter()
        for person, _ in plans:
            decide(config, person, local[person.tz], None)
        decide_only = time.perf_counter() - started
        reasons = summarise_reasons(plans)
        outside = {
            d.reason.removeprefix("outside working hours in ")
            for _, d in plans
            if d.kind is None and d.reason.startswith("outside working hours")
        }
        due_zones = Counter(p.tz for p, d in plans if d.kind)
        del plans
        # tracemalloc: a separate call, as tracing slows Python down several times over
        gc.collect()
        tracemalloc.start()
        plans = nudges.plan(team, AT)
        traced_current, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del plans
        # the same plan with a two-arm experiment (arm_for hashes every person)
        settings.update(team, OPERATOR, {"experiment": ["fortnightly", "monthly"]})
        experiment = []
        for _ in range(3):
            run, plans = timed_plan(nudges, store, clock, team)
            experiment.append(run)
            del plans
        settings.update(team, OPERATOR, {"experiment": []})
    finally:
        store.engine.dispose()

    best = min(runs, key=lambda r: r.seconds)
    median = statistics.median(r.seconds for r in runs)
    people = best.people
    in_hours = [tz for tz in ZONES if config.start <= AT.astimezone(ZoneInfo(tz)).time() < config.end]
    checks = {
        "every bot is 'bot'": reasons["bot"] == seeded.composition["bot"],
        "every deactivated account is 'deactivated'": reasons["deactivated"] == seeded.composition["deactivated"],
        "every guest is 'guest'": reasons["guest"] == seeded.composition["guest"],
        "everyone due is in a zone inside working hours": set(due_zones) <= set(in_hours),
        "'outside working hours' only in zones outside them": outside.isdisjoint(in_hours),
        "someone is due": sum(due_zones.values()) > 0,
    }
    lines = [
        "",
        f"PLAN: NudgeService.plan(team, {AT:%a %Y-%m-%d %H:%M} UTC), {people:,} people in one workspace, "
        f"{len(ZONES)} zones ({len(in_hours)} inside 10:00-15:00 then)",
        f"  first call (cold): {cold.seconds:.3f} s",
        f"  {args.repeats} more calls: best {best.seconds:.3f} s, median {median:.3f} s -> "
        f"{people / best.seconds:,.0f} people/s best, {people / median:,.0f} people/s median (target >= 50,000/s: "
        + ("met" if people / median >= 50_000 else "MISSED")
        + ")",
        f"  split of the best call: database session {best.session_seconds:.3f} s ({best.statements} statements; "
        f"{best.execute_seconds:.3f} s in cursor.execute, {best.session_seconds - best.execute_seconds:.3f} s rows "
        f"into Python and commit), decisions {best.decide_seconds:.3f} s ({people / best.decide_seconds:,.0f} "
        "people/s: PersonState, zone, arm, decide)",
        "  cursor.execute of the best call by statement: "
        + ", ".join(f"{shape} {seconds:.3f} s" for shape, seconds in best.by_statement.items()),
        "  every call (total / session / decisions, s): "
        + ", ".join(f"{r.seconds:.3f}/{r.session_seconds:.3f}/{r.decide_seconds:.3f}" for r in runs),
        f"  decide() alone on the {people:,} PersonStates: {decide_only:.3f} s ({people / decide_only:,.0f}/s)",
        f"  with a 2-arm experiment (a sha256 per person): best {min(r.seconds for r in experiment):.3f} s",
        f"  memory: tracemalloc peak {traced_peak / 2**20:.1f} MiB during one plan() call "
        f"({traced_current / 2**20:.1f} MiB still held by its result); process RSS {mib(rss_before)} before the "
        + (f"first call, peak {mib(peak_rss)} over the plan calls; " if peak_rss else "first call; ")
        + f"ru_maxrss {mib(maxrss)} (whole process so far, seeding included)",
        "  decisions:",
        *(f"    {count:7,}  {reason}" for reason, count in reasons.most_common()),
        f"  due by zone: {dict(sorted(due_zones.items()))}",
        "  checks: " + "; ".join(f"{name}: {'ok' if ok else 'FAILED'}" for name, ok in checks.items()),
    ]
    print("\n".join(lines), flush=True)
    out["plan"] = {
        "people": people,
        "seeded": {
            "composition": dict(seeded.composition),
            "sends": dict(seeded.sends),
            "thanks": seeded.thanks,
            "changes": seeded.changes,
            "seconds": seeded.seconds,
        },
        "cold_s": cold.seconds,
        "runs": [vars(r) for r in runs],
        "best_s": best.seconds,
        "median_s": median,
        "people_per_s_best": people / best.seconds,
        "people_per_s_median": people / median,
        "decide_only_s": decide_only,
        "experiment_best_s": min(r.seconds for r in experiment),
        "tracemalloc_peak_bytes": traced_peak,
        "tracemalloc_retained_bytes": traced_current,
        "rss_before_kib": rss_before,
        "peak_rss_kib": peak_rss,
        "ru_maxrss_kib": maxrss,
        "reasons": dict(reasons),
        "checks": checks,
    }


# -- delivery ----------------------------------------------------------------------------------------------------
def start_fake(args, logs: Path, name: str) -> tuple[Child, str]:
    """The fake Slack in its own process: args.dms people over DELIVERY_ZONES, every n-th DM answered 429."""
    base_env = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "HOME", "LANG", "TZ") if k in os.environ}
    fake_args = [
        sys.executable, str(HERE / "fake_slack_process.py"), "--users", str(args.dms), "--prefix", "UN",
        "--zones", ",".join(DELIVERY_ZONES), "--rate-limit-every", str(args.rate_limit_every),
        "--retry-after", str(args.retry_after),
    ]  # fmt: skip
    fake = Child(name, fake_args, base_env, logs)  # its stderr goes to logs/<name>.log
    try:
        return fake, fake.first_line(timeout=60)
    except BaseException:
        fake.stop()
        raise


def slack_settings(fake_url: str, db_url: str) -> Settings:
    return Settings(
        slack_bot_token=BOT_TOKEN,
        slack_api_url=fake_url + "/api/",
        database_url=db_url,
        log_level="WARNING",
        defaults=Defaults.load(),
    )


def commit_probe(db_url: str, rounds: int = 300) -> tuple[float, float]:
    """What one durable INSERT + COMMIT and one SELECT 1 round trip cost on this server (seconds each)."""
    with psycopg.connect(db_url) as conn:
        conn.execute("CREATE TABLE bench_commit_probe (n integer)")
        conn.commit()
        started = time.perf_counter()
        for n in range(rounds):
            conn.execute("INSERT INTO bench_commit_probe VALUES (%s)", (n,))
            conn.commit()
        commit = (time.perf_counter() - started) / rounds
        started = time.perf_counter()
        for _ in range(rounds):
            conn.execute("SELECT 1")
        round_trip = (time.perf_counter() - started) / rounds
        conn.execute("DROP TABLE bench_commit_probe")
        conn.commit()
    return commit, round_trip


def ledger_rows(db_url: str, workspace_ids: list[int]) -> list[tuple[str, str, int]]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(
            "SELECT user_id, state, attempts FROM sends WHERE workspace_id = ANY(%s)", (workspace_ids,)
        ).fetchall()


def audit(people: list[str], delivered: dict[str, int], ledger: list[tuple[str, str, int]]) -> dict:
    """Duplicates and losses: what the fake received against who was due and what the ledger says."""
    sent_rows = Counter(u for u, state, _ in ledger if state == "sent")
    by_user = {u: state for u, state, _ in ledger}
    not_received = [u for u in people if not delivered.get(u)]
    return {
        "received": sum(delivered.values()),
        "recipients": len(delivered),
        "duplicates": sum(1 for n in delivered.values() if n > 1),  # people with more than one DM
        "losses": sum(1 for u in not_received if not sent_rows[u]),  # due, no DM, and no sent row either
        "silent_losses": sum(1 for u in not_received if sent_rows[u]),  # the ledger says sent; no DM arrived
        "unrecorded": sum(1 for u in people if delivered.get(u) and by_user.get(u) != "sent"),
        "strangers": len(set(delivered) - set(people)),
        "exactly_once": all(delivered.get(u) == 1 and sent_rows[u] == 1 for u in people),
        "ledger_states": dict(Counter(state for _, state, _ in ledger)),
        "attempts": dict(Counter(a for _, _, a in ledger)),
    }


def audit_lines(found: dict) -> list[str]:
    return [
        f"  DMs received by the fake: {found['received']:,} to {found['recipients']:,} people; duplicates (people "
        f"with more than one): {found['duplicates']}; losses (due, no DM, no sent row): {found['losses']}; no DM "
        f"although the ledger says sent: {found['silent_losses']}; DM without a sent row: {found['unrecorded']}; "
        f"DMs to anyone else: {found['strangers']}",
        f"  ledger rows by state: {found['ledger_states']}; attempts: {found['attempts']}",
        "  checks: duplicates 0: "
        + ("ok" if not found["duplicates"] else "FAILED")
        + "; losses 0: "
        + ("ok" if not found["losses"] and not found["silent_losses"] else "FAILED")
        + "; every due person has exactly one DM and one sent row: "
        + ("ok" if found["exactly_once"] else "FAILED"),
    ]


def delivery_phase(args, db_url: str, logs: Path, out: dict) -> None:
    """One workspace, one clock: sync the team from users.list, tick, tick again, audit."""
    fake, fake_url = start_fake(args, logs, "fake-slack-delivery")
    store = TimedStore(make_engine(db_url))
    team = Team("slack", TEAM_ID)
    stop_progress = threading.Event()
    try:
        store.migrate()
        commit_s, round_trip_s = commit_probe(db_url)
        slack = slack_services(slack_settings(fake_url, db_url), store, now=lambda: AT)
        services, client = slack.services, slack.workspaces.client_for(team)
        nudges = services.nudges
        services.workspaces.update(team, OPERATOR, {"sends_per_second": 0})  # no gap between sends: measure delivery
        started = time.perf_counter()
        synced = nudges.sync_people(team, force=True)
        sync_s = time.perf_counter() - started
        print(
            f"\nfake Slack at {fake_url} (logs in {logs}); synced {synced:,} people from users.list in "
            f"{sync_s:.1f} s; ticking ...",
            flush=True,
        )
        watch = Stopwatch()
        watch.wrap(nudges, "plan", "plan")
        watch.wrap(nudges.notifier, "unavailable", "availability")
        watch.wrap(nudges, "_deliver", "deliver")
        watch.wrap(nudges.notifier, "nudge", "nudge")
        watch.wrap(nudges.notifier, "_post", "post")
        for handler in client.retry_handlers:
            if isinstance(handler, RateLimitErrorRetryHandler):
                watch.wrap(handler, "prepare_for_next_attempt", "429 wait")

        def progress() -> None:
            begun = time.monotonic()
            while not stop_progress.wait(60):
                posts = get_json(fake_url + "/_stats")[1].get("chat.postMessage", 0)
                print(
                    f"  ... {time.monotonic() - begun:.0f} s: chat.postMessage calls {posts:,}, "
                    f"429 waits so far {watch.calls['429 wait']}",
                    flush=True,
                )

        threading.Thread(target=progress, daemon=True).start()
        clock = StatementClock(store.engine)
        store.session_seconds, store.sessions = 0.0, 0
        started = time.perf_counter()
        # One pass over all 10,000: lift the clock's 4-minute tick budget, which in production hands what is
        # left to the next tick (5 minutes on) with a fresh plan.
        nudges.tick_budget = timedelta(hours=2)
        first = nudges.tick(team, AT)
        tick1_s = time.perf_counter() - started
        stop_progress.set()
        before_second = Counter(watch.calls)
        started = time.perf_counter()
        second = nudges.tick(team, AT)
        tick2_s = time.perf_counter() - started
        sessions, session_s = store.sessions, store.session_seconds
        fake.check()
        delivered = get_json(fake_url + "/_dms", timeout=60)[1]
        stats = get_json(fake_url + "/_stats", timeout=60)[1]
        ledger = ledger_rows(db_url, [store.workspace_id(team.platform, team.external_id)])
    finally:
        stop_progress.set()
        fake.stop()
        store.engine.dispose()

    found = audit([user_id(n, "UN") for n in range(args.dms)], delivered, ledger)
    limited = stats.get("chat.postMessage", 0) - found["received"]
    seconds, calls = watch.seconds, watch.calls
    both = tick1_s + tick2_s
    waits = seconds["429 wait"]
    sql = seconds["deliver"] - seconds["nudge"]  # the ledger's transactions around each send
    other = both - seconds["plan"] - seconds["availability"] - seconds["deliver"]
    sent = first.sent + second.sent
    lines = [
        "",
        f"DELIVERY: {args.dms:,} people due at {AT:%a %H:%M} UTC over {len(DELIVERY_ZONES)} zones; the fake answers "
        f"HTTP 429 (Retry-After: {args.retry_after}) to every {args.rate_limit_every}th chat.postMessage; "
        "sends_per_second 0 (no gap); one clock",
        f"  first tick: {tick1_s:.1f} s, outcomes {dict(first.counts)} -> {first.sent / tick1_s:.1f} DMs/s",
        f"  second tick: {tick2_s:.1f} s, sent {second.sent}, outcomes {dict(second.counts)}",
        *audit_lines(found),
        f"  fake's calls: {dict(sorted(stats.items()))}; answered 429: {limited}",
        f"  where the time went (both ticks, {both:.1f} s): plan {seconds['plan']:.1f} s; availability checks "
        f"(users.info + dnd.info) {seconds['availability']:.1f} s; chat.postMessage {seconds['post']:.1f} s, of which "
        f"sleeping on 429s {waits:.1f} s ({calls['429 wait']} waits, {waits / max(1, calls['429 wait']):.2f} s each: "
        f"Retry-After plus slack_sdk's random 0-1 s); building the message {seconds['nudge'] - seconds['post']:.1f} s; "
        f"the ledger's transactions around each send {sql:.1f} s; other {other:.1f} s",
        f"  without the 429 sleeps: {both - waits:.1f} s, {first.sent / (tick1_s - waits):.0f} DMs/s "
        f"({(both - waits) / max(1, sent) * 1000:.1f} ms per DM, one after another)",
        f"  SQL in both ticks: {sessions:,} transactions ({session_s:.1f} s inside them), {clock.statements:,} "
        f"statements ({clock.seconds:.1f} s in cursor.execute), i.e. {sessions / max(1, sent):.2f} transactions "
        f"and {clock.statements / max(1, sent):.2f} statements per DM; by statement: "
        + ", ".join(f"{shape} {sec:.1f} s" for shape, sec in clock.by_shape.most_common())
        + f"; on this server one INSERT + COMMIT costs {commit_s * 1000:.2f} ms and a SELECT 1 "
        f"{round_trip_s * 1000:.2f} ms",
        f"  second tick's calls: {dict(Counter(calls) - before_second)}",
    ]
    print("\n".join(lines), flush=True)
    out["delivery"] = found | {
        "dms": args.dms,
        "rate_limit_every": args.rate_limit_every,
        "retry_after": args.retry_after,
        "sync_s": sync_s,
        "tick1_s": tick1_s,
        "tick2_s": tick2_s,
        "tick1": dict(first.counts),
        "tick2": dict(second.counts),
        "fake_calls": stats,
        "answered_429": limited,
        "transactions": sessions,
        "statements": clock.statements,
        "sql_by_statement_s": dict(clock.by_shape),
        "commit_probe_s": commit_s,
        "round_trip_probe_s": round_trip_s,
        "seconds": dict(seconds),
        "calls": dict(calls),
    }


def parallel_phase(args, db_url: str, logs: Path, out: dict) -> None:
    """What concurrent senders would give, with bot/ as it is: the same people split over args.parallel
    workspaces (each tick holds its own workspace's advisory lock), one clock thread per workspace."""
    fake, fake_url = start_fake(args, logs, "fake-slack-parallel")
    ways = args.parallel
    store = Store(make_engine(db_url, pool_size=2 * ways + 2))
    teams = [Team("slack", f"T0PAR{k}") for k in range(ways)]
    try:
        store.migrate()
        ids = [store.workspace_id(t.platform, t.external_id) for t in teams]
        rows = [  # as the fake's users.list has them (as sync_people would store them), synced just now
            (ids[n % ways], user_id(n, "UN"), f"Person{n}", DELIVERY_ZONES[n % len(DELIVERY_ZONES)], AT)
            + (False, False, False, False, "", "", False, 0)
            for n in range(args.dms)
        ]
        columns = "workspace_id, user_id, name, tz, synced_at, is_bot, deleted, is_guest, is_admin, status_text, "
        with psycopg.connect(db_url) as conn:
            copy_rows(conn, "people", columns + "status_emoji, opted_out, unanswered", rows)
        clocks = []
        for team in teams:
            services = slack_services(slack_settings(fake_url, db_url), store, now=lambda: AT).services
            services.workspaces.update(team, OPERATOR, {"sends_per_second": 0})
            clocks.append((team, services.nudges))
        print(
            f"\nfake Slack at {fake_url}; {ways} workspaces of {args.dms // ways:,} people, a clock each ...",
            flush=True,
        )
        reports: dict[str, list] = {t.external_id: [] for t in teams}
        errors: list[BaseException] = []

        def run(team: Team, nudges: NudgeService) -> None:
            try:
                reports[team.external_id].append(nudges.tick(team, AT))
            except BaseException as exc:  # surfaced by the main thread
                errors.append(exc)

        timings = []
        for _ in ("first", "second"):
            threads = [threading.Thread(target=run, args=clock, daemon=True) for clock in clocks]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(1.0)  # in slices, so the time limit's signal reaches this thread
            timings.append(time.perf_counter() - started)
            if errors:
                raise errors[0]
        fake.check()
        delivered = get_json(fake_url + "/_dms", timeout=60)[1]
        stats = get_json(fake_url + "/_stats", timeout=60)[1]
        ledger = ledger_rows(db_url, ids)
    finally:
        fake.stop()
        store.engine.dispose()

    found = audit([user_id(n, "UN") for n in range(args.dms)], delivered, ledger)
    sent = [sum(r[i].sent for r in reports.values()) for i in (0, 1)]
    limited = stats.get("chat.postMessage", 0) - found["received"]
    lines = [
        "",
        f"DELIVERY, {ways} CLOCKS AT ONCE: the same {args.dms:,} people split over {ways} workspaces, one tick thread "
        f"each (same fake, same 429 on every {args.rate_limit_every}th chat.postMessage, no gap)",
        f"  first ticks: {timings[0]:.1f} s from the first start to the last end, {sent[0]:,} sent -> "
        f"{sent[0] / timings[0]:.1f} DMs/s; second ticks: {timings[1]:.1f} s, sent {sent[1]}",
        *audit_lines(found),
        f"  fake's calls: {dict(sorted(stats.items()))}; answered 429: {limited}",
    ]
    print("\n".join(lines), flush=True)
    out["parallel"] = found | {"ways": ways, "first_s": timings[0], "second_s": timings[1], "sent": sent}


# -- main --------------------------------------------------------------------------------------------------------
class OutOfTime(Exception):
    pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000, help="people in the planned workspace")
    parser.add_argument("--repeats", type=int, default=5, help="timed plan() calls after the first")
    parser.add_argument("--dms", type=int, default=10_000, help="people due in the delivery workspace")
    parser.add_argument("--rate-limit-every", type=int, default=20, help="the fake answers every n-th DM 429")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After of those 429s, in seconds")
    parser.add_argument("--parts", default="plan,delivery", help="plan, delivery, parallel (comma-separated)")
    parser.add_argument("--parallel", type=int, default=4, help="clocks (workspaces) in the parallel part")
    parser.add_argument("--seed", type=int, default=20261122, help="random seed of the synthetic team")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", default="smallchanges_nudge_bench", help="dropped and recreated at each run")
    parser.add_argument("--time-limit", type=int, default=1800, help="stop (and clean up) after this many seconds")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.database in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing to drop {args.database!r}: it belongs to something else")
    parts = set(args.parts.split(","))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def out_of_time(*_) -> None:
        raise OutOfTime(f"stopped after the --time-limit of {args.time_limit} s")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(args.time_limit)
    started = time.monotonic()
    info = machine() | {"postgres": "PostgreSQL " + scalar(args.postgres + "/postgres", "SHOW server_version")}
    print(
        f"nudges benchmark, {date.today().isoformat()}: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"{info['postgres']}; load average {info['load before']}; code {info['revision']}",
        flush=True,
    )
    db_url = recreate_database(args.postgres, args.database)
    logs = Path(tempfile.mkdtemp(prefix="nudge-bench-"))
    out: dict = {
        "date": date.today().isoformat(),
        "machine": info,
        "settings": {k: str(v) for k, v in vars(args).items()},
    }
    try:
        if "plan" in parts:
            plan_phase(args, db_url, out)
        if "delivery" in parts:
            delivery_phase(args, db_url, logs, out)
        if "parallel" in parts:
            parallel_phase(args, db_url, logs, out)
    except OutOfTime as exc:  # the subprocesses are stopped by then (each phase's finally)
        raise SystemExit(str(exc)) from None
    finally:
        signal.alarm(0)
    info["load after"] = load_average()
    print(f"\ntotal {time.monotonic() - started:.0f} s; load average {info['load after']} after", flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
