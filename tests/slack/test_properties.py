"""Whatever anyone types after /thanks or /smallchange: never an exception, never a ping from their text, and never
"saved" without a row (nor a row without telling them).

Each case is a signed slash command through the web gate's checks and the real Bolt app, against the fake Slack.
The default run tries 200 texts per command and engine; `.ci/run` sets HYPOTHESIS_PROFILE=ci for 10,000 on SQLite
(and 2,000 on PostgreSQL, where each case costs more)."""

from __future__ import annotations

import logging
import os
import re
import time
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.app import build_slack
from bot.console.team import ALICE, BOB, CAROL, DANI, ED, ROBOT
from bot.core.grammar import read_thanks
from bot.core.model import Team
from bot.slack.text import tokens
from bot.slack.web import SlackGate
from bot.slack.work import Inline
from bot.store.models import Change, Thanks
from tests.conftest import SIGNING_SECRET, Clock

PINGS = re.compile(r"<!(?:channel|here|everyone|subteam\^)[^>]*>")
LIVE_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
PROFILE = {"ci": {"sqlite": 10_000, "postgresql": 2_000}}.get(os.environ.get("HYPOTHESIS_PROFILE", ""))
EXAMPLES = PROFILE or {"sqlite": 200, "postgresql": 200}

people = st.sampled_from([ALICE, BOB, CAROL, DANI, ED, ROBOT, "U0NOBODY", "W0GRID"])
fragments = st.one_of(
    people.map(lambda u: f"<@{u}|{u[2:].lower()}>"),
    people.map(lambda u: f"<@{u}>"),
    st.sampled_from(
        [
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "<!subteam^S0123|@social-workers>",
            "<!subteam^S0123>",
            "@channel",
            "@here",
            "<#C0GENERAL|general>",
            "<https://example.org|a link>",
            "&lt;@U0BOB&gt;",
            "&amp;",
            "<",
            ">",
            "&",
            "*bold*",
            "`code`",
            "```",
            "> quoted",
            "#supportive",
            "#open-to-new-ideas",
            "private",
            "for",
            "from a family:",
            "from the police:",
            "anon",
            "list",
            "help",
            ":pray::skin-tone-3:",
            "👩🏽‍💻",
            "🇬🇧",
            "\u202e",
            "\x00",
            "\n",
            "\t",
            " ",
        ]
    ),
    st.text(max_size=30),
)
texts = st.lists(fragments, max_size=12).map("".join) | st.text(max_size=1200)


class Errors(logging.Handler):
    """Log records at ERROR or above, or with a traceback: each is a failure of the property."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def typed(fake_slack, store, settings, database_url):
    """Type a command as a person: returns (HTTP status, everything Slack received, rows before and after)."""
    clock = Clock(datetime(2026, 11, 24, 10, 30, tzinfo=UTC))
    bot = build_slack(settings, store=store, work=Inline(), now=clock)
    bot.services.workspaces.update(Team("slack", "T0SAMPLE"), DANI, {"thanks_daily_cap": 100})
    gate = SlackGate(bot.app, store, SIGNING_SECRET)
    errors = Errors()
    logging.getLogger().addHandler(errors)

    def counts() -> tuple[int, int]:
        with store.session() as s:
            return (
                s.scalar(select(func.count()).select_from(Thanks)),
                s.scalar(select(func.count()).select_from(Change)),
            )

    def type_(command: str, text: str, who: str):
        clock.advance(hours=1)  # a day's cap is never what is tested here
        fake_slack.clear()
        before = counts()
        body = bot_requests.command(command, text, who)
        answer = gate.answer(
            body.encode(), {k.lower(): v for k, v in bot_requests.sign(body).items()}, "", time.perf_counter()
        )
        return answer, list(fake_slack.calls), before, counts()

    from bot.console.payloads import SlackRequests

    bot_requests = SlackRequests(SIGNING_SECRET, fake_slack.team_id, fake_slack.url + "/response/")
    type_.errors = errors
    type_.engine = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    yield type_
    logging.getLogger().removeHandler(errors)


def sent_texts(calls) -> list[str]:
    return [c.text() for c in calls if c.method in ("chat.postMessage", "chat.update", "response_url")]


def check(typed, command: str, text: str, who: str) -> None:
    answer, calls, (thanks_before, ideas_before), (thanks_after, ideas_after) = typed(command, text, who)
    assert answer.status == 200, (text, answer)
    assert not typed.errors.records, [r.getMessage() for r in typed.errors.records]
    said = sent_texts(calls) + [answer.body.decode()]
    for shown in said:
        assert not PINGS.search(shown), (text, shown)
    allowed = {who}
    if command == "/thanks":
        allowed |= set(read_thanks(tokens(text)).recipient_ids)
    for shown in said:
        for mentioned in LIVE_MENTION.findall(shown):
            assert mentioned in allowed, (text, shown)
    told_not_saved = any("*not* saved" in s or "wasn't" in s for s in said)
    if command == "/thanks":
        announced = any(
            c.params.get("response_type") == "in_channel" or ":lock: Sent privately" in c.text() for c in calls
        )
        assert thanks_after - thanks_before == (1 if announced else 0), (text, said)
        assert not (announced and told_not_saved), (text, said)
        assert ideas_after == ideas_before
    else:
        carded = any("Small change:" in c.text() for c in calls if c.method in ("chat.postMessage", "response_url"))
        assert ideas_after - ideas_before == (1 if carded else 0), (text, said)
        assert thanks_after == thanks_before


def run(typed, command: str) -> None:
    @settings(
        max_examples=EXAMPLES[typed.engine],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
    )
    @given(text=texts, who=st.sampled_from([ALICE, BOB, CAROL]))
    def property_holds(text: str, who: str) -> None:
        check(typed, command, text, who)

    property_holds()


def test_whatever_follows_thanks(typed):
    run(typed, "/thanks")


def test_whatever_follows_smallchange(typed):
    run(typed, "/smallchange")
