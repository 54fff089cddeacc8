"""The command line as an operator uses it: real processes, real uvicorn, real migrations."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import inspect

from bot.console.team import ALICE, BOB
from bot.store.db import Store, make_engine
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.driver import SlackDriver

ROOT = Path(__file__).resolve().parent.parent


def bot_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """A clean environment: nothing inherited from a developer's .env or shell."""
    ours = ("SLACK_", "DATABASE_URL", "PORT", "CLIENT_", "TENANT_ID", "DANGEROUSLY_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    env["PYTHONPATH"] = str(ROOT)
    env.update(values)
    return env


def slack_env(tmp_path: Path, fake_slack, database_url: str, **values: str) -> dict[str, str]:
    """bot_env for a process serving the sample workspace: the tests' token and secret, the fake Slack, a database."""
    return bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database_url,
        **values,
    )


def run_bot(tmp_path: Path, *args: str, env: dict[str, str], stdin: str = "", timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_missing_setting_stops_start_up_with_one_line_naming_it(tmp_path):
    result = run_bot(tmp_path, "serve", env=bot_env(tmp_path))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Missing setting SLACK_BOT_TOKEN:")

    result = run_bot(tmp_path, "socket", env=bot_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"))
    assert result.stderr.strip().startswith("Missing setting SLACK_APP_TOKEN:")


def test_a_bot_token_slack_refuses_stops_start_up_with_one_line(tmp_path, fake_slack):
    fake_slack.fail("auth.test", "invalid_auth")
    env = bot_env(tmp_path, SLACK_BOT_TOKEN="xoxb-revoked", SLACK_SIGNING_SECRET="s", SLACK_API_URL=fake_slack.api_url)
    result = run_bot(tmp_path, "serve", env=env)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "Slack refused SLACK_BOT_TOKEN (invalid_auth): copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions."
    )


def test_settings_can_come_from_a_dotenv_file(tmp_path):
    (tmp_path / ".env").write_text("SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    result = run_bot(tmp_path, "serve", env=bot_env(tmp_path))
    assert result.stderr.strip().startswith("Missing setting SLACK_SIGNING_SECRET:")


def test_migrate_creates_the_schema_and_is_safe_to_repeat(tmp_path, database_url):
    env = bot_env(tmp_path, DATABASE_URL=database_url)
    for _ in range(2):
        result = run_bot(tmp_path, "migrate", env=env)
        assert result.returncode == 0, result.stderr
    tables = set(inspect(make_engine(database_url)).get_table_names())
    assert {"workspaces", "thanks", "thanks_recipients", "changes", "backings", "alembic_version"} <= tables


def test_without_database_url_the_bot_uses_smallchanges_db_here(tmp_path):
    result = run_bot(tmp_path, "migrate", env=bot_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "smallchanges.db").exists()


def test_the_migrations_match_the_models(store):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.store.models import Base

    store.migrate()
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_serve_answers_slack_through_uvicorn_and_logs_no_secrets(tmp_path, fake_slack, database_url):
    port = free_port()
    env = slack_env(tmp_path, fake_slack, database_url, PORT=str(port), LOG_LEVEL="DEBUG", WEB_CONCURRENCY="1")
    log_path = tmp_path / "serve.log"
    log_file = log_path.open("w")  # a file, not a pipe: debug output must never block the server
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=tmp_path, env=env, stderr=log_file)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "server did not start"
                time.sleep(0.2)
        slack = SlackDriver(base, fake_slack, SIGNING_SECRET)
        started = time.monotonic()
        response = slack.thanks(f"<@{BOB}|bob> for covering my home visit", ALICE)
        acked_in = time.monotonic() - started
        assert response.status == 200 and acked_in < 3
        # Production mode acks first and finishes the work afterwards.
        [dm] = fake_slack.wait_for("chat.postMessage")
        assert dm.params["channel"] == BOB
        [post] = fake_slack.wait_for("response_url")
        assert post.params["response_type"] == "in_channel"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log_file.close()
    logs = log_path.read_text()
    assert "worker" in logs and "ready" in logs, logs[-2000:]
    assert "will be unused" not in logs  # Bolt's warning about the token our own client carries
    [line] = [line for line in logs.splitlines() if " request kind=" in line]
    assert 'request kind="command /thanks" status=200 ms=' in line and line.endswith(" outcome=acked")
    assert "covering" not in line and "U0ALICE" not in line, "never what was said, nor who"
    assert BOT_TOKEN not in logs and SIGNING_SECRET not in logs
    assert "Traceback" not in logs


def test_console_plays_a_whole_conversation(tmp_path):
    script = "\n".join(
        [
            "/thanks @bob for covering my home visit #supportive",
            "/thanks @alice for being me",
            "/smallchange one shared template for visit notes",
            "as bob",
            "back",
            "take",
            "status trying",
            "as carol",
            "status adopted",
            "/smallchange list",
            "quit",
        ]
    )
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "[#general]\n    :sparkles: @Alice thanked @Bob\n    > covering my home visit #supportive" in out
    assert "[DM to Bob]" in out and "Values: supportive" in out
    assert "can't thank yourself" in out
    assert "card #1:  [1] Back this (0)   [2] I'll take this on" in out
    assert "[1] Back this (1)   [2] Hand it back   [3] Status: Trying it" in out
    assert "Only its owner (Bob), the person who suggested it (Alice) or a workspace admin" in out
    assert "Trying it · 1 backer · owner @Bob" in out
    assert (tmp_path / "smallchanges.db").exists()
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        from sqlalchemy import text

        assert s.execute(text("SELECT count(*) FROM thanks")).scalar() == 1


def test_console_asks_who_adopted_a_change_how_much_time_it_frees_and_shows_it_on_the_card(tmp_path):
    script = "\n".join(
        [
            "/smallchange one shared template for visit notes",
            "as bob",
            "take",
            "status adopted",
            "b1",  # the question, asked of Bob alone
            "0",  # minutes: refused, and the form asks again
            "6",
            "",
            "",
            "30",
            "6",
            "",
            "",
            "as carol",
            "b2",  # the card's button: Carol neither suggested nor owns it
            "quit",
        ]
    )
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    asked = out.split("Bob> status adopted")[1]
    assert "[only you see this]\n    :tada: *Adopted.* How much time does it free?" in asked
    assert "[b1] How much time does it free?" in asked and "*Time freed:* not said yet" in asked
    answered = out.split("Bob> b1")[1].split("Bob> as carol")[0]
    assert "! minutes: Minutes a week must be a whole number from 1 to 2,400" in answered
    assert "Saved: 30 minutes a week for each of 6 people (about 3 hours a week in all)" in answered
    assert "*Time freed:* 30 minutes a week for each of 6 people (about 3 hours a week in all)" in answered
    assert (
        "Only its owner (Bob) or the person who suggested it (Alice) can say how much time" in out.split("Carol> b2")[1]
    )
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        from sqlalchemy import text

        assert s.execute(text("SELECT actor_id, minutes, people FROM time_freed")).all() == [(BOB, 30, 6)]


def test_the_clock_process_ticks_at_once_and_keeps_running(tmp_path, fake_slack, database_url):
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="INFO",
    )
    log_path = tmp_path / "clock.log"
    with log_path.open("w") as log_file:
        clock = subprocess.Popen([sys.executable, "-m", "bot", "clock"], cwd=tmp_path, env=env, stderr=log_file)
    try:
        fake_slack.wait_for("users.list", timeout=30)  # the first tick learns the team
        deadline = time.monotonic() + 30
        while "nudges tick for T0SAMPLE" not in log_path.read_text():
            assert time.monotonic() < deadline and clock.poll() is None, log_path.read_text()[-2000:]
            time.sleep(0.2)
        assert clock.poll() is None, "the clock must keep running between ticks"
    finally:
        clock.terminate()
        clock.wait(timeout=20)
    assert "clock started: a tick every 5 minutes" in log_path.read_text()
    assert BOT_TOKEN not in log_path.read_text()


