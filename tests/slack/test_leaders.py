"""Ideas the team can't do alone, raised with leaders in Slack: the card's Raise with leaders and its form, the message
leaders answer on, their three answers, and who hears each one. Every click and form is a signed request in Slack's
shape; what people see is what the fake Slack received. The clock is fixed: Tuesday 24 November 2026, 10:30 UTC."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.console.fake_slack import Call
from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.admins import OPERATOR
from bot.core.model import Team
from bot.core.ports import is_former_colleague
from bot.store.models import LeaderRaise, SettingsChange, WorkspaceSettings
from tests.conftest import make_settings
from tests.slack.test_digest_actions import admin_values
from tests.slack.test_nudge_interactions import state
from tests.slack.test_smallchange import Card, blocks_of, cards, click, newest_card, replies_to
from tests.test_cli import bot_env, run_bot

TEAM = Team("slack", "T0SAMPLE")
LEADERS = "C0LEADERS"
NOT_A_LEADER = "Only the leaders named in Small Changes' settings, or an admin, can answer for leaders."


@pytest.fixture
def settings(fake_slack):
    """A leadership channel and Dani as the named leader, as LEADERSHIP_CHANNEL and LEADER_USER_IDS set them."""
    return make_settings(fake_slack, leadership_channel=LEADERS, leader_user_ids=(DANI,))


# -- acting as people ---------------------------------------------------------------------------------------------


def suggest_outside(slack, idea: str, who: str = ALICE, anon: bool = False) -> Card:
    """An idea posted with the form, marked "No, it needs someone else"."""
    slack.smallchange("", who)
    assert slack.submit_change_form(who, change=idea, gift="outside", anon=anon).body == ""
    return newest_card(slack.fake)


def raise_it(slack, card: Card, who: str, needs=("funding", "permission"), note: str | None = None):
    """Press Raise with leaders on the card and send its form; returns the form's answer."""
    opened = len(slack.fake.calls_to("views.open"))
    click(slack, card, "change_raise", who)
    assert len(slack.fake.calls_to("views.open")) == opened + 1, replies(slack)
    values = state(needs=("choice", "checkboxes", list(needs)), note=("text", "plain_text_input", note))
    return slack.submit_view(slack.opened_view(), values, who)


def for_leaders(slack) -> list[Call]:
    """The messages leaders answer on, in the leadership channel or a leader's DM, newest last."""
    return [
        c
        for c in slack.fake.calls_to("chat.postMessage")
        if c.params["channel"] in (LEADERS, DANI) and c.params["text"].startswith("Raised with leaders")
    ]


def answer(slack, message: Call, verb: str, who: str = DANI, **inputs) -> dict:
    """Press one of the answers on a leaders' message and send its form; returns the form's errors (none: {})."""
    opened = len(slack.fake.calls_to("views.open"))
    assert slack.press(message, f"leaders_{verb}", who).status == 200
    assert len(slack.fake.calls_to("views.open")) == opened + 1, replies(slack)
    values = {
        "said": ("text", "plain_text_input", inputs.get("said")),
        **({"taker": ("user", "users_select", inputs["taker"])} if "taker" in inputs else {}),
    }
    return slack.submit_view(slack.opened_view(), state(**values), who).json().get("errors", {})


def dms_to(slack, user: str) -> list[Call]:
    return [c for c in slack.fake.calls_to("chat.postMessage") if c.params["channel"] == user]


def replies(slack) -> list[str]:
    return [c.params.get("text", "") for c in slack.fake.calls_to("response_url")]


def buttons_of(call: Call) -> list[str]:
    return [e["action_id"] for b in blocks_of(call) for e in b.get("elements", []) if e.get("type") == "button"]


def raises(store) -> list[LeaderRaise]:
    with store.session() as s:
        return list(s.scalars(select(LeaderRaise).order_by(LeaderRaise.id)))


# == raising =======================================================================================================


