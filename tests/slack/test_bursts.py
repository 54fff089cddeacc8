"""A busy Monday: many people at once, and Slack slow to answer. The ack never waits behind anyone's work, every
saved thank-you is posted and DMed, and when the server truly cannot keep up, the answer says so and is true.

These run the real work pool (bot.slack.work.WorkPool), not the inline one the other tests use."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from bot.app import build_slack
from bot.console.fake_slack import user
from bot.console.team import ALICE, BOB
from bot.slack.work import WorkPool
from bot.store.models import Thanks
from tests.conftest import SIGNING_SECRET, gate, serve
from tests.fakes.driver import SlackDriver
from tests.slack.test_thanks import mention


@pytest.fixture
def busy(fake_slack, store, settings, request):
    """The bot served with a real work pool of the size the test asks for (threads, limit)."""
    threads, limit = getattr(request, "param", (4, 500))
    work = WorkPool(threads, limit)
    bot = build_slack(settings, store=store, work=work)
    served = serve(gate(bot, store))
    fake_slack.clear()
    driver = SlackDriver(served.url, fake_slack, SIGNING_SECRET)
    driver.work = work
    yield driver
    served.stop()
    work.shutdown(wait=True)


def idle(work: WorkPool, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while work.pending:
        assert time.monotonic() < deadline, f"{work.pending} pieces of work still waiting"
        time.sleep(0.02)


def saved(store) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(Thanks))


def test_sixty_people_thanking_at_once_are_all_acked_saved_posted_and_dmed(busy, store):
    people = [f"U0P{n:03d}" for n in range(60)]
    for n, person in enumerate(people):
        busy.fake.add_user(user(person, f"Person {n}"))
    bodies = [
        busy.requests.command("/thanks", f"{mention(BOB)} for favour {n}", person) for n, person in enumerate(people)
    ]
    with ThreadPoolExecutor(max_workers=60) as clients:
        answers = list(clients.map(busy.signed, bodies))
    assert [a.status for a in answers] == [200] * 60 and all(a.body == "" for a in answers)
    idle(busy.work)
    assert saved(store) == 60
    posted = [
        re.search(r"favour (\d+)", c.text()) for c in busy.said() if c.params.get("response_type") == "in_channel"
    ]
    assert sorted(int(found.group(1)) for found in posted) == list(range(60)), "each posted once"
    assert len([c for c in busy.fake.calls_to("chat.postMessage") if c.params["channel"] == BOB]) == 60


def test_the_ack_does_not_wait_while_slack_is_slow(busy, store):
    with busy.fake.holding("users.info") as release:  # every thank-you's work waits on Slack
        answers = [busy.thanks(f"{mention(BOB)} for favour {n}", ALICE) for n in range(6)]
        assert [a.status for a in answers] == [200] * 6, "answered while the work was still waiting on Slack"
        assert saved(store) == 0
        release.set()
    idle(busy.work)
    assert saved(store) == 6 and len(busy.fake.calls_to("chat.postMessage")) == 6


@pytest.mark.parametrize("busy", [(1, 2)], indirect=True)
def test_when_the_server_cannot_keep_up_the_answer_says_not_saved_and_is_true(busy, store):
    with busy.fake.holding("users.info") as release:
        first = [busy.thanks(f"{mention(BOB)} for favour {n}", ALICE) for n in range(2)]  # one working, one queued
        refused = busy.thanks(f"{mention(BOB)} for favour 99", ALICE)
        event = busy.event({"type": "app_home_opened", "user": ALICE, "tab": "home"}, "Ev0BUSY")
        release.set()
    idle(busy.work)

    assert [a.status for a in first] == [200, 200] and all(a.body == "" for a in first)
    assert refused.status == 200
    told = refused.json()
    assert told["response_type"] == "ephemeral" and "*not* saved" in told["text"] and "favour 99" in told["text"]
    assert event.status == 503, "Slack retries an event it was refused"
    with store.session() as s:
        reasons = sorted(s.scalars(select(Thanks.reason)))
    assert reasons == ["favour 0", "favour 1"], "the two acked were saved; the one refused was not"
