"""Many workspaces from one deployment: Slack's OAuth v2 install through the real routes (GET /slack/install, then
Slack's redirect to GET /slack/oauth_redirect), oauth.v2.access answered by the fake Slack in its documented shape,
the installation kept in our database; then each workspace's requests, ticks and outbox use its own token, and an
uninstall stops them all."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from bot.app import build_slack
from bot.clock import Platform, every_tick
from bot.console.team import ALICE, BOB
from bot.core.model import Team
from bot.settings import Settings
from bot.slack.work import Inline
from bot.store.models import SLACK_BOTS, SLACK_INSTALLATIONS, OutboxMessage, Thanks, Workspace
from tests.conftest import SIGNING_SECRET, gate, make_settings, serve
from tests.fakes.driver import SlackDriver

CLIENT_ID, CLIENT_SECRET = "1111.2222", "client-secret-not-real"
CONFIG = Path(__file__).resolve().parents[2] / "config"
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # working hours in London (Alice, Bob)


@dataclass
class Page:
    status: int
    body: str
    headers: dict[str, list[str]]


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def browse(url: str, cookie: str | None = None) -> Page:
    """A browser's GET, without following redirects, so each page is seen as the bot served it."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        reply = urllib.request.build_opener(NoRedirects).open(request, timeout=10)
    except urllib.error.HTTPError as error:
        reply = error
    headers: dict[str, list[str]] = {}
    for name, value in reply.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return Page(reply.status if hasattr(reply, "status") else reply.code, reply.read().decode(), headers)


@pytest.fixture
def installs(fake_slack, store, clock):
    """The bot in install mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, no SLACK_BOT_TOKEN), served over HTTP."""
    fake_slack.client_credentials = (CLIENT_ID, CLIENT_SECRET)
    settings = make_settings(
        fake_slack, slack_bot_token=None, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET
    )
    bot = build_slack(settings, store=store, work=Inline(), now=clock, sleep=lambda _: None)
    served = serve(gate(bot, store))
    driver = SlackDriver(served.url, fake_slack, SIGNING_SECRET)
    driver.bot = bot
    yield driver
    served.stop()


def add_to_slack(driver: SlackDriver) -> tuple[str, str]:
    """Open the "Add to Slack" page: the state in its link to Slack, and the cookie it set for this browser."""
    page = browse(driver.base_url + "/slack/install")
    assert page.status == 200
    link = html.unescape(re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.body).group(1))
    state = parse_qs(urlparse(link).query)["state"][0]
    cookie = page.headers["set-cookie"][0].split(";")[0]
    return state, cookie


def install(driver: SlackDriver, team_id: str, code: str, **grant) -> tuple[Page, str]:
    """Someone installs the bot into `team_id`: the page, Slack's approval, and the redirect back to the bot."""
    state, cookie = add_to_slack(driver)
    token = driver.fake.grant(code, team_id, **grant)
    return browse(f"{driver.base_url}/slack/oauth_redirect?code={code}&state={state}", cookie), token


def from_team(driver: SlackDriver, team_id: str) -> SlackDriver:
    """The same server, as Slack sends requests from another workspace."""
    other = SlackDriver(driver.base_url, driver.fake, SIGNING_SECRET)
    other.requests.team_id = team_id
    return other


def count(store, *columns) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(*columns))


def test_the_add_to_slack_page_asks_for_the_manifests_scopes_with_a_state_tied_to_the_browser(installs):
    page = browse(installs.base_url + "/slack/install")

    assert page.status == 200 and "Add to Slack" in page.body
    link = html.unescape(re.search(r'href="(https://slack.com/oauth/v2/authorize\?[^"]+)"', page.body).group(1))
    asked = parse_qs(urlparse(link).query)
    assert asked["client_id"] == [CLIENT_ID]
    assert set(asked["scope"][0].split(",")) == set(manifest_scopes(CONFIG / "slack_manifest_http.yaml"))
    assert page.headers["set-cookie"][0].startswith(f"slack-app-oauth-state={asked['state'][0]}")


