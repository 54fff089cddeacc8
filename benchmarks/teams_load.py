"""Load Teams thank-yous through `python -m bot teams` and through a bare Teams SDK app (the floor), side by side,
and report throughput, latency, completion and the ratio of the two.

    /tmp/venv/bin/python benchmarks/teams_load.py        # from the repo root; about four minutes

Each app gets its own run against the same fake Bot Connector (its own process, fake_connector_process.py): start
the server, warm up (every synthetic person thanked once, so the bot has met them all and opened their 1:1 chats;
the floor has opened them too), then, at each concurrency level, post `message` activities as Teams sends them
("@Small Changes thanks @Person for …" in a channel, with mention entities) over keep-alive connections, and time
each answer. A Teams message is answered when its handler is done, so an answer means the thank-you is saved and
sent; the script checks that against the fake's counts and the database. The database (smallchanges_teams_bench by
default) is dropped and recreated at each run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import os
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fake_connector_process import person
from thanks_load import (
    HERE,
    REASONS,
    Child,
    Load,
    cpu_seconds,
    cpu_used,
    fmt_ms,
    free_port,
    get_json,
    load_average,
    machine,
    postgres_backends,
    recreate_database,
    run_load,
    scalar,
    vacuum_analyze,
)

from bot.core.model import WorkspaceConfig
from bot.store.db import Store

TENANT = "72f988bf-0000-0000-0000-00000000bench"
BOT = {"id": "28:00000000-0000-0000-0000-0000000000b0", "name": "Small Changes"}


# -- requests ----------------------------------------------------------------------------------------------------
class Traffic:
    """Teams `message` activities, each a thank-you from one synthetic person to another in one of a few channels.
    Givers go round everyone, so nobody gives more than ceil(total / people) in the run, far below the daily cap;
    on the first lap everyone is thanked once (the warm-up), then a different recipient on each lap."""

    def __init__(self, service_url: str, people: int, channels: int):
        self.service_url, self.people, self.channels = service_url, people, channels
        self.serial = 0
        self.ids = itertools.count(int(time.time() * 1000) * 1000)  # the bot ignores an activity id it has seen

    def pair(self, k: int) -> tuple[int, int]:
        size = self.people
        offset = 1 + (k // size * 7) % (size - 1)  # never the giver
        return k % size, (k + offset) % size

    def activity(self) -> dict:
        giver, recipient = self.pair(self.serial)
        sender, thanked = person(giver), person(recipient)
        channel = f"19:bench-channel-{self.serial % self.channels}@thread.tacv2"
        reason = REASONS[self.serial % len(REASONS)]
        self.serial += 1
        at_bot, at_person = f"<at>{BOT['name']}</at>", f"<at>{thanked['name']}</at>"
        return {
            "type": "message",
            "id": str(next(self.ids)),
            "timestamp": "2026-12-03T09:15:00.123Z",
            "localTimezone": "Europe/London",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": sender,
            "conversation": {
                "id": f"{channel};messageid=1764753300123",
                "conversationType": "channel",
                "tenantId": TENANT,
            },
            "recipient": BOT,
            "text": f"{at_bot} thanks {at_person} {reason}",
            "entities": [
                {"type": "mention", "text": at_bot, "mentioned": BOT},
                {"type": "mention", "text": at_person, "mentioned": {"id": thanked["id"], "name": thanked["name"]}},
                {"type": "clientInfo", "locale": "en-GB", "timezone": "Europe/London"},
            ],
            "channelData": {"tenant": {"id": TENANT}, "channel": {"id": channel}},
        }

    def raw(self, count: int, port: int) -> list[bytes]:
        """Whole HTTP/1.1 requests to the messaging endpoint."""
        out = []
        for _ in range(count):
            body = json.dumps(self.activity()).encode()
            head = (
                f"POST /api/messages HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            )
            out.append(head.encode() + body)
        return out


def wait_listening(child: Child, port: int, timeout: float = 60.0) -> None:
    """The Teams app has no health route; its port opens once the SDK's app is initialized (and migrated)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.check()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{child.name} was not listening within {timeout:.0f} s:\n{child.tail()}")


