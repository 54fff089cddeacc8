"""The App Home tab as a person meets it: opened, it shows their thanks, their ideas, the team's most-backed
ideas and their nudge settings; after each change that touches them, it is published again."""

from __future__ import annotations

import itertools
import json
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

from sqlalchemy import select, update

from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.model import Team, ThanksRequest
from bot.core.ports import former_colleague_id
from bot.store.models import Backing, Person, Thanks
from tests.slack.test_nudge_interactions import nudge_for, state

TEAM = Team("slack", "T0SAMPLE")
EVENT_IDS = itertools.count(1)


def mention(user_id: str) -> str:
    return f"<@{user_id}|{user_id.lower()}>"


def open_home(slack, user: str, tab: str = "home"):
    """Slack's app_home_opened event, as it arrives when someone opens the app's Home tab."""
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": f"{time.time():.6f}",
    }
    return slack.event(event, f"Ev{next(EVENT_IDS):08d}")


def published(slack, user: str | None = None) -> list[dict]:
    """The Home views published so far (for one person), oldest first."""
    views = []
    for call in slack.fake.calls_to("views.publish"):
        if user is None or call.params["user_id"] == user:
            view = call.params["view"]
            views.append(json.loads(view) if isinstance(view, str) else view)
    return views


def published_since(slack, seen: int) -> list[tuple[str, dict]]:
    """(whose Home, the view) for each view published after the first `seen`."""
    return [(call.params["user_id"], call.params["view"]) for call in slack.fake.calls_to("views.publish")[seen:]]


def home_of(slack, user: str) -> dict:
    views = published(slack, user)
    assert views, f"no Home was published for {user}"
    return views[-1]


def texts(block: dict) -> list[str]:
    if "text" in block and isinstance(block["text"], dict):
        return [block["text"]["text"]]
    return [e["text"] for e in block.get("elements", []) if isinstance(e.get("text"), str)]


def part(view: dict, heading: str) -> str:
    """What a person reads under one heading of their Home."""
    lines, inside = [], False
    for block in view["blocks"]:
        if block["type"] == "header":
            inside = block["text"]["text"].startswith(heading)
        elif inside:
            lines += texts(block)
    return "\n".join(lines)


def press(slack, view: dict, action_id: str, user: str):
    """A click on a button in the Home tab: a block_actions payload whose container is the view."""
    block, button = next(
        (b, e) for b in view["blocks"] for e in b.get("elements", []) if e.get("action_id") == action_id
    )
    view_id = "V0HOME" + user
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM.external_id, "domain": "sample"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM.external_id},
        "api_app_id": "A0SMALLCHG",
        "token": "legacy-verification-token",
        "container": {"type": "view", "view_id": view_id},
        "trigger_id": f"{next(EVENT_IDS)}.home.trigger",
        "view": view | {"id": view_id, "team_id": TEAM.external_id, "state": {"values": {}}, "hash": "1700.ab"},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block["block_id"],
                "text": button["text"],
                "action_ts": f"{time.time():.6f}",
            }
        ],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return slack.signed(urlencode({"payload": json.dumps(payload)})), payload["trigger_id"]


def test_opening_home_shows_my_thanks_my_ideas_the_teams_top_ideas_and_my_nudges(slack):
    slack.thanks(f"{mention(ALICE)} for covering my home visit #supportive", BOB)
    slack.thanks(f"{mention(CAROL)} for sorting the new rota", ALICE)
    slack.smallchange("one shared visit diary", ALICE)
    slack.smallchange("a template for court reports", BOB)
    slack.click("change_back", ALICE)
    slack.click("change_back", CAROL)
    slack.click("change_take", DANI)
    slack.smallchange("nudges", ALICE)
    nudges_form = slack.opened_view()
    choices = state(
        cadence=("choice", "static_select", "monthly"),
        day_off=("date", "datepicker", "2026-11-13"),
        snooze=("date", "datepicker", "2026-12-15"),
    )
    slack.submit_view(nudges_form, choices, ALICE)
    slack.fake.clear()

    assert open_home(slack, ALICE).status == 200

    home = home_of(slack, ALICE)
    assert home["type"] == "home"
    received = part(home, "Thanks you've received (1)")
    assert f"*From <@{BOB}>*" in received and "covering my home visit" in received and "supportive" in received
    given = part(home, "Thanks you've given")
    assert "You've given 1 thank-you" in given and f"*To <@{CAROL}>*" in given and "sorting the new rota" in given
    ideas = part(home, "Your ideas")
    assert "one shared visit diary\n*Idea* · you suggested it · 0 backers · no owner yet" in ideas
    assert f"a template for court reports\n*Idea* · you back it · 2 backers · owner <@{DANI}>" in ideas
    top = part(home, "The team's most-backed open ideas")
    assert top.index("1. a template for court reports") < top.index("2. one shared visit diary")
    nudges = part(home, "Your nudges")
    assert "Monthly at most" in nudges and "*Snoozed until:* Tuesday 15 December" in nudges
    assert "*Alternate day off:* every other Friday, next on Friday 27 November" in nudges