def test_an_install_is_kept_and_that_workspace_then_uses_the_bot_with_its_own_token(installs, store):
    page, token = install(installs, "T0SAMPLE", "code-1")

    assert page.status == 200, page.body
    assert installs.fake.calls_to("oauth.v2.access")[0].params["code"] == "code-1"
    answer = installs.thanks("<@U0BOB|bob> for covering my visit", ALICE)
    assert answer.status == 200
    dm = installs.fake.wait_for("chat.postMessage")[0]
    assert dm.params["channel"] == BOB and dm.token == token
    assert count(store, Thanks) == 1


def test_a_request_from_a_workspace_that_never_installed_is_refused_and_creates_nothing(installs, store):
    install(installs, "T0SAMPLE", "code-1")
    installs.fake.clear()

    answer = from_team(installs, "T0STRANGER").thanks("<@U0BOB|bob> for covering my visit", ALICE)

    assert answer.status == 403
    assert count(store, Thanks) == 0
    with store.engine.connect() as conn:
        assert conn.scalar(select(Workspace.id).where(Workspace.external_id == "T0STRANGER")) is None
    assert installs.fake.calls == []


def test_a_forged_or_replayed_redirect_installs_nothing(installs, store):
    state, cookie = add_to_slack(installs)
    installs.fake.grant("code-1", "T0SAMPLE")

    no_cookie = browse(f"{installs.base_url}/slack/oauth_redirect?code=code-1&state={state}")
    made_up_state = browse(f"{installs.base_url}/slack/oauth_redirect?code=code-1&state=made-up", "x=y")
    ok = browse(f"{installs.base_url}/slack/oauth_redirect?code=code-1&state={state}", cookie)
    replayed = browse(f"{installs.base_url}/slack/oauth_redirect?code=code-1&state={state}", cookie)

    assert no_cookie.status == 400 and made_up_state.status == 400
    assert ok.status == 200
    assert replayed.status == 401  # the state is spent: one install per "Add to Slack"
    assert count(store, SLACK_BOTS) == 1


def test_two_workspaces_each_get_their_nudges_from_one_clock_with_their_own_tokens(installs, store, clock):
    _, first = install(installs, "T0SAMPLE", "code-1")
    _, second = install(installs, "T0SECOND", "code-2")
    installs.fake.clear()
    clock.at = TUESDAY

    every_tick([Platform(installs.bot.services, installs.bot.delivery, installs.bot.workspaces.teams)])

    nudged = [c for c in installs.fake.calls_to("chat.postMessage") if c.params["channel"] in (ALICE, BOB)]
    by_token = {token: sorted(c.params["channel"] for c in nudged if c.token == token) for token in (first, second)}
    assert by_token == {first: [ALICE, BOB], second: [ALICE, BOB]}
    assert {c.token for c in installs.fake.calls} <= {first, second}


def test_an_uninstall_stops_that_workspaces_ticks_outbox_and_requests_at_once(installs, store, clock):
    _, token = install(installs, "T0SAMPLE", "code-1")
    _, other = install(installs, "T0SECOND", "code-2")
    installs.fake.fail("chat.postMessage", "service_unavailable", status=503, times=5)
    installs.thanks("<@U0BOB|bob> for covering my visit", ALICE)  # saved; its DM waits in the outbox for Slack
    installs.fake.clear()

    answer = installs.event({"type": "app_uninstalled"}, "Ev0UNINSTALL")
    clock.at = TUESDAY
    every_tick([Platform(installs.bot.services, installs.bot.delivery, installs.bot.workspaces.teams)])
    installs.bot.delivery.drain()
    later = installs.thanks("<@U0BOB|bob> for the lift", ALICE)

    assert answer.status == 200
    assert installs.bot.workspaces.teams() == [Team("slack", "T0SECOND")]
    assert {c.token for c in installs.fake.calls} == {other}  # the other workspace still hears from the bot
    with store.engine.connect() as conn:
        outbox = conn.execute(select(OutboxMessage.state, OutboxMessage.error)).all()
    assert ("failed", "app uninstalled") in outbox and not [row for row in outbox if row[0] == "pending"]
    assert later.status == 403
    assert count(store, Thanks) == 1  # its records stay until an admin erases them


