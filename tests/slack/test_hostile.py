"""Hostile and malformed requests, as the internet sends them: each gets a 4xx (or a polite refusal), never a 500,
never a traceback in the server's log, and never a row. A replay changes nothing; another workspace's request is
refused unread."""

from __future__ import annotations

import http.client
import json
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlencode, urlparse

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from bot.console.team import ALICE, BOB, DANI
from bot.core.model import Team
from bot.core.outbox import Replays
from bot.store.models import Backing, Base, Thanks, Workspace, WorkspaceSettings
from tests.conftest import SIGNING_SECRET, serve
from tests.slack.test_nudge_interactions import state
from tests.slack.test_smallchange import click_body, suggest
from tests.slack.test_thanks import mention

FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def no_traceback(caplog):
    """Whatever a test sends, the server's log never shows a traceback."""
    yield
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text


def rows(store) -> dict[str, int]:
    """Rows per table; not seen_requests, where the replay guard notes each signed request it acted on."""
    with store.session() as s:
        tables = [t for t in Base.metadata.sorted_tables if t.name != "seen_requests"]
        return {t.name: s.scalar(select(func.count()).select_from(t)) for t in tables}


def post_raw(slack, body: bytes, headers: dict[str, str]) -> int:
    url = urlparse(slack.base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", "/slack/events", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def signed_raw(slack, body: bytes, content_type: str = FORM) -> int:
    ts = str(int(time.time()))
    from slack_sdk.signature import SignatureVerifier

    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body.decode("latin-1"))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    return post_raw(slack, body, headers)


# -- unsigned, and signed but not Slack's -------------------------------------------------------------------------
JUNK = [
    ("application/json", b"not json"),
    ("application/json", b"[1,2]"),
    ("application/json", b"null"),
    (FORM, b"payload=%7B"),
    (FORM, b"payload=%5B1%5D"),
]


@pytest.mark.parametrize("content_type,body", JUNK)
def test_an_unsigned_body_is_401_before_anything_reads_it(slack, store, content_type, body):
    before = rows(store)
    assert post_raw(slack, body, {"Content-Type": content_type}) == 401
    assert post_raw(slack, body, {"Content-Type": content_type, "X-Slack-Request-Timestamp": "abc"}) == 401
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=00"}
    assert post_raw(slack, body, headers) == 401
    assert rows(store) == before and slack.fake.calls == []


@pytest.mark.parametrize("content_type,body", JUNK)
def test_a_signed_body_that_is_not_a_slack_payload_is_400(slack, store, content_type, body):
    before = rows(store)
    assert signed_raw(slack, body, content_type) == 400
    assert rows(store) == before and slack.fake.calls == []


def payload(**fields) -> bytes:
    return urlencode({"payload": json.dumps(fields)}).encode()


