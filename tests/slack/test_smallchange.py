"""/smallchange as a team uses it: an idea typed in a channel becomes a card everyone can back, take on and move
along. Each test sends what Slack would send (signed HTTP) and reads what Slack received from the bot."""

from __future__ import annotations

import html
import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, text

from bot.console.fake_slack import Call
from bot.console.payloads import SlackRequests
from bot.console.team import ALICE, BOB, CAROL, DANI
from bot.core.model import Team
from bot.slack.delivery import card as card_update
from bot.store.models import Backing, Change, ChangeEvent
from tests.conftest import SIGNING_SECRET, make_settings

SOMEONE = "U0ZED"  # a member who is not an admin and has nothing to do with the idea


# -- reading what Slack received ---------------------------------------------------------------------------------


def blocks_of(call: Call) -> list[dict]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def is_card(call: Call) -> bool:
    return any(e.get("action_id") == "change_back" for b in blocks_of(call) for e in b.get("elements", []))


@dataclass
class Card:
    """An idea card as a person sees it in Slack, and the call that put it there."""

    call: Call

    @property
    def text(self) -> str:
        return self.call.text()

    @property
    def buttons(self) -> dict[str, str]:
        return {
            e["action_id"]: e["text"]["text"]
            for b in blocks_of(self.call)
            for e in b.get("elements", [])
            if e.get("type") == "button"
        }

    @property
    def status(self) -> str:
        menu = self.element("change_status")
        return menu["initial_option"]["text"]["text"]

    @property
    def context(self) -> str:
        [line] = [e["text"] for b in blocks_of(self.call) if b["type"] == "context" for e in b["elements"]]
        return line

    @property
    def channel(self) -> str:
        return self.call.result.get("channel") or self.call.params.get("channel") or ""

    @property
    def ts(self) -> str:
        return self.call.result.get("ts") or self.call.params.get("ts") or ""

    def element(self, action_id: str) -> dict:
        return next(e for b in blocks_of(self.call) for e in b.get("elements", []) if e.get("action_id") == action_id)


def cards(fake) -> list[Card]:
    """Every idea card Slack has received, oldest first: posts, re-renders in place, response_url posts."""
    return [Card(c) for c in list(fake.calls) if is_card(c)]


def newest_card(fake) -> Card:
    found = cards(fake)
    assert found, f"no idea card reached Slack: {fake.calls}"
    return found[-1]


def replies_to(fake, body: str) -> list[Call]:
    """The response_url posts answering one request (a command or a click)."""
    fields = parse_qs(body)
    url = fields["payload"][0] if "payload" in fields else None
    url = json.loads(url)["response_url"] if url else fields["response_url"][0]
    return [c for c in fake.calls_to("response_url") if c.path == urlparse(url).path]


def ephemeral(call: Call) -> bool:
    return call.params.get("response_type", "ephemeral") == "ephemeral" and not call.params.get("replace_original")


def trigger_of(body: str) -> str:
    return parse_qs(body)["trigger_id"][0]


# -- acting as people in Slack ------------------------------------------------------------------------------------


def click_body(requests: SlackRequests, card: Card, action_id: str, who: str, choose: str | None = None) -> str:
    """A click on `card` as Slack holds it (its channel and ts); for the status menu, `choose` is the option."""
    element = card.element(action_id)
    if choose is not None:
        element = element | {"_chosen": choose}
    message = {
        "type": "message",
        "ts": card.ts,
        "text": card.call.params.get("text", ""),
        "blocks": blocks_of(card.call),
    }
    return requests.block_action(message, card.channel, element, who)


def click(slack, card: Card, action_id: str, who: str, choose: str | None = None) -> str:
    """Click on a card; returns the request body so its replies can be found."""
    body = click_body(slack.requests, card, action_id, who, choose)
    response = slack.signed(body)
    assert response.status == 200, response
    return body


def suggest(slack, idea: str, who: str = ALICE, channel: str = "C0GENERAL") -> Card:
    before = len(cards(slack.fake))
    response = slack.smallchange(idea, who, channel)
    assert response.status == 200, response
    found = cards(slack.fake)
    assert len(found) == before + 1, f"no card for {idea!r}: {slack.fake.calls}"
    return found[-1]


