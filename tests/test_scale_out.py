"""Scale-out, proven rather than described: two web processes (`python -m bot serve`) and two clocks (`python -m bot
clock`) on one PostgreSQL database, as a host runs them on several machines. Commands and card clicks arrive through
both web processes at once (some twice, once through each, as a retried delivery would), two clocks tick the same
instant (`python -m bot run nudges --at …`, twice at once), and afterwards: every thank-you acked is saved once and
posted and DMed once, one person's daily cap holds across both processes, every back counts once, one of two people
taking an idea on gets it, each due person is nudged once, each digest goes out once, and the outbox is empty.

The real clocks tick at the real time too (their first tick at once) and drain the outbox. What they send depends on
the day, so nothing here counts their sends: the pinned instants are weeks away from today, where nothing the test
does today counts, and every nudge whatever its period is checked to have gone out once.

PostgreSQL only: what is under test is its row claims, unique keys and advisory locks between processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.console.fake_slack import Call, FakeSlack, user
from bot.console.team import ALICE, BOB, CAROL, DANI, FEMI
from bot.core.model import WorkspaceConfig
from bot.store.models import Backing, Change, OutboxMessage, Send, Thanks
from tests.conftest import SIGNING_SECRET
from tests.fakes.driver import SlackDriver
from tests.slack.test_smallchange import Card, blocks_of, cards, click_body, replies_to
from tests.slack.test_thanks import mention
from tests.test_cli import free_port, slack_env

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="scale-out is PostgreSQL's row claims and locks between processes: set TEST_DATABASE_URL to run it",
    ),
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

LONDON = ZoneInfo("Europe/London")
GIVERS = [f"U0G{n:02d}" for n in range(10)]  # London, like Alice and Bob
DUE = {ALICE, BOB, FEMI, *GIVERS}  # in working hours at 10:30 London on a Tuesday; Carol, Dani and Ed are not
RECIPIENTS = (BOB, CAROL, ALICE)
CAP = WorkspaceConfig.defaults().thanks_daily_cap
BACKERS = (ALICE, BOB, CAROL, DANI, *GIVERS[:7])
TWICE = GIVERS[5]  # whose back is delivered through both servers
TAKERS = (GIVERS[7], GIVERS[8])
DIGEST_CHANNEL = "C0DIGEST"
CLOCKS, WEBS = ("clock0", "clock1"), ("web0", "web1")
BOTH = (0, 1)  # through each web process: the same delivery twice
TICKED = re.compile(r"digests (tick )?for T0SAMPLE")  # a clock's log once its tick (nudges, then digests) is over


def tuesday_morning(weeks_ahead: int) -> datetime:
    """10:30 in London on the Tuesday this many weeks after this one: working hours on a nudge day."""
    today = datetime.now(LONDON).date()
    tuesday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead, days=1)
    return datetime.combine(tuesday, dt_time(10, 30), LONDON)


class Fleet:
    """`python -m bot …` processes as an operator starts them, in a clean environment and a folder of their own (no
    developer's .env), each writing its output to a file: a pipe nobody reads could fill and stall it."""

    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder, self.env = folder, env
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *args: str, **env: str) -> None:
        with (self.folder / f"{name}.log").open("w") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                cwd=self.folder,
                env=self.env | env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def running(self, *names: str) -> None:
        for name in names:
            code = self.processes[name].poll()
            assert code is None, f"{name} stopped (exit {code}):\n{self.log(name)[-3000:]}"

    def finished(self, name: str, timeout: float = 120) -> str:
        """A one-off command's output, once it has ended well."""
        try:
            code = self.processes[name].wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{name} still running:\n{self.log(name)[-3000:]}") from None
        assert code == 0, f"{name} exited {code}:\n{self.log(name)[-3000:]}"
        return self.log(name)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def fleet(tmp_path, fake_slack, database_url):
    env = slack_env(
        tmp_path, fake_slack, database_url, MANAGER_USER_IDS=BOB, DIGEST_CHANNEL=DIGEST_CHANNEL, LOG_LEVEL="INFO"
    )
    fleet = Fleet(tmp_path, env)
    yield fleet
    fleet.stop()
    for name in fleet.processes:  # pytest shows this only when the test failed
        print(f"---- {name} ----\n{fleet.log(name)[-3000:]}")


def until(what: str, done: Callable[[], bool], fleet: Fleet, timeout: float = 120) -> None:
    """Wait for `done`; a long-running process that dies meanwhile fails the test with its log. The time allowed is
    for a busy CI machine, where starting eight Pythons takes a while; it is no measure of anything."""
    deadline = time.monotonic() + timeout
    while not done():
        fleet.running(*WEBS, *CLOCKS)
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.1)