USER = {"id": ALICE, "team_id": "T0SAMPLE"}
TEAM = {"id": "T0SAMPLE"}
BUTTON = {"action_id": "change_back", "block_id": "change_1", "type": "button", "value": "1"}
MALFORMED = {
    "block actions with no user": payload(type="block_actions", team=TEAM, actions=[BUTTON], trigger_id="1.t"),
    "block actions with no team": payload(type="block_actions", user={"id": ALICE}, actions=[BUTTON]),
    "block actions with no actions": payload(type="block_actions", user=USER, team=TEAM, actions=[]),
    "block actions with a string for actions": payload(type="block_actions", user=USER, team=TEAM, actions="x"),
    "a view with no state": payload(
        type="view_submission", user=USER, team=TEAM, view={"type": "modal", "callback_id": "thanks_submit"}
    ),
    "a view with no type": payload(
        type="view_submission", user=USER, team=TEAM, view={"callback_id": "x", "state": {"values": {}}}
    ),
    "event given as a string": json.dumps(
        {"type": "event_callback", "team_id": "T0SAMPLE", "event": "app_home_opened", "event_id": "Ev1"}
    ).encode(),
    "a command with no team": urlencode(
        {"command": "/thanks", "text": "hi", "user_id": ALICE, "trigger_id": "1.t", "response_url": "http://x/y"}
    ).encode(),
    "a command with no user": urlencode(
        {"command": "/thanks", "text": "hi", "team_id": "T0SAMPLE", "trigger_id": "1.t", "response_url": "http://x/y"}
    ).encode(),
    "raw invalid UTF-8": b"command=%2Fthanks&text=\xff\xfe&team_id=T0SAMPLE",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_signed_but_malformed_payload_is_400(slack, store, name):
    body = MALFORMED[name]
    content_type = "application/json" if body.startswith(b"{") else FORM
    before = rows(store)
    assert signed_raw(slack, body, content_type) == 400
    assert rows(store) == before and slack.fake.calls == []


def test_odd_values_in_a_well_formed_click_get_a_polite_answer(slack, store):
    card = suggest(slack, "a quiet room on Fridays", ALICE)
    before = rows(store)
    for value in ("not-a-number", "1" * 30, "-3", "١٢"):  # the last is Arabic-Indic digits
        message, channel = slack.last_card()
        button = {"action_id": "change_back", "type": "button", "text": {"type": "plain_text", "text": "x"}}
        body = slack.requests.block_action(message, channel, button | {"value": value}, BOB)
        assert slack.signed(body).status == 200
        assert "no longer exists" in slack.said()[-1].text()
    nudge = {"action_id": "nudge_snooze", "type": "button", "text": {"type": "plain_text", "text": "x"}}
    body = slack.requests.block_action({"ts": "1.2", "blocks": []}, "D0BOB", nudge | {"value": "9" * 30}, BOB)
    assert slack.signed(body).status == 200
    assert "isn't yours to answer" in slack.said()[-1].text()
    assert rows(store) == before
    assert card.buttons["change_back"] == "Back this (0)"


def test_a_home_opened_event_with_nobody_in_it_is_ignored(slack, store):
    before = rows(store)
    assert slack.event({"type": "app_home_opened", "tab": "home"}, "Ev0NOUSER").status == 200
    assert rows(store)["people"] == before["people"] and slack.fake.calls_to("views.publish") == []


# -- size and speed -------------------------------------------------------------------------------------------------
def test_a_body_over_a_megabyte_is_413_without_being_read(slack, store):
    url = urlparse(slack.base_url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        # Claims 50 MB and sends a few bytes: the answer comes at once, without waiting for the rest.
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 52428800\r\n\r\ncommand=%2Fthanks"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    chunked = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    chunked.request("POST", "/slack/events", body=iter([b"x" * 65536] * 20), headers={"Content-Type": FORM})
    assert chunked.getresponse().status == 413
    assert rows(store)["thanks"] == 0


def test_slow_clients_hold_no_thread_and_are_cut_off(fake_slack, store, settings):
    from bot.app import build_slack
    from bot.slack.web import SlackGate
    from bot.slack.work import Inline

    bot = build_slack(settings, store=store, work=Inline())
    served = serve(SlackGate(bot.app, store, SIGNING_SECRET, threads=2, read_seconds=1.0))
    url = urlparse(served.url)
    try:
        slow = []
        for _ in range(16):  # far more slow clients than request threads
            sock = socket.create_connection((url.hostname, url.port), timeout=10)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nc")
            slow.append(sock)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        conn.request("GET", "/healthz")
        assert conn.getresponse().status == 200, "the server still answers others"
        assert all(sock.recv(100).startswith(b"HTTP/1.1 408") for sock in slow), "cut off after the read timeout"
        for sock in slow:
            sock.close()
    finally:
        served.stop()


# -- replays ---------------------------------------------------------------------------------------------------------
def thanks_count(store) -> int:
    return rows(store)["thanks"]


def test_a_replayed_command_changes_nothing(slack, store):
    body = slack.requests.command("/thanks", f"{mention(BOB)} for the cover", ALICE)
    headers = slack.requests.sign(body)
    assert slack.post(body, headers).status == 200
    assert slack.post(body, headers).status == 200  # the same signed body again, within the five minutes
    assert thanks_count(store) == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


def test_a_replayed_click_changes_nothing(slack, store):
    card = suggest(slack, "a shared phone for the duty worker", ALICE)
    body = click_body(slack.requests, card, "change_back", BOB)
    headers = slack.requests.sign(body)
    slack.post(body, headers)
    slack.post(body, headers)  # replayed, it would withdraw the backing
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Backing)) == 1


def test_a_request_stays_recorded_when_its_first_transaction_clashes_and_is_tried_again(store):
    """The record that a request was acted on goes in its work's first transaction. On PostgreSQL that transaction
    can clash with another process's (two thank-yous from one person at once, on their daily count), roll back and
    be tried again: the record must go in again with it, or the same request delivered through another server is
    acted on a second time (tests/test_scale_out.py saw a thank-you saved and sent twice)."""
    team = Team("slack", "T0SAMPLE")
    replays = Replays(store)
    clash = insert(Workspace).values(platform="slack", external_id="T0SAMPLE", created_at=datetime.now(UTC))
    with store.one_connection(replays.recorder(team, "v0=the-signature")):
        with pytest.raises(IntegrityError), store.transaction() as conn:
            conn.execute(clash)
        with store.transaction():
            pass  # the work's transaction, tried again
    assert not replays.first_time(team, "v0=the-signature"), "the same request again is a replay"


def test_a_replayed_form_changes_nothing(slack, store):
    slack.thanks("", ALICE)
    view = slack.opened_view()
    values = state(who=("users", "multi_users_select", [BOB]), reason=("text", "plain_text_input", "the cover"))
    body = slack.requests.view_submission(view, values, ALICE)
    headers = slack.requests.sign(body)
    assert slack.post(body, headers).body == ""
    assert slack.post(body, headers).body == ""
    assert thanks_count(store) == 1