def test_an_idea_the_team_cant_do_alone_goes_to_the_leadership_channel_and_leaders_and_its_card_says_so(
    slack, store, clock
):
    within = suggest_idea_within_gift(slack)
    assert "change_raise" not in within.buttons  # the team can do this one itself
    card = suggest_outside(slack, "a shared diary with the health visitors")
    assert card.buttons["change_raise"] == "Raise with leaders"

    click(slack, card, "change_raise", ALICE)
    form = slack.opened_view()
    assert form["title"]["text"] == "Raise with leaders"
    needs = next(b for b in form["blocks"] if b.get("block_id") == "needs")["element"]["options"]
    assert [o["text"]["text"] for o in needs] == [
        "Funding",
        "Technical skills",
        "Permission",
        "Another service's help",
        "Time",
    ]
    values = state(
        needs=("choice", "checkboxes", ["funding", "permission"]),
        note=("text", "plain_text_input", "the health team's lead would need to agree"),
    )
    assert slack.submit_view(form, values, ALICE).body == ""

    [channel_copy, dani_copy] = for_leaders(slack)
    assert (channel_copy.params["channel"], dani_copy.params["channel"]) == (LEADERS, DANI)
    for message in (channel_copy, dani_copy):
        text = message.text()
        assert "a shared diary with the health visitors" in text and f"<@{ALICE}> raised an idea" in text
        assert "needs: funding, permission" in text and "the health team's lead would need to agree" in text
        assert buttons_of(message) == ["leaders_take_up", "leaders_more_info", "leaders_not_now"]

    raised = newest_card(slack.fake)
    assert raised.call.method == "chat.update" and raised.ts == card.ts  # the card in #general, in place
    when = f"<!date^{int(clock.at.timestamp())}^{{date_short}}|24 Nov 2026>"  # in each reader's own timezone
    assert f"*Raised with leaders* {when} · needs: funding, permission" in raised.text
    assert "Waiting for their answer" in raised.text and "change_raise" not in raised.buttons
    [row] = raises(store)
    assert (row.raised_by, row.needs, row.raised_at, row.answer) == (ALICE, "funding,permission", clock.at, None)


def suggest_idea_within_gift(slack) -> Card:
    slack.smallchange("", ALICE)
    slack.submit_change_form(ALICE, change="tidy the shared drive", gift="within")
    return newest_card(slack.fake)


def test_raising_is_refused_to_others_for_an_idea_within_the_gift_twice_and_when_no_leaders_are_set(slack, store):
    card = suggest_outside(slack, "a shared diary with the health visitors")
    opened = len(slack.fake.calls_to("views.open"))

    body = click(slack, card, "change_raise", CAROL)  # not the suggester, the owner or an admin
    assert replies_to(slack.fake, body)[0].params["text"] == (
        "Only the person who suggested it (Alice) can raise it with leaders. Take it on first if you'd like to raise "
        "it yourself."
    )

    within = suggest_idea_within_gift(slack)  # its card has no such button: a crafted click, with its id
    opened += 1
    element = {"type": "button", "action_id": "change_raise", "text": {"type": "plain_text", "text": "Raise"}}
    element["value"] = within.element("change_back")["value"]
    message = {"type": "message", "ts": within.ts, "blocks": blocks_of(within.call)}
    body = slack.requests.block_action(message, within.channel, element, ALICE)
    assert slack.signed(body).status == 200
    assert replies_to(slack.fake, body)[0].params["text"] == (
        "Only ideas marked as needing someone outside the team are raised with leaders."
    )

    slack.services.workspaces.update(TEAM, DANI, {"leadership_channel": "", "leaders": []})
    body = click(slack, card, "change_raise", ALICE)
    assert replies_to(slack.fake, body)[0].params["text"] == (
        "There's no one to raise it with yet: an admin must choose a leadership channel or name leaders in Small "
        "Changes' settings (admin)."
    )
    assert len(slack.fake.calls_to("views.open")) == opened, "no form opens for a refused raise"
    assert raises(store) == [] and for_leaders(slack) == []

    slack.services.workspaces.update(TEAM, DANI, {"leaders": [DANI]})
    click(slack, card, "change_raise", ALICE)
    form = slack.opened_view()
    nothing = slack.submit_view(form, state(needs=("choice", "checkboxes", [])), ALICE)
    assert nothing.json()["errors"]["needs"] == (
        "Choose what it needs: funding, technical skills, permission, another service's help, time."
    )
    assert slack.submit_view(form, state(needs=("choice", "checkboxes", ["time"])), ALICE).body == ""
    again = slack.submit_view(form, state(needs=("choice", "checkboxes", ["funding"])), ALICE)
    assert (
        again.json()["errors"]["needs"] == "It was raised with leaders on 24 Nov 2026 and is waiting for their answer."
    )
    assert len(raises(store)) == 1 and [c.params["channel"] for c in for_leaders(slack)] == [DANI]  # no channel now


# == answering =====================================================================================================


