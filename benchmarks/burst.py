"""A busy Monday morning: 500 signed /thanks fired at once at `python -m bot serve` on PostgreSQL, after a warm-up;
then the same with Slack down for 5 s in the middle. Every ack must be a 200 within Slack's 3 s (the slowest, not
a percentile); every saved thank-you posted and DMed; every unsaved one told.

    python benchmarks/burst.py            # from the repo root, in the project's environment; about a minute

Each burst opens its 500 connections first, then sends every request at the same moment and times each answer.
Afterwards the script waits until the fake Slack has every post, DM and reply it will get, and reads the database.
The database (smallchanges_burst by default) is dropped and recreated at each run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

from fake_slack_process import user_id
from thanks_load import (
    HERE,
    SIGNING_SECRET,
    Child,
    Traffic,
    bot_env,
    free_port,
    get_json,
    load_average,
    machine,
    recreate_database,
    run_load,
    scalar,
    vacuum_analyze,
    wait_complete,
    wait_healthy,
)

from bot.console.payloads import SlackRequests

TAG = re.compile(r"burst(\d) #(\d+)\b")


async def _fire(port: int, requests: list[bytes], slack_down: tuple[str, float] | None) -> list[tuple[float, int, str]]:
    """Open a connection per request, then send them all at once; (seconds to the answer, status, body) each."""
    opened = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for _ in requests))

    async def one(reader, writer, raw: bytes) -> tuple[float, int, str]:
        started = time.perf_counter()
        writer.write(raw)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status = int(head.split()[1])
        length = int(re.search(r"(?i)content-length: (\d+)", head).group(1))
        body = (await reader.readexactly(length)).decode()
        took = time.perf_counter() - started
        writer.close()
        return took, status, body

    async def outage() -> None:
        if slack_down:
            url, seconds = slack_down
            await asyncio.sleep(0.3)  # in the middle of the work the burst set off
            await asyncio.to_thread(urllib.request.urlopen, f"{url}/_down?seconds={seconds}")

    results, _ = await asyncio.gather(
        asyncio.gather(*(one(r, w, raw) for (r, w), raw in zip(opened, requests, strict=True))), outage()
    )
    return results


def requests_for(slack: SlackRequests, burst: int, count: int, team: int, port: int, offset: int) -> list[bytes]:
    """`count` /thanks from as many different people, each tagged `burstB #N`, as whole HTTP/1.1 requests."""
    out = []
    for n in range(count):
        giver, recipient = user_id((offset + n) % team), user_id((offset + n + 7) % team)
        body = slack.command("/thanks", f"<@{recipient}|someone> for burst{burst} #{n} #supportive", giver)
        head = "".join(f"{k}: {v}\r\n" for k, v in slack.sign(body).items())
        out.append(
            f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}Content-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n{body}".encode()
        )
    return out


def outcome(fake_url: str, db_url: str, burst: int, count: int, acks: list[tuple[float, int, str]]) -> dict:
    """Per thank-you: saved (a row), posted (in the channel), DMed, told it was not saved; from the fake and the
    database."""
    said = get_json(fake_url + "/_said", timeout=30)[1]["said"]
    posted, dmed, told = Counter(), Counter(), Counter()
    for call in said:
        found = TAG.search(call["text"])
        if not found or int(found.group(1)) != burst:
            continue
        n = int(found.group(2))
        if "*not* saved" in call["text"]:
            told[n] += 1
        elif call["in_channel"]:
            posted[n] += 1
        elif call["method"] == "chat.postMessage" and str(call["channel"]).startswith("U"):
            dmed[n] += 1
    for _, _, body in acks:  # a refusal in the ack itself (the server was full)
        found = TAG.search(body)
        if found and "*not* saved" in body and int(found.group(1)) == burst:
            told[int(found.group(2))] += 1
    import psycopg

    with psycopg.connect(db_url) as conn:
        reasons = [r for (r,) in conn.execute("SELECT reason FROM thanks WHERE reason LIKE %s", (f"burst{burst} #%",))]
    saved = Counter(int(TAG.search(r).group(2)) for r in reasons)
    everyone = range(count)
    return {
        "saved": len(saved),
        "posted": sum(1 for n in saved if posted[n]),
        "dmed": sum(1 for n in saved if dmed[n]),
        "told not saved": sum(1 for n in everyone if n not in saved and told[n]),
        "lost (neither saved nor told)": sum(1 for n in everyone if n not in saved and not told[n]),
        "saved but told not saved": sum(1 for n in saved if told[n]),
        "saved twice": sum(1 for n in saved if saved[n] > 1),
        "posted twice": sum(1 for n in posted if posted[n] > 1),
        "DMed twice": sum(1 for n in dmed if dmed[n] > 1),
        "saved, not yet posted or DMed": sum(1 for n in saved if not (posted[n] and dmed[n])),
    }


def settled(fake_url: str, db_url: str, burst: int, count: int, acks, timeout: float) -> tuple[dict, float]:
    """Wait until every thank-you is posted and DMed or its giver told (the outbox retries what Slack missed)."""
    started = time.monotonic()
    while True:
        found = outcome(fake_url, db_url, burst, count, acks)
        pending = found["saved, not yet posted or DMed"] + found["lost (neither saved nor told)"]
        if not pending or time.monotonic() - started > timeout:
            return found, time.monotonic() - started
        time.sleep(1.0)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="thank-yous in each burst")
    parser.add_argument("--warmup", type=int, default=1000, help="thank-yous before the bursts (50 connections)")
    parser.add_argument("--users", type=int, default=2000, help="people in the synthetic team")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY")
    parser.add_argument("--slack-down", type=float, default=5.0, help="seconds Slack is down in the second burst")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", default="smallchanges_burst", help="dropped and recreated at each run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    info = machine()
    db_url = recreate_database(args.postgres, args.database)
    logs = Path(tempfile.mkdtemp(prefix="burst-bench-"))
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(HERE.parent)}
    fake = Child(
        "fake-slack", [sys.executable, str(HERE / "fake_slack_process.py"), "--users", str(args.users)], base, logs
    )
    figures: dict = {"date": time.strftime("%Y-%m-%d"), "machine": info, "settings": vars(args) | {"json": None}}
    try:
        fake_url = fake.first_line(timeout=30)
        port = free_port()
        env = bot_env(base, fake_url, db_url, WEB_CONCURRENCY=str(args.workers), PORT=str(port))
        server = Child("bot", [sys.executable, "-m", "bot", "serve"], env, logs)
        try:
            wait_healthy(server, port)
            traffic = Traffic(fake_url, args.users)
            warm = run_load(port, traffic.raw(args.warmup, port), 50)
            # The warm-up's acks come back before its work is done: wait for its last DM, so the burst meets an
            # idle server.
            wait_complete(fake_url, {"chat.postMessage": args.warmup, "response_url": args.warmup}, timeout=300)
            vacuum_analyze(db_url)
            print(f"logs in {logs}; warm-up: {args.warmup} thank-yous, statuses {dict(warm.statuses)}", flush=True)
            slack = SlackRequests(SIGNING_SECRET, "T0BENCH", fake_url + "/response/")
            for burst, down in ((1, None), (2, (fake_url, args.slack_down))):
                raw = requests_for(slack, burst, args.requests, args.users, port, offset=burst * args.requests)
                acks = asyncio.run(_fire(port, raw, down))
                found, waited = settled(fake_url, db_url, burst, args.requests, acks, timeout=180)
                seconds = [a[0] for a in acks]
                row = {
                    "Slack down": f"{args.slack_down:.0f} s" if down else "no",
                    "acks": dict(Counter(a[1] for a in acks)),
                    "ack p50 ms": round(pct(seconds, 50) * 1000, 1),
                    "ack p99 ms": round(pct(seconds, 99) * 1000, 1),
                    "ack max ms": round(max(seconds) * 1000, 1),
                    "acks over 3 s": sum(1 for s in seconds if s >= 3.0),
                    "settled after s": round(waited, 1),
                } | found
                figures[f"burst {burst}"] = row
                print(f"burst {burst}: " + json.dumps(row), flush=True)
            server.check()
        finally:
            server.stop()
            figures["stored"] = scalar(db_url, "SELECT count(*) FROM thanks")
            figures["outbox not sent"] = scalar(
                db_url, "SELECT string_agg(state || ' ' || coalesce(error, ''), '; ') FROM outbox WHERE state <> 'sent'"
            )
    finally:
        fake.stop()
    figures["machine"]["load after"] = load_average()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    sys.exit(main())