# -- what people type ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("char", ["\x00", "\u202e", "\x1b", "\u2066"])
def test_invisible_control_characters_are_refused_by_name_on_every_engine(slack, store, char):
    slack.thanks(f"{mention(BOB)} for a{char}b", ALICE)
    [reply] = slack.said()
    assert f"U+{ord(char):04X}" in reply.text() and "invisible character" in reply.text()
    slack.smallchange(f"a rota{char}for the kettle", ALICE)
    assert f"U+{ord(char):04X}" in slack.said()[-1].text()
    assert thanks_count(store) == 0 and rows(store)["changes"] == 0


# -- one workspace may not touch another ---------------------------------------------------------------------------
def test_a_request_for_another_workspace_is_refused_and_creates_nothing(slack, store):
    from bot.console.payloads import SlackRequests

    elsewhere = SlackRequests(SIGNING_SECRET, "T9OTHER", slack.fake.url + "/response/")
    before = rows(store)
    for text in ("admin", "export", "list"):
        assert slack.signed(elsewhere.command("/smallchange", text, DANI)).status == 403
    assert slack.signed(elsewhere.command("/thanks", f"{mention(BOB)} for the cover", ALICE)).status == 403
    body, _ = elsewhere.event({"type": "app_home_opened", "user": ALICE, "tab": "home"}, "Ev9")
    assert slack.post(body, slack.requests.sign(body) | {"Content-Type": "application/json"}).status == 403
    assert rows(store) == before and slack.fake.calls == []
    with store.session() as s:
        assert s.scalars(select(Workspace.external_id)).all() in ([], ["T0SAMPLE"])


def test_an_organisation_the_bot_does_not_know_is_refused(slack, store):
    body = slack.requests.command("/thanks", f"{mention(BOB)} for the cover", ALICE)
    body += "&enterprise_id=E0STRANGER"
    assert slack.signed(body).status == 403
    assert thanks_count(store) == 0


# -- forms are checked on the server --------------------------------------------------------------------------------
def admin_values(**overrides) -> dict:
    values = dict(
        cadence=("choice", "static_select", "fortnightly"),
        days=("choice", "checkboxes", ["tue", "wed", "thu"]),
        start=("time", "timepicker", "10:00"),
        end=("time", "timepicker", "15:00"),
        weekly_cap=("number", "number_input", 1),
        prompts=("text", "plain_text_input", "Who made your week easier?"),
        thanks_daily_cap=("number", "number_input", 10),
        values=("text", "plain_text_input", "supportive"),
        experiment=("choice", "static_select", "none"),
    )
    return state(**(values | overrides))


@pytest.mark.parametrize(
    "field,value",
    [
        ("weekly_cap", 100),
        ("thanks_daily_cap", 100000),
        ("thanks_daily_cap", "1e9"),
        ("weekly_cap", -1),
        ("cadence", "hourly"),
        ("experiment", "daily-hourly"),
    ],
)
def test_admin_settings_beyond_the_forms_limits_are_refused_on_the_server(slack, store, field, value):
    slack.smallchange("admin", DANI)
    view = slack.opened_view()
    kind = {"weekly_cap": "number_input", "thanks_daily_cap": "number_input"}.get(field, "static_select")
    action = "number" if kind == "number_input" else "choice"
    response = slack.submit_view(view, admin_values(**{field: (action, kind, value)}), DANI)
    assert response.status == 200
    assert response.json()["response_action"] == "errors" and field in response.json()["errors"]
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(WorkspaceSettings)) == 0


def test_a_forged_private_metadata_is_not_trusted(slack, store):
    slack.smallchange("", ALICE)
    view = slack.opened_view() | {"private_metadata": '{"x":[1,2'}
    values = state(change=("text", "plain_text_input", "a whiteboard for the duty rota"))
    assert slack.submit_view(view, values, ALICE).body == ""
    posts = slack.fake.calls_to("chat.postMessage")
    assert [p.params["channel"] for p in posts] == [ALICE], "to the suggester, not to a 'channel' it was told of"

    slack.fake.clear()
    slack.thanks("", ALICE)
    view = slack.opened_view() | {"private_metadata": json.dumps({"via": "shortcut", "message_ref": "C1/2"})}
    values = state(who=("users", "multi_users_select", [BOB]), reason=("text", "plain_text_input", "the cover"))
    assert slack.submit_view(view, values, ALICE).body == ""
    with store.session() as s:
        assert s.execute(select(Thanks.via, Thanks.message_ref)).all() == [("modal", None)]


def test_the_personal_thanks_form_cannot_be_pointed_at_someone_else(slack, store):
    view = {"type": "modal", "callback_id": "personal_thanks_submit", "private_metadata": BOB, "blocks": []}
    values = state(message=("text", "plain_text_input", "Thank you for everything"))
    response = slack.submit_view(view, values, DANI)
    assert response.json()["response_action"] == "errors"
    assert thanks_count(store) == 0 and slack.fake.calls_to("chat.postMessage") == []
