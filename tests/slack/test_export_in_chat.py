"""/smallchange export as an admin meets it: the team's records arrive in their own DM, never in the channel the
command was typed in, and nobody else can get them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bot.console.team import ALICE, BOB, CAROL, DANI
from tests.conftest import make_settings
from tests.slack.test_smallchange import click, ephemeral, replies_to, suggest

UPLOADS = ("conversations.open", "files.getUploadURLExternal", "file_upload", "files.completeUploadExternal")


def team_activity(slack) -> None:
    """A morning's worth of records: public and private thanks, an idea taken on and backed."""
    slack.thanks(f"<@{BOB}|bob> for covering my home visit #supportive", ALICE)
    slack.thanks(f"private <@{ALICE}|alice> for listening after a hard visit", BOB)
    card = suggest(slack, "one shared template for visit notes", ALICE)
    click(slack, card, "change_take", BOB)
    click(slack, card, "change_back", CAROL)
    slack.fake.clear()


def export(slack, text: str, user: str, channel: str = "C0GENERAL"):
    """Type `/smallchange export …`; returns the replies to that command."""
    body = slack.requests.command("/smallchange", f"export {text}".strip(), user, channel)
    assert slack.signed(body).status == 200
    return replies_to(slack.fake, body)


def uploaded(slack) -> dict[str, str]:
    """What Slack received as file contents, by file name."""
    names = {c.result["file_id"]: c.params["filename"] for c in slack.fake.calls_to("files.getUploadURLExternal")}
    return {names[c.params["file_id"]]: c.params["content"] for c in slack.fake.calls_to("file_upload")}


def nothing_uploaded(slack) -> bool:
    return all(slack.fake.calls_to(method) == [] for method in UPLOADS)


def test_someone_who_is_not_an_admin_cannot_export(slack):
    team_activity(slack)
    [reply] = export(slack, "", ALICE)
    assert ephemeral(reply)
    assert "Only workspace admins" in reply.text() and "Nothing was exported" in reply.text()
    assert nothing_uploaded(slack), "no file may go anywhere"
    assert slack.fake.calls_to("chat.postMessage") == []


def test_an_admins_export_arrives_in_their_own_dm_as_csv(slack):
    team_activity(slack)
    [reply] = export(slack, "", DANI, channel="C0GENERAL")

    assert ephemeral(reply) and "Sent to you in a DM" in reply.text()
    assert "thanks: 2, ideas: 1, nudges: 0" in reply.text()
    [opened] = slack.fake.calls_to("conversations.open")
    assert opened.params["users"] == DANI
    dm = opened.result["channel"]["id"]
    [done] = slack.fake.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == dm != "C0GENERAL"
    assert "channels" not in done.params
    assert slack.fake.calls_to("chat.postMessage") == [], "nothing is posted in the channel"

    files = uploaded(slack)
    assert sorted(files) == [
        "smallchanges-T0SAMPLE-20261124-idea_history.csv",
        "smallchanges-T0SAMPLE-20261124-ideas.csv",
        "smallchanges-T0SAMPLE-20261124-nudges.csv",
        "smallchanges-T0SAMPLE-20261124-raised_with_leaders.csv",
        "smallchanges-T0SAMPLE-20261124-thanks.csv",
        "smallchanges-T0SAMPLE-20261124-time_freed.csv",
    ]
    thanks = list(csv.DictReader(io.StringIO(files["smallchanges-T0SAMPLE-20261124-thanks.csv"])))
    assert [(t["giver"], t["recipients"], t["private"], t["reason"]) for t in thanks] == [
        (ALICE, BOB, "no", "covering my home visit #supportive"),
        (BOB, ALICE, "yes", "(private: not quoted)"),
    ]
    [idea] = csv.DictReader(io.StringIO(files["smallchanges-T0SAMPLE-20261124-ideas.csv"]))
    assert (idea["text"], idea["suggester"], idea["owner"], idea["backers"]) == (
        "one shared template for visit notes",
        ALICE,
        BOB,
        "1",
    )
    history = list(csv.DictReader(io.StringIO(files["smallchanges-T0SAMPLE-20261124-idea_history.csv"])))
    assert [(h["actor"], h["kind"], h["new"]) for h in history] == [(ALICE, "created", "idea"), (BOB, "owner", BOB)]
    assert "listening after a hard visit" not in "".join(files.values()), "a private reason is never quoted"


def test_an_admin_can_ask_for_json_since_a_date(slack, clock):
    slack.thanks(f"<@{BOB}|bob> for the old news", ALICE)
    clock.advance(days=2)
    team_activity(slack)

    [reply] = export(slack, "since 2026-11-25 json", DANI)

    assert "Sent to you in a DM" in reply.text()
    [(name, content)] = uploaded(slack).items()
    assert name == "smallchanges-T0SAMPLE-20261126.json"
    document = json.loads(content)
    assert document["workspace"] == "T0SAMPLE" and document["since"] == "2026-11-25"
    assert [t["reason"] for t in document["thanks"]] == ["covering my home visit #supportive", None]
    assert any("Private thanks are counted, never quoted" in note for note in document["notes"])
    [done] = slack.fake.calls_to("files.completeUploadExternal")
    assert done.params["channel_id"] == "D0DANI"


class TestAnAdminNamedInSettings:
    @pytest.fixture
    def settings(self, fake_slack):
        return make_settings(fake_slack, admin_user_ids=frozenset({CAROL}))

    def test_can_export_too(self, slack):
        team_activity(slack)
        [reply] = export(slack, "json", CAROL)
        assert "Sent to you in a DM" in reply.text()
        [done] = slack.fake.calls_to("files.completeUploadExternal")
        assert done.params["channel_id"] == "D0CAROL"


def test_a_date_that_cannot_be_read_is_explained_and_nothing_is_sent(slack):
    [reply] = export(slack, "since 2026-13-01", DANI)
    assert ephemeral(reply) and "couldn't read 2026-13-01 as a date" in reply.text()
    assert nothing_uploaded(slack)


def test_an_idea_that_starts_with_the_word_export_is_still_an_idea(slack):
    card = suggest(slack, "export the rota to the shared calendar", ALICE)
    assert "export the rota to the shared calendar" in card.text
    assert nothing_uploaded(slack)


def test_with_the_database_down_the_admin_is_told_and_nothing_is_sent(flaky_slack, outage):
    slack = flaky_slack
    team_activity(slack)
    with outage.down():
        [reply] = export(slack, "", DANI)
    assert ephemeral(reply)
    assert "couldn't export" in reply.text() and "database" in reply.text()
    assert nothing_uploaded(slack)

    [reply] = export(slack, "", DANI)  # once it is back, the export works
    assert "Sent to you in a DM" in reply.text()


def test_when_slack_refuses_the_file_the_admin_is_told_why_in_their_dm(slack):
    team_activity(slack)
    slack.fake.fail("files.completeUploadExternal", "not_allowed_token_type")
    assert export(slack, "json", DANI) == [], "no 'sent' in the channel"
    [told] = slack.fake.calls_to("chat.postMessage")
    assert told.params["channel"] == DANI
    assert "export was *not* sent" in told.text() and "not_allowed_token_type" in told.text()
    assert "Nothing was shared" in told.text()
