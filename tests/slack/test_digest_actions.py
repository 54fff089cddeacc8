"""A digest's buttons as a manager meets them in Slack: remind a stuck change's owner, take it on, and send a
personal thank-you. Each click is a signed block_actions request in Slack's shape; the answers are what the fake
Slack received. The admin's digest settings are here too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

from sqlalchemy import select

from bot.app import slack_services
from bot.console.fake_slack import Call
from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.model import Team, ThanksRequest
from bot.store.models import Send, SettingsChange, Thanks
from tests.fakes.driver import Response, SlackDriver
from tests.slack.test_nudge_interactions import state
from tests.test_digests import LAST_WEEK, SECRET, TUESDAY, add_colleagues, blocks_of

TEAM = Team("slack", "T0SAMPLE")
FRAN, GEO = "U0FRAN", "U0GEO"
LONG_AGO = datetime(2026, 10, 1, 11, 0, tzinfo=UTC)


def digest_to(driver: SlackDriver, to: str) -> Call:
    return next(
        c
        for c in reversed(driver.fake.calls_to("chat.postMessage"))
        if c.params["channel"] == to and c.params["text"].startswith("Team digest")
    )


def press(driver: SlackDriver, call: Call, action_id: str, user: str, value: str | None = None) -> Response:
    """Click a button in a message the bot sent, whether in an actions block or beside a section's text."""
    message_blocks = blocks_of(call)
    for block in message_blocks:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if element.get("action_id") == action_id and value in (None, element.get("value")):
                break
        else:
            continue
        break
    else:
        raise AssertionError(f"no {action_id} button")
    message = {"type": "message", "ts": call.result["ts"], "blocks": message_blocks}
    body = driver.requests.block_action(message, call.result["channel"], element, user)
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["actions"][0]["block_id"] = block["block_id"]  # Slack names the block the button is in
    return driver.signed(urlencode({"payload": json.dumps(payload)}))


def dms_to(driver: SlackDriver, user: str) -> list[Call]:
    return [c for c in driver.fake.calls_to("chat.postMessage") if c.params["channel"] == user]


def send_digests(driver: SlackDriver, clock, at: datetime = TUESDAY) -> None:
    clock.at = at
    driver.services.digests.tick(TEAM, at)


def a_team_of_six_with_alice_as_manager(slack, clock) -> None:
    add_colleagues(slack.fake, "Fran", "Geo")
    slack.services.workspaces.update(TEAM, DANI, {"managers": [ALICE]})


# -- stuck changes ---------------------------------------------------------------------------------------------------


def test_remind_the_owner_dms_them_once_a_week_naming_who_asked(slack, clock, store):
    a_team_of_six_with_alice_as_manager(slack, clock)
    changes = slack.services.changes
    clock.at = LONG_AGO
    change = changes.suggest(TEAM, BOB, "one duty phone for the week")
    changes.take_on(TEAM, change.id, BOB)
    changes.set_status(TEAM, change.id, BOB, "trying")
    send_digests(slack, clock)
    digest = digest_to(slack, ALICE)
    slack.fake.clear()

    assert press(slack, digest, "digest_remind", ALICE).status == 200

    [reminder] = dms_to(slack, BOB)
    assert f"<@{ALICE}> asked me to check in on a small change you own" in reminder.text()
    assert "one duty phone for the week" in reminder.text() and "hand it back" in reminder.text()
    [answer] = slack.said()
    assert answer.params["replace_original"] is False
    assert f"I've asked <@{BOB}> how it's going" in answer.text()

    slack.fake.clear()
    clock.advance(hours=2)
    press(slack, digest, "digest_remind", ALICE)
    assert dms_to(slack, BOB) == []
    assert "already had a reminder about this change this week" in slack.said()[0].text()
    with store.session() as session:
        assert [(s.user_id, s.state) for s in session.scalars(select(Send).where(Send.kind == "remind"))] == [
            (BOB, "sent")
        ]

    clock.advance(weeks=1)  # a new week: one more reminder is allowed
    press(slack, digest, "digest_remind", ALICE)
    assert len(dms_to(slack, BOB)) == 1


def test_a_reminder_that_fails_can_be_tried_again(slack, clock):
    a_team_of_six_with_alice_as_manager(slack, clock)
    changes = slack.services.changes
    clock.at = LONG_AGO
    change = changes.suggest(TEAM, BOB, "one duty phone for the week")
    changes.take_on(TEAM, change.id, BOB)
    changes.set_status(TEAM, change.id, BOB, "trying")
    send_digests(slack, clock)
    digest = digest_to(slack, ALICE)
    slack.fake.clear()
    slack.fake.fail("chat.postMessage", "internal_error")

    press(slack, digest, "digest_remind", ALICE)
    assert "couldn't reach" in slack.said()[0].text() and "try again later" in slack.said()[0].text()

    slack.fake.clear()
    press(slack, digest, "digest_remind", ALICE)
    assert len(dms_to(slack, BOB)) == 1 and "I've asked" in slack.said()[0].text()