def all_at_once(slack, bodies: list[str]):
    """Send signed requests from many threads at the same moment, as a busy channel would."""
    barrier = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)
    errors = []

    def send(i: int, body: str) -> None:
        headers = slack.requests.sign(body)
        try:
            barrier.wait(timeout=10)
            responses[i] = slack.post(body, headers)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(i, b)) for i, b in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert [r.status for r in responses] == [200] * len(bodies), responses
    return responses


# -- reading the database -----------------------------------------------------------------------------------------


def changes_in(store) -> list[Change]:
    with store.session() as s:
        return list(s.scalars(select(Change).order_by(Change.id)))


def the_change(store) -> Change:
    [change] = changes_in(store)
    return change


def backers_in(store) -> list[str]:
    with store.session() as s:
        return list(s.scalars(select(Backing.user_id).order_by(Backing.id)))


def events_of(store) -> list[ChangeEvent]:
    with store.session() as s:
        return list(s.scalars(select(ChangeEvent).order_by(ChangeEvent.id)))


# == suggesting ===================================================================================================


def test_an_idea_is_posted_in_the_channel_as_a_card(slack, store):
    response = slack.smallchange("one shared template for visit notes", ALICE)

    assert response.status == 200
    [post] = slack.fake.calls_to("chat.postMessage")
    card = Card(post)
    assert post.params["channel"] == "C0GENERAL"
    assert "one shared template for visit notes" in card.text
    assert card.context == f"Suggested by <@{ALICE}> · Status: *Idea* · Owner: nobody yet · 0 backers"
    assert card.buttons == {"change_back": "Back this (0)", "change_take": "I'll take this on"}
    assert card.status == "Idea"
    assert [o["text"]["text"] for o in card.element("change_status")["options"]] == [
        "Idea",
        "Trying it",
        "Adopted",
        "Parked",
        "Dropped",
    ]
    assert slack.said() == [], "a named idea needs no extra reply; the card is the answer"

    change = the_change(store)
    assert (change.text, change.suggester_id, change.status) == ("one shared template for visit notes", ALICE, "idea")
    assert (change.channel_id, change.message_ts) == ("C0GENERAL", post.result["ts"])


def test_an_anonymous_idea_stores_no_suggester_and_says_so(slack, store):
    response = slack.smallchange("anon we could stop the Friday status meeting", BOB)

    assert response.status == 200
    [post] = slack.fake.calls_to("chat.postMessage")
    card = Card(post)
    assert "we could stop the Friday status meeting" in card.text
    assert "anon " not in card.text
    assert card.context.startswith("Suggested by anonymous · ")
    assert BOB not in json.dumps(post.params)

    [note] = slack.said()
    assert ephemeral(note)
    assert "anonymously" in note.text() and "isn't stored" in note.text()

    change = the_change(store)
    assert change.suggester_id is None
    assert change.text == "we could stop the Friday status meeting"
    assert all(e.actor_id is None for e in events_of(store)), "the history must not name the suggester either"


# == backing ======================================================================================================


def test_backing_counts_once_per_person_and_a_second_click_withdraws(slack, store):
    card = suggest(slack, "a rota for the team kettle")

    bob_backs = click(slack, card, "change_back", BOB)
    [update] = slack.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (card.channel, card.ts), "re-rendered in place"
    assert Card(update).buttons["change_back"] == "Back this (1)"
    assert "1 backer" in Card(update).context and "1 backers" not in Card(update).context
    [note] = replies_to(slack.fake, bob_backs)
    assert ephemeral(note) and "You're backing this change" in note.text()

    click(slack, newest_card(slack.fake), "change_back", CAROL)
    assert newest_card(slack.fake).buttons["change_back"] == "Back this (2)"

    bob_again = click(slack, newest_card(slack.fake), "change_back", BOB)
    shown = newest_card(slack.fake)
    assert shown.call.method == "chat.update" and (shown.channel, shown.ts) == (card.channel, card.ts)
    assert shown.buttons["change_back"] == "Back this (1)"
    assert "withdrawn your backing" in replies_to(slack.fake, bob_again)[-1].text()
    assert backers_in(store) == [CAROL]
    assert slack.fake.calls_to("chat.postMessage") == [card.call], "clicks never post a second card"


