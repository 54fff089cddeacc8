"""Managers' digests in Teams: each manager's copy in their 1:1 chat, the channel's copy in the digest channel, as
cards; their buttons (remind a stuck change's owner, a leader's personal thank-you) work as in Slack."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from sqlalchemy import select

from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.store.models import Change, Thanks
from tests.teams.conftest import ALICE, BOB, CAROL, CHANNEL, TENANT

LAST_WEEK = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)
OTHERS = [
    {"id": f"29:1other{n}", "name": f"Other {n}", "aadObjectId": f"dddddddd-0000-0000-0000-00000000000{n}"}
    for n in range(3)
]


def test_a_manager_gets_their_digest_in_their_chat_and_can_thank_and_remind_from_it(teams, store, clock):
    teams.connector.members = [ALICE, BOB, CAROL, *OTHERS]
    teams.post(teams.activity("installationUpdate", ALICE, "channel", action="add"))  # learns the team: six people
    team = Team("teams", TENANT)
    teams.bot.services.workspaces.update(
        team, OPERATOR, {"managers": [ALICE["aadObjectId"]], "digest_channel": CHANNEL, "sends_per_second": 0}
    )
    clock.at = datetime(2026, 10, 12, 10, 0, tzinfo=UTC)  # an idea Carol took on six weeks ago, and nothing since
    teams.say("smallchange a shared diary for visits")
    with store.session() as s:
        change_id, card_id = s.execute(select(Change.id, Change.message_ts)).one()
    teams.press("change_take", sender=CAROL, card=card_id, change=change_id)
    clock.at = LAST_WEEK
    teams.say("thanks <at>Bob Example</at> for covering my visit", sender=CAROL, mentions=(BOB,))
    clock.at = TUESDAY

    report = teams.bot.services.digests.tick(team, TUESDAY)
    assert report.sent == 2  # Alice's copy and the channel's
    [mine] = cards_in(teams, f"a:1on1-{ALICE['id']}")  # her chat with the bot, opened for it
    assert "covering my visit" in json.dumps(mine) and "Send a personal thank-you" in json.dumps(mine)
    [ours] = [c for c in cards_in(teams, CHANNEL) if "digest" in json.dumps(c).lower()]
    assert "covering my visit" in json.dumps(ours) and "Send a personal thank-you" not in json.dumps(ours)
    assert "📈 Twelve weeks, 31 Aug–22 Nov 2026" in json.dumps(mine, ensure_ascii=False)
    [(text, chart)] = images_in(teams, f"a:1on1-{ALICE['id']}")  # the trends chart, inline, in her chat only
    assert chart["name"] == "trends-1w151.png" and chart["contentUrl"].startswith("data:image/png;base64,")
    assert base64.b64decode(chart["contentUrl"].partition(",")[2]).startswith(b"\x89PNG\r\n\x1a\n")
    assert "Thanks given: 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1." in text, "its numbers, in words beside it"
    assert "Ideas: 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0." in text  # suggested on 12 October, the seventh week
    assert images_in(teams, CHANNEL) == []

    asked = teams.press("digest_remind", where="personal", change=change_id)
    assert asked["value"] == "I've asked Carol Example how it's going, and said it was you who asked."
    assert "a shared diary for visits" in teams.chat_with(CAROL)[-1]

    period = json.dumps(mine).split('"period": "')[1].split('"')[0]
    value = {"data": {"dialog_id": "digest_personal_thanks", "person": BOB["aadObjectId"], "period": period}}
    status, opened = teams.answer(teams.activity("invoke", ALICE, "personal", name="task/fetch", value=value))
    assert "covering my visit" in json.dumps(opened["task"]["value"]["card"]["content"])  # the draft quotes Carol
    data = {"action": "personal_thanks_form", "person": BOB["aadObjectId"], "message": "Thank you, Bob."}
    status, sent = teams.answer(teams.activity("invoke", ALICE, "personal", name="task/submit", value={"data": data}))
    assert sent["task"]["value"] == "Your personal thank-you went to Bob Example, from you by name."
    assert teams.chat_with(BOB)[-1] == "🌟 A personal thank-you from **Alice Example**:\n\nThank you, Bob."
    with store.session() as s:
        assert s.scalars(select(Thanks.via).order_by(Thanks.id)).all() == ["command", "leader"]


def cards_in(teams, conversation: str) -> list[dict]:
    return [
        a["content"]
        for c in teams.connector.sent()
        if c.path == f"/v3/conversations/{conversation}/activities"
        for a in (c.body or {}).get("attachments") or []
        if a["contentType"] == "application/vnd.microsoft.card.adaptive"
    ]


def images_in(teams, conversation: str) -> list[tuple[str, dict]]:
    """(the message's text, the image) for each image the bot sent in a conversation."""
    return [
        (c.body.get("text", ""), a)
        for c in teams.connector.sent()
        if c.path == f"/v3/conversations/{conversation}/activities"
        for a in (c.body or {}).get("attachments") or []
        if a["contentType"].startswith("image/")
    ]
