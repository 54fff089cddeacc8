"""The fake Slack Web API in a process of its own, so the CPU it burns answering the app under test is not
charged to that app's process. Prints its URL on the first line of stdout, then serves until killed.

    python benchmarks/fake_slack_process.py --users 2000
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from http.server import ThreadingHTTPServer

from bot.console.fake_slack import FakeSlack, user

TEAM_ID = "T0BENCH"
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")


def user_id(n: int, prefix: str = "UB") -> str:
    return f"{prefix}{n:06d}"


def team(size: int, prefix: str = "UB") -> list[dict]:
    """A synthetic team: plain people (no bots, nobody deactivated) spread over four time zones."""
    return [user(user_id(n, prefix), f"Person{n} Bench", tz=ZONES[n % len(ZONES)]) for n in range(size)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="size of the synthetic team")
    args = parser.parse_args(argv)
    # socketserver's listen backlog is 5: under load the kernel would drop SYNs and the app's Slack calls
    # would stall for a 1 s retransmit, which is a property of the stand-in, not of Slack or of the app.
    ThreadingHTTPServer.request_queue_size = 1024
    fake = FakeSlack(team_id=TEAM_ID)
    for person in team(args.users):
        fake.add_user(person)
    fake.start()
    print(fake.url, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass
    fake.stop()


if __name__ == "__main__":
    sys.exit(main())