def test_console_runs_the_nudge_clock_and_answers_a_nudge(tmp_path):
    script = "tick 2026-11-24T10:30:00+00:00\nsnooze\nas carol\ntick 2026-11-24T06:00:00+00:00\nquit\n"
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "[DM to Alice]" in out and "[snooze] Not this week" in out
    assert "[clock] 3 sent" in out and "outside working hours in Asia/Kolkata" in out
    assert "[DM to Alice (updated)]\n    No more nudges this week" in out
    assert "[DM to Carol]" in out.split("Carol> tick")[1]  # 11:30 in Kolkata on Tuesday


def next_weeks_digest_time() -> str:
    """Tuesday of next week, 10:30 in New York (Dani's working hours): the digest then covers this week, whose
    thanks the console records at today's real time. Derived from now, so the test holds on any day."""
    today = datetime.now(ZoneInfo("Europe/London")).date()  # the sample team's main timezone keeps the calendar
    tuesday = today + timedelta(days=7 - today.weekday() + 1)
    return datetime.combine(tuesday, dt_time(10, 30), ZoneInfo("America/New_York")).isoformat()


def test_console_plays_forms_reactions_home_and_a_digest(tmp_path):
    script = "\n".join(
        [
            "/thanks",  # the form, question by question
            "@bob",
            "1",  # passed on from a family
            "for the kind words at the review",
            "",  # keep #general
            "as bob",
            "say I've rewritten the visit checklist",
            "as alice",
            "react",
            "react",  # the same person's second go at the same message counts once
            "as bob",
            "home",
            "as dani",
            f"digest {next_weeks_digest_time()}",
            "b4",  # the digest's button (b1-b3 were on Home): a personal thank-you to Bob, drafted from what was said
            "",  # keep the draft
            "quit",
        ]
    )
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin=script)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Thanks from a family for @Bob, passed on by @Alice" in out
    assert out.count("thanked you with a reaction to your message") == 1
    home = out.split("Bob> home")[1]
    assert "[your Home tab]" in home and "Thanks you've received (2)" in home
    digest = out.split("Dani> digest")[1]
    assert "[DM to Dani]" in digest and "2 thank-yous from 1 person to 1 person" in digest
    assert "passed on" in digest.lower() or "famil" in digest.lower()
    assert "[clock] 1 sent" in digest
    assert "Thanks given: 2 in the last week, 2 in twelve weeks" in digest  # the sparklines' numbers
    [chart] = re.findall(r"\[image: (charts/trends-1w\d+\.png)\] Weekly trends for the 12 weeks", digest)
    assert (tmp_path / chart).read_bytes().startswith(b"\x89PNG"), "the chart Dani was sent, saved to open"
    # Five active people (MIN_GROUP): the digest names who colleagues thanked, and who no one has lately.
    assert (
        "*Thanked by colleagues* (in public)" in digest and "@Bob: 1 time\n    [b4] Send a personal thank-you" in digest
    )
    assert "*No thanks in 8 weeks:* @Alice, @Carol, @Dani and @Femi." in digest
    assert "[DM to Bob]\n    :star2: A personal thank-you from @Dani:" in out.split("Dani> b4")[1]


