"""Twelve weeks' trends in the managers' digest, its chart and the admin view, checked against counts the test makes
itself from a seeded history: fourteen weeks of thank-yous (some private, some to several people, some to the same
person twice in a week), ideas, adoptions with the time they free (one answer edited, one change tried again after
it was adopted) and answers to nudges, with some on each side of the window's edges. The weeks are London's, the
sample team's main timezone, across the change from summer time on 25 October."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.console.team import ALICE, BOB, CAROL, DANI, FEMI
from bot.core.model import Series, ThanksRequest
from bot.store.models import NudgeResponse, Send
from tests.conftest import BOT_TOKEN
from tests.test_cli import bot_env, run_bot
from tests.test_digests import CHANNEL, FRAN, GEO, TEAM, TUESDAY
from tests.test_digests import bot as bot  # noqa: F401  (the digest fixture)

LONDON = ZoneInfo("Europe/London")
FIRST_MONDAY = date(2026, 8, 31)  # the digest of 16–22 November shows the twelve weeks from 31 August
PEOPLE = (ALICE, BOB, CAROL, DANI, FEMI, FRAN, GEO)
PNG = b"\x89PNG\r\n\x1a\n"


def week_of(at: datetime, first: date = FIRST_MONDAY) -> int | None:
    """Which of the twelve weeks from Monday `first` `at` falls in, by London's calendar; None outside them."""
    n = (at.astimezone(LONDON).date() - first).days // 7
    return n if 0 <= n < 12 else None


def history(seed: int = 7) -> dict:
    """What happens, as (when, …) tuples: random, but the same each run; plus the edges, placed by hand."""
    rng = random.Random(seed)
    start = datetime(2026, 8, 24, 8, 0, tzinfo=UTC)  # a week before the window, and on to a day after it
    moments = sorted(start + timedelta(minutes=rng.randrange(0, 91 * 24 * 60)) for _ in range(120))
    thanks = []
    for n, at in enumerate(moments):
        giver = PEOPLE[n % len(PEOPLE)]
        others = [p for p in PEOPLE if p != giver]
        thanks.append((at, giver, tuple(rng.sample(others, rng.choice((1, 1, 2, 3)))), n % 5 == 0))
    thanks += [
        (datetime(2026, 8, 30, 22, 30, tzinfo=UTC), ALICE, (BOB,), False),  # 23:30 on Sunday in London: before
        (datetime(2026, 9, 6, 23, 30, tzinfo=UTC), ALICE, (BOB,), False),  # 00:30 on Monday 7 Sep: the second week
        (datetime(2026, 11, 22, 23, 30, tzinfo=UTC), ALICE, (BOB,), False),  # 23:30 on Sunday 22 Nov, GMT: the last
        (datetime(2026, 11, 23, 0, 30, tzinfo=UTC), ALICE, (BOB,), False),  # Monday 23 Nov: after the digest's week
    ]
    ideas = [start + timedelta(hours=rng.randrange(0, 91 * 24)) for _ in range(30)]
    adopted = []  # (suggested, adopted, [(answered, minutes, people)], tried again)
    for n in range(12):
        suggested = start + timedelta(days=rng.randrange(0, 84), hours=9)
        answers = [
            (suggested + timedelta(days=2, hours=h), rng.choice((15, 30, 45)), rng.randint(1, 8)) for h in (1, 2)
        ]
        adopted.append((suggested, suggested + timedelta(days=2), answers[: n % 3], n == 4))
    answers = [start + timedelta(minutes=rng.randrange(0, 91 * 24 * 60)) for _ in range(60)]
    return {"thanks": thanks, "ideas": ideas, "adopted": adopted, "answers": answers}


def seed(bot, happened: dict) -> None:
    services = bot.services
    for at, giver, to, private in sorted(happened["thanks"]):
        bot.clock.at = at
        services.thanks.give(
            TEAM, ThanksRequest(giver, to, "covering the duty desk", channel_id=CHANNEL, private=private)
        )
    for n, at in enumerate(happened["ideas"]):
        bot.clock.at = at
        services.changes.suggest(TEAM, PEOPLE[n % len(PEOPLE)], f"idea {n}")
    for n, (suggested, adopted_at, answers, tried_again) in enumerate(happened["adopted"]):
        bot.clock.at = suggested
        change = services.changes.suggest(TEAM, BOB, f"adopted idea {n}")
        services.changes.take_on(TEAM, change.id, CAROL)
        bot.clock.at = adopted_at
        services.changes.set_status(TEAM, change.id, CAROL, "adopted")
        for answered, minutes, people in answers:
            bot.clock.at = answered
            services.changes.say_time_freed(TEAM, change.id, CAROL, minutes=minutes, people=people)
        if tried_again:
            bot.clock.advance(hours=1)
            services.changes.set_status(TEAM, change.id, CAROL, "trying")
    workspace_id = bot.store.workspace_id(TEAM.platform, TEAM.external_id)
    with bot.store.session() as session:  # answers to nudges, as the nudge tests make them through the clock
        for n, at in enumerate(happened["answers"]):
            send = Send(
                workspace_id=workspace_id,
                user_id=PEOPLE[n % len(PEOPLE)],
                kind="nudge",
                period=f"p{n}",
                state="sent",
                created_at=at - timedelta(hours=1),
                sent_at=at - timedelta(hours=1),
            )
            session.add(send)
            session.flush()
            session.add(
                NudgeResponse(workspace_id=workspace_id, send_id=send.id, user_id=send.user_id, action="snooze", at=at)
            )