def test_well_take_this_up_reaches_the_owner_suggester_and_backers_once_each_and_closes_the_leaders_message(
    slack, store, clock
):
    card = suggest_outside(slack, "a shared diary with the health visitors")
    click(slack, card, "change_take", BOB)
    click(slack, newest_card(slack.fake), "change_back", CAROL)
    click(slack, newest_card(slack.fake), "change_back", DANI)  # a leader who backs it knows their own answer
    assert raise_it(slack, newest_card(slack.fake), BOB, needs=("skills",)).body == ""  # the owner raises it
    channel_copy, dani_copy = for_leaders(slack)
    before = len(slack.fake.calls_to("chat.postMessage"))
    clock.advance(days=3)

    assert answer(slack, channel_copy, "take_up", taker=CAROL, said="I'll find the budget") == {}

    told = slack.fake.calls_to("chat.postMessage")[before:]
    assert sorted(c.params["channel"] for c in told) == sorted([ALICE, BOB, CAROL])  # not Dani, who answered
    for dm in told:
        assert "Leaders will take up a small change you're part of." in dm.text()
        assert f"*We'll take this up* (<@{DANI}>" in dm.text() and f"<@{CAROL}> is on it." in dm.text()
        assert "I'll find the budget" in dm.text() and "a shared diary with the health visitors" in dm.text()
    [closed] = [c for c in slack.fake.calls_to("chat.update") if c.params["channel"] == LEADERS]
    assert closed.params["ts"] == channel_copy.result["ts"] and buttons_of(closed) == []
    assert "We'll take this up" in closed.text()
    latest = newest_card(slack.fake)
    assert latest.ts == card.ts and "We'll take this up" in latest.text and "change_raise" not in latest.buttons
    [row] = raises(store)
    assert (row.answer, row.answered_by, row.taker_id, row.answered_at) == ("take_up", DANI, CAROL, clock.at)

    assert slack.press(dani_copy, "leaders_not_now", DANI).status == 200  # the copy in Dani's DM, pressed later
    assert replies(slack)[-1] == "Dani already answered on 27 Nov 2026: We'll take this up."


def test_more_information_and_not_now_need_their_words_and_never_reach_an_anonymous_suggester(slack, store):
    card = suggest_outside(slack, "fewer forms for the duty team", who=ALICE, anon=True)  # Alice typed it
    assert "anonymous" in card.text and "<@U0ALICE>" not in card.text
    body = click(slack, card, "change_raise", CAROL)
    assert replies_to(slack.fake, body)[0].params["text"] == (
        "Only an admin can raise it with leaders. Take it on first if you'd like to raise it yourself."
    )
    click(slack, card, "change_take", BOB)
    click(slack, newest_card(slack.fake), "change_back", CAROL)
    assert raise_it(slack, newest_card(slack.fake), BOB, needs=("time",)).body == ""

    [message, _] = for_leaders(slack)
    assert answer(slack, message, "more_info") == {
        "said": "Write your question for the owner: it's what they will answer."
    }
    assert answer(slack, message, "more_info", said="Which forms, and how long do they take?") == {}
    asked = [c for c in slack.fake.calls_to("chat.postMessage") if "need more information" in c.params["text"]]
    assert sorted(c.params["channel"] for c in asked) == sorted([BOB, CAROL])
    assert all("Which forms, and how long do they take?" in c.text() for c in asked)

    card = newest_card(slack.fake)
    assert card.buttons["change_raise"] == "Raise again" and "Leaders need more information" in card.text
    click(slack, card, "change_raise", BOB)
    form = slack.opened_view()
    assert "Which forms, and how long do they take?" in json.dumps(form)
    assert any(b.get("label", {}).get("text") == "Your answer to their question" for b in form["blocks"])
    again = state(needs=("choice", "checkboxes", ["time"]), note=("text", "plain_text_input", "Six forms, 2 h a week"))
    assert slack.submit_view(form, again, BOB).body == ""

    second = for_leaders(slack)[-2]  # the leadership channel's copy of the second raise
    assert answer(slack, second, "not_now", said="  ") == {
        "said": "Say why not now: a reason is required, so the team knows where it stands."
    }
    assert answer(slack, second, "not_now", said="Not before the new system goes in, in April") == {}
    declined = [c for c in slack.fake.calls_to("chat.postMessage") if "said not now" in c.params["text"]]
    assert sorted(c.params["channel"] for c in declined) == sorted([BOB, CAROL])
    assert dms_to(slack, ALICE) == [], "the anonymous suggester stores no trace and is never told"
    assert [(r.answer, r.said) for r in raises(store)] == [
        ("more_info", "Which forms, and how long do they take?"),
        ("not_now", "Not before the new system goes in, in April"),
    ]


