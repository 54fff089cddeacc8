"""How long the quarterly report (`python -m bot report quarter`: DigestService.quarterly) takes for a 500-person
workspace holding 1,000,000 thank-yous and 200,000 nudges over four years. Target: p95 under 200 ms.

    /tmp/venv/bin/python benchmarks/quarterly_bench.py             # from the repo root; seeds once (about 80 s)
    /tmp/venv/bin/python benchmarks/quarterly_bench.py --reseed    # drop and seed again

The data (a fixed seed, bulk-loaded with COPY, then VACUUM ANALYZE) is four years up to Tuesday 24 November 2026,
10:30 UTC, in one workspace of 500 people: 1,000,000 thank-yous (recipients, values, some private, some passed on
from outside, as benchmarks/digest_bench.py seeds them), ideas with backings and history, answers to "how much time
does it free?" for most adopted ideas, and 200,000 nudges on Tuesdays and Thursdays, a fifth answered with a click.
The database (smallchanges_quarterly_bench by default) is created if missing and kept between runs. The report is
timed many times over, without an experiment (its nudges are this quarter's) and with one running since June
(its nudges are all those since the experiment began), with the time split by SQL statement and each statement's
query plan.
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import psycopg
from digest_bench import (
    AT,
    YEAR,
    NoPlatform,
    Statements,
    arguments,
    copy_rows,
    fresh_schema,
    percentile,
    person_id,
    plans,
    prepared,
    seed_changes,
    seed_thanks,
    team_id,
)
from sqlalchemy import delete, update
from thanks_load import load_average, machine, statement_shape

from bot.app import build_services
from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.core.policy import arm_for
from bot.settings import Defaults, Settings
from bot.store.db import Store
from bot.store.models import SettingsChange, WorkspaceSettings

SPAN = 4 * YEAR  # the data's four years, up to AT
PEOPLE = 500
THANKS = 1_000_000
SENDS = 200_000
NUDGE_DAYS = (1, 3)  # Tuesdays and Thursdays, at 10:00 UTC
EXPERIMENT = ("fortnightly", "monthly")
EXPERIMENT_SINCE = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # the experiment scenario's start: 25 weeks of nudges
TARGET_MS = 200
COUNTED = (
    "people",
    "thanks",
    "thanks_recipients",
    "thanks_values",
    "changes",
    "backings",
    "change_events",
    "time_freed",
    "sends",
    "nudge_responses",
)
TABLES = ("workspaces", "thanks", "thanks_recipients", "thanks_values", "changes", "backings", "change_events")
TABLES += ("time_freed", "sends", "nudge_responses")
BENEFITS = ("safer", "kinder", "clearer", "other")


# -- seeding --------------------------------------------------------------------------------------------------------
def seeded(url: str) -> bool:
    with psycopg.connect(url) as conn:
        if not conn.execute("SELECT to_regclass('time_freed')").fetchone()[0]:
            return False
        thanks = conn.execute("SELECT count(*) FROM thanks").fetchone()[0]
        return thanks == THANKS and conn.execute("SELECT count(*) FROM sends").fetchone()[0] == SENDS


def seed(url: str, rng: random.Random) -> float:
    started = time.perf_counter()
    fresh_schema(url)
    start = AT - SPAN
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        copy_rows(
            cur, "COPY workspaces (id, platform, external_id, created_at) FROM STDIN", [(1, "slack", team_id(0), start)]
        )
        seed_people(cur, rng)
        seed_thanks(cur, rng, [PEOPLE], [THANKS], start, SPAN)
        seed_changes(cur, rng, [PEOPLE], start, SPAN)
        seed_time_freed(cur, rng)
        seed_nudges(cur, rng, start)
        for table in TABLES:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def seed_people(cur, rng: random.Random) -> None:
    """500 people, 80% in Europe/London (the team's main timezone, whose calendar the quarter follows), and a bot."""
    zones = ("Europe/London",) * 8 + ("Europe/Dublin", "Asia/Kolkata")
    rows = [(1, "B000", "Rota Reminder", "Europe/London", True, False, False, False, "", "", AT, False, 0)]
    for n in range(PEOPLE):  # 1 in 50 deactivated, 1 in 40 a guest, 1 in 25 opted out of nudges
        row = (1, person_id(0, n), f"Person {n}", rng.choice(zones), False, n % 50 == 49, n % 40 == 3, n == 0)
        rows.append(row + ("", "", AT, n % 25 == 7, 0))
    copy_rows(
        cur,
        "COPY people (workspace_id, user_id, name, tz, is_bot, deleted, is_guest, is_admin, status_text, "
        "status_emoji, synced_at, opted_out, unanswered) FROM STDIN",
        rows,
    )
    print(f"  people: {PEOPLE} and a bot", flush=True)


def seed_time_freed(cur, rng: random.Random) -> None:
    """Answers to "how much time does it free?" for four in five adopted ideas, from their owner within two weeks of
    the adoption; one in four answered again later (the latest stands); 15% not about time."""
    cur.execute(
        "SELECT e.change_id, e.at, c.owner_id FROM change_events e JOIN changes c ON c.id = e.change_id "
        "WHERE e.kind = 'status' AND e.new = 'adopted'"
    )
    rows = []
    for change_id, adopted_at, owner in cur.fetchall():
        if rng.random() < 0.2:
            continue  # not yet said
        at = adopted_at
        for _ in range(1 + (rng.random() < 0.25)):
            at = min(at + timedelta(days=rng.random() * 14), AT - timedelta(minutes=1))
            if rng.random() < 0.15:
                benefit = rng.choice(BENEFITS)
                note = "fewer calls chasing the same form" if benefit == "other" else None
                rows.append((1, change_id, owner, None, None, benefit, note, at))
            else:
                minutes = rng.choice((5, 10, 15, 20, 30, 45, 60, 90, 120, 240))
                rows.append((1, change_id, owner, minutes, rng.randint(1, 25), None, None, at))
    rows.sort(key=lambda row: row[-1])  # ids follow time: the latest answer has the highest id
    copy_rows(
        cur,
        "COPY time_freed (workspace_id, change_id, actor_id, minutes, people, benefit, note, at) FROM STDIN",
        rows,
    )
    print(f"  time freed answers: {len(rows):,}", flush=True)


def seed_nudges(cur, rng: random.Random, start: datetime) -> None:
    """SENDS nudges at 10:00 UTC on Tuesdays and Thursdays from `start` to AT's morning, spread over the people (more
    a week than any cadence sends, to reach the issue's 200,000); a fifth answered with a click within three hours.
    Those since EXPERIMENT_SINCE carry the person's experiment arm, as the clock records it while one runs."""
    days = [start.date() + timedelta(days=k) for k in range((AT.date() - start.date()).days + 1)]
    moments = [datetime(d.year, d.month, d.day, 10, tzinfo=UTC) for d in days if d.weekday() in NUDGE_DAYS]
    slots = sorted(rng.sample(range(len(moments) * PEOPLE), SENDS))
    sends, responses = [], []
    for send_id, slot in enumerate(slots, start=1):
        at, user = moments[slot // PEOPLE], person_id(0, slot % PEOPLE)
        arm = arm_for(team_id(0), user, EXPERIMENT) if at >= EXPERIMENT_SINCE else None
        sends.append((send_id, 1, user, "nudge", f"d{at:%Y%m%d}", "sent", 1, arm, at, at, at))
        if rng.random() < 0.2:
            action = rng.choice(("suggest", "thank", "snooze", "snooze", "fewer", "stop"))
            responses.append((1, send_id, user, action, at + timedelta(minutes=rng.randint(1, 180))))
    copy_rows(
        cur,
        "COPY sends (id, workspace_id, user_id, kind, period, state, attempts, arm, created_at, claimed_at, sent_at) "
        "FROM STDIN",
        sends,
    )
    copy_rows(cur, "COPY nudge_responses (workspace_id, send_id, user_id, action, at) FROM STDIN", responses)
    print(f"  nudges: {len(sends):,} sent on {len(moments)} days, {len(responses):,} answered", flush=True)


# -- measuring ------------------------------------------------------------------------------------------------------
class Ordered(Statements):
    """Statements told apart by their text (each numbered within its table in the order first run), not only by
    their table: the report runs several on `thanks`, and these are the same text every time."""

    def __init__(self, engine):
        super().__init__(engine)
        self.keys: dict[str, str] = {}
        self.per_shape: Counter = Counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.seconds[self.key(statement)] += time.perf_counter() - self._started

    def key(self, statement: str) -> str:
        if statement not in self.keys:
            shape = statement_shape(statement)
            self.per_shape[shape] += 1
            self.keys[statement] = f"{shape} #{self.per_shape[shape]}"
        return self.keys[statement]


def set_scenario(store: Store, services, team: Team, experiment: bool) -> None:
    """No settings' history but, for the experiment, its start: set through the settings service (as an admin would),
    then dated EXPERIMENT_SINCE."""
    with store.engine.begin() as conn:
        conn.execute(delete(SettingsChange))
        conn.execute(delete(WorkspaceSettings))
    if experiment:
        services.workspaces.update(team, OPERATOR, {"experiment": list(EXPERIMENT)})
        with store.engine.begin() as conn:
            conn.execute(update(SettingsChange).values(at=EXPERIMENT_SINCE))


def measure(url: str, repeats: int, experiment: bool) -> dict:
    store = Store.from_url(url)
    settings = Settings(defaults=Defaults.load())
    services = build_services(settings, store, NoPlatform(), NoPlatform(), now=lambda: AT, sleep=lambda _: None)
    team = Team("slack", team_id(0))
    set_scenario(store, services, team, experiment)
    statements = Ordered(store.engine)
    for _ in range(5):  # warm: the connection pool, the workspace id and settings caches, PostgreSQL's buffers
        lines = services.digests.quarterly(team)
    statements.seconds.clear()
    took = []
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        lines = services.digests.quarterly(team)
        took.append((time.perf_counter() - started) * 1000)
    statements.captured = []
    services.digests.quarterly(team)
    captured, statements.captured = statements.captured, None
    store.engine.dispose()
    return {
        "scenario": f"experiment running since {EXPERIMENT_SINCE:%Y-%m-%d}" if experiment else "this quarter",
        "repeats": repeats,
        "ms": {
            "p50": percentile(took, 50),
            "p95": percentile(took, 95),
            "max": max(took),
            "mean": statistics.fmean(took),
        },
        "sql_ms_per_report": {k: v * 1000 / repeats for k, v in statements.seconds.items()},  # in the order run
        "report": lines,
        "plans": [  # each line of plans() starts with the statement's shape: name it as the split does
            statements.key(statement) + line.split(":", 1)[1]
            for (statement, _), line in zip(captured, plans(url, captured), strict=True)
        ],
    }


def report(results: list[dict], info: dict, seeded_in: float | None, url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in COUNTED}
    lines = [
        f"quarterly report benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; machine: {info['cpus']} CPUs "
        f"({info['cpu']}), Python {info['python']}, PostgreSQL {version}; load average {info['load before']} before, "
        f"{load_average()} after; code {info['revision']}",
        "database: "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        + (f" (seeded in {seeded_in:.0f} s)" if seeded_in else " (kept from an earlier run)"),
    ]
    for result in results:
        m = result["ms"]
        verdict = "met" if m["p95"] < TARGET_MS else "MISSED"
        lines += ["", f"== {result['scenario']}: the report says", *(f"  | {line}" for line in result["report"])]
        lines += [
            "",
            f"{result['repeats']} reports          p50        p95        max",
            f"{'quarterly()':22}{m['p50']:8.1f} ms{m['p95']:8.1f} ms{m['max']:8.1f} ms",
            f"target: p95 under {TARGET_MS} ms: {verdict}",
            "",
            "SQL per report (mean), in the order run:",
        ]
        lines += [f"  {key:30}{ms:7.2f} ms" for key, ms in result["sql_ms_per_report"].items()]
        sql = sum(result["sql_ms_per_report"].values())
        lines += [f"  {'all statements':30}{sql:7.2f} ms of {m['mean']:.1f} ms (mean)"]
        lines += ["", "query plans (one report):"] + [f"  {line}" for line in result["plans"]]
    return lines


def main() -> None:
    parser = arguments("smallchanges_quarterly_bench", __doc__)
    parser.add_argument("--scenario", default="both", choices=("both", "quarter", "experiment"))
    args = parser.parse_args()
    info = machine()
    url, seeded_in = prepared(args, seeded, seed)
    experiments = {"both": (False, True), "quarter": (False,), "experiment": (True,)}[args.scenario]
    results = [measure(url, args.repeats, experiment) for experiment in experiments]
    print("\n".join(report(results, info, seeded_in, url)))
    if args.json:
        args.json.write_text(json.dumps({"results": results, "machine": info}, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
