"""`python -m bot socket` end to end, with no Slack: a real process, the real slack_bolt SocketModeHandler
and slack_sdk client, against a fake Web API and a fake Socket Mode WebSocket server on loopback."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qsl, urlparse

import pytest
from sqlalchemy import select

from bot.console.payloads import SlackRequests
from bot.console.team import ALICE, BOB, SAMPLE_TEAM
from bot.store.models import Thanks
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes.socket_mode import SocketModeSlack
from tests.test_cli import bot_env

APP_TOKEN = "xapp-1-A0SMALLCHG-0000-test-app-token-not-real"


@pytest.fixture
def socket_slack():
    with SocketModeSlack(team_id="T0SAMPLE") as fake:
        for person in SAMPLE_TEAM:
            fake.add_user(dict(person))
        yield fake


def test_socket_mode_takes_a_slash_command_acks_it_and_does_the_work(tmp_path, socket_slack, database_url, store):
    fake = socket_slack
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=fake.api_url,
        DATABASE_URL=database_url,
        LOG_LEVEL="DEBUG",
    )
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as log_file:  # a file, not a pipe: DEBUG output must never block the bot
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "socket"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    try:
        # Start-up (imports, migrations) then apps.connections.open with the app token, then the WebSocket.
        fake.socket.wait_for_connection(timeout=20, alive=lambda: bot.poll() is None)
        [opened] = fake.calls_to("apps.connections.open")
        assert opened.token == APP_TOKEN and opened.result["ok"], opened

        requests = SlackRequests(SIGNING_SECRET, fake.team_id, fake.url + "/response/")
        payload = dict(parse_qsl(requests.command("/thanks", f"<@{BOB}|bob> for covering my home visit", ALICE)))
        envelope_id = fake.socket.slash_command(payload)

        ack = fake.socket.wait_for_ack(envelope_id, timeout=5)
        assert ack == {"envelope_id": envelope_id}  # a plain ack(): the reply comes through response_url

        [post] = fake.wait_for("response_url", timeout=5)
        assert post.path == urlparse(payload["response_url"]).path
        assert post.params["response_type"] == "in_channel"
        assert "covering my home visit" in post.text()
        [dm] = fake.wait_for("chat.postMessage", timeout=5)
        assert dm.params["channel"] == BOB and dm.token == BOT_TOKEN
        assert "covering my home visit" in dm.text()

        with store.session() as session:
            [thanks] = session.scalars(select(Thanks)).all()
            assert thanks.giver_id == ALICE and thanks.reason == "covering my home visit"
            assert [r.recipient_id for r in thanks.recipients] == [BOB]
    finally:
        bot.terminate()
        try:
            bot.wait(timeout=10)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait(timeout=5)
    logs = log_path.read_text()
    assert "A new session has been established" in logs, logs[-3000:]  # DEBUG logging really was on
    assert APP_TOKEN not in logs and BOT_TOKEN not in logs and SIGNING_SECRET not in logs
    assert "Traceback" not in logs, logs[-3000:]


def test_a_bot_token_in_place_of_the_app_token_stops_start_up_with_one_line(tmp_path, socket_slack, database_url):
    env = bot_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=BOT_TOKEN,
        SLACK_API_URL=socket_slack.api_url,
        DATABASE_URL=database_url,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "socket"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("Slack refused SLACK_APP_TOKEN (not_allowed_token_type): it must be an app-level token")
    )
    assert "Traceback" not in result.stderr and BOT_TOKEN not in result.stderr
