"""How long one manager's digest takes to compute and render, for a 500-person workspace in a PostgreSQL database
holding 1,000,000 thank-yous across 100 workspaces. Target: under 100 ms per digest.

    /tmp/venv/bin/python benchmarks/digest_bench.py             # from the repo root; seeds once (about 1 minute)
    /tmp/venv/bin/python benchmarks/digest_bench.py --reseed    # drop and seed again

The data (a fixed seed, bulk-loaded with COPY, then VACUUM ANALYZE) is a year up to Tuesday 24 November 2026:
100 workspaces of 20 to 300 people, and one of 500; 1,000,000 thank-yous shared in proportion to size (recipients,
values, some private, some passed on from outside), ideas with backings and history, a year of fortnightly nudges
with answers. The database (smallchanges_digest_bench by default) is created if missing and kept between runs.
Then DigestService.compute(team, at) and the Block Kit rendering of the manager's DM and the channel's copy are
timed, many times over, with the time split by SQL statement and each statement's query plan.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import event
from thanks_load import load_average, machine, statement_shape

from bot.app import build_services
from bot.core.admins import OPERATOR
from bot.core.digests import ChannelReaders, channel_copy, manager_copy
from bot.core.model import Audience, Team
from bot.settings import Defaults, Settings
from bot.slack import digest_blocks
from bot.store.db import Store

AT = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # Tuesday: the first digest of week 151 goes out
YEAR = timedelta(days=365)
WORKSPACES = 100
BIG = 500  # people in the workspace whose digest is timed (workspace 0)
THANKS = 1_000_000
FORBIDDEN_DATABASES = {"postgres", "test", "test_lead", "test_ticks", "test_socket", "test_digests"}
ZONES = ("Europe/London",) * 8 + ("Europe/Dublin", "Asia/Kolkata")
VALUES = ("supportive", "creative", "honest", "innovative", "open to new ideas")
SOURCES = ("family", "young person", "agency")
COUNTED = ("workspaces", "people", "thanks", "thanks_recipients", "thanks_values", "changes", "sends")
TABLES = COUNTED + ("backings", "change_events", "nudge_responses")
REASONS = (
    "covering my home visit when the car broke down",
    "sorting the duty rota at no notice",
    "the lift to court and the pep talk on the way",
    "staying late to finish the core assessment with me",
    "making the new starter feel welcome",
    "a calm handover after a hard week",
)


class NoPlatform:
    """compute() and rendering never reach the chat platform; the services still want a directory and notifier."""

    def person(self, team, user_id):
        return None

    def everyone(self, team):
        return []

    def audience(self, team, channel_id):
        return Audience(public=True)  # every thank-you quotable: the manager's copy shows all three highlights


def team_id(n: int) -> str:
    return f"T{n:04d}"


def person_id(ws: int, n: int) -> str:
    return f"U{ws:03d}{n:05d}"


# -- seeding --------------------------------------------------------------------------------------------------------
def ensure_database(server_url: str, name: str) -> str:
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name) or name in FORBIDDEN_DATABASES:
        raise SystemExit(f"refusing database name {name!r}")
    with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


def seeded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regclass('thanks')").fetchone()[0]:
            return False
        return conn.execute("SELECT count(*) FROM thanks").fetchone()[0] == THANKS


def fresh_schema(url: str) -> None:
    """An empty database at the migrations' head, for a seed."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    store = Store.from_url(url)
    store.migrate()
    store.engine.dispose()