def test_many_people_backing_at_once_are_all_counted(slack, store):
    card = suggest(slack, "stand-up at 9:15, not 9:00")
    people = [f"U0P{n:02d}" for n in range(12)]

    all_at_once(slack, [click_body(slack.requests, card, "change_back", p) for p in people])

    assert sorted(backers_in(store)) == sorted(people)
    assert all("isn't answering" not in c.text() for c in slack.said()), "every backing should have been saved"
    updates = slack.fake.calls_to("chat.update")
    assert updates and all((u.params["channel"], u.params["ts"]) == (card.channel, card.ts) for u in updates)
    assert Card(updates[-1]).buttons["change_back"] == "Back this (12)", "the card must end showing the stored count"


def test_one_person_double_clicking_back_leaves_at_most_one_backing(slack, store):
    card = suggest(slack, "share the school-run calendar")

    for _ in range(3):
        all_at_once(slack, [click_body(slack.requests, card, "change_back", BOB) for _ in range(4)])
        assert backers_in(store).count(BOB) <= 1
        assert all("isn't answering" not in c.text() for c in slack.said())
        shown = newest_card(slack.fake).buttons["change_back"]
        assert shown == f"Back this ({len(backers_in(store))})", "the card must show what is stored"


# == owning =======================================================================================================


def test_taking_an_idea_on_makes_you_its_owner(slack, store):
    card = suggest(slack, "a shared drive folder for referrals")

    taken = click(slack, card, "change_take", BOB)

    shown = newest_card(slack.fake)
    assert shown.call.method == "chat.update" and (shown.channel, shown.ts) == (card.channel, card.ts)
    assert f"Owner: <@{BOB}>" in shown.context
    assert shown.buttons == {"change_back": "Back this (0)", "change_hand_back": "Hand it back"}
    assert "It's yours" in replies_to(slack.fake, taken)[-1].text()
    assert the_change(store).owner_id == BOB


def test_someone_else_cannot_take_an_idea_that_has_an_owner(slack, store):
    card = suggest(slack, "a checklist for new starters")
    click(slack, card, "change_take", BOB)
    slack.fake.clear()

    # Carol still sees the card as it was before Bob's click reached her screen.
    carol_takes = click(slack, card, "change_take", CAROL)

    [refusal] = replies_to(slack.fake, carol_takes)
    assert ephemeral(refusal)
    assert "Bob already owns this change" in refusal.text()
    assert slack.fake.calls_to("chat.postMessage") == []
    assert the_change(store).owner_id == BOB


def test_two_people_taking_it_on_at_once_get_one_owner(slack, store):
    for round_ in range(3):
        card = suggest(slack, f"try a no-meeting Wednesday ({round_})")
        people = [BOB, CAROL, DANI, SOMEONE]
        bodies = [click_body(slack.requests, card, "change_take", p) for p in people]

        all_at_once(slack, bodies)

        told = {p: " ".join(c.text() for c in replies_to(slack.fake, b)) for p, b in zip(people, bodies, strict=True)}
        winners = [p for p, said in told.items() if "It's yours" in said]
        assert len(winners) == 1, told
        assert all("already owns this change" in said for p, said in told.items() if p not in winners), told
        assert changes_in(store)[-1].owner_id == winners[0]
        assert f"Owner: <@{winners[0]}>" in newest_card(slack.fake).context


