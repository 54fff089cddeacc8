"""Thanks in Teams, through the real Teams app over HTTP: the same rules and refusals as Slack, from the same core."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time

from sqlalchemy import func, select

from bot.app import build_teams
from bot.core.model import Team
from bot.core.outbox import Message, Outbox
from bot.settings import Settings
from bot.store.models import OutboxMessage, Thanks, Workspace
from bot.teams.delivery import dm
from tests.conftest import serve
from tests.teams.conftest import ALICE, BOB, CAROL, CHANNEL, GROUP_CHAT, TENANT, TeamsDriver
from tests.test_cli import bot_env, free_port


def test_a_thank_you_in_a_channel_is_posted_there_and_reaches_each_person_in_their_chat(teams, store):
    assert (
        teams.say("thanks <at>Bob Example</at> <at>Carol Example</at> for covering my visit", mentions=(BOB, CAROL))
        == 200
    )
    assert teams.replies() == ["🙏 **Alice Example** thanked **Bob Example, Carol Example**: covering my visit"]
    assert teams.chat_with(BOB) == ["🙏 **Alice Example** thanked you: covering my visit"]
    assert teams.chat_with(CAROL) == ["🙏 **Alice Example** thanked you: covering my visit"]
    opened = teams.connector.sent("POST", "/v3/conversations")
    assert [(c.body["members"], c.body["tenantId"]) for c in opened] == [
        ([{"id": BOB["id"]}], TENANT),
        ([{"id": CAROL["id"]}], TENANT),
    ]
    with store.session() as s:
        thanks = s.scalars(select(Thanks)).one()
        assert (thanks.giver_id, thanks.channel_id) == (ALICE["aadObjectId"], CHANNEL)


def test_a_group_chats_long_id_is_kept_whole_for_posting_and_short_for_the_core(teams, store):
    teams.say("thanks <at>Bob Example</at> for the lift", where="groupChat", mentions=(BOB,))
    assert teams.replies("groupChat") == ["🙏 **Alice Example** thanked **Bob Example**: the lift"]
    with store.session() as s:
        kept = s.scalars(select(Thanks.channel_id)).one()
    assert len(GROUP_CHAT) > 64 and kept.startswith("teams:") and len(kept) <= 64


def test_private_thanks_in_the_bots_chat_reach_only_the_person(teams):
    teams.say("hello", sender=BOB, where="personal")  # Bob has met the bot: his chat with it is known
    teams.say("thanks private <at>Bob Example</at> for the cover", where="personal", mentions=(BOB,))
    assert teams.replies("personal")[-1] == "Sent privately to Bob Example. Only you and they can see it."
    assert teams.replies("personal", sender=BOB)[-1] == "🙏 **Alice Example** thanked you (privately): the cover"
    assert teams.connector.sent("POST", "/v3/conversations") == []  # his chat was there already
    assert teams.replies() == []  # nothing in any channel


def test_thanks_passed_on_from_a_family_say_whose_they_are(teams, store):
    teams.say("thanks <at>Bob Example</at> from a family: you made our week", mentions=(BOB,))
    with store.session() as s:
        assert s.scalars(select(Thanks.source)).one() == "family"
    passed_on = "passed on by **Alice Example**: you made our week"
    assert teams.replies() == [f"🙏 Thanks from a family for **Bob Example**, {passed_on}"]
    assert teams.chat_with(BOB) == [f"🙏 Thanks from a family for you, {passed_on}"]


def test_the_core_refuses_as_it_does_in_slack_and_nothing_is_posted(teams, store):
    teams.say("thanks <at>Alice Example</at> for being me", mentions=(ALICE,))
    tag = {"id": "MjQ1YjfosteringTag", "name": "Fostering"}
    teams.say("thanks <at>Fostering</at> for a great week", mentions=(tag,))
    teams.say("thanks <at>Bob Example</at>", mentions=(BOB,))
    teams.say("thanks <at>Dan</at> for the lift")  # an <at> with no mention entity names nobody
    said = teams.replies()
    assert said[0].startswith("You can't thank yourself")
    assert "not to @Fostering" in said[1]
    assert said[2].startswith("What are you thanking them for?")
    assert said[3].startswith("I couldn't find @Dan")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 0
    assert teams.chat_with(BOB) == []


def test_anything_else_gets_the_help(teams):
    teams.say("what can you do?", where="personal")
    assert "thanks @name for what they did" in teams.replies("personal")[0]


def test_a_tenant_the_bot_was_not_installed_in_is_refused_and_nothing_is_stored(teams, store):
    teams.tenant = "11111111-0000-0000-0000-00000000dead"
    assert teams.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,)) == 403
    assert teams.connector.calls == []
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 0
        assert s.scalars(select(Workspace.external_id)).all() == []


def test_a_message_teams_sends_twice_is_acted_on_once(teams, store):
    teams.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,))
    assert teams.post(teams.sent[-1]) == 200
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 1
    assert len(teams.chat_with(BOB)) == 1


def test_a_429_from_the_connector_waits_as_long_as_it_asks_and_is_sent_once(teams, store, clock):
    teams.connector.fail_next("POST", "/v3/conversations/a:1on1-29:1bob/activities", 429, retry_after="30")
    teams.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,))
    assert teams.chat_with(BOB) == []  # not yet: the connector asked us to wait
    with store.session() as s:
        waiting = s.scalars(select(OutboxMessage).where(OutboxMessage.state == "pending")).one()
        assert json.loads(waiting.payload)["user"] == BOB["aadObjectId"]
    clock.advance(seconds=20)
    teams.bot.delivery.deliver()
    assert teams.chat_with(BOB) == []  # past the outbox's own back-off, but Retry-After said 30 seconds
    clock.advance(seconds=11)
    teams.bot.delivery.deliver()
    teams.bot.delivery.deliver()
    assert teams.chat_with(BOB) == ["🙏 **Alice Example** thanked you: the cover"]


def test_a_person_who_left_is_not_tried_again(teams, store):
    teams.connector.fail_next("POST", "/v3/conversations", 403)  # the person can no longer be messaged
    teams.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,))
    with store.session() as s:
        assert s.scalars(select(OutboxMessage.state).where(OutboxMessage.lane.like("dm:%"))).all() == ["failed"]
    assert teams.replies() == ["🙏 **Alice Example** thanked **Bob Example**: the cover"]


def test_each_platforms_drain_sends_only_its_own_messages(store):
    outbox = Outbox(store)
    outbox.write(Team("teams", TENANT), [dm(BOB["aadObjectId"], "hello from Teams")])
    outbox.write(Team("slack", "T0SLACK"), [Message("dm:U1", "post", {"channel": "U1", "text": "hello from Slack"})])
    sent: list[str] = []
    outbox.deliver(lambda team, kind, payload, written_at: sent.append(payload["text"]), "slack")
    assert sent == ["hello from Slack"]
    outbox.deliver(lambda team, kind, payload, written_at: sent.append(payload["text"]), "teams")
    assert sent == ["hello from Slack", "hello from Teams"]


def test_with_its_registration_set_the_bot_refuses_a_request_with_no_token(database_url, store, connector):
    settings = Settings(
        database_url=database_url,
        tenant_id=TENANT,
        client_id="00000000-0000-0000-0000-0000000000c1",
        client_secret="not-a-real-secret",
    )
    bot = build_teams(settings, store=store)
    asyncio.run(bot.app.initialize())
    served = serve(bot.app.server.adapter.app)
    try:
        driver = TeamsDriver(served.url, bot, connector, connector.url)
        assert driver.say("thanks <at>Bob Example</at> for the cover", mentions=(BOB,)) == 401
        assert driver.post(driver.sent[-1], headers={"Authorization": "Bearer forged.jwt.token"}) == 401
    finally:
        served.stop()
    assert connector.calls == []
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 0


def test_python_m_bot_teams_serves_and_warns_loudly_that_tokens_are_not_checked(tmp_path, database_url, connector):
    port = free_port()
    env = bot_env(
        tmp_path,
        DATABASE_URL=database_url,
        PORT=str(port),
        TENANT_ID=TENANT,
        DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS="true",
    )
    log_path = tmp_path / "teams.log"
    with log_path.open("w") as log_file:
        server = subprocess.Popen([sys.executable, "-m", "bot", "teams"], cwd=tmp_path, env=env, stderr=log_file)
        try:
            deadline = time.monotonic() + 30
            while not _listening(port):
                assert time.monotonic() < deadline and server.poll() is None, log_path.read_text()[-2000:]
                time.sleep(0.2)
            driver = TeamsDriver(f"http://127.0.0.1:{port}", None, connector, connector.url)
            assert driver.say("help", where="personal") == 200
            assert "thanks @name for what they did" in driver.replies("personal")[0]
        finally:
            server.terminate()
            server.wait(timeout=20)
    logs = log_path.read_text()
    assert "DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS is on" in logs
    assert "Traceback" not in logs


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
