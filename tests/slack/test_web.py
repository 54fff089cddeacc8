"""The web app's edges: only Slack-signed, fresh requests are processed; /healthz tells the truth."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.console.team import ALICE, BOB
from bot.store.models import Thanks

THANKS = f"<@{BOB}|bob> for covering my visit"


def nothing_happened(slack, store) -> None:
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 0
    assert slack.fake.calls == []


def test_a_signed_request_is_processed(slack, store):
    assert slack.thanks(THANKS, ALICE).status == 200
    assert slack.said()[0].params["response_type"] == "in_channel"


def test_an_unsigned_request_is_rejected(slack, store):
    body = slack.requests.command("/thanks", THANKS, ALICE)
    response = slack.post(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 401
    nothing_happened(slack, store)


def test_a_wrong_signature_is_rejected(slack, store):
    body = slack.requests.command("/thanks", THANKS, ALICE)
    headers = slack.requests.sign(body) | {"X-Slack-Signature": "v0=" + "0" * 64}
    assert slack.post(body, headers).status == 401
    nothing_happened(slack, store)


def test_a_tampered_body_is_rejected(slack, store):
    body = slack.requests.command("/thanks", THANKS, ALICE)
    headers = slack.requests.sign(body)
    forged = body.replace("U0ALICE", "U0DANI")
    assert slack.post(forged, headers).status == 401
    nothing_happened(slack, store)


def test_a_request_older_than_five_minutes_is_rejected(slack, store):
    body = slack.requests.command("/thanks", THANKS, ALICE)
    headers = slack.requests.sign(body, timestamp=int(time.time()) - 6 * 60)
    assert slack.post(body, headers).status == 401
    nothing_happened(slack, store)


def test_health_check_reports_the_database(slack):
    response = slack.get("/healthz")
    assert response.status == 200
    assert response.json() == {"status": "ok", "database": True}


def test_health_check_is_503_when_the_database_does_not_answer(database_url):
    from bot.slack.web import SlackGate
    from bot.store.db import Store
    from tests.conftest import serve
    from tests.fakes.driver import SlackDriver

    unreachable = (
        "sqlite:////nonexistent/dir/db.sqlite"
        if database_url.startswith("sqlite")
        else "postgresql://postgres@127.0.0.1:9/test"  # nothing listens on the discard port
    )
    store = Store.from_url(unreachable)
    served = serve(SlackGate(None, store, "unused-signing-secret"))
    try:
        response = SlackDriver(served.url, None, "unused").get("/healthz")
    finally:
        served.stop()
    assert response.status == 503
    assert response.json() == {"status": "unavailable", "database": False}


def test_health_check_recovers_with_the_database(flaky_slack, outage, database_url):
    with outage.down():
        during = flaky_slack.get("/healthz").status
    assert flaky_slack.get("/healthz").status == 200
    if not database_url.startswith("sqlite"):  # a locked SQLite file still answers reads
        assert during == 503


def test_unknown_paths_are_404(slack):
    assert slack.get("/nothing-here").status == 404


def test_metrics_are_off_the_public_route_unless_a_token_is_set(slack):
    assert slack.get("/metrics").status == 404


def test_metrics_need_the_bearer_token_and_count_requests_and_the_outbox(fake_slack, store, settings):
    import urllib.request

    from bot.app import build_slack
    from bot.slack.web import SlackGate
    from bot.slack.work import Inline
    from tests.conftest import SIGNING_SECRET, serve
    from tests.fakes.driver import SlackDriver

    bot = build_slack(settings, store=store, work=Inline())
    gate = SlackGate(bot.app, store, SIGNING_SECRET, outbox=bot.services.outbox, metrics_token="s3cret-token")
    served = serve(gate)
    try:
        driver = SlackDriver(served.url, fake_slack, SIGNING_SECRET)
        driver.thanks(f"<@{BOB}|bob> for the coffee", ALICE)  # Alice and Bob are known now
        with fake_slack.outage():  # the post and the DM wait in the outbox
            driver.thanks(f"<@{BOB}|bob> for the cover", ALICE)
        assert driver.get("/metrics").status == 401
        request = urllib.request.Request(served.url + "/metrics", headers={"Authorization": "Bearer s3cret-token"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            text = reply.read().decode()
    finally:
        served.stop()
    assert 'smallchanges_requests_total{kind="command /thanks",status="200"}' in text
    assert "smallchanges_outbox_depth 2.0" in text and "smallchanges_outbox_oldest_seconds" in text
    assert "s3cret-token" not in text