def test_a_card_is_not_rendered_while_a_click_that_relies_on_it_is_still_being_saved(slack, store):
    """With several processes on PostgreSQL, one sends the outbox while another saves a click. A click whose card
    update is left to one already waiting (that one shows the card as it is when sent) must not let it be rendered
    before the click is saved, or the card stays a click behind. The scale-out test (tests/test_scale_out.py) found
    cards left showing 5 backers of 6; here the moments are pinned."""
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite saves one transaction at a time, so no card can be rendered in the middle of one")
    card = suggest(slack, "a rota for the kettle")
    team, changes = Team("slack", "T0SAMPLE"), slack.services.changes
    change_id = int(card.element("change_back")["value"])

    def update(_change) -> list:
        return [card_update(change_id, card.channel, card.ts)]

    changes.toggle_backing(team, change_id, BOB, update)  # not sent yet (Slack was busy, say): it waits in the outbox
    checked, go = threading.Event(), threading.Event()

    def update_then_pause(_change):
        yield card_update(change_id, card.channel, card.ts)
        checked.set()  # the outbox found the waiting update and left this click's to it; not saved yet
        go.wait(30)

    carol = threading.Thread(target=changes.toggle_backing, args=(team, change_id, CAROL, update_then_pause))
    sender = threading.Thread(target=slack.delivery.deliver)  # another process draining the outbox
    try:
        carol.start()
        assert checked.wait(10)
        sender.start()
        deadline = time.monotonic() + 30
        while sender.is_alive() and not waiting_on_a_lock(store):  # the fix makes it wait for Carol's click
            assert time.monotonic() < deadline, "the sender neither sent nor waited"
            time.sleep(0.01)
    finally:
        go.set()
        carol.join(30)
        sender.join(30)
    assert newest_card(slack.fake).buttons["change_back"] == "Back this (2)"


def waiting_on_a_lock(store) -> bool:
    with store.engine.connect() as conn:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        return conn.execute(text(query)).scalar() > 0


def test_only_the_owner_can_hand_it_back(slack, store):
    card = suggest(slack, "swap the Monday and Thursday clinics")
    click(slack, card, "change_take", BOB)
    owned = newest_card(slack.fake)

    carol_hands_back = click(slack, owned, "change_hand_back", CAROL)
    [refusal] = replies_to(slack.fake, carol_hands_back)
    assert ephemeral(refusal) and "Only the owner can hand this change back, and that's Bob" in refusal.text()
    assert the_change(store).owner_id == BOB

    bob_hands_back = click(slack, owned, "change_hand_back", BOB)
    shown = newest_card(slack.fake)
    assert "Owner: nobody yet" in shown.context
    assert shown.buttons == {"change_back": "Back this (0)", "change_take": "I'll take this on"}
    assert "handed it back" in replies_to(slack.fake, bob_hands_back)[-1].text()
    assert the_change(store).owner_id is None


# == status =======================================================================================================


def test_the_owner_moves_an_idea_from_idea_to_trying_to_adopted(slack, store, clock):
    suggested_at = clock()
    card = suggest(slack, "group supervision once a month", ALICE)
    clock.advance(days=1)
    click(slack, card, "change_take", BOB)

    clock.advance(days=6)
    click(slack, newest_card(slack.fake), "change_status", BOB, choose="trying")
    shown = newest_card(slack.fake)
    assert (shown.call.method, shown.channel, shown.ts) == ("chat.update", card.channel, card.ts)
    assert shown.status == "Trying it" and "Status: *Trying it*" in shown.context
    assert the_change(store).status == "trying"

    clock.advance(days=21)
    click(slack, newest_card(slack.fake), "change_status", BOB, choose="adopted")
    assert newest_card(slack.fake).status == "Adopted"
    assert the_change(store).status == "adopted"
    # The idea's history says who moved it, and when.
    assert [(e.kind, e.old, e.new, e.actor_id, e.at - suggested_at) for e in events_of(store)] == [
        ("created", None, "idea", ALICE, timedelta(0)),
        ("owner", None, BOB, BOB, timedelta(days=1)),
        ("status", "idea", "trying", BOB, timedelta(days=7)),
        ("status", "trying", "adopted", BOB, timedelta(days=28)),
    ]


@pytest.mark.parametrize(
    ("who", "status", "label"),
    [(ALICE, "parked", "Parked"), (DANI, "dropped", "Dropped")],
    ids=["the suggester", "a Slack admin"],
)
def test_the_suggester_or_a_slack_admin_can_change_the_status(slack, store, who, status, label):
    card = suggest(slack, "one inbox for duty calls", ALICE)

    click(slack, card, "change_status", who, choose=status)

    assert newest_card(slack.fake).status == label
    assert the_change(store).status == status