def test_ill_take_this_on_from_a_digest_takes_it_and_updates_the_idea_card_in_place(slack, clock, store):
    a_team_of_six_with_alice_as_manager(slack, clock)
    clock.at = LONG_AGO
    slack.smallchange("a shared template for visit notes", CAROL)
    card, channel = slack.last_card()
    send_digests(slack, clock)
    digest = digest_to(slack, ALICE)
    slack.fake.clear()

    press(slack, digest, "digest_take", GEO)

    [update] = slack.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (channel, card["ts"])
    assert f"Owner: <@{GEO}>" in update.text() and "Hand it back" in update.text()
    [answer] = slack.said()
    assert answer.params["replace_original"] is False and "It's yours" in answer.text()

    slack.fake.clear()
    press(slack, digest, "digest_take", FRAN)
    assert "Geo already owns this change" in slack.said()[0].text()
    assert slack.fake.calls_to("chat.update") == []


# -- a leader's personal thank-you ---------------------------------------------------------------------------------


def thanked_last_week(slack, clock) -> None:
    thanks = slack.services.thanks
    clock.at = LAST_WEEK
    thanks.give(TEAM, ThanksRequest(BOB, (FRAN,), "covering my duty day #supportive", channel_id="C0GENERAL"))
    thanks.give(TEAM, ThanksRequest(CAROL, (FRAN,), SECRET, private=True))
    clock.advance(hours=1)
    thanks.give(TEAM, ThanksRequest(GEO, (FRAN, BOB), "the lift to court", channel_id="C0GENERAL"))


def test_a_personal_thank_you_starts_from_what_colleagues_said_and_reaches_them_naming_the_leader(slack, clock, store):
    a_team_of_six_with_alice_as_manager(slack, clock)
    thanked_last_week(slack, clock)
    send_digests(slack, clock)
    digest = digest_to(slack, ALICE)
    slack.fake.clear()

    press(slack, digest, "digest_personal_thanks", ALICE, value=f"{FRAN} 1w151")

    view = slack.opened_view()
    assert view["callback_id"] == "personal_thanks_submit"
    prefilled = view["blocks"][1]["element"]["initial_value"]
    assert prefilled == (
        "Thank you, Fran. Your colleagues told me what you did this week:\n"
        "• covering my duty day #supportive\n"
        "• the lift to court\n\n"
        "I wanted to thank you myself too."
    )
    slack.fake.clear()
    edited = prefilled + " The <!here> family said you made all the difference."
    response = slack.submit_view(view, state(message=("text", "plain_text_input", edited)), ALICE)

    assert response.status == 200 and response.body == ""
    [dm] = dms_to(slack, FRAN)
    assert dm.text().startswith(f":star2: A personal thank-you from <@{ALICE}>:\n> Thank you, Fran.")
    assert "&lt;!here&gt; family said you made all the difference" in dm.text() and "<!here>" not in dm.text()
    [receipt] = dms_to(slack, ALICE)
    assert f"Your personal thank-you went to <@{FRAN}>" in receipt.text()
    with store.session() as session:
        given = session.scalars(select(Thanks).where(Thanks.via == "leader")).one()
    assert (given.giver_id, given.private, [r.recipient_id for r in given.recipients]) == (ALICE, True, [FRAN])

    # Next week's digest counts it as private, and quotes it nowhere.
    send_digests(slack, clock, TUESDAY + timedelta(weeks=1))
    later = digest_to(slack, ALICE)
    assert "1 thank-you from 1 person to 1 person. 1 of them private." in later.text()
    assert "all the difference" not in later.text()


def test_a_personal_thank_you_the_rules_refuse_is_explained_in_the_form_and_nothing_is_sent(slack, clock, store):
    a_team_of_six_with_alice_as_manager(slack, clock)
    thanked_last_week(slack, clock)
    send_digests(slack, clock)
    slack.services.workspaces.update(TEAM, DANI, {"thanks_daily_cap": 1})
    slack.services.thanks.give(TEAM, ThanksRequest(ALICE, (BOB,), "today's cover"))
    press(slack, digest_to(slack, ALICE), "digest_personal_thanks", ALICE, value=f"{FRAN} 1w151")
    view = slack.opened_view()
    slack.fake.clear()

    blank = slack.submit_view(view, state(message=("text", "plain_text_input", "  ")), ALICE).json()
    assert blank["errors"]["message"] == "Write a few words of thanks."
    capped = slack.submit_view(view, state(message=("text", "plain_text_input", "Thank you")), ALICE).json()
    assert capped["response_action"] == "errors" and "daily limit" in capped["errors"]["message"]
    assert slack.fake.calls_to("chat.postMessage") == []
    with store.session() as session:
        assert session.scalars(select(Thanks).where(Thanks.via == "leader")).all() == []