def test_a_person_with_nothing_yet_sees_how_to_start(slack):
    open_home(slack, CAROL)
    home = home_of(slack, CAROL)
    assert "No thanks yet" in part(home, "Thanks you've received (0)")
    assert "As the team sets (fortnightly)" in part(home, "Your nudges")
    buttons = [e["text"]["text"] for b in home["blocks"] for e in b.get("elements", []) if e.get("type") == "button"]
    assert buttons == ["Suggest a change", "Thank someone", "Change my nudges"]


def test_private_thanks_shows_on_the_recipients_and_the_givers_home_only(slack):
    slack.thanks(f"private {mention(BOB)} for listening after a hard visit", ALICE)
    for user in (ALICE, BOB, CAROL):
        open_home(slack, user)
    assert "listening after a hard visit" in part(home_of(slack, BOB), "Thanks you've received")
    assert ":lock: private" in part(home_of(slack, BOB), "Thanks you've received")
    assert "listening after a hard visit" in part(home_of(slack, ALICE), "Thanks you've given")
    assert "listening after a hard visit" not in json.dumps(home_of(slack, CAROL))


def test_backing_republishes_the_home_of_those_who_opened_it_and_nobody_elses(slack, store, clock):
    slack.smallchange("one shared visit diary", BOB)
    open_home(slack, ALICE)
    with store.session() as s:  # the clock has not met Alice yet: opening her Home made her row
        assert s.scalar(select(Person.home_opened_at).where(Person.user_id == ALICE)) == clock()

    seen = len(published(slack))
    slack.click("change_back", ALICE)
    assert [view_for for view_for, _ in published_since(slack, seen)] == [ALICE]
    assert "one shared visit diary\n*Idea* · you back it · 1 backer · no owner yet" in part(
        home_of(slack, ALICE), "Your ideas"
    )

    seen = len(published(slack))
    slack.click("change_back", CAROL)  # neither Carol nor Bob (who suggested it) has opened their Home
    assert published_since(slack, seen) == []

    open_home(slack, BOB)
    seen = len(published(slack))
    slack.click("change_back", CAROL)  # withdrawn: Bob, who suggested it, sees the count go down
    assert [view_for for view_for, _ in published_since(slack, seen)] == [BOB]
    assert "you suggested it · 1 backer" in part(home_of(slack, BOB), "Your ideas")


def test_thanks_republishes_the_homes_of_giver_and_recipients_who_opened_them(slack):
    open_home(slack, BOB)
    slack.fake.clear()
    slack.thanks(f"{mention(BOB)} {mention(CAROL)} for the cover", ALICE)
    assert [call.params["user_id"] for call in slack.fake.calls_to("views.publish")] == [BOB]
    assert f"From <@{ALICE}>* (to you and <@{CAROL}>)" in part(home_of(slack, BOB), "Thanks you've received (1)")


def test_the_wall_shows_the_newest_ten_and_counts_the_rest(slack, clock):
    for n in range(12):
        slack.thanks(f"{mention(ALICE)} for help number {n + 1}", BOB if n < 10 else CAROL)
        clock.advance(minutes=1)
    open_home(slack, ALICE)
    wall = part(home_of(slack, ALICE), "Thanks you've received (12)")
    assert wall.index("help number 12") < wall.index("help number 3")
    assert "help number 2\n" not in wall and "And 2 more before these." in wall