def test_anyone_else_is_told_who_can_change_it_and_the_menu_goes_back(slack, store):
    card = suggest(slack, "print fewer case files", ALICE)
    click(slack, card, "change_take", BOB)
    slack.fake.clear()

    carol_drops = click(slack, card, "change_status", CAROL, choose="dropped")

    [refusal] = replies_to(slack.fake, carol_drops)
    assert ephemeral(refusal)
    assert refusal.text() == (
        "Only its owner (Bob), the person who suggested it (Alice) or a workspace admin can change this."
    )
    [update] = slack.fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (card.channel, card.ts)
    assert Card(update).status == "Idea", "the menu shows the stored status again, not Carol's choice"
    assert f"Owner: <@{BOB}>" in Card(update).context
    assert the_change(store).status == "idea"


def test_nobody_can_claim_to_be_the_suggester_of_an_anonymous_idea(slack, store):
    card = suggest(slack, "anon fewer reply-all emails", BOB)

    bob_drops = click(slack, card, "change_status", BOB, choose="dropped")

    [refusal] = replies_to(slack.fake, bob_drops)
    assert "Only a workspace admin can change this" in refusal.text()
    assert "Take it on first" in refusal.text()
    assert newest_card(slack.fake).status == "Idea"
    assert the_change(store).status == "idea"


class TestAdminsFromSettings:
    @pytest.fixture
    def settings(self, fake_slack):
        return make_settings(fake_slack, admin_user_ids=frozenset({CAROL}))

    def test_an_admin_named_in_settings_can_change_the_status(self, slack, store):
        card = suggest(slack, "a quiet room on Fridays", ALICE)

        click(slack, card, "change_status", CAROL, choose="trying")

        assert newest_card(slack.fake).status == "Trying it"
        assert the_change(store).status == "trying"


# == the form =====================================================================================================


def test_smallchange_on_its_own_opens_the_form(slack, store):
    body = slack.requests.command("/smallchange", "", ALICE, "C0TEAM")

    response = slack.signed(body)

    assert response.status == 200 and response.body == ""
    [opened] = slack.fake.calls_to("views.open")
    assert opened.params["trigger_id"] == trigger_of(body)
    view = slack.opened_view()
    assert view["callback_id"] == "change_submit"
    assert [b["block_id"] for b in view["blocks"]] == ["change", "obstacle", "gift", "anon"]
    assert cards(slack.fake) == [] and changes_in(store) == []
    slack.submit_change_form(ALICE, view, change="a rota on the wall")
    [posted] = cards(slack.fake)
    assert posted.channel == "C0TEAM", "the form remembers where it was opened"


@pytest.mark.parametrize(
    ("change", "obstacle", "block"),
    [("   \n  ", None, "change"), ("a shared lunch rota", " \n\t ", "obstacle")],
    ids=["blank change", "blank obstacle"],
)
def test_the_form_points_at_a_blank_answer_and_stays_open(slack, store, change, obstacle, block):
    slack.smallchange("", ALICE)

    response = slack.submit_change_form(ALICE, change=change, obstacle=obstacle, gift="within")

    assert response.status == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [block]
    assert answer["errors"][block].strip()
    assert cards(slack.fake) == [] and changes_in(store) == []


def test_the_form_posts_a_card_with_what_gets_in_the_way_and_whose_gift_it_is(slack, store):
    slack.smallchange("", ALICE, "C0TEAM")

    response = slack.submit_change_form(
        ALICE, change="one referral form, not three", obstacle="each agency\nhas its own form", gift="within"
    )

    assert response.status == 200 and response.body == ""
    [post] = slack.fake.calls_to("chat.postMessage")
    card = Card(post)
    assert post.params["channel"] == "C0TEAM", "posted where /smallchange was typed"
    assert "one referral form, not three" in card.text
    assert "What gets in the way today" in card.text
    assert "> each agency\n> has its own form" in card.text
    assert "within the team's gift" in card.context
    assert f"Suggested by <@{ALICE}>" in card.context

    change = the_change(store)
    assert (change.suggester_id, change.obstacle, change.within_gift) == (ALICE, "each agency\nhas its own form", True)
    assert (change.channel_id, change.message_ts) == ("C0TEAM", post.result["ts"])


def test_the_form_can_post_anonymously(slack, store):
    slack.smallchange("", BOB)

    slack.submit_change_form(BOB, change="rotate who chairs the team meeting", gift="outside", anon=True)

    card = Card(slack.fake.wait_for("chat.postMessage")[-1])
    assert "Suggested by anonymous" in card.context
    assert "needs someone outside the team" in card.context
    assert BOB not in json.dumps(card.call.params)
    change = the_change(store)
    assert change.suggester_id is None and change.within_gift is False


