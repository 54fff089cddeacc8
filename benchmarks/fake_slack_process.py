"""The fake Slack Web API in a process of its own, so the CPU it burns answering the app under test is not
charged to that app's process. Prints its URL on the first line of stdout, then serves until killed.

    python benchmarks/fake_slack_process.py --users 2000
    python benchmarks/fake_slack_process.py --users 10000 --prefix UN --zones Europe/London,Europe/Paris \
        --rate-limit-every 20 --retry-after 1

`GET /_stats` gives the calls so far per method (from FakeSlack). `GET /_dms` gives, per channel, how many
chat.postMessage calls were answered `ok` (a call answered 429 delivers nothing, so it is not counted). `GET /_said`
lists every post and response_url reply answered, with its channel and first 300 characters; `POST /_down?seconds=N`
makes the fake answer 503 to everything for N seconds (Slack down).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections import Counter
from http.server import ThreadingHTTPServer

from bot.console.fake_slack import Call, FakeSlack, user

TEAM_ID = "T0BENCH"
ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")


def user_id(n: int, prefix: str = "UB") -> str:
    return f"{prefix}{n:06d}"


def team(size: int, prefix: str = "UB", zones: tuple[str, ...] = ZONES) -> list[dict]:
    """A synthetic team: plain people (no bots, nobody deactivated) spread over the given time zones."""
    return [user(user_id(n, prefix), f"Person{n} Bench", tz=zones[n % len(zones)]) for n in range(size)]


class BenchFakeSlack(FakeSlack):
    """FakeSlack plus, optionally, Slack's rate limiting on every n-th chat.postMessage (HTTP 429, Retry-After),
    and the per-channel count of delivered DMs that duplicate and loss checks need."""

    def __init__(self, *args, rate_limit_every: int = 0, retry_after: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.rate_limit_every, self.retry_after = rate_limit_every, retry_after
        self._posts = 0

    def _answer(self, path: str, params: dict, token: str | None) -> tuple[int, dict, dict | str]:
        if path == "/_said":  # what people were shown: each answered post or reply, its channel and first words
            with self._changed:
                said = [
                    {
                        "method": c.method,
                        "channel": c.params.get("channel"),
                        "text": c.text()[:300],
                        "in_channel": c.params.get("response_type") == "in_channel",
                    }
                    for c in self.calls
                    if c.method == "response_url" or (c.method == "chat.postMessage" and c.result.get("ok"))
                ]
            return 200, {"Content-Type": "application/json"}, {"said": said}
        if path == "/_dms":
            with self._changed:
                delivered = Counter(
                    c.params.get("channel")
                    for c in self.calls
                    if c.method == "chat.postMessage" and "_failed" not in c.params and c.result.get("ok")
                )
            return 200, {"Content-Type": "application/json"}, dict(delivered)
        if path == "/api/chat.postMessage" and self.rate_limit_every:
            with self._changed:
                self._posts += 1
                limited = self._posts % self.rate_limit_every == 0
            if limited:  # recorded as FakeSlack records the failures scripted with fail()
                self._record(Call("chat.postMessage", params | {"_failed": "ratelimited"}, path, token))
                headers = {"Retry-After": str(self.retry_after), "Content-Type": "application/json"}
                return 429, headers, {"ok": False, "error": "ratelimited"}
        return super()._answer(path, params, token)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="size of the synthetic team")
    parser.add_argument("--prefix", default="UB", help="user ids are this prefix and six digits")
    parser.add_argument("--zones", default=",".join(ZONES), help="comma-separated IANA zones, assigned in turn")
    parser.add_argument("--rate-limit-every", type=int, default=0, help="answer every n-th chat.postMessage 429")
    parser.add_argument("--retry-after", type=int, default=1, help="the Retry-After (seconds) of those 429s")
    args = parser.parse_args(argv)
    # socketserver's listen backlog is 5: under load the kernel would drop SYNs and the app's Slack calls
    # would stall for a 1 s retransmit, which is a property of the stand-in, not of Slack or of the app.
    ThreadingHTTPServer.request_queue_size = 1024
    fake = BenchFakeSlack(team_id=TEAM_ID, rate_limit_every=args.rate_limit_every, retry_after=args.retry_after)
    for person in team(args.users, args.prefix, tuple(args.zones.split(","))):
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