def seed(url: str, rng: random.Random) -> float:
    started = time.perf_counter()
    fresh_schema(url)
    sizes = [BIG] + [rng.randint(20, 300) for _ in range(WORKSPACES - 1)]
    shares = [round(THANKS * s / sum(sizes)) for s in sizes]
    shares[0] += THANKS - sum(shares)
    start = AT - YEAR
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY workspaces (id, platform, external_id, created_at) FROM STDIN") as copy:
            for ws in range(WORKSPACES):
                copy.write_row((ws + 1, "slack", team_id(ws), start))
        with cur.copy(
            "COPY people (workspace_id, user_id, name, tz, is_bot, deleted, is_guest, is_admin, status_text, "
            "status_emoji, synced_at, opted_out, unanswered) FROM STDIN"
        ) as copy:
            for ws, size in enumerate(sizes):
                for n in range(size):  # 1 in 50 deactivated, 1 in 40 a guest, 1 in 25 opted out of nudges
                    guest, opted_out = n % 40 == 3, n % 25 == 7
                    zone, admin = rng.choice(ZONES), n == 0
                    copy.write_row(
                        (ws + 1, person_id(ws, n), f"Person {n}", zone, False, n % 50 == 49, guest, admin, "", "", AT)
                        + (opted_out, 0)
                    )
                bot = (ws + 1, f"B{ws:03d}", "Rota Reminder", "Europe/London", True, False, False, False, "", "", AT)
                copy.write_row(bot + (False, 0))
        print(f"  people: {sum(sizes):,} in {WORKSPACES} workspaces", flush=True)
        seed_thanks(cur, rng, sizes, shares, start)
        seed_changes(cur, rng, sizes, start)
        seed_nudges(cur, rng, sizes, start)
        for table in TABLES:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def copy_rows(cur, sql: str, rows: list[tuple]) -> None:
    """Bulk-load rows with COPY, the fastest way into PostgreSQL."""
    with cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def seed_thanks(
    cur, rng: random.Random, sizes: list[int], shares: list[int], start: datetime, span: timedelta = YEAR
) -> None:
    """The thank-yous of all workspaces over `span` from `start`, in the order they were given (ids and table pages
    interleave workspaces, as in a real shared database), each to one to three colleagues, some tagged with values."""
    seconds = span.total_seconds()
    moments = sorted((rng.random() * seconds, ws) for ws, count in enumerate(shares) for _ in range(count))
    recipients, values = [], []  # loaded after the thanks they belong to
    seq: Counter = Counter()
    with cur.copy(
        "COPY thanks (id, workspace_id, giver_id, reason, private, channel_id, created_at, giver_day, daily_seq, "
        "via, source) FROM STDIN"
    ) as thanks:
        for thanks_id, (offset, ws) in enumerate(moments, start=1):
            at = start + timedelta(seconds=offset)
            size = sizes[ws]
            giver = rng.randrange(size)
            day = at.date()
            seq[(ws, giver, day)] += 1
            roll = rng.random()
            private = roll < 0.15
            source = rng.choice(SOURCES) if 0.15 <= roll < 0.18 else None
            tagged = rng.sample(VALUES, k=rng.choice((0, 0, 0, 1, 1, 2)))
            reason = rng.choice(REASONS) + "".join(f" #{v.replace(' ', '')}" for v in tagged)
            channel = None if private else "C0TEAM"
            row = (thanks_id, ws + 1, person_id(ws, giver), reason, private, channel, at, day, seq[(ws, giver, day)])
            thanks.write_row(row + ("command", source))
            for k in range(rng.choice((1, 1, 1, 1, 2, 3))):
                recipients.append((ws + 1, thanks_id, person_id(ws, (giver + 1 + k * 7) % size)))
            values += [(ws + 1, thanks_id, value) for value in tagged]
    copy_rows(cur, "COPY thanks_recipients (workspace_id, thanks_id, recipient_id) FROM STDIN", recipients)
    copy_rows(cur, "COPY thanks_values (workspace_id, thanks_id, value) FROM STDIN", values)
    print(f"  thanks: {len(moments):,}, recipients {len(recipients):,}, values {len(values):,}", flush=True)


def seed_changes(cur, rng: random.Random, sizes: list[int], start: datetime, span: timedelta = YEAR) -> None:
    """About two ideas per person a year over `span` from `start`, each with backings and its history (created,
    owner, status moves)."""
    changes, backings, events = [], [], []
    change_id = 0
    for ws, size in enumerate(sizes):
        for _ in range(round(size * 2 * (span / YEAR))):
            change_id += 1
            created = start + timedelta(seconds=rng.random() * span.total_seconds())
            suggester = person_id(ws, rng.randrange(size)) if rng.random() > 0.1 else None
            status = rng.choices(("idea", "trying", "adopted", "parked", "dropped"), (40, 20, 25, 10, 5))[0]
            owner = person_id(ws, rng.randrange(size)) if status != "idea" or rng.random() < 0.4 else None
            history = [("created", None, "idea", created)]
            moment = created
            if owner:
                moment += timedelta(days=rng.random() * 10)
                history.append(("owner", None, owner, moment))
            if status != "idea":
                for old, new in (
                    (("idea", "trying"), ("trying", status)) if status != "trying" else (("idea", "trying"),)
                ):
                    moment += timedelta(days=rng.random() * 20)
                    history.append(("status", old, new, moment))
            updated = min(moment, AT - timedelta(minutes=1))
            text = f"Idea {change_id}: one shared template"
            changes.append((change_id, ws + 1, text, suggester, owner, status, "C0TEAM", created, updated))
            for backer in rng.sample(range(size), k=min(size, rng.choice((0, 1, 2, 3, 5)))):
                backed = min(created + timedelta(days=rng.random() * 7), AT - timedelta(minutes=1))
                backings.append((ws + 1, change_id, person_id(ws, backer), backed))
            events += [
                (ws + 1, change_id, suggester, kind, old, new, min(at, updated)) for kind, old, new, at in history
            ]
    copy_rows(
        cur,
        "COPY changes (id, workspace_id, text, suggester_id, owner_id, status, channel_id, created_at, updated_at) "
        "FROM STDIN",
        changes,
    )
    copy_rows(cur, "COPY backings (workspace_id, change_id, user_id, created_at) FROM STDIN", backings)
    copy_rows(cur, "COPY change_events (workspace_id, change_id, actor_id, kind, old, new, at) FROM STDIN", events)
    print(f"  changes: {change_id:,}, backings {len(backings):,}, events {len(events):,}", flush=True)