def test_an_anonymous_form_where_the_bot_cannot_post_leaves_no_trace_of_who_sent_it(slack, store):
    slack.fake.not_in = {"C0PRIVATE"}
    slack.smallchange("", BOB, "C0PRIVATE")

    slack.submit_change_form(BOB, change="a buddy for every new starter", anon=True)

    # The card comes to Bob privately, as nothing can be posted in a channel the bot isn't in.
    delivered = [c for c in slack.fake.calls_to("chat.postMessage") if "_failed" not in c.params and c.result.get("ok")]
    assert any(is_card(c) and c.params["channel"] == BOB for c in delivered)
    change = the_change(store)
    assert change.suggester_id is None
    stored = [change.suggester_id, change.owner_id, change.channel_id, change.message_ts]
    stored += [v for e in events_of(store) for v in (e.actor_id, e.old, e.new)]
    assert not any(v and BOB.removeprefix("U") in v for v in stored), f"the row points back at Bob: {stored}"


# == listing ======================================================================================================


def test_list_shows_open_ideas_most_backed_first_to_the_asker_only(slack, store):
    suggest(slack, "label the shared fridge shelves", ALICE)
    popular = suggest(slack, "a shared calendar for home visits", BOB)
    middling = suggest(slack, "stand-ups on Teams on Fridays", CAROL)
    done = suggest(slack, "a second printer upstairs", ALICE)
    gone = suggest(slack, "a team mascot", ALICE)
    for person in (ALICE, CAROL):
        click(slack, popular, "change_back", person)
    click(slack, popular, "change_take", CAROL)
    click(slack, middling, "change_back", ALICE)
    click(slack, middling, "change_status", CAROL, choose="trying")
    for person in (ALICE, BOB, CAROL):
        click(slack, done, "change_back", person)
    click(slack, done, "change_status", ALICE, choose="adopted")
    click(slack, gone, "change_status", ALICE, choose="dropped")
    slack.fake.clear()

    body = slack.requests.command("/smallchange", "list", DANI)
    assert slack.signed(body).status == 200

    [listing] = replies_to(slack.fake, body)
    assert listing.params.get("response_type") != "in_channel", "the list is for the asker only"
    assert listing.params.get("response_type", "ephemeral") == "ephemeral"
    shown = listing.text()
    order = [shown.find(c) for c in ("a shared calendar", "stand-ups on Teams", "label the shared fridge")]
    assert -1 not in order and order == sorted(order), shown
    assert "a second printer upstairs" not in shown and "a team mascot" not in shown
    assert f"Idea · 2 backers · owner <@{CAROL}>" in shown
    assert "Trying it · 1 backer · no owner yet" in shown
    assert "Idea · 0 backers · no owner yet" in shown
    assert slack.fake.calls_to("chat.postMessage") == [], "listing posts nothing in the channel"


def test_mine_lists_what_i_suggested_own_or_back(slack, store):
    suggest(slack, "a tidy shared inbox", CAROL)
    backed = suggest(slack, "walk-and-talk supervision", ALICE)
    owned = suggest(slack, "one login for the rota system", BOB)
    suggest(slack, "a plant for the office", ALICE)
    suggest(slack, "anon shorter handovers", CAROL)
    click(slack, backed, "change_back", CAROL)
    click(slack, owned, "change_take", CAROL)

    body = slack.requests.command("/smallchange", "mine", CAROL)
    slack.signed(body)

    [mine] = replies_to(slack.fake, body)
    assert ephemeral(mine)
    shown = mine.text()
    for idea in ("a tidy shared inbox", "walk-and-talk supervision", "one login for the rota system"):
        assert idea in shown
    assert "a plant for the office" not in shown
    assert "shorter handovers" not in shown, "an anonymous idea is not linked to anyone, not even its author"


def test_help_is_the_answer_to_the_command_itself(slack, store):
    response = slack.smallchange("help", ALICE)

    assert response.status == 200
    help_text = response.body  # Slack shows a plain-text ack body to the person who typed the command
    for usage in ("/smallchange the idea", "/smallchange anon", "/smallchange list", "/smallchange mine"):
        assert usage in help_text
    assert slack.fake.calls == [] and changes_in(store) == []