def test_an_unknown_slash_command_in_the_console_gets_one_line(tmp_path):
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin="/foo bar\nquit\n")
    assert result.returncode == 0, result.stderr
    assert "There's no /foo here: only /thanks and /smallchange. Type `help` for the rest." in result.stdout
    assert "Suggestion" not in result.stdout + result.stderr and "Unhandled" not in result.stdout + result.stderr


def test_ctrl_c_at_the_console_prompt_quits_quietly(tmp_path):
    console = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env=bot_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = ""
    while "(database:" not in started:  # it is waiting at the prompt
        started += console.stdout.readline()
    console.send_signal(signal.SIGINT)
    out, err = console.communicate(timeout=30)
    assert console.returncode == 0 and "Traceback" not in err, err


def test_report_nudges_reads_the_database_alone_even_with_slack_unreachable(tmp_path):
    database = f"sqlite:///{tmp_path / 'report.db'}"
    store = Store.from_url(database)
    store.migrate()
    store.workspace_id("slack", "T0SAMPLE")
    store.engine.dispose()
    unreachable = bot_env(
        tmp_path, DATABASE_URL=database, SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL="http://127.0.0.1:9/"
    )
    result = run_bot(tmp_path, "report", "nudges", env=unreachable)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("Everyone: 0 people, 0 nudges")