def seed_nudges(cur, rng: random.Random, sizes: list[int], start: datetime) -> None:
    """A year of fortnightly nudges on Tuesdays at 10:00 UTC (the last on 17 November, in the digest's week), to
    90% of people; a fifth answered."""
    sends, responses = [], []
    send_id = 0
    last = datetime(2026, 11, 17, 10, 0, tzinfo=UTC)
    fortnights = [last - timedelta(weeks=2 * k) for k in range(26)]
    for ws, size in enumerate(sizes):
        for n in range(size):
            for at in fortnights:
                if rng.random() > 0.9:
                    continue
                send_id += 1
                period = f"2w{(at.date() - datetime(2024, 1, 1).date()).days // 14}"
                sends.append((send_id, ws + 1, person_id(ws, n), "nudge", period, "sent", 1, at, at, at))
                if rng.random() < 0.2:
                    action = rng.choice(("suggest", "thank", "snooze", "snooze", "fewer", "stop"))
                    responses.append((ws + 1, send_id, person_id(ws, n), action, at + timedelta(hours=3)))
    copy_rows(
        cur,
        "COPY sends (id, workspace_id, user_id, kind, period, state, attempts, created_at, claimed_at, sent_at) "
        "FROM STDIN",
        sends,
    )
    copy_rows(cur, "COPY nudge_responses (workspace_id, send_id, user_id, action, at) FROM STDIN", responses)
    print(f"  nudges: {send_id:,} sent, {len(responses):,} answered", flush=True)


# -- measuring ------------------------------------------------------------------------------------------------------
class Statements:
    """Wall time in cursor.execute per statement shape, and the statements of one call (to EXPLAIN them)."""

    def __init__(self, engine):
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.captured: list[tuple[str, object]] | None = None
        self._started = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self._started = time.perf_counter()
        if self.captured is not None and statement.lstrip().upper().startswith("SELECT"):
            self.captured.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seconds[statement_shape(statement)] += time.perf_counter() - self._started


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def plans(url: str, captured: list[tuple[str, object]]) -> list[str]:
    """EXPLAIN ANALYZE of each SELECT one compute() ran: the plan's nodes and its execution time."""
    lines = []
    with psycopg.connect(url) as conn:
        for statement, parameters in captured:
            rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).fetchall()
            text = [r[0] for r in rows]
            nodes = [t.strip().lstrip("-> ").split("  (")[0] for t in text if "->" in t or t == text[0]]
            took = next((t for t in text if t.startswith("Execution Time")), "")
            lines.append(f"{statement_shape(statement)}: {took}; " + " / ".join(dict.fromkeys(nodes)))
    return lines