def expected(happened: dict, first: date = FIRST_MONDAY) -> dict[str, list[float]]:
    """The twelve weeks' figures from Monday `first`, counted here from what happened."""

    def week_of(at: datetime) -> int | None:
        return globals()["week_of"](at, first)

    out = {name: [0] * 12 for name in ("Thanks given", "Ideas", "Adopted", "Nudge answers")}
    out["Time freed"] = [0.0] * 12
    thanked: list[set[str]] = [set() for _ in range(12)]
    for at, _, to, _ in happened["thanks"]:
        if (n := week_of(at)) is not None:
            out["Thanks given"][n] += 1
            thanked[n] |= set(to)
    out["People thanked"] = [len(people) for people in thanked]
    for suggested, adopted_at, answers, tried_again in happened["adopted"]:
        if (w := week_of(suggested)) is not None:
            out["Ideas"][w] += 1
        if (w := week_of(adopted_at)) is not None and not tried_again:
            out["Adopted"][w] += 1
            if answers:
                _, minutes, people = answers[-1]
                out["Time freed"][w] += minutes * people / 60
    for at in happened["ideas"]:
        if (n := week_of(at)) is not None:
            out["Ideas"][n] += 1
    for at in happened["answers"]:
        if (n := week_of(at)) is not None:
            out["Nudge answers"][n] += 1
    out["Time freed"] = [round(h, 1) for h in out["Time freed"]]
    return out


@pytest.fixture
def seeded(bot):
    happened = history()
    seed(bot, happened)
    figures = expected(happened)
    assert all(sum(values) for values in figures.values()), "every series has something in it"
    assert figures["People thanked"] != figures["Thanks given"], "some weeks thank the same person twice"
    return bot, figures


def numbers(values) -> str:
    return ", ".join(f"{v:,.1f}".removesuffix(".0") for v in values)


def test_the_digest_shows_twelve_weeks_of_sparklines_with_their_numbers(seeded):
    bot, figures = seeded

    bot.tick(TUESDAY)

    for copy in (bot.digests(ALICE)[0], bot.digests(CHANNEL)[0]):  # a manager's copy and the channel's
        text = copy.text()
        trends = text.split("*:chart_with_upwards_trend: Twelve weeks, 31 Aug–22 Nov 2026:*\n", 1)[1].splitlines()
        thanks = figures["Thanks given"]
        line = f"Thanks given: {thanks[-1]} in the last week, {sum(thanks)} in twelve weeks"
        assert trends[0] == f"{Series('', tuple(thanks)).sparkline}  {line}"
        thanked = figures["People thanked"]
        assert trends[1].endswith(f"People thanked: {thanked[-1]} in the last week, {sum(thanked)} in twelve weeks")
        hours = figures["Time freed"]
        assert trends[4].endswith(
            f"Time freed: {numbers(hours[-1:])} hours a week by the last week's adoptions, "
            f"{numbers([sum(hours)])} hours a week by the twelve weeks'"
        )
        assert len(trends[0].split()[0]) == 12 and set(trends[0].split()[0]) <= set("▁▂▃▄▅▆▇█")


def test_a_managers_digest_carries_the_chart_with_every_number_in_its_alt_text_and_the_channel_gets_none(seeded):
    bot, figures = seeded
    bot.fake.clear()

    bot.tick(TUESDAY)  # Alice is in London's working hours; Dani, in New York, is not yet

    [asked] = bot.fake.calls_to("files.getUploadURLExternal")
    assert asked.params["filename"] == "trends-1w151.png"
    alt = asked.params["alt_txt"]
    assert alt.startswith("Weekly trends for the 12 weeks 31 Aug–22 Nov 2026, oldest first.")
    for name, values in figures.items():
        unit = " (hours a week)" if name == "Time freed" else ""
        assert f"{name}{unit}: {numbers(values)}." in alt
    [upload] = bot.fake.calls_to("file_upload")
    assert upload.params["content"].startswith(PNG)
    [shared] = bot.fake.calls_to("files.completeUploadExternal")
    assert shared.params["channel_id"] == "D" + ALICE[1:], "in Alice's DM with the bot, not the digest channel"
    assert [s.state for s in bot.sends()] == ["sent", "sent"]