def test_a_dotenv_copied_from_the_example_unchanged_is_not_filled_in(tmp_path):
    (tmp_path / ".env").write_text((ROOT / ".env.example").read_text())
    result = run_bot(tmp_path, "serve", env=bot_env(tmp_path))
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "SLACK_BOT_TOKEN is not filled in: it still says what .env.example says. It should be the bot token "
        "(xoxb-…) from your Slack app's OAuth & Permissions page."
    )


def play_console(tmp_path: Path, *lines: str) -> str:
    """The console as a newcomer plays it: lines typed on stdin, everything it printed back."""
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin="\n".join([*lines, "quit"]) + "\n")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return result.stdout


def after(out: str, typed: str) -> str:
    """What the console printed after one typed line (its prompt included, e.g. "Bob> back"), up to the next."""
    return re.split(r"\n\w+> ", out.split(f"\n{typed}\n", 1)[1], maxsplit=1)[0]


def test_a_card_number_may_come_before_the_button_as_well_as_after_it(tmp_path):
    out = play_console(
        tmp_path,
        "/smallchange one shared template for visit notes",
        "/smallchange a quiet room on Fridays",
        "as bob",
        "#1 back",
        "#1 2",
        "#1 status trying",
        "back #2",
    )
    assert "card #1:  [1] Back this (1)   [2] I'll take this on" in after(out, "Bob> #1 back")
    assert "card #1:  [1] Back this (1)   [2] Hand it back" in after(out, "Bob> #1 2")
    assert "card #1:  [1] Back this (1)   [2] Hand it back   [3] Status: Trying it ▾" in after(
        out, "Bob> #1 status trying"
    )
    assert "card #2:  [1] Back this (1)   [2] I'll take this on" in after(out, "Bob> back #2")


def test_the_console_lists_ideas_with_the_card_numbers_that_press_them(tmp_path):
    out = play_console(
        tmp_path,
        "/smallchange one shared template for visit notes",
        "/smallchange a quiet room on Fridays",
        "as bob",
        "back #2",
        "/smallchange list",
    )
    listed = after(out, "Bob> /smallchange list")
    assert "card #2: *a quiet room on Fridays*\n    Idea · 1 backer" in listed  # most backed first
    assert "card #1: *one shared template for visit notes*\n    Idea · 0 backers" in listed


def test_a_card_from_an_earlier_console_run_can_still_be_pressed(tmp_path):
    play_console(tmp_path, "/smallchange one shared template for visit notes")
    out = play_console(tmp_path, "as bob", "back #1", "#1 take", "as alice", "status trying #1", "/smallchange notes")
    backed = after(out, "Bob> back #1")
    assert "[only you see this]\n    You're backing this change." in backed
    assert "[#general (updated)]\n    :bulb: *Small change:* one shared template for visit notes" in backed
    assert "card #1:  [1] Back this (1)   [2] I'll take this on" in backed
    assert "card #1:  [1] Back this (1)   [2] Hand it back" in after(out, "Bob> #1 take")
    assert "Status: *Trying it* · Owner: @Bob · 1 backer" in after(out, "Alice> status trying #1")
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        from sqlalchemy import text

        placed = s.execute(text("SELECT message_ts FROM changes")).scalars().all()
    assert len(set(placed)) == 2, "each run's cards are different messages, as in Slack: a press updates its own"


