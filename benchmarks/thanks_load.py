"""Load /thanks through the real HTTP server and through the floor app, on the same uvicorn settings,
and report throughput, latency, completion and what one /thanks costs in Slack API calls and SQL.

    /tmp/venv/bin/python benchmarks/thanks_load.py        # from the repo root; a few minutes

Each app gets its own run against the same fake Slack Web API (its own process, a synthetic team): start
the server, warm up, then fire signed slash-command requests over keep-alive connections and wait until
the fake has received every in-channel post (response_url) and every recipient's DM. Then /thanks runs
in-process on the same database, with listeners counting the SQL it sends. The database
(smallchanges_bench by default) is dropped and recreated at each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psycopg
from fake_slack_process import TEAM_ID, team, user_id
from slack_bolt.request import BoltRequest
from sqlalchemy import event

from bot.app import build_slack
from bot.console.fake_slack import FakeSlack
from bot.console.payloads import SlackRequests
from bot.core.model import WorkspaceConfig
from bot.settings import Defaults, Settings
from bot.slack.work import Inline
from bot.store.db import Store

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SIGNING_SECRET = "bench-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-bench-0000-0000-not-a-real-token"
REASONS = (
    "for covering my home visit this afternoon #supportive",
    "for the new handover template, it saved us an hour #creative",
    "for telling me straight that the plan would not work #honest",
    "for trying the shared calendar before anyone else #innovative",
    "for listening to the night team's idea #open-to-new-ideas",
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- processes ---------------------------------------------------------------------------------------------------
class Child:
    """A child process in a session of its own, so stop() ends it and everything it forked (uvicorn's workers)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path):
        self.name, self.log = name, logs / f"{name}.log"
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log.open("wb"),
            start_new_session=True,
        )

    def first_line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line:
            raise RuntimeError(f"{self.name} printed nothing in {timeout:.0f} s:\n{self.tail()}")
        return line

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def check(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")

    def pids(self) -> list[int]:
        """This process and its descendants (uvicorn's supervisor and workers)."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    todo += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
            except OSError:
                pass
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        if self.proc.stdout:
            self.proc.stdout.close()


def bot_env(base: dict[str, str], fake_url: str, db_url: str, **more: str) -> dict[str, str]:
    """What a bot process needs to talk to the fake Slack and the benchmark's database; `more` adds or overrides."""
    return (
        base
        | {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": fake_url + "/api/",
            "DATABASE_URL": db_url,
            "LOG_LEVEL": "WARNING",
        }
        | more
    )


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """CPU time (user + system) so far of each process still alive."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def postgres_backends(database: str) -> list[int]:
    """The server processes serving `database` (other databases on the same server are not ours to count)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                title = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if title.startswith("postgres: ") and f" {database} " in title:
                pids.append(int(entry))
    return pids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, json.loads(reply.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}


def wait_healthy(child: Child, port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check()
        try:
            if get_json(f"http://127.0.0.1:{port}/healthz", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{child.name} was not healthy within {timeout:.0f} s:\n{child.tail()}")


# -- database ----------------------------------------------------------------------------------------------------
def recreate_database(server_url: str, name: str) -> str:
    """A fresh, empty database for this run (never the tests' one)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"unsafe database name {name!r}")
    with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


def vacuum_analyze(url: str) -> None:
    """What autovacuum does within a minute of the warm-up's inserts in production. This machine's
    PostgreSQL runs with autovacuum off, and without statistics the planner counts a giver's thanks today
    through the wrong index (every thank-you in the workspace), which costs PostgreSQL 5-10x as much."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print("  VACUUM ANALYZE after the warm-up, as autovacuum would", flush=True)


def scalar(url: str, sql: str):
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


# -- requests ----------------------------------------------------------------------------------------------------
class Traffic:
    """Signed /thanks bodies, built as bot.console.payloads does. Givers go round the whole team, so
    nobody gives more than ceil(total / team) thank-yous in the run, far below the daily cap."""

    def __init__(self, fake_url: str, team_size: int, prefix: str = "UB"):
        self.slack = SlackRequests(SIGNING_SECRET, TEAM_ID, fake_url + "/response/")
        self.team_size, self.prefix = team_size, prefix
        self.serial = 0

    def pair(self, k: int) -> tuple[str, str]:
        size = self.team_size
        offset = 1 + (k // size * 7) % (size - 1)  # never the giver; a different recipient on each lap
        return user_id(k % size, self.prefix), user_id((k + offset) % size, self.prefix)

    def next_body(self) -> tuple[str, dict[str, str]]:
        giver, recipient = self.pair(self.serial)
        text = f"<@{recipient}|person{int(recipient[2:])}> {REASONS[self.serial % len(REASONS)]}"
        self.serial += 1
        body = self.slack.command("/thanks", text, giver)
        return body, self.slack.sign(body)

    def raw(self, count: int, port: int) -> list[bytes]:
        """Whole HTTP/1.1 requests, signed just before the run (Slack's signatures are good for 5 minutes)."""
        out = []
        for _ in range(count):
            body, headers = self.next_body()
            head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            out.append(
                (
                    f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}"
                    f"Content-Length: {len(body)}\r\n\r\n{body}"
                ).encode()
            )
        return out


# -- load generator --------------------------------------------------------------------------------------------
@dataclass
class Load:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    started: float = 0.0  # time.monotonic()
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return self.ended - self.started

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split()[1])
    headers = {k.strip().lower(): v.strip().lower() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return status, headers.get("connection") == "close"


async def _load(port: int, requests: list[bytes], concurrency: int, timeout: float) -> Load:
    """A closed loop: each connection sends its next request when the previous answer is in."""
    result, queue = Load(), iter(requests)
    opened = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for raw in queue:
            start = time.perf_counter()
            try:
                writer.write(raw)
                status, close = await asyncio.wait_for(_read_response(reader), timeout)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                status, close = 0, True
            result.latencies.append(time.perf_counter() - start)
            result.statuses[status] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.close()

    result.started = time.monotonic()
    await asyncio.gather(*(connection(r, w) for r, w in opened))
    result.ended = time.monotonic()
    return result


def run_load(port: int, requests: list[bytes], concurrency: int, timeout: float = 30.0) -> Load:
    return asyncio.run(_load(port, requests, concurrency, timeout))


def wait_complete(fake_url: str, expected: dict[str, int], timeout: float) -> float | None:
    """When the fake has seen at least `expected` calls per method (time.monotonic()), or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        now = time.monotonic()
        seen = get_json(fake_url + "/_stats")[1]
        if all(seen.get(m, 0) >= n for m, n in expected.items()):
            return now
        if now > deadline:
            return None
        time.sleep(0.02)


# -- one app under load ------------------------------------------------------------------------------------------
@dataclass
class Run:
    name: str
    load: Load
    completed_at: float | None
    calls: dict[str, int]
    cpu: dict[str, float]
    stored: int | None = None

    @property
    def requests(self) -> int:
        return len(self.load.latencies)

    @property
    def rps(self) -> float:
        return self.requests / self.load.seconds

    @property
    def completion_rate(self) -> float | None:
        return self.requests / (self.completed_at - self.load.started) if self.completed_at else None

    @property
    def drain(self) -> float | None:
        return max(0.0, self.completed_at - self.load.ended) if self.completed_at else None


def load_app(
    name: str, command: list[str], env: dict, fake: Child, fake_url: str, args, logs: Path, db_url: str | None
) -> Run:
    port = free_port()
    server = Child(name, command, env | {"PORT": str(port)}, logs)
    try:
        wait_healthy(server, port)
        traffic = Traffic(fake_url, args.users)
        for phase, count in (("warm-up", args.warmup), ("measured", args.requests)):
            before = get_json(fake_url + "/_stats")[1]
            requests = traffic.raw(count, port)
            processes = {
                "app": server.pids,
                "fake Slack": fake.pids,
                "PostgreSQL": lambda: postgres_backends(args.database),
                "load generator": lambda: [os.getpid()],
            }
            cpu_before = {k: cpu_seconds(pids()) for k, pids in processes.items()}
            load = run_load(port, requests, args.concurrency)
            expected = {m: before.get(m, 0) + count for m in ("response_url", "chat.postMessage")}
            done = wait_complete(fake_url, expected, timeout=args.drain_timeout)
            cpu_after = {k: cpu_seconds(pids()) for k, pids in processes.items()}
            after = get_json(fake_url + "/_stats")[1]
            server.check()
            print(
                f"  {name} {phase}: {count} requests in {load.seconds:.1f} s, statuses {dict(load.statuses)}, "
                + (f"all DMs in after {done - load.started:.1f} s" if done else "NOT all DMs arrived"),
                flush=True,
            )
            if phase == "warm-up" and db_url:
                vacuum_analyze(db_url)
        calls = {m: after.get(m, 0) - before.get(m, 0) for m in sorted(after)}
        cpu = {k: cpu_used(cpu_before[k], cpu_after[k]) for k in processes}
        stored = scalar(db_url, "SELECT count(*) FROM thanks") if db_url else None
        return Run(name, load, done, calls, cpu, stored)
    finally:
        server.stop()


# -- cost of one /thanks, in-process -----------------------------------------------------------------------------
@dataclass
class Cost:
    thanks: int
    slack_calls: Counter
    statements: Counter
    transactions: int
    checkouts: int

    def per_thanks(self, count: int | float) -> float:
        return count / self.thanks


def statement_shape(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql)
    return f"{verb} {table.group(1)}" if table else verb


def measure_cost(db_url: str, people: int, warm_thanks: int) -> tuple[Cost, Cost, Cost]:
    """The real app, built as tests/conftest.py builds it (work done before dispatch returns), counting what
    reaches Slack and the database: the first request of a process, a cold directory cache, then a warm one."""
    with FakeSlack(team_id=TEAM_ID) as fake:
        for person in team(people, prefix="UC"):
            fake.add_user(person)
        store = Store.from_url(db_url)
        settings = Settings(
            slack_bot_token=BOT_TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=fake.api_url,
            defaults=Defaults.load(),
        )
        app = build_slack(settings, store=store, work=Inline()).app
        fake.clear()  # Bolt's start-up auth.test, once per process
        seen = {"statements": Counter(), "transactions": 0, "checkouts": 0}

        def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
            seen["statements"][statement_shape(statement)] += 1

        def on_commit(conn) -> None:
            seen["transactions"] += 1

        def on_checkout(dbapi_conn, record, proxy) -> None:
            seen["checkouts"] += 1

        event.listen(store.engine, "before_cursor_execute", on_statement)
        event.listen(store.engine, "commit", on_commit)
        event.listen(store.engine, "checkout", on_checkout)
        traffic = Traffic(fake.url, people, prefix="UC")

        def phase(pairs: list[tuple[str, str]]) -> Cost:
            fake.clear()
            seen.update(statements=Counter(), transactions=0, checkouts=0)
            for giver, recipient in pairs:
                body = traffic.slack.command("/thanks", f"<@{recipient}|someone> {REASONS[0]}", giver)
                response = app.dispatch(BoltRequest(body=body, headers=traffic.slack.sign(body)))
                if response.status != 200:
                    raise RuntimeError(f"/thanks answered {response.status}: {response.body}")
            calls = Counter(c.method for c in fake.calls)
            if calls["chat.postMessage"] != len(pairs):
                raise RuntimeError(f"expected {len(pairs)} DMs, the fake saw {dict(calls)}")
            return Cost(len(pairs), calls, seen["statements"], seen["transactions"], seen["checkouts"])

        ids = [user_id(n, "UC") for n in range(people)]
        first = phase([(ids[0], ids[1])])
        cold = phase([(ids[n], ids[n + 1]) for n in range(2, people - 1, 2)])  # two people new to the cache each
        warm = phase([traffic.pair(k) for k in range(people, people + warm_thanks)])
        store.engine.dispose()
    return first, cold, warm


# -- report ------------------------------------------------------------------------------------------------------
def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    try:
        revision = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
    except OSError:
        revision = "unknown"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "revision": revision or "unknown",
        "load before": load_average(),
    }


def load_average() -> str:
    """Other work on the machine competes for the same cores; the figures mean less when this is high."""
    return Path("/proc/loadavg").read_text().split()[0]


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def summary(bot: Run, floor: Run, costs: tuple[Cost, Cost, Cost], args, info: dict) -> dict:
    first, cold, warm = costs
    ratio_rps = bot.rps / floor.rps
    ratio_p99 = bot.load.percentile(99) / floor.load.percentile(99)
    ratio_done = (bot.completion_rate / floor.completion_rate) if bot.completed_at and floor.completed_at else None
    lines = [
        f"/thanks load, {date.today().isoformat()}: {args.requests} signed requests per app after {args.warmup} "
        f"warm-up, {args.concurrency} keep-alive connections, team of {args.users}",
        f"machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, {info['postgres']}; "
        f"load average {info['load before']} before, {info['load after']} after; code {info['revision']}",
        f"server: uvicorn, {args.workers} workers x {args.threads} request threads (same options for both)",
        "",
        f"{'':28}{'/thanks (bot)':>16}{'floor':>16}{'ratio':>10}  target",
        f"{'acked requests/s':28}{bot.rps:>16.0f}{floor.rps:>16.0f}{ratio_rps:>10.2f}  >= 0.70x "
        + ("met" if ratio_rps >= 0.7 else "MISSED"),
        f"{'p50 latency':28}{fmt_ms(bot.load.percentile(50)):>16}{fmt_ms(floor.load.percentile(50)):>16}"
        f"{bot.load.percentile(50) / floor.load.percentile(50):>10.2f}",
        f"{'p99 latency':28}{fmt_ms(bot.load.percentile(99)):>16}{fmt_ms(floor.load.percentile(99)):>16}"
        f"{ratio_p99:>10.2f}  <= 1.50x " + ("met" if ratio_p99 <= 1.5 else "MISSED"),
        f"{'max latency':28}{fmt_ms(max(bot.load.latencies)):>16}{fmt_ms(max(floor.load.latencies)):>16}",
        f"{'completed thanks/s':28}{_rate(bot):>16}{_rate(floor):>16}"
        + (f"{ratio_done:>10.2f}  >= 0.70x " + ("met" if ratio_done >= 0.7 else "MISSED") if ratio_done else ""),
        f"{'last DM after last ack':28}{_drain(bot):>16}{_drain(floor):>16}",
        f"{'non-200 answers':28}{_errors(bot):>16}{_errors(floor):>16}",
    ]
    for component in [*bot.cpu, "total"]:
        mine, theirs = (
            (sum(r.cpu.values()) if component == "total" else r.cpu[component]) * 1000 / r.requests
            for r in (bot, floor)
        )
        ratio = f"{mine / theirs:>10.2f}" if theirs else ""
        lines.append(f"{'CPU ms/thanks, ' + component:28}{mine:>16.2f}{theirs:>16.2f}{ratio}")
    lines += [
        "",
        "Slack API calls per /thanks, in the load (fake's counts / requests): "
        + _per(bot.calls, bot.requests)
        + f"; floor: {_per(floor.calls, floor.requests)}",
        f"thank-yous stored by the bot: {bot.stored} (warm-up + measured)",
        "in-process cost per /thanks (PostgreSQL, statements seen by SQLAlchemy):",
    ]
    for label, cost in (("warm cache", warm), ("cold cache", cold), ("first of a process", first)):
        statements = sum(cost.statements.values())
        lines.append(
            f"  {label:19} ({cost.thanks:>3}): Slack {_per(cost.slack_calls, cost.thanks)}; "
            f"SQL {statements / cost.thanks:.2f} statements ({_per(cost.statements, cost.thanks)}), "
            f"{cost.per_thanks(cost.transactions):.2f} transactions, {cost.per_thanks(cost.checkouts):.2f} "
            "pool checkouts (each one pre-ping)"
        )
    print("\n".join(lines), flush=True)
    return {
        "date": date.today().isoformat(),
        "machine": info,
        "settings": vars(args),
        "runs": {run.name: _run_json(run) for run in (bot, floor)},
        "ratios": {"requests_per_s": ratio_rps, "p99": ratio_p99, "completed_per_s": ratio_done},
        "cost": {
            label: {
                "thanks": c.thanks,
                "slack_calls": dict(c.slack_calls),
                "statements": dict(c.statements),
                "transactions": c.transactions,
                "checkouts": c.checkouts,
            }
            for label, c in (("first", first), ("cold", cold), ("warm", warm))
        },
    }


def _rate(run: Run) -> str:
    return f"{run.completion_rate:.0f}" if run.completion_rate else "incomplete"


def _drain(run: Run) -> str:
    return fmt_ms(run.drain) if run.drain is not None else "incomplete"


def _errors(run: Run) -> str:
    return str(sum(n for status, n in run.load.statuses.items() if status != 200))


def _per(counts: dict, divisor: int) -> str:
    return ", ".join(f"{k} {v / divisor:.2f}" for k, v in sorted(counts.items()) if v) or "none"


def _run_json(run: Run) -> dict:
    return {
        "requests": run.requests,
        "seconds": run.load.seconds,
        "requests_per_s": run.rps,
        "p50_s": run.load.percentile(50),
        "p99_s": run.load.percentile(99),
        "max_s": max(run.load.latencies),
        "completed_per_s": run.completion_rate,
        "drain_s": run.drain,
        "statuses": dict(run.load.statuses),
        "slack_calls": run.calls,
        "cpu_s": run.cpu,
        "stored": run.stored,
    }


# -- main --------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="measured requests per app")
    parser.add_argument("--warmup", type=int, default=4000, help="warm-up requests per app (fills the user caches)")
    parser.add_argument("--concurrency", type=int, default=50, help="keep-alive connections")
    parser.add_argument("--users", type=int, default=2000, help="people in the synthetic team")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY for both servers")
    parser.add_argument("--threads", type=int, default=8, help="WEB_THREADS for both servers")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", default="smallchanges_bench", help="dropped and recreated at each run")
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds to wait for the last DM")
    parser.add_argument("--cost-thanks", type=int, default=300, help="in-process /thanks counted warm")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    cap = WorkspaceConfig.defaults().thanks_daily_cap
    if math.ceil((args.warmup + args.requests) / args.users) > cap:
        raise SystemExit(f"--users too small: someone would reach the daily cap of {cap} and be refused")

    info = machine() | {"postgres": "PostgreSQL " + scalar(args.postgres + "/postgres", "SHOW server_version")}
    db_url = recreate_database(args.postgres, args.database)
    logs = Path(tempfile.mkdtemp(prefix="thanks-bench-"))
    python = sys.executable
    base_env = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "HOME", "LANG", "TZ") if k in os.environ}
    fake_args = [python, str(HERE / "fake_slack_process.py"), "--users", str(args.users)]
    fake = Child("fake-slack", fake_args, base_env, logs)
    try:
        fake_url = fake.first_line(timeout=30)
        env = bot_env(base_env, fake_url, db_url, WEB_CONCURRENCY=str(args.workers), WEB_THREADS=str(args.threads))
        print(f"fake Slack at {fake_url}; logs in {logs}", flush=True)
        bot = load_app("bot", [python, "-m", "bot", "serve"], env, fake, fake_url, args, logs, db_url)
        floor = load_app("floor", [python, str(HERE / "floor_app.py")], env, fake, fake_url, args, logs, None)
    finally:
        fake.stop()
    print("  counting one /thanks in-process ...", flush=True)
    costs = measure_cost(db_url, people=100, warm_thanks=args.cost_thanks)
    info["load after"] = load_average()
    figures = summary(bot, floor, costs, args, info)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
