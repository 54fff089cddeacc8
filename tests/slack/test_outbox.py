"""Nothing lost when Slack is down: a thank-you saved while Slack does not answer is posted and DMed once Slack is
back, exactly once, in the order it was given; an idea card catches up with the clicks it missed."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select, update

from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.model import Team
from bot.store.models import OutboxMessage, Thanks
from tests.slack.test_smallchange import click, suggest
from tests.slack.test_thanks import mention

TEAM = Team("slack", "T0SAMPLE")
PEOPLE = (ALICE, BOB, CAROL, DANI)


def count(store, *where) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(OutboxMessage).where(*where))


def met_everyone(slack) -> None:
    """Everyone has been looked up in the last five minutes, so a thank-you can be saved without asking Slack."""
    for giver in PEOPLE:
        slack.thanks(f"{mention(ALICE if giver != ALICE else BOB)} for the coffee", giver)
    slack.fake.clear()


def numbered(text: str) -> int | None:
    found = re.search(r"favour #(\d+)\b", text)
    return int(found.group(1)) if found else None


def test_thanks_saved_while_slack_is_down_are_posted_and_dmed_once_in_order_when_it_is_back(slack, store, clock):
    slack.services.workspaces.update(TEAM, DANI, {"thanks_daily_cap": 100})
    met_everyone(slack)

    given = []
    with slack.fake.outage():
        for n in range(50):
            giver = PEOPLE[n % 4]
            recipient = PEOPLE[(n + 1 + n // 4) % 4] if PEOPLE[(n + 1 + n // 4) % 4] != giver else PEOPLE[(n + 2) % 4]
            assert slack.thanks(f"{mention(recipient)} for favour #{n}", giver).status == 200
            given.append((n, giver, recipient))
        clock.advance(seconds=30)
        slack.delivery.deliver()  # the clock drains while Slack is still down: nothing goes, nothing is lost

    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(Thanks)) == 54
    assert slack.said() == [] and slack.fake.calls_to("chat.postMessage") == []
    assert count(store, OutboxMessage.state == "pending") == 100  # a post and a DM each

    clock.advance(minutes=5)
    slack.delivery.deliver()  # Slack is back: the clock's next drain
    slack.delivery.deliver()  # and another, which finds nothing left

    posts = [numbered(c.text()) for c in slack.said() if c.params.get("response_type") == "in_channel"]
    assert posts == list(range(50)), "each post once, in the order the thanks were given"
    dms = defaultdict(list)
    for call in slack.fake.calls_to("chat.postMessage"):
        dms[call.params["channel"]].append(numbered(call.text()))
    for person in PEOPLE:
        assert dms[person] == [n for n, _, recipient in given if recipient == person], person
    assert count(store, OutboxMessage.state.in_(("pending", "sending"))) == 0
    with store.session() as s:
        assert s.scalars(select(OutboxMessage.payload).where(OutboxMessage.payload.is_not(None))).all() == []


def test_a_permanent_refusal_is_recorded_and_the_next_message_to_that_person_still_goes(slack, store):
    slack.fake.fail("chat.postMessage", "account_inactive")
    slack.thanks(f"{mention(BOB)} for favour #1", ALICE)
    slack.thanks(f"{mention(BOB)} for favour #2", CAROL)

    attempts = [(c.params.get("_failed"), numbered(c.text())) for c in slack.fake.calls_to("chat.postMessage")]
    assert attempts == [("account_inactive", 1), (None, 2)]
    with store.session() as s:
        failed = s.execute(select(OutboxMessage.error).where(OutboxMessage.state == "failed")).scalars().all()
    assert failed == ["account_inactive"]


def test_a_post_whose_response_url_has_expired_goes_to_the_channel_instead(slack, store, clock):
    met_everyone(slack)
    with slack.fake.outage():
        slack.thanks(f"{mention(BOB)} for favour #7", ALICE)
    clock.advance(minutes=45)  # longer than Slack honours a command's response_url
    slack.delivery.deliver()

    assert slack.said() == []
    posts = [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == "C0GENERAL"]
    assert len(posts) == 1 and "favour #7" in posts[0].text() and f"<@{ALICE}> thanked <@{BOB}>" in posts[0].text()


def test_a_card_clicked_while_slack_is_down_catches_up_once_slack_is_back(slack, store, clock):
    card = suggest(slack, "a shared calendar for visits", ALICE)
    slack.fake.clear()
    with slack.fake.outage():
        click(slack, card, "change_back", BOB)
        click(slack, card, "change_back", CAROL)
        click(slack, card, "change_take", DANI)
    clock.advance(minutes=1)
    slack.delivery.deliver()

    updates = slack.fake.calls_to("chat.update")
    assert len(updates) == 1, "the clicks it missed are shown by one update, from the change as it is now"
    assert "Back this (2)" in str(updates[0].params["blocks"]) and "Hand it back" in str(updates[0].params["blocks"])


def test_a_message_claimed_by_a_process_that_died_is_sent_again_after_two_minutes(slack, store, clock):
    met_everyone(slack)
    with slack.fake.outage():
        slack.thanks(f"{mention(BOB)} for favour #3", ALICE)
    with store.session() as s:  # a web process claimed the DM, then was killed before it could send
        s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.lane == f"dm:{BOB}", OutboxMessage.state == "pending")
            .values(state="sending", claimed_at=clock() - timedelta(seconds=30))
        )
    clock.advance(seconds=60)
    slack.delivery.deliver()
    assert [c.params["channel"] for c in slack.fake.calls_to("chat.postMessage")] == []
    clock.advance(minutes=2)
    slack.delivery.deliver()
    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB and "favour #3" in dm.text()


def test_when_slack_goes_down_between_a_post_and_its_dm_the_post_is_not_sent_again(slack, store, clock):
    met_everyone(slack)
    slack.fake.fail("chat.postMessage", "service_unavailable", status=503)  # the DM, after the post went out
    slack.thanks(f"{mention(BOB)} for favour #5", ALICE)
    clock.advance(minutes=5)
    slack.delivery.deliver()
    posts = [c for c in slack.said() if c.params.get("response_type") == "in_channel"]
    dms = [c for c in slack.fake.calls_to("chat.postMessage") if "_failed" not in c.params]
    assert len(posts) == 1 and len(dms) == 1, "each once: the post was marked sent before the DM's retry"
