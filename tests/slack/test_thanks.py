"""/thanks as a team uses it: typed in a channel, shown to the channel, a DM to each person thanked."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.console.team import ALICE, BOB, CAROL, DANI, ED, ROBOT
from bot.store.models import Thanks, ThanksRecipient, ThanksValue


def mention(user_id: str, name: str | None = None) -> str:
    """A mention as Slack delivers it in command text when the manifest sets should_escape."""
    return f"<@{user_id}|{name or user_id.lower()}>"


def count(store, model=Thanks) -> int:
    with store.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def only_reply(slack) -> str:
    """The one ephemeral reply the giver saw (a response_url post that is not in_channel)."""
    replies = slack.said()
    assert len(replies) == 1, [r.params for r in replies]
    assert replies[0].params.get("response_type", "ephemeral") == "ephemeral"
    return replies[0].text()


def assert_refused(slack, store, text: str, *expected: str, user: str = ALICE) -> str:
    slack.fake.clear()
    response = slack.thanks(text, user)
    assert response.status == 200
    reply = response.body or only_reply(slack)
    for words in expected:
        assert words in reply, reply
    assert count(store) == 0, "a refused thank-you must not be recorded"
    assert slack.fake.calls_to("chat.postMessage") == [], "a refused thank-you must not be sent"
    assert all(c.params.get("response_type") != "in_channel" for c in slack.said())
    return reply


def test_thanks_is_shown_in_the_channel_and_sent_to_each_recipient(slack, store):
    response = slack.thanks(f"{mention(BOB)} {mention(CAROL)} for covering my home visit #supportive", ALICE)

    assert response.status == 200
    [post] = slack.said()
    assert post.params["response_type"] == "in_channel"
    shown = post.text()
    assert f"<@{ALICE}> thanked <@{BOB}> and <@{CAROL}>" in shown
    assert "covering my home visit" in shown
    assert "Values: supportive" in shown

    dms = {c.params["channel"]: c.text() for c in slack.fake.calls_to("chat.postMessage")}
    assert set(dms) == {BOB, CAROL}
    assert f"<@{ALICE}> thanked you (and 1 other) in <#C0GENERAL>" in dms[BOB]
    assert "covering my home visit" in dms[CAROL]

    with store.session() as s:
        thanks = s.scalars(select(Thanks)).one()
        assert thanks.giver_id == ALICE and thanks.reason == "covering my home visit #supportive"
        assert {r.recipient_id for r in thanks.recipients} == {BOB, CAROL}
        assert [v.value for v in thanks.values] == ["supportive"]


def test_plain_mentions_without_a_name_are_accepted_too(slack, store):
    slack.thanks(f"<@{BOB}> thanks for the lift", ALICE)
    assert f"thanked <@{BOB}>" in slack.said()[0].text()
    assert count(store) == 1


def test_value_tags_match_loosely_and_unknown_tags_stay_plain_text(slack, store):
    slack.thanks(f"{mention(BOB)} for the new rota #Open-To-New-Ideas #teamwork #HONEST", ALICE)
    shown = slack.said()[0].text()
    assert "#teamwork" in shown  # unknown tag: left in the text as typed
    assert "Values: open to new ideas · honest" in shown
    with store.session() as s:
        assert sorted(s.scalars(select(ThanksValue.value))) == ["honest", "open to new ideas"]


def test_private_thanks_reaches_only_the_giver_and_recipient(slack, store):
    slack.thanks(f"private {mention(BOB)} for listening after that visit", ALICE)

    receipt = only_reply(slack)
    assert "Sent privately" in receipt and "nothing was posted in the channel" in receipt
    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB
    assert "privately thanked you" in dm.text() and "<#C0GENERAL>" not in dm.text()
    with store.session() as s:
        assert s.scalars(select(Thanks.private)).one() is True


def test_help_shows_usage_with_an_example(slack, store):
    assert slack.thanks("help", ALICE).status == 200
    [usage] = slack.said()
    assert "/thanks @bob @carol for covering my home visit" in usage.text()
    assert usage.params.get("response_type") != "in_channel", "only the person who asked sees it"
    assert count(store) == 0


def test_no_recipient_is_refused(slack, store):
    assert_refused(slack, store, "for being brilliant", "Who would you like to thank?")


def test_no_reason_is_refused(slack, store):
    assert_refused(slack, store, mention(BOB), "What are you thanking them for?")
    assert_refused(slack, store, f"{mention(BOB)} for   ", "What are you thanking them for?")


def test_thanking_yourself_is_refused(slack, store):
    assert_refused(slack, store, f"{mention(ALICE)} for being me", "can't thank yourself")


def test_thanking_a_bot_is_refused(slack, store):
    assert_refused(slack, store, f"{mention(ROBOT)} for the reminders", "Rota is a bot")
    assert_refused(slack, store, f"{mention('USLACKBOT')} for the reminders", "Slackbot is a bot")


def test_thanking_a_deactivated_person_is_refused(slack, store):
    assert_refused(slack, store, f"{mention(ED)} for everything", "deactivated")


def test_thanking_an_unknown_person_is_refused(slack, store):
    assert_refused(slack, store, f"{mention('U0NOBODY')} for help", "couldn't find")
    assert_refused(slack, store, "@someone for help", "I couldn't find @someone")


def test_one_unthankable_recipient_stops_the_whole_thank_you(slack, store):
    assert_refused(slack, store, f"{mention(BOB)} {mention(ROBOT)} for the cover", "is a bot")


def test_channel_and_group_mentions_are_not_recipients(slack, store):
    reply = assert_refused(slack, store, "<!channel> for a great week", "Thanks go to people")
    assert "<!channel>" not in reply
    assert_refused(slack, store, "<!subteam^S0TEAM|@fostering> for a great week", "not to @fostering")


def test_daily_cap_refuses_the_eleventh_and_says_when_it_resets(slack, store, clock):
    for n in range(10):
        slack.thanks(f"{mention(BOB)} for thing {n}", ALICE)
    assert count(store) == 10
    slack.fake.clear()

    response = slack.thanks(f"{mention(BOB)} for one more", ALICE)
    assert response.status == 200
    reply = only_reply(slack)
    # 10:30 UTC on 24 November is 10:30 in London: 13 h 30 min to midnight.
    assert "daily limit" in reply and "Europe/London" in reply and "13 h 30 min" in reply
    assert count(store) == 10 and slack.fake.calls_to("chat.postMessage") == []

    clock.advance(hours=14)  # past Alice's midnight
    slack.thanks(f"{mention(BOB)} for one more", ALICE)
    assert count(store) == 11


def test_the_cap_follows_the_givers_own_day(slack, store, clock):
    # 19:00 UTC is 00:30 the next day in Kolkata, so Carol has a fresh day while London's continues.
    clock.advance(hours=8, minutes=30)
    for n in range(10):
        slack.thanks(f"{mention(BOB)} for thing {n}", CAROL)
    slack.fake.clear()
    slack.thanks(f"{mention(BOB)} for one more", CAROL)
    assert "Asia/Kolkata" in only_reply(slack) and "23 h 30 min" in only_reply(slack)


def test_a_long_reason_is_refused_with_the_limit_named(slack, store):
    reply = assert_refused(slack, store, f"{mention(BOB)} for " + "x" * 1001, "1,001 characters", "limit is 1,000")
    assert "x" * 50 not in reply


def test_a_reason_at_the_limit_is_shown_whole(slack, store):
    reason = "ab" * 500
    slack.thanks(f"{mention(BOB)} for {reason}", ALICE)
    assert reason in slack.said()[0].text()


def test_user_text_cannot_ping_or_inject_markup(slack, store):
    text = (
        f"{mention(BOB)} for <!channel> <!here> <!everyone> <!subteam^S0TEAM|@fostering> "
        "&lt;!channel&gt; &lt;https://evil.example|click&gt; fish &amp; chips :tada: 🎉"
    )
    slack.thanks(text, ALICE)
    outgoing = [c for c in slack.fake.calls if c.method in ("response_url", "chat.postMessage")]
    assert len(outgoing) == 2
    for call in outgoing:
        sent = json.dumps(call.params)
        assert "<!" not in sent and "<https" not in sent
        shown = call.text()
        assert "@channel @here @everyone @fostering" in shown
        assert "fish &amp; chips :tada: 🎉" in shown  # escaped for Slack, shown as typed
    with store.session() as s:
        assert "fish & chips :tada: 🎉" in s.scalars(select(Thanks.reason)).one()


def test_the_same_person_mentioned_twice_is_thanked_once(slack, store):
    slack.thanks(f"{mention(BOB)} {mention(BOB)} for the cover", ALICE)
    assert count(store, ThanksRecipient) == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 1


def test_admins_can_be_thanked_like_anyone(slack, store):
    slack.thanks(f"{mention(DANI)} for the supervision", ALICE)
    assert count(store) == 1


def test_a_failed_dm_does_not_undo_the_thanks(slack, store):
    slack.fake.fail("chat.postMessage", "channel_not_found")
    slack.thanks(f"{mention(BOB)} for the cover", ALICE)
    assert count(store) == 1
    assert slack.said()[0].params["response_type"] == "in_channel"


def test_a_rate_limited_dm_waits_its_retry_after_then_goes_once(slack, store, clock):
    slack.fake.fail("chat.postMessage", "ratelimited", status=429, retry_after=30)
    slack.thanks(f"{mention(BOB)} for the cover", ALICE)
    assert [c.params.get("_failed") for c in slack.fake.calls_to("chat.postMessage")] == ["ratelimited"]
    clock.advance(seconds=20)
    slack.delivery.deliver()  # as the clock drains the outbox: too soon, Slack asked for 30 s
    assert len(slack.fake.calls_to("chat.postMessage")) == 1
    clock.advance(seconds=11)
    slack.delivery.deliver()
    slack.delivery.deliver()
    attempts = slack.fake.calls_to("chat.postMessage")
    assert [c.params.get("_failed") for c in attempts] == ["ratelimited", None]
    assert attempts[-1].params["channel"] == BOB


def test_database_down_says_not_saved_and_recovers(flaky_slack, outage):
    with outage.down():
        flaky_slack.thanks(f"{mention(BOB, 'bob')} for the cover", ALICE)
    reply = only_reply(flaky_slack)
    assert "*not* saved" in reply and "/thanks @bob for the cover" in reply
    assert flaky_slack.fake.calls_to("chat.postMessage") == []

    flaky_slack.fake.clear()
    flaky_slack.thanks(f"{mention(BOB)} for the cover", ALICE)
    assert flaky_slack.said()[0].params["response_type"] == "in_channel"
    assert count(outage.store) == 1


def test_slack_not_answering_user_lookups_says_not_saved(slack, store):
    slack.fake.fail("users.info", "internal_error", status=500, times=10)
    slack.thanks(f"{mention(BOB)} for the cover", ALICE)
    assert "*not* saved" in only_reply(slack)
    assert count(store) == 0


def test_the_cap_holds_when_thanks_arrive_at_once(slack, store):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: slack.thanks(f"{mention(BOB)} for thing {n}", ALICE), range(14)))
    assert count(store) == 10
    replies = [c.text() for c in slack.said()]
    assert sum("thanked" in r for r in replies) == 10
    assert sum("daily limit" in r for r in replies) == 4


def test_a_reason_that_escaping_makes_long_is_still_shown_whole(slack, store):
    # 1,000 ampersands become 5,000 characters of "&amp;": more than one section block can hold.
    slack.thanks(f"{mention(BOB)} for " + "&amp;" * 1000, ALICE)
    for call in (slack.said()[0], slack.fake.calls_to("chat.postMessage")[0]):
        blocks = call.params["blocks"]
        assert len(blocks) > 1 and all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
        assert call.text().count("&amp;") == 1000


def test_the_usage_lists_the_values_this_workspace_chose(slack):
    from bot.core.ports import Team

    slack.services.workspaces.update(Team("slack", "T0SAMPLE"), DANI, {"values": ["kind", "brave"]})
    slack.thanks("help", ALICE)
    assert "Tag a value with `#kind, #brave`." in slack.said()[0].text()


def test_the_word_payload_in_a_thank_you_is_just_a_word(slack, store):
    """Bolt reads any form body with "payload" in it as a button's payload; found by the property tests."""
    assert slack.thanks(f"{mention(BOB)} for fixing the payload of the referral form", ALICE).status == 200
    [post] = slack.said()
    assert post.params["response_type"] == "in_channel" and "fixing the payload of the referral form" in post.text()
    assert count(store) == 1