def test_a_workspace_that_refuses_files_still_gets_its_digest_once_with_the_sparklines(seeded):
    bot, _ = seeded
    bot.fake.fail("files.getUploadURLExternal", "missing_scope")  # installed before the bot asked for files:write

    report = bot.tick(TUESDAY)

    assert report.sent == 2 and report.failed == 0
    assert "Twelve weeks, 31 Aug–22 Nov 2026" in bot.digests(ALICE)[0].text()
    assert bot.fake.calls_to("files.completeUploadExternal") == []
    bot.tick(TUESDAY + timedelta(hours=1))
    assert len(bot.digests(ALICE)) == 1, "a chart that failed does not send the digest again"


def test_the_admin_view_shows_the_twelve_weeks_up_to_and_including_this_one(seeded, slack):
    bot, _ = seeded
    bot.clock.at = TUESDAY  # the week of 23 November, under way, is the twelfth
    figures = expected(history(), first=date(2026, 9, 7))
    slack.services.nudges.sync_people(TEAM)  # as the clock does each day: the team's timezones, London's the most

    slack.smallchange("admin", DANI)

    [shown] = [b["text"]["text"] for b in slack.opened_view()["blocks"] if "Twelve weeks" in json.dumps(b)]
    lines = shown.splitlines()
    assert lines[0] == "*:chart_with_upwards_trend: Twelve weeks, 7 Sep–29 Nov 2026:*"
    said = {line.split("  ", 1)[1].split(":")[0]: line for line in lines[1:]}
    assert list(said) == ["Thanks given", "People thanked", "Ideas", "Adopted", "Time freed", "Nudge answers"]
    for name, values in figures.items():
        if name != "Time freed":
            last, total = numbers(values[-1:]), numbers([sum(values)])
            assert said[name].endswith(f"{name}: {last} in the last week, {total} in twelve weeks"), name


def test_the_quarterly_report_sums_the_quarter_shows_the_trends_and_counts_this_quarters_nudges(seeded, tmp_path):
    bot, _ = seeded
    bot.clock.at = TUESDAY
    happened = history()
    quarter_began = datetime(2026, 10, 1, tzinfo=LONDON)
    nudged = sum(1 for at in happened["answers"] if quarter_began <= at - timedelta(hours=1) < TUESDAY)
    adopted = [a for a in happened["adopted"] if a[1] >= quarter_began and not a[3]]
    figures = expected(happened, first=date(2026, 9, 7))
    bot.services.nudges.sync_people(TEAM)  # as the clock does each day: the team's timezones, London's the most

    lines = bot.services.digests.quarterly(TEAM)

    assert lines[0].startswith(f"Time freed, Q4 2026: {len(adopted)} changes adopted this quarter")
    trends = lines.index("Twelve weeks, 7 Sep–29 Nov 2026:")
    thanks = figures["Thanks given"]
    assert lines[trends + 1].endswith(f"Thanks given: {thanks[-1]} in the last week, {sum(thanks)} in twelve weeks")
    nudges = lines.index("Nudges this quarter (Q4 2026):")
    assert lines[nudges + 1].startswith(f"  Everyone: 7 people, {nudged} nudges,"), lines[nudges + 1]

    # The command line prints the same report, from the database alone, for today's quarter.
    env = bot_env(tmp_path, DATABASE_URL=bot.store.engine.url.render_as_string(hide_password=False))
    shown = run_bot(tmp_path, "report", "quarter", env=env)
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout.splitlines()
    assert out[0].startswith("Time freed, Q") and any(line.startswith("Twelve weeks, ") for line in out)
    assert any(line.startswith("Nudges this quarter (Q") for line in out)


def test_without_matplotlib_a_manager_still_gets_the_digest_with_its_sparklines_and_no_chart(seeded, tmp_path):
    bot, _ = seeded
    hidden = tmp_path / "hidden"  # the optional extra not installed: importing matplotlib fails
    (hidden / "matplotlib").mkdir(parents=True)
    (hidden / "matplotlib" / "__init__.py").write_text('raise ImportError("not installed")\n')
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=bot.fake.api_url,
        DATABASE_URL=bot.store.engine.url.render_as_string(hide_password=False),
    )
    bot.fake.clear()

    result = run_bot(
        tmp_path,
        "run",
        "digests",
        "--at",
        TUESDAY.isoformat(),
        env=env | {"PYTHONPATH": f"{hidden}:{env['PYTHONPATH']}"},
    )

    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("sent 2, failed 0"), result.stdout
    assert "Twelve weeks, 31 Aug–22 Nov 2026" in bot.digests(ALICE)[0].text()
    assert bot.fake.calls_to("files.getUploadURLExternal") == []
