"""More ways to thank: /thanks on its own opens a form, a message's Thank the author shortcut, and the thanks
reaction (:pray: by default), which Slack may deliver more than once."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.console.team import ALICE, BOB, CAROL, DANI, ED, ROBOT
from bot.core.model import Team
from bot.store.models import Thanks
from tests.slack.test_nudge_interactions import state
from tests.slack.test_thanks import count, mention

TEAM = Team("slack", "T0SAMPLE")
TS = "1700000000.000100"
LINK = "https://sample.slack.com/archives/C0GENERAL/p1700000000000100"


def stored(store) -> Thanks:
    with store.session() as s:
        return s.scalars(select(Thanks)).one()


def block(view: dict, block_id: str) -> dict:
    return next(b for b in view["blocks"] if b["block_id"] == block_id)


def to_bob(reason: str, channel: str | None = "C0GENERAL") -> dict:
    values = state(who=("users", "multi_users_select", [BOB]), reason=("text", "plain_text_input", reason))
    return values | state(channel=("choice", "conversations_select", channel))


def reaction(user: str = ALICE, author: str | None = BOB, emoji: str = "pray", ts: str = TS) -> dict:
    """A reaction_added event as Slack sends it."""
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": "C0GENERAL", "ts": ts},
        "event_ts": "1700000100.000200",
    }
    return event | ({"item_user": author} if author else {})


def ephemerals(slack) -> list[str]:
    return [c.params["text"] for c in slack.fake.calls_to("chat.postEphemeral")]


# -- /thanks on its own -----------------------------------------------------------------------------------------


def test_thanks_with_no_text_opens_the_form_set_to_share_in_this_channel(slack, store):
    response = slack.thanks("", ALICE)
    assert response.status == 200 and response.body == ""
    [opened] = slack.fake.calls_to("views.open")
    assert opened.params["trigger_id"].endswith(".trigger")
    view = slack.opened_view()
    assert view["callback_id"] == "thanks_submit"
    assert block(view, "channel")["element"]["initial_conversation"] == "C0GENERAL"
    slack.fake.clear()

    assert slack.submit_view(view, to_bob("sorting the rota #supportive"), ALICE).status == 200
    post, dm = slack.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0GENERAL" and f"<@{ALICE}> thanked <@{BOB}>" in post.text()
    assert dm.params["channel"] == BOB and "sorting the rota" in dm.text()
    thanks = stored(store)
    assert (thanks.via, thanks.channel_id, thanks.private) == ("modal", "C0GENERAL", False)


def test_clearing_the_channel_in_the_form_thanks_privately(slack, store):
    slack.thanks("", ALICE)
    view = slack.opened_view()
    slack.fake.clear()
    slack.submit_view(view, to_bob("listening", channel=None), ALICE)
    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB and "privately thanked you" in dm.text()
    assert stored(store).private is True


def test_thanks_with_no_text_in_a_dm_opens_the_form_with_no_channel_chosen(slack):
    slack.thanks("", ALICE, channel="D0ALICE")
    assert "initial_conversation" not in block(slack.opened_view(), "channel")["element"]


def test_when_the_form_cannot_open_the_usage_is_shown_instead(slack, store):
    slack.fake.fail("views.open", "expired_trigger_id")
    slack.thanks("", ALICE)
    [reply] = slack.said()
    assert "/thanks @bob @carol for covering my home visit" in reply.text()
    assert count(store) == 0


def test_thanks_help_still_shows_the_usage(slack):
    slack.thanks("help", ALICE)
    [usage] = slack.said()
    assert "/thanks @bob @carol for covering my home visit" in usage.text()
    assert slack.fake.calls_to("views.open") == []


# -- Thank the author ---------------------------------------------------------------------------------------------


def test_thank_the_author_opens_a_form_for_them_with_a_link_to_the_message(slack, store):
    message = {"type": "message", "user": BOB, "text": "I've put the new rota in the drive", "ts": TS}
    assert slack.message_shortcut("thank_author", message, ALICE).status == 200

    view = slack.opened_view()
    assert block(view, "who")["element"]["initial_users"] == [BOB]
    assert block(view, "reason")["element"]["initial_value"] == f"For this: {LINK}"
    assert block(view, "channel")["element"]["initial_conversation"] == "C0GENERAL"
    slack.fake.clear()

    assert slack.submit_view(view, to_bob(f"For this: {LINK} #supportive"), ALICE).status == 200
    post, dm = slack.fake.calls_to("chat.postMessage")
    assert post.params["channel"] == "C0GENERAL"
    assert dm.params["channel"] == BOB and f"<@{ALICE}> thanked you in <#C0GENERAL>" in dm.text()
    assert LINK in dm.text()
    thanks = stored(store)
    assert (thanks.via, thanks.message_ref) == ("shortcut", f"C0GENERAL/{TS}")
    assert [v.value for v in thanks.values] == ["supportive"]


@pytest.mark.parametrize(
    ("message", "words"),
    [
        ({"user": ALICE}, "can't thank yourself"),
        ({"bot_id": "B0ROTA", "subtype": "bot_message", "username": "Rota"}, "no one to thank"),
        ({"user": ROBOT, "bot_id": "B0ROTA"}, "no one to thank"),
        ({"user": ROBOT}, "no one to thank"),  # a bot user, known only from users.info
        ({"user": "U0NOBODY"}, "no one to thank"),
        ({"user": ED}, "deactivated"),
    ],
)
def test_thank_the_author_says_why_when_there_is_no_one_to_thank(slack, store, message, words):
    slack.message_shortcut(
        "thank_author", {"type": "message", "text": "Reminder: timesheets", "ts": TS} | message, ALICE
    )
    [reply] = slack.said()
    assert words in reply.text()
    assert reply.params.get("response_type", "ephemeral") == "ephemeral"
    assert slack.fake.calls_to("views.open") == [] and count(store) == 0


# -- the thanks reaction ------------------------------------------------------------------------------------------


def test_a_pray_reaction_thanks_the_author_quietly(slack, store):
    assert slack.event(reaction(), "Ev0001").status == 200

    [dm] = slack.fake.calls_to("chat.postMessage")
    assert dm.params["channel"] == BOB
    assert f"<@{ALICE}> thanked you with a reaction to your message in <#C0GENERAL>" in dm.text()
    assert ":pray:" in dm.text() and LINK in dm.text()
    assert ephemerals(slack) == [] and slack.said() == []  # nothing in the channel, nothing to the reactor
    thanks = stored(store)
    assert (thanks.giver_id, [r.recipient_id for r in thanks.recipients]) == (ALICE, [BOB])
    assert (thanks.via, thanks.event_id, thanks.message_ref) == ("reaction", "Ev0001", f"C0GENERAL/{TS}")
    assert (thanks.channel_id, thanks.private) == ("C0GENERAL", False)


def test_a_retried_reaction_event_counts_once(slack, store):
    slack.event(reaction(), "Ev0001")
    assert slack.event(reaction(), "Ev0001", retry=1).status == 200
    assert slack.event(reaction(), "Ev0001", retry=2).status == 200
    assert count(store) == 1
    assert len(slack.fake.calls_to("chat.postMessage")) == 1 and ephemerals(slack) == []


def test_the_same_event_arriving_twice_at_once_counts_once(slack, store):
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda n: slack.event(reaction(), "Ev0001", retry=n or None).status, range(4)))
    assert statuses == [200] * 4
    assert count(store) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 1
    assert ephemerals(slack) == []  # the copies were recognised, not refused as a clash


def test_removing_and_adding_the_reaction_again_counts_once(slack, store):
    slack.event(reaction(), "Ev0001")
    slack.event(reaction(emoji="pray::skin-tone-3"), "Ev0002")  # removed, then added again (another tone)
    assert count(store) == 1 and len(slack.fake.calls_to("chat.postMessage")) == 1

    slack.event(reaction(user=CAROL), "Ev0003")  # someone else's :pray: on the same message is their own thanks
    slack.event(reaction(ts="1700000000.000900"), "Ev0004")  # and Alice's on another of Bob's messages
    assert count(store) == 3


def test_a_skin_tone_still_counts(slack, store):
    slack.event(reaction(emoji="pray::skin-tone-4"), "Ev0001")
    assert count(store) == 1 and ":pray: on this message" in stored(store).reason


@pytest.mark.parametrize(
    "event",
    [
        reaction(emoji="thumbsup"),
        reaction(emoji="praying"),
        reaction(user=BOB),  # on one's own message
        reaction(author=ROBOT),  # on a bot's message
        reaction(author=None),  # a message with no author (an app's)
        reaction() | {"item": {"type": "file", "file": "F0DOC"}},
    ],
)
def test_other_reactions_are_ignored_without_a_word(slack, store, event):
    assert slack.event(event, "Ev0001").status == 200
    assert count(store) == 0
    assert slack.fake.calls_to("chat.postMessage") == [] and ephemerals(slack) == []


def test_the_workspace_chooses_its_thanks_reaction(slack, store):
    slack.services.workspaces.update(TEAM, DANI, {"thanks_reaction": ":raised_hands:"})
    slack.event(reaction(), "Ev0001")
    assert count(store) == 0
    slack.event(reaction(emoji="raised_hands"), "Ev0002")
    assert count(store) == 1 and ":raised_hands: on this message" in stored(store).reason


def test_the_daily_cap_applies_to_reactions_and_the_reactor_is_told(slack, store):
    for n in range(10):
        slack.thanks(f"{mention(CAROL)} for thing {n}", ALICE)
    slack.fake.clear()

    slack.event(reaction(), "Ev0001")
    assert count(store) == 10
    [note] = slack.fake.calls_to("chat.postEphemeral")
    assert (note.params["channel"], note.params["user"]) == ("C0GENERAL", ALICE)
    assert "wasn't counted" in note.params["text"] and "daily limit" in note.params["text"]
    assert slack.fake.calls_to("chat.postMessage") == []


def test_a_reaction_on_a_deactivated_colleagues_message_is_explained(slack, store):
    slack.event(reaction(author=ED), "Ev0001")
    assert count(store) == 0
    [note] = ephemerals(slack)
    assert "deactivated" in note


def test_a_reaction_while_the_database_is_down_says_not_saved_and_can_be_added_again(flaky_slack, outage):
    with outage.down():
        assert flaky_slack.event(reaction(), "Ev0001").status == 200
    [note] = ephemerals(flaky_slack)
    assert "*not* saved" in note and "database" in note and "Traceback" not in note
    assert flaky_slack.fake.calls_to("chat.postMessage") == []

    flaky_slack.event(reaction(), "Ev0002")  # removed and added again once the database is back
    assert count(outage.store) == 1
    assert json.dumps(flaky_slack.fake.calls_to("chat.postMessage")[0].params).count(":pray:") >= 1