# == channels the bot is not in ==================================================================================


def test_where_the_bot_is_not_in_the_channel_the_card_is_posted_through_the_command(slack, store):
    slack.fake.not_in = {"C0PRIVATE"}

    body = slack.requests.command("/smallchange", "a whiteboard in the duty room", ALICE, "C0PRIVATE")
    slack.signed(body)

    [refused] = slack.fake.calls_to("chat.postMessage")
    assert refused.params["channel"] == "C0PRIVATE" and refused.result["error"] == "not_in_channel"
    [posted] = replies_to(slack.fake, body)
    assert posted.params["response_type"] == "in_channel"
    card = Card(posted)
    assert "a whiteboard in the duty room" in card.text and card.buttons["change_back"] == "Back this (0)"

    # Slack holds the message in C0PRIVATE; a click on it still counts and re-renders it.
    held = Card(Call("response_url", posted.params, result={"channel": "C0PRIVATE", "ts": "1700000999.000100"}))
    backing = click(slack, held, "change_back", BOB)

    assert backers_in(store) == [BOB]
    rerendered = [c for c in replies_to(slack.fake, backing) if c.params.get("replace_original")]
    assert rerendered and Card(rerendered[-1]).buttons["change_back"] == "Back this (1)"


# == what people type ============================================================================================


def test_slack_markup_in_an_idea_cannot_ping_anyone(slack, store):
    typed = (
        "<!channel> <!here> <!subteam^S1|@team> ask <@U0BOB|bob> to make &lt;b&gt;notes&lt;/b&gt; "
        "&amp; stop &lt;!everyone&gt; pings"
    )

    card = suggest(slack, typed, ALICE)
    click(slack, card, "change_back", CAROL)
    list_body = slack.requests.command("/smallchange", "list", ALICE)
    slack.signed(list_body)

    readable = "@channel @here @team ask @bob to make <b>notes</b> & stop <!everyone> pings"
    assert the_change(store).text == readable
    shown = [card.call, newest_card(slack.fake).call, *replies_to(slack.fake, list_body)]
    for call in shown:
        text = call.text()
        assert "<!" not in text, f"{call.method} would ping: {text}"
        assert "<@U0BOB" not in text and "<b>" not in text, text
        assert "@channel @here @team ask @bob" in text
        assert readable in html.unescape(text)


def test_an_over_long_idea_is_refused_naming_the_limit_and_nothing_is_kept(slack, store):
    body = slack.requests.command("/smallchange", "x" * 1001, ALICE)
    slack.signed(body)

    [refusal] = replies_to(slack.fake, body)
    assert ephemeral(refusal)
    assert "1,001 characters" in refusal.text() and "the limit is 1,000" in refusal.text()
    assert slack.fake.calls_to("chat.postMessage") == [] and changes_in(store) == []

    card = suggest(slack, "y" * 1000, ALICE)
    assert "y" * 1000 in card.text, "an idea at the limit is posted whole"


def test_an_idea_full_of_symbols_is_posted_whole(slack, store):
    # Every one of these characters has to be escaped for Slack (& becomes &amp;), so the card text is
    # several times longer than the 1,000 characters typed: more than one Block Kit section can hold.
    idea = ("<<a>> && " * 112)[:1000]

    card = suggest(slack, html.escape(idea, quote=False), ALICE)

    assert the_change(store).text == idea
    sections = "".join(b["text"]["text"] for b in blocks_of(card.call) if b["type"] == "section")
    assert idea in html.unescape(sections)
    assert "<" not in sections, "every < is escaped, so Slack shows it rather than reading it as markup"


def test_emoji_survive_intact(slack, store):
    idea = "celebrate small wins 🎉 with a 👩🏽‍💻 badge, a 🇬🇧 flag and :tada: — café style"

    card = suggest(slack, idea, ALICE)
    list_body = slack.requests.command("/smallchange", "list", ALICE)
    slack.signed(list_body)

    assert the_change(store).text == idea
    assert idea in card.text
    assert idea in replies_to(slack.fake, list_body)[0].text()