def test_someone_who_is_not_a_leader_cannot_answer_even_with_a_crafted_form(slack, store):
    card = suggest_outside(slack, "a shared diary with the health visitors")
    raise_it(slack, card, ALICE)
    [message, _] = for_leaders(slack)

    assert slack.press(message, "leaders_take_up", CAROL).status == 200  # Carol can read the leadership channel
    assert replies(slack)[-1] == NOT_A_LEADER

    slack.press(message, "leaders_not_now", DANI)
    form = slack.opened_view()  # Dani's form, sent by Carol
    refused = slack.submit_view(form, state(said=("text", "plain_text_input", "no")), CAROL)
    assert refused.json()["errors"]["said"] == NOT_A_LEADER
    assert raises(store)[0].answer is None


def test_slack_down_when_an_idea_is_raised_leaders_get_it_when_it_is_back(slack, store, clock):
    """The leaders' messages are written with the raise (the outbox), so a raise is never saved without them."""
    card = suggest_outside(slack, "a shared diary with the health visitors")
    click(slack, card, "change_raise", ALICE)
    form = slack.opened_view()
    with slack.fake.outage():
        values = state(needs=("choice", "checkboxes", ["funding"]))
        assert slack.submit_view(form, values, ALICE).body == ""
    assert len(raises(store)) == 1 and for_leaders(slack) == []
    clock.advance(minutes=1)
    slack.delivery.deliver()
    assert [c.params["channel"] for c in for_leaders(slack)] == [LEADERS, DANI]


# == settings ======================================================================================================


def test_an_admin_chooses_the_leadership_channel_and_the_leaders_over_the_environments(slack, store):
    assert slack.services.workspaces.get(TEAM).leaders == (DANI,)  # LEADER_USER_IDS
    slack.smallchange("admin", DANI)
    view = slack.opened_view()
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["leadership_channel"]["element"]["initial_conversation"] == LEADERS
    assert blocks["leaders"]["element"]["initial_users"] == [DANI]

    chosen = admin_values(
        leadership_channel=("choice", "conversations_select", "C0HEADS"),
        leaders=("users", "multi_users_select", [CAROL, DANI]),
    )
    assert slack.submit_view(view, chosen, DANI).body == ""
    config = slack.services.workspaces.get(TEAM)
    assert (config.leadership_channel, config.leaders) == ("C0HEADS", (CAROL, DANI))
    with store.session() as session:
        recorded = {c.setting: (c.actor_id, json.loads(c.new)) for c in session.scalars(select(SettingsChange))}
    assert recorded["leaders"] == (DANI, [CAROL, DANI]) and recorded["leadership_channel"] == (DANI, "C0HEADS")

    crafted = admin_values(leaders=("users", "multi_users_select", ["not a person id"]))
    assert "Choose leaders from the list." in slack.submit_view(view, crafted, DANI).json()["errors"].values()


def test_cards_of_ideas_nobody_raised_are_as_before(slack):
    slack.smallchange("one shared template for visit notes", ALICE)
    assert set(cards(slack.fake)[-1].buttons) == {"change_back", "change_take"}


# == the digest, the export and erasure ============================================================================


def raised_at(slack, clock, at: datetime, idea: str, needs=("funding",)):
    """An idea the team can't do alone, suggested by Alice and raised by her at `at`, through the services."""
    clock.at = at
    change = slack.services.changes.suggest(TEAM, ALICE, idea, within_gift=False)
    return slack.services.leaders.raise_with_leaders(TEAM, change.id, ALICE, needs)


def test_the_managers_digest_lists_ideas_waiting_on_leaders_and_flags_one_waiting_over_30_days(slack, store, clock):
    tuesday = clock.at
    old = raised_at(slack, clock, tuesday - timedelta(days=41), "a shared diary with the health visitors")
    answered = raised_at(slack, clock, tuesday - timedelta(days=20), "laptops that work in the car")
    slack.services.leaders.answer(TEAM, answered.raised.id, DANI, "not_now", "Not this budget year")
    dropped = raised_at(slack, clock, tuesday - timedelta(days=10), "a second duty phone")
    slack.services.changes.set_status(TEAM, dropped.id, ALICE, "dropped")
    recent = raised_at(slack, clock, tuesday - timedelta(days=3), "one referral form with health", ("permission",))
    slack.services.workspaces.update(TEAM, DANI, {"managers": [ALICE]})

    waiting = slack.services.digests.compute(TEAM, tuesday).waiting
    assert [(w.id, w.days, w.overdue) for w in waiting] == [(old.id, 41, True), (recent.id, 3, False)]
    assert dict(slack.services.digests.tick(TEAM, tuesday).counts) == {"sent": 1}

    [digest] = [c for c in dms_to(slack, ALICE) if c.params["text"].startswith("Team digest")]
    [section] = [b["text"]["text"] for b in blocks_of(digest) if "Waiting on leaders" in str(b.get("text"))]
    assert section.splitlines() == [
        "*:raising_hand: Waiting on leaders (2):* raised because the team can't do them alone.",
        "• *a shared diary with the health visitors*: needs funding; :warning: *waiting 41 days*, more than 30",
        "• *one referral form with health*: needs permission; waiting 3 days",
    ]