def test_a_personal_thank_you_is_not_sent_when_the_database_is_down(flaky_slack, fake_slack, outage, clock, settings):
    add_colleagues(fake_slack, "Fran", "Geo")
    services = slack_services(settings, outage.store, now=clock, sleep=lambda _: None).services
    services.workspaces.update(TEAM, DANI, {"managers": [ALICE]})
    clock.at = LAST_WEEK
    services.thanks.give(TEAM, ThanksRequest(BOB, (FRAN,), "covering my duty day"))
    clock.at = TUESDAY
    services.digests.tick(TEAM, TUESDAY)
    flaky_slack.services = services
    press(flaky_slack, digest_to(flaky_slack, ALICE), "digest_personal_thanks", ALICE, value=f"{FRAN} 1w151")
    view = flaky_slack.opened_view()
    fake_slack.clear()
    values = state(message=("text", "plain_text_input", "Thank you, Fran."))

    with outage.down():
        refused = flaky_slack.submit_view(view, values, ALICE).json()

    assert refused["response_action"] == "errors"
    assert refused["errors"]["message"].startswith("Not saved: the database isn't answering")
    assert dms_to(flaky_slack, FRAN) == []
    assert flaky_slack.submit_view(view, values, ALICE).body == ""  # back up: the same form goes through
    assert len(dms_to(flaky_slack, FRAN)) == 1


def test_a_personal_thank_you_starts_only_from_what_the_leader_could_read_where_it_was_said(slack, clock):
    a_team_of_six_with_alice_as_manager(slack, clock)
    slack.fake.private_channel("C0CASEWORK", BOB, FRAN, GEO)  # Alice is not in it
    clock.at = LAST_WEEK
    slack.thanks(f"<@{FRAN}|fran> for covering my duty day", BOB, channel="C0GENERAL")
    slack.thanks(f"<@{FRAN}|fran> for the review with the Hendersons", GEO, channel="C0CASEWORK")
    send_digests(slack, clock)
    digest = digest_to(slack, ALICE)
    assert f"<@{FRAN}>: 2 times" in digest.text() and "Hendersons" not in digest.text()  # counted, not quoted

    def prefill() -> str:
        slack.fake.clear()
        press(slack, digest, "digest_personal_thanks", ALICE, value=f"{FRAN} 1w151")
        return slack.opened_view()["blocks"][1]["element"]["initial_value"]

    assert prefill() == (
        "Thank you, Fran. Your colleagues told me what you did this week:\n"
        "• covering my duty day\n\n"
        "I wanted to thank you myself too."
    )

    slack.fake.channel_members["C0CASEWORK"].append(ALICE)  # she joins: the next press asks Slack again
    assert "• covering my duty day\n• the review with the Hendersons\n" in prefill()

    slack.fake.fail("conversations.members", "internal_error")  # Slack won't say: the form opens without it
    unsure = prefill()
    assert "covering my duty day" in unsure and "Hendersons" not in unsure


# -- settings ------------------------------------------------------------------------------------------------------


def admin_values(**extra) -> dict:
    values = state(
        cadence=("choice", "static_select", "fortnightly"),
        days=("choice", "checkboxes", ["tue", "wed", "thu"]),
        start=("time", "timepicker", "10:00"),
        end=("time", "timepicker", "15:00"),
        weekly_cap=("number", "number_input", 1),
        prompts=("text", "plain_text_input", "Who helped you this week?"),
        thanks_daily_cap=("number", "number_input", 10),
        values=("text", "plain_text_input", "kind\nbrave"),
        experiment=("choice", "static_select", "none"),
        digest_channel=("choice", "conversations_select", "C0DIGEST"),
        managers=("users", "multi_users_select", [DANI]),
    )
    return values | state(**extra)


def test_an_admin_chooses_the_digest_cadence_and_the_thanks_reaction(slack, store):
    slack.smallchange("admin", DANI)
    view = slack.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["digest_cadence"]["element"]["initial_option"]["value"] == "weekly"
    assert [o["value"] for o in blocks["digest_cadence"]["element"]["options"]] == [
        "off",
        "weekly",
        "fortnightly",
        "monthly",
    ]
    assert blocks["thanks_reaction"]["element"]["initial_value"] == "pray"

    bad = admin_values(
        digest_cadence=("choice", "static_select", "monthly"),
        thanks_reaction=("text", "plain_text_input", "two words"),
    )
    assert "emoji's name" in slack.submit_view(view, bad, DANI).json()["errors"]["thanks_reaction"]

    good = admin_values(
        digest_cadence=("choice", "static_select", "monthly"),
        thanks_reaction=("text", "plain_text_input", ":Raised_Hands:"),
    )
    assert slack.submit_view(view, good, DANI).body == ""
    config = slack.services.workspaces.get(TEAM)
    assert (config.digest_cadence, config.thanks_reaction) == ("monthly", "raised_hands")
    assert (config.digest_channel, config.managers) == ("C0DIGEST", (DANI,))
    with store.session() as session:
        recorded = {c.setting: json.loads(c.new) for c in session.scalars(select(SettingsChange))}
    assert recorded["digest_cadence"] == "monthly" and recorded["thanks_reaction"] == "raised_hands"