def test_snoozing_a_console_nudge_runs_from_the_time_the_nudge_was_sent(tmp_path):
    out = play_console(tmp_path, "tick 2026-11-24T10:30:00+00:00", "snooze", "home")
    assert "[DM to Alice]" in after(out, "Alice> tick 2026-11-24T10:30:00+00:00")
    # Tuesday 24 November's nudge, snoozed then: no more that week, so until the Monday after it.
    assert "No more nudges this week. I'll leave you be until Monday 30 November." in after(out, "Alice> snooze")
    assert "*Snoozed until:* Monday 30 November" in after(out, "Alice> home")


def test_digest_on_its_own_sends_the_digest_of_the_week_just_played_as_it_goes_out_when_the_week_is_over(tmp_path):
    out = play_console(tmp_path, "/thanks @bob @carol for covering my home visits", "as dani", "digest")
    digest = after(out, "Dani> digest")
    said = re.match(r"\(The digest for the week of (\d+) (\w+), as it goes out on Tuesday \d+ \w+ at 10:00 in ", digest)
    assert said, digest
    assert "America/New_York: the console's clock is there now.)\n[DM to Dani]\n" in digest  # Dani's working hours
    day, month = said.groups()
    assert f"    Team digest: {day} {month[:3]}–" in digest  # the week it said, Monday to Sunday
    assert "1 thank-you from 1 person to 2 people." in digest
    assert "@Bob: 1 time\n    [b1] Send a personal thank-you\n    @Carol: 1 time" in digest
    assert digest.rstrip().endswith("[clock] 1 sent")


def test_run_dry_run_with_no_slack_token_plays_on_the_consoles_sample_team(tmp_path):
    env = bot_env(tmp_path)  # no Slack settings at all
    nothing_yet = run_bot(tmp_path, "run", "nudges", "--dry-run", env=env)
    assert nothing_yet.returncode == 1 and "Traceback" not in nothing_yet.stderr
    assert nothing_yet.stderr.strip().endswith(
        "Or, to try it on the console's sample team: play `python -m bot console` first, then "
        "`python -m bot run nudges --dry-run` here uses its database."
    )

    play_console(tmp_path, "/thanks @bob for covering my home visit")
    nudges = run_bot(tmp_path, "run", "nudges", "--dry-run", "--at", "2026-11-24T10:30:00+00:00", env=env)
    assert nudges.returncode == 0, nudges.stderr
    first, *lines = nudges.stdout.splitlines()
    assert first == (
        "No SLACK_BOT_TOKEN: a dry run on the console's sample team in sqlite:///smallchanges.db, "
        "against its stand-in for Slack."
    )
    for line in ("Bob (U0BOB): would nudge", "Femi (U0FEMI): would nudge", "Ed (U0ED): deactivated"):
        assert line in lines, nudges.stdout
    assert "Carol (U0CAROL): outside working hours in Asia/Kolkata" in lines

    digests = run_bot(tmp_path, "run", "digests", "--dry-run", "--at", next_weeks_digest_time(), env=env)
    assert digests.returncode == 0, digests.stderr
    assert digests.stdout.startswith("No SLACK_BOT_TOKEN: a dry run on the console's sample team")
    assert "Dani (U0DANI): would send the digest for " in digests.stdout  # the console's manager, this week's thanks
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        from sqlalchemy import text

        assert s.execute(text("SELECT count(*) FROM sends")).scalar() == 0, "a dry run sends nothing"

    for_real = run_bot(tmp_path, "run", "digests", env=env)
    assert for_real.returncode == 1 and for_real.stderr.strip().endswith(
        "Without it only a dry run works, on the console's sample team: `python -m bot run digests --dry-run`."
    )