def test_the_export_holds_every_raise_and_answer_and_erasure_replaces_the_people_in_them(slack, store, clock):
    slack.services.workspaces.update(TEAM, DANI, {"leaders": [DANI, CAROL]})
    change = raised_at(slack, clock, clock.at, "a shared diary with the health visitors", ("funding", "time"))
    slack.services.leaders.answer(TEAM, change.raised.id, DANI, "more_info", "Who else would use it?")
    clock.advance(days=1)
    slack.services.leaders.raise_with_leaders(TEAM, change.id, ALICE, ["funding"], "The school nurses too")
    answered_at = clock.at + timedelta(hours=2)
    clock.at = answered_at
    slack.services.leaders.answer(TEAM, change.raised.id + 1, DANI, "take_up", taker_id=CAROL)

    exported = slack.services.records.export(TEAM, OPERATOR)
    [idea] = exported.ideas
    assert idea["leaders"] == [
        {
            "raised_at": "2026-11-24T10:30:00+00:00",
            "raised_by": ALICE,
            "needs": ["funding", "time"],
            "note": None,
            "answer": "more_info",
            "answered_at": "2026-11-24T10:30:00+00:00",
            "answered_by": DANI,
            "taken_up_by": None,
            "said": "Who else would use it?",
        },
        {
            "raised_at": "2026-11-25T10:30:00+00:00",
            "raised_by": ALICE,
            "needs": ["funding"],
            "note": "The school nurses too",
            "answer": "take_up",
            "answered_at": answered_at.isoformat(),
            "answered_by": DANI,
            "taken_up_by": CAROL,
            "said": None,
        },
    ]
    table = exported.csv_files()["raised_with_leaders.csv"].splitlines()
    assert table[0] == "idea_id,raised_at,raised_by,needs,note,answer,answered_at,answered_by,taken_up_by,said"
    assert table[1].endswith(f",more_info,2026-11-24T10:30:00+00:00,{DANI},,Who else would use it?")
    assert "funding; time" in table[1] and len(table) == 3

    erased = slack.services.records.forget(TEAM, DANI)
    assert (erased.leader_raises, erased.leader) == (2, True)
    slack.services.records.forget(TEAM, CAROL)
    after = raises(store)
    assert all(is_former_colleague(r.answered_by) for r in after) and is_former_colleague(after[1].taker_id)
    assert [r.raised_by for r in after] == [ALICE, ALICE] and after[0].answered_by == after[1].answered_by
    with store.session() as session:
        assert json.loads(session.scalars(select(WorkspaceSettings.overrides)).one())["leaders"] == []


# == the console ===================================================================================================


def test_the_console_raises_an_idea_with_leaders_and_dani_answers_it(tmp_path):
    script = [
        "/smallchange",  # the form, question by question
        "a shared diary with the health visitors",
        "",  # nothing in the way
        "2",  # no, it needs someone else
        "",  # not anonymous
        "as bob",
        "back",
        "as alice",
        "raise",
        "1 3",  # funding, permission
        "the health team's lead would need to agree",
        "as dani",
        "b1",  # We'll take this up, on the message Dani got
        "@carol",
        "I'll call their lead",
        "quit",
    ]
    result = run_bot(tmp_path, "console", env=bot_env(tmp_path), stdin="\n".join(script) + "\n")
    out = result.stdout
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "[4] Raise with leaders" in out.split("Alice> /smallchange")[1].split("Bob> back")[0]
    raised = out.split("Alice> raise")[1].split("Dani> b1")[0]
    assert (
        "[#general (updated)]" in raised
        and "*Raised with leaders*" in raised
        and "needs: funding, permission" in raised
    )
    assert "[DM to Dani]\n    @Alice raised an idea the team can't do alone:" in raised
    assert "[b1] We'll take this up   [b2] Need more information   [b3] Not now" in raised
    answered = out.split("Dani> b1")[1]
    assert "-- form: We'll take this up" in answered and "Who will take it up? [@dani]:" in answered
    assert "[DM to Dani (updated)]" in answered and "@Carol is on it." in answered
    for person in ("Alice", "Bob", "Carol"):
        assert f"[DM to {person}]\n    :raising_hand: Leaders will take up a small change you're part of." in answered