def measure(url: str, repeats: int, cadence: str) -> dict:
    store = Store.from_url(url)
    settings = Settings(defaults=Defaults.load())
    services = build_services(settings, store, NoPlatform(), NoPlatform(), now=lambda: AT, sleep=lambda _: None)
    team = Team("slack", team_id(0))
    services.workspaces.update(team, OPERATOR, {"digest_cadence": cadence})
    statements = Statements(store.engine)
    for _ in range(5):  # warm: the connection pool, the workspace id and settings caches, PostgreSQL's buffers
        services.digests.compute(team, AT)
    statements.seconds.clear()
    compute_ms, render_ms = [], []
    digest = None
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        digest = services.digests.compute(team, AT)
        computed = time.perf_counter()
        # Each copy picks what its reader may be quoted (a manager's asks who may read each channel it quotes).
        readers = ChannelReaders(NoPlatform(), team)
        dm = digest_blocks.digest_message(manager_copy(digest, "U00000001", readers))
        post = digest_blocks.digest_message(channel_copy(digest, "C0TEAM"))
        rendered = time.perf_counter()
        compute_ms.append((computed - started) * 1000)
        render_ms.append((rendered - computed) * 1000)
    statements.captured = []
    services.digests.compute(team, AT)
    captured, statements.captured = statements.captured, None
    total = [c + r for c, r in zip(compute_ms, render_ms, strict=True)]
    store.engine.dispose()
    return {
        "cadence": cadence,
        "repeats": repeats,
        "compute_ms": {"p50": percentile(compute_ms, 50), "p95": percentile(compute_ms, 95), "max": max(compute_ms)},
        "render_ms": {"p50": percentile(render_ms, 50), "p95": percentile(render_ms, 95), "max": max(render_ms)},
        "total_ms": {
            "p50": percentile(total, 50),
            "p95": percentile(total, 95),
            "max": max(total),
            "mean": statistics.fmean(total),
        },
        "sql_ms_per_digest": {
            k: v * 1000 / repeats for k, v in sorted(statements.seconds.items(), key=lambda i: -i[1])
        },
        "digest": {
            "people": digest.people,
            "span": digest.span,
            "thanks": digest.thanks,
            "private": digest.private,
            "thanked_by_peers": len(digest.thanked_by_peers),
            "unthanked": len(digest.unthanked),
            "stuck": len(digest.stuck),
            "nudges": digest.nudges,
            "dm_blocks": len(dm[1]),
            "channel_blocks": len(post[1]),
        },
        "plans": plans(url, captured),
    }


def report(result: dict, info: dict, seeded_in: float | None, url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    d = result["digest"]
    lines = [
        f"digest benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {info['cpus']} CPUs ({info['cpu']}), "
        f"Python {info['python']}, PostgreSQL {version}; load average {info['load before']} before, "
        f"{load_average()} after; code {info['revision']}",
        "database: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        + (f" (seeded in {seeded_in:.0f} s)" if seeded_in else " (kept from an earlier run)"),
        f"digest ({result['cadence']}): {d['people']} people, {d['span']}: {d['thanks']} thanks "
        f"({d['private']} private), {d['thanked_by_peers']} thanked by colleagues, {d['unthanked']} not thanked "
        f"in 8 weeks, {d['stuck']} stuck ideas, {d['nudges']} nudges; {d['dm_blocks']} blocks in the DM, "
        f"{d['channel_blocks']} in the channel",
        "",
        f"{result['repeats']} digests          p50        p95        max",
    ]
    for key, label in (("compute_ms", "compute()"), ("render_ms", "render DM + channel"), ("total_ms", "total")):
        m = result[key]
        lines.append(f"{label:22}{m['p50']:8.1f} ms{m['p95']:8.1f} ms{m['max']:8.1f} ms")
    verdict = {p: "met" if result["total_ms"][p] < 100 else "MISSED" for p in ("p50", "p95")}
    lines += ["", f"target: under 100 ms per digest: p50 {verdict['p50']}, p95 {verdict['p95']}", ""]
    lines += ["SQL per digest (mean):"]
    lines += [f"  {shape:28}{ms:7.2f} ms" for shape, ms in result["sql_ms_per_digest"].items()]
    lines += ["", "query plans (one digest):"] + [f"  {line}" for line in result["plans"]]
    return lines


def arguments(database: str, doc: str = __doc__) -> argparse.ArgumentParser:
    """The options every database benchmark here takes; a script adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default=database)
    parser.add_argument("--reseed", action="store_true", help="drop the data and seed again")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also save the figures here")
    return parser


def prepared(args: argparse.Namespace, seeded, seed) -> tuple[str, float | None]:
    """The benchmark's database URL, seeded by `seed` if asked or if `seeded` says it is not (with the seconds that
    took), or else its kept data brought up to date: the migrations (and their indexes), then VACUUM ANALYZE, as
    autovacuum would have by now (index-only scans need it)."""
    url = ensure_database(args.postgres, args.database)
    if args.reseed or not seeded(url):
        print(f"seeding {args.database} ...", flush=True)
        return url, seed(url, random.Random(args.seed))
    store = Store.from_url(url)
    store.migrate()
    store.engine.dispose()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return url, None


def main() -> None:
    parser = arguments("smallchanges_digest_bench")
    parser.add_argument("--cadence", default="weekly", choices=("weekly", "fortnightly", "monthly"))
    args = parser.parse_args()
    info = machine()
    url, seeded_in = prepared(args, seeded, seed)
    result = measure(url, args.repeats, args.cadence)
    print("\n".join(report(result, info, seeded_in, url)))
    if args.json:
        args.json.write_text(json.dumps(result | {"machine": info}, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