def wait_stats(fake_url: str, expected: dict[str, int], timeout: float) -> dict[str, int]:
    """The fake's counts once they reach `expected` (or whatever they are at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = get_json(fake_url + "/_stats")[1]
        if all(seen.get(k, 0) >= n for k, n in expected.items()) or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


# -- one app under load ------------------------------------------------------------------------------------------
@dataclass
class Run:
    app: str
    concurrency: int
    load: Load
    calls: dict[str, int]  # the fake's counts during the measured phase
    cpu: dict[str, float]
    saved: int | None  # rows added to `thanks` during the measured phase (the floor saves nothing)

    @property
    def requests(self) -> int:
        return len(self.load.latencies)

    @property
    def ok(self) -> int:
        return self.load.statuses.get(200, 0)

    @property
    def rps(self) -> float:
        return self.ok / self.load.seconds

    @property
    def errors(self) -> int:
        return self.requests - self.ok

    def complete(self) -> bool:
        """Every thank-you posted in its channel and sent to its recipient (and saved, for the bot)."""
        posted = self.calls.get("post_channel", 0) == self.requests and self.calls.get("post_chat", 0) == self.requests
        return posted and self.saved in (None, self.requests)

    def json(self) -> dict:
        return {
            "requests": self.requests,
            "seconds": self.load.seconds,
            "completed_per_s": self.rps,
            "p50_ms": self.load.percentile(50) * 1000,
            "p95_ms": self.load.percentile(95) * 1000,
            "p99_ms": self.load.percentile(99) * 1000,
            "max_ms": max(self.load.latencies) * 1000,
            "statuses": dict(self.load.statuses),
            "connector_calls": self.calls,
            "saved": self.saved,
            "complete": self.complete(),
            "cpu_ms_per_thanks": {k: v * 1000 / self.requests for k, v in self.cpu.items()},
        }


def load_app(name: str, command: list[str], env: dict, fake: Child, fake_url: str, args, logs: Path) -> list[Run]:
    port = free_port()
    server = Child(name, command, env | {"PORT": str(port)}, logs)
    db_url = env["DATABASE_URL"] if name == "bot" else None
    runs = []
    try:
        wait_listening(server, port)
        traffic = Traffic(fake_url, args.people, args.channels)
        phases = [("warm-up", args.warmup_concurrency)] + [("measured", c) for c in args.concurrency]
        for phase, concurrency in phases:
            count = args.warmup if phase == "warm-up" else args.requests
            before = get_json(fake_url + "/_stats")[1]
            saved_before = scalar(db_url, "SELECT count(*) FROM thanks") if db_url else None
            requests = traffic.raw(count, port)
            processes = {
                "app": server.pids,
                "fake connector": fake.pids,
                "PostgreSQL": lambda: postgres_backends(args.database),
                "load generator": lambda: [os.getpid()],
            }
            cpu_before = {k: cpu_seconds(pids()) for k, pids in processes.items()}
            load = run_load(port, requests, concurrency, timeout=args.timeout)
            cpu_after = {k: cpu_seconds(pids()) for k, pids in processes.items()}
            expected = {k: before.get(k, 0) + count for k in ("post_channel", "post_chat")}
            after = wait_stats(fake_url, expected, timeout=10)  # answered means sent: this only waits on a failure
            server.check()
            calls = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(after)}
            saved = scalar(db_url, "SELECT count(*) FROM thanks") - saved_before if db_url else None
            cpu = {k: cpu_used(cpu_before[k], cpu_after[k]) for k in processes}
            run = Run(name, concurrency, load, {k: v for k, v in calls.items() if v}, cpu, saved)
            print(
                f"  {name} {phase}, {concurrency} connections: {count} messages in {load.seconds:.1f} s "
                f"({run.rps:.0f}/s), statuses {dict(load.statuses)}, p99 {fmt_ms(load.percentile(99))}, "
                f"connector {run.calls}" + (f", saved {saved}" if db_url else "") + f"; load average {load_average()}",
                flush=True,
            )
            if phase == "warm-up":
                if db_url:
                    vacuum_analyze(db_url)
            else:
                runs.append(run)
        return runs
    finally:
        server.stop()


# -- cost of one thank-you, in-process -------------------------------------------------------------------------
@dataclass
class Cost:
    thanks: int
    seconds: float
    calls: Counter
    statements: Counter
    transactions: int
    checkouts: int

    def per(self, count: float) -> float:
        return count / self.thanks

    def json(self) -> dict:
        return {
            "thanks": self.thanks,
            "ms_each_one_at_a_time": self.seconds * 1000 / self.thanks,
            "connector_calls": dict(self.calls),
            "statements": dict(self.statements),
            "transactions": self.transactions,
            "checkouts": self.checkouts,
        }


def measure_cost(db_url: str, people: int, warm: int) -> tuple[Cost, Cost]:
    """The real bot in this process (build_teams, served by uvicorn on a thread), one message at a time, counting
    the SQL it sends and what reaches the connector: thank-yous to people it has not met, then to people it has."""
    import asyncio
    import threading
    import urllib.request

    import uvicorn
    from fake_connector_process import Connector, serve
    from sqlalchemy import event

    from bot.app import build_teams
    from bot.settings import Settings
    from bot.store.db import Store

    logging.getLogger("bot.app").setLevel(logging.ERROR)  # its warning about unauthenticated requests, said above
    connector = Connector(people)
    fake = serve(connector)
    store = Store.from_url(db_url)
    settings = Settings(database_url=db_url, tenant_id=TENANT, teams_unauthenticated=True)
    bot = build_teams(settings, store=store)
    asyncio.run(bot.app.initialize())
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(bot.app.server.adapter.app, log_config=None, access_log=False))
    threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/messages"
    seen = {"statements": Counter(), "transactions": 0, "checkouts": 0}
    event.listen(store.engine, "before_cursor_execute", lambda c, cur, sql, *_: seen["statements"].update([shape(sql)]))
    event.listen(store.engine, "commit", lambda c: seen.update(transactions=seen["transactions"] + 1))
    event.listen(store.engine, "checkout", lambda *_: seen.update(checkouts=seen["checkouts"] + 1))
    traffic = Traffic(f"http://127.0.0.1:{fake.server_address[1]}", people, 3)

    def phase(count: int) -> Cost:
        before = Counter(connector.stats)
        seen.update(statements=Counter(), transactions=0, checkouts=0)
        started = time.perf_counter()
        for _ in range(count):
            request = urllib.request.Request(
                url, json.dumps(traffic.activity()).encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                if answer.status != 200:
                    raise RuntimeError(f"the bot answered {answer.status}")
        took = time.perf_counter() - started
        calls = Counter(connector.stats)
        calls.subtract(before)
        return Cost(count, took, +calls, seen["statements"], seen["transactions"], seen["checkouts"])

    try:
        cold = phase(people)  # every recipient met (looked up, 1:1 chat opened) for the first time
        return cold, phase(warm)
    finally:
        server.should_exit = True
        fake.shutdown()
        store.engine.dispose()


def shape(sql: str) -> str:
    verb = sql.split(None, 1)[0].upper()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", sql)
    return f"{verb} {table.group(1)}" if table else verb


# -- report ------------------------------------------------------------------------------------------------------
def summary(bots: list[Run], floors: list[Run], costs: tuple[Cost, Cost] | None, args, info: dict) -> dict:
    lines = [
        f"Teams thanks load, {date.today().isoformat()}: {args.requests} messages per app and level after "
        f"{args.warmup} warm-up, {args.people} people, {args.channels} channels",
        f"machine: {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}, {info['postgres']}; "
        f"load average {info['load before']} before, {info['load after']} after; code {info['revision']}",
        "server: uvicorn, one process, as `python -m bot teams` serves it (the same for both)",
    ]
    levels = {}
    for bot, floor in zip(bots, floors, strict=True):
        ratio_rps, ratio_p99 = bot.rps / floor.rps, bot.load.percentile(99) / floor.load.percentile(99)
        lines += [
            "",
            f"{bot.concurrency} connections{'':14}{'bot':>14}{'floor':>14}{'bot/floor':>11}",
            f"{'completed thanks/s':28}{bot.rps:>14.0f}{floor.rps:>14.0f}{ratio_rps:>11.2f}",
        ]
        for p in (50, 95, 99):
            mine, theirs = bot.load.percentile(p), floor.load.percentile(p)
            lines.append(f"{f'p{p} latency':28}{fmt_ms(mine):>14}{fmt_ms(theirs):>14}{mine / theirs:>11.2f}")
        lines += [
            f"{'max latency':28}{fmt_ms(max(bot.load.latencies)):>14}{fmt_ms(max(floor.load.latencies)):>14}",
            f"{'errors (not 200)':28}{bot.errors:>14}{floor.errors:>14}",
            f"{'saved':28}{bot.saved!s:>14}{'-':>14}",
            f"{'posted / DMed (connector)':28}{_sent(bot):>14}{_sent(floor):>14}",
            f"{'all saved and sent':28}{_yes(bot.complete()):>14}{_yes(floor.complete()):>14}",
        ]
        for component in [*bot.cpu, "total"]:
            mine, theirs = (
                (sum(r.cpu.values()) if component == "total" else r.cpu[component]) * 1000 / r.requests
                for r in (bot, floor)
            )
            ratio = f"{mine / theirs:>11.2f}" if theirs else ""
            lines.append(f"{'CPU ms/thanks, ' + component:28}{mine:>14.2f}{theirs:>14.2f}{ratio}")
        levels[str(bot.concurrency)] = {
            "bot": bot.json(),
            "floor": floor.json(),
            "ratio": {"completed_per_s": ratio_rps, "p99": ratio_p99},
        }
    if costs:
        lines += ["", "in-process, one message at a time (the bot's SQL, as SQLAlchemy sends it):"]
        for label, cost in zip(("people it had not met", "people it had met"), costs, strict=True):
            statements = sum(cost.statements.values())
            lines.append(
                f"  {label:22} ({cost.thanks:>4}): {cost.per(cost.seconds) * 1000:.1f} ms each; connector "
                + ", ".join(f"{k} {cost.per(v):.2f}" for k, v in sorted(cost.calls.items()))
                + f"; SQL {cost.per(statements):.2f} statements ("
                + ", ".join(f"{k} {cost.per(v):.2f}" for k, v in cost.statements.most_common())
                + f"), {cost.per(cost.transactions):.2f} transactions, {cost.per(cost.checkouts):.2f} pool checkouts"
            )
    print("\n".join(lines), flush=True)
    out = {"date": date.today().isoformat(), "machine": info, "settings": vars(args), "levels": levels}
    if costs:
        out["in_process"] = {"not_met": costs[0].json(), "met": costs[1].json()}
    return out


def _sent(run: Run) -> str:
    return f"{run.calls.get('post_channel', 0)} / {run.calls.get('post_chat', 0)}"


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


# -- main --------------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured messages per app at each level")
    parser.add_argument("--concurrency", default="10,50", help="keep-alive connections, one measured run each")
    parser.add_argument("--people", type=int, default=2000, help="synthetic people (givers and recipients)")
    parser.add_argument("--warmup", type=int, help="warm-up messages per app (default: one per person)")
    parser.add_argument("--warmup-concurrency", type=int, default=20, help="keep-alive connections in the warm-up")
    parser.add_argument("--channels", type=int, default=10, help="channels the thank-yous are said in")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before an answer counts as an error")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", default="smallchanges_teams_bench", help="dropped and recreated at each run")
    parser.add_argument("--cost-thanks", type=int, default=300, help="in-process messages counted warm (0: skip)")
    parser.add_argument("--cost-people", type=int, default=100, help="people in the in-process count")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    args.warmup = args.people if args.warmup is None else args.warmup
    cap = WorkspaceConfig.defaults().thanks_daily_cap
    total = args.warmup + args.requests * len(args.concurrency)
    if math.ceil(total / args.people) > cap:
        raise SystemExit(f"--people too small: someone would reach the daily cap of {cap} and be refused")

    info = machine() | {"postgres": "PostgreSQL " + scalar(args.postgres + "/postgres", "SHOW server_version")}
    db_url = recreate_database(args.postgres, args.database)
    logs = Path(tempfile.mkdtemp(prefix="teams-bench-"))
    python = sys.executable
    base_env = {k: os.environ[k] for k in ("PATH", "PYTHONPATH", "HOME", "LANG", "TZ") if k in os.environ}
    fake_args = [python, str(HERE / "fake_connector_process.py"), "--people", str(args.people)]
    fake = Child("fake-connector", fake_args, base_env, logs)
    try:
        fake_url = fake.first_line(timeout=30)
        env = base_env | {
            "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS": "true",
            "TENANT_ID": TENANT,
            "DATABASE_URL": db_url,
            "LOG_LEVEL": "WARNING",
            "PYTHON_DOTENV_DISABLED": "1",
        }
        print(f"fake Bot Connector at {fake_url}; logs in {logs}; load average {load_average()}", flush=True)
        bots = load_app("bot", [python, "-m", "bot", "teams"], env, fake, fake_url, args, logs)
        floors = load_app("floor", [python, str(HERE / "teams_floor_app.py")], env, fake, fake_url, args, logs)
    finally:
        fake.stop()
    costs = None
    if args.cost_thanks:
        print("  counting one thank-you in-process ...", flush=True)
        cost_db = recreate_database(args.postgres, args.database)
        Store.from_url(cost_db).migrate()
        costs = measure_cost(cost_db, args.cost_people, args.cost_thanks)
    info["load after"] = load_average()
    figures = summary(bots, floors, costs, args, info)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n")


if __name__ == "__main__":
    sys.exit(main())