def test_a_long_idea_is_never_cut_inside_an_emoji(slack, store):
    family = "👩‍👩‍👧"
    idea = "x" * 148 + family + " and the rest of the idea"

    card = suggest(slack, idea, ALICE)

    notification = card.call.params["text"]
    assert family in notification or "👩" not in notification, f"a broken emoji: {notification[-12:]!r}"
    assert idea in card.text, "the card itself shows the whole idea"


def test_a_bug_is_logged_once_and_the_person_is_told_plainly(slack, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("secret detail of a bug")

    monkeypatch.setattr(slack.services.changes, "open_changes", broken)
    body = slack.requests.command("/smallchange", "list", ALICE)
    assert slack.signed(body).status == 200

    [reply] = replies_to(slack.fake, body)
    assert ephemeral(reply) and "something went wrong on my side" in reply.text()
    assert "secret detail" not in reply.text() and "Traceback" not in reply.text()
    assert len([r for r in caplog.records if r.exc_info]) == 1, "the traceback is logged, once"


# == the database going away =====================================================================================


def test_when_the_database_is_down_the_idea_is_handed_back_and_works_after(flaky_slack, outage):
    slack = flaky_slack
    idea = "a shared folder for training certificates 📁"

    with outage.down():
        body = slack.requests.command("/smallchange", idea, ALICE)
        assert slack.signed(body).status == 200

    [reply] = replies_to(slack.fake, body)
    assert ephemeral(reply)
    assert "*not* saved" in reply.text()
    assert idea in reply.text(), "what was typed comes back, so nothing is lost"
    assert slack.fake.calls_to("chat.postMessage") == []
    assert changes_in(outage.store) == []

    card = suggest(slack, idea, ALICE)
    assert idea in card.text
    assert [c.text for c in changes_in(outage.store)] == [idea]


def test_a_click_while_the_database_is_down_says_it_was_not_saved(flaky_slack, outage):
    slack = flaky_slack
    card = suggest(slack, "a tea round at three", ALICE)

    with outage.down():
        body = click(slack, card, "change_back", BOB)

    [reply] = replies_to(slack.fake, body)
    assert ephemeral(reply) and "wasn't saved" in reply.text()
    assert slack.fake.calls_to("chat.update") == [], "the card must not claim a backing that was not stored"

    click(slack, card, "change_back", BOB)
    assert newest_card(slack.fake).buttons["change_back"] == "Back this (1)"


def test_submitting_the_form_while_the_database_is_down_keeps_the_form_open(flaky_slack, outage):
    slack = flaky_slack
    slack.smallchange("", ALICE)
    view = slack.opened_view()

    with outage.down():
        response = slack.submit_change_form(ALICE, view, change="a map of who covers what", gift="within")

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "database" in answer["errors"]["change"]
    assert slack.fake.calls_to("chat.postMessage") == [] and changes_in(outage.store) == []

    response = slack.submit_change_form(ALICE, view, change="a map of who covers what", gift="within")
    assert response.body == ""
    assert "a map of who covers what" in Card(slack.fake.wait_for("chat.postMessage")[-1]).text


# == workspaces ===================================================================================================


def test_another_workspace_cannot_touch_this_workspaces_ideas(slack, store):
    card = suggest(slack, "a shared phone for the duty worker", ALICE)
    elsewhere = SlackRequests(SIGNING_SECRET, "T0OTHER", slack.fake.url + "/response/")
    slack.fake.clear()

    bodies = [
        click_body(elsewhere, card, "change_back", BOB),
        click_body(elsewhere, card, "change_take", BOB),
        click_body(elsewhere, card, "change_status", BOB, choose="dropped"),
    ]
    listing = elsewhere.command("/smallchange", "list", BOB)
    for body in [*bodies, listing]:
        assert slack.signed(body).status == 403, "this bot serves one workspace; the request is refused unread"
        assert replies_to(slack.fake, body) == []

    assert slack.fake.calls == []
    change = the_change(store)
    assert (change.owner_id, change.status, backers_in(store)) == (None, "idea", [])


def test_when_the_form_cannot_open_the_person_is_told(slack):
    slack.fake.fail("views.open", "expired_trigger_id")
    slack.smallchange("", ALICE)
    [reply] = slack.said()
    assert "couldn't open the form" in reply.text()