def healthy(web: SlackDriver) -> bool:
    try:
        return web.get("/healthz").status == 200
    except OSError:
        return False


def nudge_send_id(call: Call) -> int | None:
    """The ledger row a nudge (or a stop check) was sent for: its buttons sit in the block nudge_<send id>."""
    found = [b["block_id"] for b in blocks_of(call) if str(b.get("block_id", "")).startswith("nudge_")]
    return int(found[0].removeprefix("nudge_")) if found else None


def sent(output: str) -> int:
    """What one `run` reported sending (nothing when the other clock had the lock)."""
    found = re.search(r"^sent (\d+), failed 0$", output, re.MULTILINE)
    assert found or "Another clock is ticking right now" in output, output
    return int(found.group(1)) if found else 0


def test_two_web_processes_and_two_clocks_on_one_database_send_nothing_twice_and_lose_nothing(
    fleet: Fleet, fake_slack: FakeSlack, store
):
    for n, person in enumerate(GIVERS):
        fake_slack.add_user(user(person, f"Giver {n}"))
    nudge_at, digest_at = tuesday_morning(21), tuesday_morning(1)  # nudges: beyond every lookback of today's doings
    ports = [free_port(), free_port()]
    for name, port in zip(WEBS, ports, strict=True):
        fleet.start(name, "serve", PORT=str(port), WEB_CONCURRENCY="1")
    for name in CLOCKS:
        fleet.start(name, "clock")
    webs = [SlackDriver(f"http://127.0.0.1:{port}", fake_slack, SIGNING_SECRET) for port in ports]
    until("both web processes to answer /healthz", lambda: all(healthy(web) for web in webs), fleet)
    slack = webs[0].requests  # one numbering of response_urls across both servers

    def burst(deliveries: list[tuple[str, tuple[int, ...]]]) -> None:
        """Each body signed once and sent through the web processes named (both: the same delivery twice), all at
        once; every one acked."""
        sends = [(web, body, slack.sign(body)) for body, through in deliveries for web in through]
        with ThreadPoolExecutor(max_workers=32) as clients:
            acks = list(clients.map(lambda s: webs[s[0]].post(s[1], s[2]), sends))
        assert [(a.status, a.body) for a in acks] == [(200, "")] * len(sends)

    # -- thanks and ideas through both servers at once --------------------------------------------------------------
    thanks: dict[str, tuple[str, str]] = {}  # reason -> (recipient, the command)
    deliveries = []
    for n in range(50):
        reason, giver, to = f"favour {n:02d}", GIVERS[n % len(GIVERS)], RECIPIENTS[n % len(RECIPIENTS)]
        thanks[reason] = (to, slack.command("/thanks", f"{mention(to)} for {reason}", giver))
        deliveries.append((thanks[reason][1], BOTH if n % 2 == 0 else (n // 2 % 2,)))  # every other one twice
    for n in range(CAP + 2):  # Alice, two over her daily cap, through both servers
        reason = f"rush {n:02d}"
        thanks[reason] = (BOB, slack.command("/thanks", f"{mention(BOB)} for {reason}", ALICE))
        deliveries.append((thanks[reason][1], (n % 2,)))
    ideas = [slack.command("/smallchange", f"idea {n:02d}: a shared template", GIVERS[n]) for n in range(10)]
    deliveries += [(body, (n % 2,)) for n, body in enumerate(ideas)]
    burst(deliveries)

    def posted() -> list[Card]:
        return [card for card in cards(fake_slack) if card.call.method == "chat.postMessage"]

    until("the ten idea cards", lambda: len(posted()) >= 10, fleet)
    for name in CLOCKS:  # their first tick, at the real time, is over: the pinned ticks below contend only together
        until(f"{name}'s first tick", lambda name=name: TICKED.search(fleet.log(name)), fleet)

    # -- two clocks ticking the same instant, while clicks arrive through both servers ------------------------------
    for n in range(2):
        fleet.start(f"nudges{n}", "run", "nudges", "--at", nudge_at.isoformat())
        fleet.start(f"digests{n}", "run", "digests", "--at", digest_at.isoformat())
    clicks: dict[str, dict[str, str]] = {}  # card ts -> person -> their click
    deliveries = []
    for n, card in enumerate(posted()):
        backs = {who: click_body(slack, card, "change_back", who) for who in BACKERS}
        takes = {who: click_body(slack, card, "change_take", who) for who in TAKERS}
        clicks[card.ts] = backs | takes
        deliveries += [(backs[who], BOTH if who == TWICE else ((n + k) % 2,)) for k, who in enumerate(BACKERS)]
        deliveries += [(takes[who], (k,)) for k, who in enumerate(TAKERS)]  # at once, one through each server
    burst(deliveries)
    nudged = sum(sent(fleet.finished(f"nudges{n}")) for n in range(2))
    digested = sum(sent(fleet.finished(f"digests{n}")) for n in range(2))

    # -- everything acked has had its answer, and the outbox is empty -----------------------------------------------
    def answers(body: str) -> list[Call]:
        return replies_to(fake_slack, body)

    def outbox() -> Counter:
        with store.session() as session:
            return Counter(dict(session.execute(select(OutboxMessage.state, func.count()).group_by("state")).all()))

    waiting = [body for _, body in thanks.values()] + [body for each in clicks.values() for body in each.values()]
    until("an answer to every command and click", lambda: all(answers(body) for body in waiting), fleet)
    until("the outbox to be sent", lambda: not (outbox()["pending"] or outbox()["sending"]), fleet)
    fleet.running(*WEBS, *CLOCKS)

    # Every thank-you acked: saved once, answered once, DMed once; Alice's cap held across both servers.
    with store.session() as session:
        saved = Counter(session.scalars(select(Thanks.reason)))
    assert [reason for reason, count in saved.items() if count > 1] == [], "saved twice"
    assert {r for r in saved if r.startswith("favour")} == {r for r in thanks if r.startswith("favour")}
    assert len([r for r in saved if r.startswith("rush")]) == CAP
    dms = defaultdict(list)
    for call in fake_slack.calls_to("chat.postMessage"):
        found = re.search(r"\b(?:favour|rush) \d\d\b", call.text())
        if found and "thanked you" in call.params["text"]:  # not a digest, which quotes thanks too
            dms[found.group(0)].append(call.params["channel"])
    for reason, (to, body) in thanks.items():
        [answer] = answers(body)
        if reason in saved:
            assert answer.params.get("response_type") == "in_channel" and reason in answer.text()
            assert dms[reason] == [to], f"{reason}: one DM, to {to}"
        else:
            assert "daily limit" in answer.text() and reason not in dms
    assert [body for body in ideas if answers(body)] == [], "an idea is answered by its card alone"

    # Every idea carded once; every back counted once; one owner; the card shows it all.
    assert Counter(re.search(r"idea \d\d", card.text).group(0) for card in posted()) == {
        f"idea {n:02d}": 1 for n in range(10)
    }
    with store.session() as session:
        changes = {c.message_ts: c for c in session.scalars(select(Change))}
        backers = defaultdict(set)
        for change_id, backer in session.execute(select(Backing.change_id, Backing.user_id)):
            backers[change_id].add(backer)
    assert set(changes) == set(clicks), "each card's place is remembered"
    for ts, by in clicks.items():
        change = changes[ts]
        assert backers[change.id] == set(BACKERS) and change.owner_id in TAKERS
        for backer in BACKERS:
            assert [a.text() for a in answers(by[backer])] == ["You're backing this change."]
        told = [a.text() for taker in TAKERS for a in answers(by[taker])]
        assert sorted("already owns this change" in t for t in told) == [False, True], told
        assert [t for t in told if t.startswith("It's yours")], told
        updates = [card for card in cards(fake_slack) if card.call.method == "chat.update" and card.ts == ts]
        assert updates and updates[-1].buttons["change_back"] == f"Back this ({len(BACKERS)})", "the card as stored"
        assert "change_hand_back" in updates[-1].buttons

    # Each due person nudged once at the pinned instant; no nudge of any period sent twice, to another, or not at all.
    with store.session() as session:
        ledger = session.execute(select(Send.id, Send.user_id, Send.kind, Send.state, Send.created_at)).all()
    assert {row.state for row in ledger} == {"sent"}
    assert {row.user_id for row in ledger if row.kind == "nudge" and row.created_at == nudge_at} == DUE
    assert nudged == len(DUE)
    nudges = [(nudge_send_id(c), c.params["channel"]) for c in fake_slack.calls_to("chat.postMessage")]
    assert Counter(n for n in nudges if n[0]) == {
        (row.id, row.user_id): 1 for row in ledger if row.kind in ("nudge", "stop_check")
    }

    # Each digest once: the manager's and the channel's, for the week of this burst.
    assert {row.user_id for row in ledger if row.kind == "digest"} == {BOB, DIGEST_CHANNEL}
    assert digested == 2
    digests = Counter(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage") if "Team digest" in c.text())
    assert digests == {BOB: 1, DIGEST_CHANNEL: 1}

    assert outbox().keys() == {"sent"}
    for name in fleet.processes:
        assert "Traceback" not in fleet.log(name), f"{name}:\n{fleet.log(name)[-3000:]}"