def test_a_workspace_that_installs_again_is_served_again_with_its_records(installs, store):
    install(installs, "T0SAMPLE", "code-1")
    installs.thanks("<@U0BOB|bob> for covering my visit", ALICE)
    installs.event({"type": "app_uninstalled"}, "Ev0UNINSTALL")

    _, token = install(installs, "T0SAMPLE", "code-2")
    installs.fake.clear()
    answer = installs.smallchange("mine", ALICE)

    assert answer.status == 200 and installs.fake.calls_to("response_url")  # Alice's ideas, answered
    assert count(store, Thanks) == 1
    assert {c.token for c in installs.fake.calls if c.method != "response_url"} == {token}


def test_a_revoked_bot_token_stops_that_workspace_too(installs, store):
    install(installs, "T0SAMPLE", "code-1")

    answer = installs.event({"type": "tokens_revoked", "tokens": {"bot": ["U0BOT"]}}, "Ev0REVOKED")

    assert answer.status == 200
    assert installs.bot.workspaces.teams() == []
    assert installs.thanks("<@U0BOB|bob> for the lift", ALICE).status == 403


def test_an_org_wide_enterprise_install_is_refused_with_a_page_saying_what_to_do(installs, store):
    page, token = install(installs, "T0SAMPLE", "code-1", enterprise_id="E0ORG", org_wide=True)

    assert page.status == 400
    assert "one workspace at a time" in page.body and "Add to Slack" in page.body
    assert count(store, SLACK_BOTS) == 0 and count(store, SLACK_INSTALLATIONS) == 0
    assert installs.fake.revoked == {token}  # nothing is left half-installed in the org


def test_a_workspace_of_an_enterprise_org_installs_like_any_other(installs, store):
    page, token = install(installs, "T0SAMPLE", "code-1", enterprise_id="E0ORG")
    installs.requests.enterprise_id = "E0ORG"

    answer = installs.thanks("<@U0BOB|bob> for covering my visit", ALICE)

    assert page.status == 200 and answer.status == 200
    assert installs.fake.wait_for("chat.postMessage")[0].token == token


def test_a_token_and_install_credentials_together_stop_start_up_with_one_line(fake_slack, store):
    settings = make_settings(fake_slack, slack_client_id=CLIENT_ID, slack_client_secret=CLIENT_SECRET)

    with pytest.raises(SystemExit, match="Set either SLACK_BOT_TOKEN .* not both"):
        build_slack(settings, store=store)


def test_install_credentials_come_from_the_environment_and_a_missing_secret_is_named():
    settings = Settings.from_env({"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_SIGNING_SECRET": SIGNING_SECRET})

    assert settings.slack_installs
    with pytest.raises(SystemExit, match="SLACK_CLIENT_SECRET"):
        settings.require_slack("SLACK_SIGNING_SECRET")


def test_the_two_manifests_differ_only_in_how_slack_reaches_the_bot():
    http = (CONFIG / "slack_manifest_http.yaml").read_text(encoding="utf-8")
    socket = (CONFIG / "slack_manifest_socket.yaml").read_text(encoding="utf-8")

    scopes = [manifest_scopes(CONFIG / name) for name in ("slack_manifest_http.yaml", "slack_manifest_socket.yaml")]
    assert scopes[0] == scopes[1] and len(scopes[0]) == 12
    assert "- https://YOUR-HOST/slack/oauth_redirect" in http and "socket_mode_enabled: false" in http
    assert "YOUR-HOST" not in socket and "socket_mode_enabled: true" in socket
    for manifest in (http, socket):
        assert "- app_uninstalled" in manifest and "- tokens_revoked" in manifest


def manifest_scopes(path: Path) -> list[str]:
    """The bot scopes a manifest declares (its `bot:` list), read as plain text."""
    text = path.read_text(encoding="utf-8")
    listed = text.split("    bot:\n", 1)[1]
    return re.findall(r"^      - ([a-z:.]+)", listed.split("\n\n")[0].split("settings:")[0], re.M)