def test_change_my_nudges_opens_the_your_nudges_form_and_saving_updates_home(slack):
    open_home(slack, ALICE)
    response, trigger = press(slack, home_of(slack, ALICE), "home_my_nudges", ALICE)
    assert response.status == 200
    [opened] = slack.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == trigger
    form = slack.opened_view()
    assert form["callback_id"] == "my_nudges_submit"

    slack.fake.clear()
    slack.submit_view(form, state(cadence=("choice", "static_select", "off")), ALICE)
    assert "*How often:* Off: no nudges from me" in part(home_of(slack, ALICE), "Your nudges")


def test_an_answered_nudge_updates_home(slack):
    slack.services.nudges.tick(TEAM, datetime(2026, 11, 24, 10, 30, tzinfo=UTC))
    open_home(slack, ALICE)
    slack.press(nudge_for(slack, ALICE), "nudge_snooze", ALICE)
    assert "*Snoozed until:* Monday 30 November" in part(home_of(slack, ALICE), "Your nudges")


def test_suggest_from_home_and_nothing_typed_can_ping_there(slack):
    open_home(slack, ALICE)
    press(slack, home_of(slack, ALICE), "home_suggest", ALICE)
    form = slack.opened_view()
    assert form["callback_id"] == "change_submit" and form["blocks"][0]["block_id"] == "channel"
    slack.fake.clear()
    typed = state(
        channel=("choice", "conversations_select", "C0GENERAL"),
        change=("text", "plain_text_input", "<!channel> stop double entry & <b>now</b>"),
    )
    assert slack.submit_view(form, typed, ALICE).status == 200

    home = home_of(slack, ALICE)
    assert "&lt;!channel&gt; stop double entry &amp; &lt;b&gt;now&lt;/b&gt;" in part(home, "Your ideas")
    assert "<!channel>" not in json.dumps(home)


def test_thank_someone_from_home_opens_the_thanks_form(slack):
    open_home(slack, ALICE)
    press(slack, home_of(slack, ALICE), "home_thank", ALICE)
    assert slack.opened_view()["callback_id"] == "thanks_submit"


def test_passed_on_thanks_and_an_erased_giver_are_shown_without_names(slack, store):
    slack.services.thanks.give(TEAM, ThanksRequest(BOB, (ALICE,), "the visit went so well", source="family"))
    slack.thanks(f"{mention(ALICE)} for the lift", CAROL)
    with store.session() as s:
        s.execute(update(Thanks).where(Thanks.giver_id == CAROL).values(giver_id=former_colleague_id()))
    open_home(slack, ALICE)
    wall = part(home_of(slack, ALICE), "Thanks you've received (2)")
    assert f"*From a family, passed on by <@{BOB}>*" in wall
    assert "*From a former colleague*" in wall and CAROL not in wall


def test_the_messages_tab_publishes_nothing(slack):
    assert open_home(slack, ALICE, tab="messages").status == 200
    assert slack.fake.calls_to("views.publish") == []


def test_a_failed_publish_loses_nothing(slack, store):
    slack.smallchange("one shared visit diary", BOB)
    open_home(slack, ALICE)
    slack.fake.fail("views.publish", "internal_error")
    assert slack.click("change_back", ALICE).status == 200
    assert "You're backing this change." in [call.text() for call in slack.said()]
    assert slack.fake.calls_to("views.publish")[-1].params["_failed"] == "internal_error"
    with store.session() as s:
        assert s.scalars(select(Backing.user_id)).all() == [ALICE]


def test_database_down_home_says_it_cannot_load_and_recovers(flaky_slack, outage):
    with outage.down():
        assert open_home(flaky_slack, ALICE).status == 200
    home = home_of(flaky_slack, ALICE)
    assert "I can't load your Home right now: the database isn't answering" in json.dumps(home)
    assert "Traceback" not in json.dumps(home)

    open_home(flaky_slack, ALICE)
    assert "Your nudges" in json.dumps(home_of(flaky_slack, ALICE))
