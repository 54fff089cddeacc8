"""Faults a real deployment meets, and what the bot does through them. Prints figures; changes nothing in the repo.

1. PostgreSQL restarted while 1,000 signed /thanks arrive at once at `python -m bot serve`: nothing lost (each
   person's thank-you is saved and posted and DMed, or they are told it was not saved), nothing twice, and GET
   /healthz answering 503 while the database is away and 200 after.
2. The clock (`python -m bot clock`) killed with SIGKILL in the middle of 10,000 nudges and started again: each
   due person nudged once.

    python benchmarks/faults.py [--restart-command "pg_ctlcluster --skip-systemctl-redirect 15 main restart"]

It restarts the PostgreSQL server it is given (every database on it blinks), so run it on a machine of your own.
Its databases (smallchanges_faults, smallchanges_faults_clock) are dropped and recreated at each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psycopg
from burst import _fire, requests_for, settled
from fake_slack_process import TEAM_ID, user_id
from thanks_load import (
    BOT_TOKEN,
    HERE,
    SIGNING_SECRET,
    Child,
    Traffic,
    bot_env,
    free_port,
    get_json,
    machine,
    recreate_database,
    run_load,
    vacuum_analyze,
    wait_complete,
    wait_healthy,
)

from bot.console.payloads import SlackRequests
from bot.core.admins import OPERATOR


def restart_command() -> str:
    version = sorted(os.listdir("/etc/postgresql"))[-1] if os.path.isdir("/etc/postgresql") else "15"
    return f"pg_ctlcluster --skip-systemctl-redirect {version} main restart"


class HealthWatch(threading.Thread):
    """GET /healthz every 100 ms: the answers in order, run-length encoded ("200 x12, 503 x20, 200 x40")."""

    def __init__(self, port: int):
        super().__init__(daemon=True)
        self.port, self.stop, self.seen = port, threading.Event(), []

    def run(self) -> None:
        while not self.stop.wait(0.1):
            try:
                status = get_json(f"http://127.0.0.1:{self.port}/healthz", timeout=2)[0]
            except OSError:
                status = 0
            if self.seen and self.seen[-1][0] == status:
                self.seen[-1][1] += 1
            else:
                self.seen.append([status, 1])

    def summary(self) -> str:
        return ", ".join(f"{status} x{n}" for status, n in self.seen)


def database_restart(args, logs: Path, base: dict) -> dict:
    db_url = recreate_database(args.postgres, "smallchanges_faults")
    fake = Child("fake-slack", [sys.executable, str(HERE / "fake_slack_process.py"), "--users", "3000"], base, logs)
    try:
        fake_url = fake.first_line(timeout=30)
        port = free_port()
        env = bot_env(base, fake_url, db_url, WEB_CONCURRENCY="2", PORT=str(port))
        server = Child("bot", [sys.executable, "-m", "bot", "serve"], env, logs)
        try:
            wait_healthy(server, port)
            run_load(port, Traffic(fake_url, 3000).raw(1000, port), 50)  # warm: everyone looked up once
            wait_complete(fake_url, {"chat.postMessage": 1000, "response_url": 1000}, timeout=300)
            vacuum_analyze(db_url)
            health = HealthWatch(port)
            health.start()
            slack = SlackRequests(SIGNING_SECRET, TEAM_ID, fake_url + "/response/")
            raw = requests_for(slack, 3, args.thanks, 3000, port, offset=1000)

            def restart() -> None:
                time.sleep(0.4)  # while the burst's work is under way
                subprocess.run(shlex.split(args.restart_command), check=True, capture_output=True)

            restarting = threading.Thread(target=restart)
            restarting.start()
            began = time.monotonic()
            acks = asyncio.run(_fire(port, raw, None))
            restarting.join()
            restarted_after = time.monotonic() - began
            found, waited = settled(fake_url, db_url, 3, args.thanks, acks, timeout=400)
            time.sleep(2)
            health.stop.set()
            seconds = [a[0] for a in acks]
            server.check()
            return {
                "thank-yous at once": args.thanks,
                "acks": dict(Counter(a[1] for a in acks)),
                "ack max ms": round(max(seconds) * 1000, 1),
                "restart done after s": round(restarted_after, 1),
                "settled after s": round(waited, 1),
                "/healthz in order": health.summary(),
            } | found
        finally:
            server.stop()
    finally:
        fake.stop()


def clock_killed(args, logs: Path, base: dict) -> dict:
    """10,000 people due now; the clock is SIGKILLed half-way and started again; each should have one nudge."""
    from bot.app import slack_services
    from bot.core.ports import Team
    from bot.settings import Defaults, Settings
    from bot.store.db import Store

    db_url = recreate_database(args.postgres, "smallchanges_faults_clock")
    fake_args = [sys.executable, str(HERE / "fake_slack_process.py"), "--users", str(args.nudges), "--prefix", "UN"]
    fake = Child("fake-slack-clock", fake_args, base, logs)
    try:
        fake_url = fake.first_line(timeout=60)
        store = Store.from_url(db_url)
        store.migrate()
        settings = Settings(slack_bot_token=BOT_TOKEN, slack_api_url=fake_url + "/api/", defaults=Defaults.load())
        services = slack_services(settings, store).services
        # Everyone is due now, whatever the day and hour this runs: every day, all day, no gap between sends.
        whenever = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "23:59"}
        services.workspaces.update(Team("slack", TEAM_ID), OPERATOR, whenever | {"cadence": "weekly"})
        services.workspaces.update(Team("slack", TEAM_ID), OPERATOR, {"sends_per_second": 0})
        store.engine.dispose()
        env = bot_env(base, fake_url, db_url, LOG_LEVEL="INFO")

        def posted() -> int:
            return get_json(fake_url + "/_stats", timeout=30)[1].get("chat.postMessage", 0)

        first = Child("clock-1", [sys.executable, "-m", "bot", "clock"], env, logs)
        deadline = time.monotonic() + 600
        while posted() < args.nudges // 2:
            first.check()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the clock sent {posted()} nudges in 10 minutes:\n{first.tail()}")
            time.sleep(0.05)
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)
        killed_at = posted()
        second = Child("clock-2", [sys.executable, "-m", "bot", "clock"], env, logs)
        try:
            last, still = -1, 0
            while still < 20:  # until nothing more arrives for 10 s
                time.sleep(0.5)
                now = posted()
                still = still + 1 if now == last else 0
                last = now
                second.check()
        finally:
            second.stop()
        delivered = get_json(fake_url + "/_dms", timeout=60)[1]
        with psycopg.connect(db_url) as conn:
            ledger = Counter(state for (state,) in conn.execute("SELECT state FROM sends WHERE kind = 'nudge'"))
        people = [user_id(n, "UN") for n in range(args.nudges)]
        return {
            "due": args.nudges,
            "nudges sent when the clock was killed": killed_at,
            "people nudged once": sum(1 for p in people if delivered.get(p) == 1),
            "people nudged twice or more": sum(1 for p in people if delivered.get(p, 0) > 1),
            "people not nudged": sum(1 for p in people if not delivered.get(p)),
            "ledger": dict(ledger),
        }
    finally:
        fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--thanks", type=int, default=1000, help="thank-yous fired at once around the restart")
    parser.add_argument("--nudges", type=int, default=10000, help="people due a nudge when the clock is killed")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--restart-command", default=restart_command(), help="restarts that PostgreSQL server")
    parser.add_argument("--only", choices=["database", "clock"], help="run one of the two")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    logs = Path(tempfile.mkdtemp(prefix="faults-"))
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(HERE.parent)}
    figures: dict = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "logs": str(logs)}
    if args.only in (None, "database"):
        figures["PostgreSQL restarted during a burst"] = database_restart(args, logs, base)
        print(json.dumps(figures["PostgreSQL restarted during a burst"]), flush=True)
    if args.only in (None, "clock"):
        figures["clock killed mid-send"] = clock_killed(args, logs, base)
        print(json.dumps(figures["clock killed mid-send"]), flush=True)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
