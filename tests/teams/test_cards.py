"""The Teams cards, built from the core's own value objects: what a Teams user would see on each card, which buttons
it offers and what they carry back, that every card is a valid Adaptive Card 1.5 as the SDK reads it, and how the
console prints one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    ExecuteAction,
    NumberInput,
    OpenUrlAction,
    QueryData,
    RichTextBlock,
    SubmitAction,
    TextBlock,
    TextInput,
    TextRun,
    TimeInput,
    ToggleInput,
)

from bot.core.digests import ChannelReaders, channel_copy, manager_copy
from bot.core.errors import PlatformUnavailable
from bot.core.home import HomePage, ThanksLine
from bot.core.model import (
    ArmReport,
    Audience,
    ChangeLine,
    ChangeView,
    Digest,
    FreedChange,
    Highlight,
    Impact,
    PeerThanks,
    PersonState,
    Series,
    Team,
    Thanked,
    TimeFreed,
    TimeFreedSum,
    Trends,
    WorkspaceConfig,
)
from bot.core.ports import FORMER_PREFIX
from bot.teams.cards import (
    admin_form,
    card_as_text,
    change_list,
    digest_card,
    home_card,
    idea_card,
    nudge_answer_card,
    nudge_card,
    personal_thanks_form,
    stop_check_card,
    thanks_form,
    time_freed_form,
)
from tests.teams.conftest import elements

TEAM = Team("teams", "tenant-1")
ALICE, BOB, CAROL, DANI, FRAN, GEO = "aad-alice", "aad-bob", "aad-carol", "aad-dani", "aad-fran", "aad-geo"
NAMES = {ALICE: "Alice Ames", BOB: "Bob Bell", CAROL: "Carol Cho", DANI: "Dani Diaz", FRAN: "Fran Fox", GEO: "Geo Gale"}
DIGEST_CHANNEL, CASEWORK = "19:digest@thread.tacv2", "19:casework@thread.tacv2"
SLACK_SYNTAX = ("<@", "<#", "<!", "/smallchange", "/thanks", ":sparkles:", ":bulb:", ":seedling:", ":lock:", ":wave:")


def names(user_id: str) -> str:
    return NAMES[user_id]


def change(**overrides) -> ChangeView:
    fields = dict(
        id=7,
        text="A shared template for visit notes",
        obstacle="Everyone writes them from scratch",
        within_gift=True,
        suggester_id=ALICE,
        owner_id=None,
        status="idea",
        backers=(BOB, CAROL),
        channel_id=DIGEST_CHANNEL,
        message_ts="act-1",
    )
    return ChangeView(**{**fields, **overrides})


# -- what every card must be ---------------------------------------------------------------------------------------

ELEMENTS = {
    "TextBlock": TextBlock,
    "RichTextBlock": RichTextBlock,
    "TextRun": TextRun,
    "ActionSet": ActionSet,
    "ColumnSet": ColumnSet,
    "Column": Column,
    "Input.ChoiceSet": ChoiceSetInput,
    "Input.Text": TextInput,
    "Input.Toggle": ToggleInput,
    "Input.Number": NumberInput,
    "Input.Time": TimeInput,
    "Action.Execute": ExecuteAction,
    "Action.Submit": SubmitAction,
    "Action.OpenUrl": OpenUrlAction,
    "Data.Query": QueryData,
}
CHILDREN = ("body", "actions", "items", "columns", "inlines", "choices.data")


def assert_valid(card: dict) -> None:
    """Valid as the SDK reads a stored card, re-serialised identically, JSON-safe, and every element (down to each
    TextRun and button) valid as its own SDK class, with no property that class doesn't know."""
    assert json.loads(json.dumps(card)) == card
    parsed = AdaptiveCard.model_validate(card)
    assert parsed.version == "1.5" and parsed.type == "AdaptiveCard"
    assert parsed.model_dump(mode="json", exclude_none=True, by_alias=True) == card

    def check(element: dict) -> None:
        model = ELEMENTS[element["type"]].model_validate(element)
        assert not model.model_extra, (element["type"], model.model_extra)
        for key in CHILDREN:
            value = element.get(key)
            for child in value if isinstance(value, list) else [value] if value else []:
                check(child)
        for choice in element.get("choices") or []:
            assert not Choice.model_validate(choice).model_extra

    for key in ("body", "actions"):
        for element in card.get(key) or []:
            check(element)


def text_of(card: dict) -> str:
    """Every word a reader sees, buttons and inputs included."""
    return card_as_text(card)


def buttons(card: dict) -> dict[str, dict]:
    """Each button's title, and what it is (type, verb, data)."""
    return {button["title"]: button for button in elements(card, "Action.")}


def inputs(card: dict) -> dict[str, dict]:
    return {element["id"]: element for element in elements(card, "Input.")}


def no_markdown_for_user_text(card: dict) -> None:
    """Only our own words go in TextBlocks (which read markdown); no card ever carries a mention entity."""
    assert "msteams" not in card

    def walk(element):
        if isinstance(element, dict):
            if element.get("type") == "TextBlock":
                assert not any(c in element["text"] for c in "*_[]`#<>"), element["text"]
            for value in element.values():
                walk(value)
        elif isinstance(element, list):
            for value in element:
                walk(value)

    walk(card)


# -- the idea card -------------------------------------------------------------------------------------------------


def test_the_idea_card_shows_the_idea_who_suggested_it_its_status_and_backers_and_the_buttons_anyone_can_press():
    card = idea_card(change(), names)
    assert_valid(card)
    no_markdown_for_user_text(card)
    shown = text_of(card)
    assert "A shared template for visit notes" in shown
    assert "Everyone writes them from scratch" in shown
    assert "Suggested by Alice Ames" in shown and "Owner: nobody yet" in shown
    assert "2 backers" in shown and "within the team's gift" in shown
    assert "Bob Bell" not in shown  # backers are counted, never named, as on Slack

    offered = buttons(card)
    assert set(offered) == {"Back this (2)", "I'll take this on", "Set status"}
    back, take, status = offered["Back this (2)"], offered["I'll take this on"], offered["Set status"]
    assert back["type"] == take["type"] == status["type"] == "Action.Execute"
    assert back["verb"] == "change_back" and back["data"] == {"action": "change_back", "change": 7}
    assert take["verb"] == "change_take" and take["data"] == {"action": "change_take", "change": 7}
    assert back["associatedInputs"] == take["associatedInputs"] == "none"
    assert status["verb"] == "change_status" and status["data"] == {"action": "change_status", "change": 7}
    assert status.get("associatedInputs", "auto") == "auto"  # the chosen status travels as data["status"]
    menu = inputs(card)["status"]
    assert menu["value"] == "idea"
    assert [c["value"] for c in menu["choices"]] == ["idea", "trying", "adopted", "parked", "dropped"]
    assert [c["title"] for c in menu["choices"]][:2] == ["Idea", "Trying it"]


def test_an_owned_idea_offers_hand_it_back_and_a_card_for_one_reader_says_unback_to_a_backer():
    owned = change(owner_id=DANI, status="trying", within_gift=False)
    shared = idea_card(owned, names)
    assert "Owner: Dani Diaz" in text_of(shared) and "needs someone outside the team" in text_of(shared)
    assert set(buttons(shared)) == {"Back this (2)", "Hand it back", "Raise with leaders", "Set status"}
    assert buttons(shared)["Hand it back"]["data"] == {"action": "change_hand_back", "change": 7}
    assert inputs(shared)["status"]["value"] == "trying"

    for_bob = idea_card(owned, names, viewer_id=BOB)  # Bob backs it and doesn't own it
    assert set(buttons(for_bob)) == {"Unback (2)", "Raise with leaders", "Set status"}  # the core says who may
    assert buttons(for_bob)["Unback (2)"]["data"] == {"action": "change_back", "change": 7}  # the same toggle
    for_dani = idea_card(owned, names, viewer_id=DANI)
    assert set(buttons(for_dani)) == {"Back this (2)", "Hand it back", "Raise with leaders", "Set status"}
    assert_valid(for_bob)


def test_an_anonymous_idea_names_nobody_and_the_names_callable_is_never_asked():
    def nobody(user_id: str) -> str:
        raise AssertionError(f"asked for a name: {user_id}")

    card = idea_card(change(suggester_id=None, backers=()), nobody)
    shown = text_of(card)
    assert "Suggested by anonymous" in shown and "0 backers" in shown
    assert not any(name in json.dumps(card) for name in NAMES.values())


def test_what_people_typed_shows_as_typed_never_as_markdown_a_link_a_date_or_a_mention():
    typed = "**Bold** [click](https://evil.example) # Heading\n- item <at>Bob</at> &amp; {{DATE(2026-01-01T00:00:00Z)}}"
    card = idea_card(change(text=typed, obstacle="_under_ <b>x</b>"), names)
    assert_valid(card)
    no_markdown_for_user_text(card)
    runs = [r["text"] for block in card["body"] if block["type"] == "RichTextBlock" for r in block["inlines"]]
    assert typed.replace("{{", "{\u200b{") in runs  # a TextRun reads no markdown; the date function is defused
    assert "_under_ <b>x</b>" in runs
    assert typed in text_of(card)  # the console shows exactly what was typed


def test_a_very_long_idea_is_cut_on_its_card_and_in_lists():
    long = "word " * 2000
    card = idea_card(change(text=long, obstacle=None), names)
    assert len(json.dumps(card)) < 28_000
    assert "…" in text_of(card)
    listing = change_list("Open small changes", [change(id=i, text=long) for i in range(30)], "None", names)
    assert len(json.dumps(listing)) < 28_000
    assert "…and 10 more." in text_of(listing)
    assert_valid(listing)


def test_the_change_list_shows_each_idea_its_status_backers_and_owner_or_says_it_is_empty():
    listing = change_list(
        "Your small changes",
        [change(), change(id=8, text="Fewer meetings", owner_id=CAROL, status="adopted", backers=(BOB,))],
        "You haven't suggested, owned or backed a change yet.",
        names,
    )
    assert_valid(listing)
    no_markdown_for_user_text(listing)
    shown = text_of(listing)
    assert shown.splitlines()[0] == "Your small changes"
    assert "Idea · 2 backers · no owner yet" in shown
    assert "Fewer meetings" in shown and "Adopted · 1 backer · owner Carol Cho" in shown
    assert buttons(listing) == {}
    assert change_list("List", [change(owner_id=CAROL)], "x")["body"]  # without names, nobody is named
    assert "has an owner" in text_of(change_list("List", [change(owner_id=CAROL)], "x"))

    empty = change_list("Open small changes", [], 'No open ideas yet. Suggest one: send me "smallchange your idea".')
    assert 'No open ideas yet. Suggest one: send me "smallchange your idea".' in text_of(empty)
    assert_valid(empty)


# -- nudges --------------------------------------------------------------------------------------------------------


def test_a_nudge_offers_the_five_answers_each_carrying_its_send_id():
    card = nudge_card("Who made your week easier?", 42)
    assert_valid(card)
    shown = text_of(card)
    assert "Who made your week easier?" in shown
    assert "[Suggest a change] [Thank someone] [Not this week] [Fewer of these] [Stop]" in shown
    offered = buttons(card)
    expected = {
        "Suggest a change": "nudge_suggest",
        "Thank someone": "nudge_thank",
        "Not this week": "nudge_snooze",
        "Fewer of these": "nudge_fewer",
        "Stop": "nudge_stop",
    }
    for title, action in expected.items():
        assert offered[title]["data"]["action"] == action
        assert offered[title]["data"]["send"] == 42
    for title in ("Not this week", "Fewer of these", "Stop"):  # answered at once
        assert offered[title]["type"] == "Action.Execute" and offered[title]["verb"] == expected[title]
    for title in ("Suggest a change", "Thank someone"):  # these open a form, as the Slack ones open a modal
        assert offered[title]["type"] == "Action.Submit"
        assert offered[title]["data"]["msteams"] == {"type": "task/fetch"}
        assert offered[title]["data"]["dialog_id"] == expected[title]
    assert offered["Stop"]["style"] == "destructive"


def test_the_stop_check_asks_once_with_two_answers_and_the_answer_card_offers_a_way_back():
    card = stop_check_card(9)
    assert_valid(card)
    assert "Shall I stop?" in text_of(card)
    offered = buttons(card)
    assert {t: b["data"] for t, b in offered.items()} == {
        "Yes, stop": {"action": "nudge_stop_yes", "send": 9},
        "Keep them coming": {"action": "nudge_stop_no", "send": 9},
    }
    stopped = nudge_answer_card("Done: no more nudges.", 9, stopped=True)
    assert buttons(stopped)["Start again"]["data"] == {"action": "nudge_resume", "send": 9}
    assert buttons(nudge_answer_card("Not this week, then.", 9, stopped=False)) == {}
    assert_valid(stopped)


# -- digests -------------------------------------------------------------------------------------------------------


class Directory:
    """Who may read where: the digest channel is public; casework has Alice and Bob only."""

    def audience(self, team: Team, channel_id: str) -> Audience:
        if channel_id == DIGEST_CHANNEL:
            return Audience(public=True)
        if channel_id == CASEWORK:
            return Audience(members=frozenset({ALICE, BOB}))
        raise PlatformUnavailable("channel_not_found")


def a_digest(**overrides) -> Digest:
    fields = dict(
        period="1w151",
        start=date(2026, 11, 16),
        end=date(2026, 11, 23),
        people=6,
        names=NAMES,
        thanks=5,
        private=1,
        givers=4,
        receivers=4,
        values=(("supportive", 3), ("honest", 1)),
        outside=(("family", 2),),
        candidates=(
            Highlight(BOB, (FRAN,), "the Hendersons' review", ("honest",), None, CASEWORK),
            Highlight(CAROL, (BOB,), "the duty cover **at short notice**", ("supportive",), None, DIGEST_CHANNEL),
            Highlight(DANI, (ALICE,), "a kind word from the Smiths", (), "family", DIGEST_CHANNEL),
        ),
        thanked_by_peers=(Thanked(GEO, 3), Thanked(ALICE, 1), Thanked(FRAN, 1)),
        unthanked=(GEO, DANI),
        new=2,
        backed=3,
        owned=1,
        trying=1,
        adopted=(ChangeLine(5, "Shared rota", "adopted", FRAN, CAROL),),
        stuck=(
            ChangeLine(7, "One duty phone", "trying", DANI, None, "being tried, no news for 40 days"),
            ChangeLine(8, "A quiet room", "idea", None, GEO, "no owner after 21 days"),
        ),
        stuck_total=7,
        nudges=12,
        arms=(ArmReport("everyone", 6, 12, 6, 1, 1, 0, 3, 2),),
    )
    return Digest(**{**fields, **overrides})


def test_a_managers_digest_names_people_and_offers_a_personal_thank_you_and_a_reminder():
    digest = a_digest()
    copy = manager_copy(digest, ALICE, ChannelReaders(Directory(), TEAM))
    card = digest_card(copy, names)
    assert_valid(card)
    no_markdown_for_user_text(card)
    shown = text_of(card)
    assert shown.splitlines()[0] == "Team digest: 16 Nov–22 Nov 2026"
    assert "5 thank-yous from 4 people to 4 people. 1 of them private." in shown
    assert "Values most recognised: supportive (3) · honest (1)" in shown
    assert "2 passed on from outside the team: 2 from families." in shown
    assert "Bob Bell thanked Fran Fox" in shown and "the Hendersons' review" in shown  # Alice may read casework
    assert "the duty cover **at short notice**" in shown  # as typed, in a TextRun
    assert "Dani Diaz passed on thanks from a family to Alice Ames" in shown and "Smiths" in shown
    assert "• Shared rota (suggested by Carol Cho, owned by Fran Fox)" in shown
    assert "Stuck (7):" in shown and 'send me "list"' in shown
    assert "Everyone (6 people): 12 nudges, 50% answered within 48 h" in shown
    assert "Geo Gale: 3 times" in shown and "No thanks in 8 weeks: Geo Gale and Dani Diaz." in shown
    assert "Private thank-yous are counted here, never quoted or named." in shown

    offered = {(t, json.dumps(b["data"], sort_keys=True)) for t, b in _all_buttons(card)}
    remind = ("Remind the owner", json.dumps({"action": "digest_remind", "change": 7}, sort_keys=True))
    take = ("I'll take this on", json.dumps({"action": "digest_take", "change": 8}, sort_keys=True))
    assert remind in offered and take in offered
    thank = [b for t, b in _all_buttons(card) if t == "Send a personal thank-you"]
    # Geo and Fran, but not Alice herself: offer_thanks is the core's answer
    assert sorted(b["data"]["person"] for b in thank) == sorted([GEO, FRAN])
    assert all(b["data"]["period"] == "1w151" and b["data"]["action"] == "digest_personal_thanks" for b in thank)
    assert all(b["type"] == "Action.Submit" and b["data"]["msteams"] == {"type": "task/fetch"} for b in thank)


def _all_buttons(card: dict) -> list[tuple[str, dict]]:
    found = []

    def walk(element):
        if isinstance(element, dict):
            if element.get("type", "").startswith("Action."):
                found.append((element["title"], element))
            for value in element.values():
                walk(value)
        elif isinstance(element, list):
            for value in element:
                walk(value)

    walk(card)
    return found


def test_the_channels_digest_names_only_the_people_in_its_copy_and_never_asks_for_a_name():
    digest = a_digest()
    copy = channel_copy(digest, DIGEST_CHANNEL)

    def nobody(user_id: str) -> str:
        raise AssertionError(f"the channel's card asked for a name: {user_id}")

    card = digest_card(copy, nobody)
    assert_valid(card)
    shown = json.dumps(card, ensure_ascii=False) + text_of(card)
    for user_id, name in NAMES.items():
        if user_id not in copy.names:
            assert name not in shown, name
    assert GEO in copy.names  # the stuck change's owner is named in its line, as the core decided
    assert "Hendersons" not in shown  # said in casework, not in this channel
    assert "Carol Cho thanked Bob Bell" in shown
    assert "Thanked by colleagues" not in shown and "No thanks in 8 weeks" not in shown
    assert not any(t == "Send a personal thank-you" for t, _ in _all_buttons(card))
    assert {t for t, _ in _all_buttons(card)} == {"Remind the owner", "I'll take this on"}  # as on Slack


def test_a_channel_copy_that_lacks_a_name_says_a_former_colleague():
    copy = channel_copy(a_digest(), DIGEST_CHANNEL)
    stripped = type(copy)(**{**copy.__dict__, "names": {}})
    shown = text_of(digest_card(stripped, names))
    assert "a former colleague thanked a former colleague" in shown
    assert not any(name in shown for name in NAMES.values())


def test_a_small_teams_digest_names_nobody_and_says_why():
    small = a_digest(people=4, thanked_by_peers=(), unthanked=(), stuck=(), stuck_total=0, adopted=())
    card = digest_card(manager_copy(small, ALICE, ChannelReaders(Directory(), TEAM)), names)
    shown = text_of(card)
    assert "fewer than 5 people, so nobody is named" in shown
    assert not any(t == "Send a personal thank-you" for t, _ in _all_buttons(card))
    quiet = a_digest(thanks=0, nudges=0, candidates=(), values=(), outside=(), arms=())
    shown = text_of(digest_card(channel_copy(quiet, DIGEST_CHANNEL), names))
    assert "Thanks: none this week." in shown and "Nudges: none went out." in shown


def test_an_erased_person_reads_as_a_former_colleague_on_a_managers_digest():
    gone = FORMER_PREFIX + "1"
    digest = a_digest(thanked_by_peers=(Thanked(gone, 2),), unthanked=(), people=6)
    shown = text_of(digest_card(manager_copy(digest, ALICE, ChannelReaders(Directory(), TEAM)), names))
    assert "a former colleague: 2 times" in shown


# -- Home ----------------------------------------------------------------------------------------------------------


def a_home(**overrides) -> HomePage:
    fields = dict(
        user_id=ALICE,
        received=(
            ThanksLine(
                BOB,
                (ALICE, CAROL),
                "covering the duty phone",
                ("supportive",),
                False,
                None,
                datetime(2026, 11, 23, 23, 30, tzinfo=UTC),
            ),
            ThanksLine(DANI, (ALICE,), "kind words for the team", (), True, "family", datetime(2026, 11, 20, 9, 0)),
        ),
        received_total=12,
        given=(ThanksLine(ALICE, (FRAN,), "the rota", (), False, None, datetime(2026, 11, 19, 9, 0, tzinfo=UTC)),),
        given_total=4,
        ideas=(change(), change(id=8, text="Fewer meetings", suggester_id=BOB, owner_id=ALICE, backers=(ALICE,))),
        ideas_total=3,
        top=(change(id=9, text="A quiet room", owner_id=CAROL),),
        nudges=PersonState(
            ALICE,
            tz="Europe/Berlin",
            cadence="monthly",
            snoozed_until=date(2026, 12, 1),
            alternate_day_off=date(2026, 11, 20),
        ),
        team_cadence="fortnightly",
        today=date(2026, 11, 24),
    )
    return HomePage(**{**fields, **overrides})


def test_home_shows_thanks_received_and_given_ideas_the_teams_top_ideas_and_nudge_settings():
    card = home_card(a_home(), names)
    assert_valid(card)
    no_markdown_for_user_text(card)
    shown = text_of(card)
    assert "Thanks you've received (12)" in shown
    assert "From Bob Bell (to you and Carol Cho) · 24 Nov 2026" in shown  # 23:30 UTC is the 24th in Berlin
    assert "covering the duty phone" in shown and "Values: supportive" in shown
    assert "From a family, passed on by Dani Diaz · 20 Nov 2026 · 🔒 private" in shown
    assert "And 10 more before these." in shown
    assert "You've given 4 thank-yous. The latest:" in shown and "To Fran Fox · 19 Nov 2026" in shown
    assert "Idea · you suggested it · 2 backers · no owner yet" in shown
    assert "Idea · you back it · 1 backer · you own it" in shown
    assert 'And 1 more: send me "mine".' in shown
    assert "1. A quiet room" in shown and "owner Carol Cho" in shown
    assert "How often: Monthly at most (your choice; the team's is fortnightly)" in shown
    assert "Alternate day off: every other Friday, next on Friday 4 December" in shown
    assert "Snoozed until: Tuesday 1 December" in shown
    offered = buttons(card)
    assert set(offered) == {"Suggest a change", "Thank someone", "Change my nudges"}
    assert [offered[t]["data"]["dialog_id"] for t in offered] == ["home_suggest", "home_thank", "home_my_nudges"]
    assert all(
        b["type"] == "Action.Submit" and b["data"]["msteams"] == {"type": "task/fetch"} for b in offered.values()
    )


def test_an_empty_home_says_what_will_show_there_in_teams_words():
    page = a_home(
        received=(),
        received_total=0,
        given=(),
        given_total=0,
        ideas=(),
        ideas_total=0,
        top=(),
        nudges=PersonState(ALICE, opted_out=True),
    )
    card = home_card(page, names)
    assert_valid(card)
    shown = text_of(card)
    assert "No thanks yet." in shown and 'send me "thanks @name for …"' in shown
    assert "How often: Off: no nudges from me" in shown and "Alternate day off: none" in shown
    assert "Snoozed: no" in shown


# -- the thanks form -----------------------------------------------------------------------------------------------


def test_the_thanks_form_asks_who_what_for_whether_from_outside_and_whether_private():
    form = thanks_form(500)
    assert_valid(form)
    fields = inputs(form)
    assert set(fields) == {"who", "source", "reason", "private"}
    who = fields["who"]
    assert who["choices.data"] == {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    assert who["isMultiSelect"] is True and who["isRequired"] is True and who["choices"] == [] and "value" not in who
    assert [c["value"] for c in fields["source"]["choices"]] == ["family", "young person", "agency"]
    assert fields["source"]["placeholder"] == "No, it's from me"
    reason = fields["reason"]
    assert reason["maxLength"] == 500 and reason["isMultiline"] is True and reason["isRequired"] is True
    assert fields["private"]["valueOn"] == "true" and fields["private"]["value"] == "false"
    (send,) = form["actions"]
    assert send["type"] == "Action.Submit" and send["title"] == "Send thanks"
    assert send["data"] == {"action": "thanks_form"}


def test_a_thanks_form_from_a_message_is_prefilled_with_its_author_the_text_and_the_link():
    link = "https://teams.microsoft.com/l/message/19:abc/1700000000000"
    form = thanks_form(1000, recipient=(BOB, "Bob Bell"), prefill="the handover notes", link=link)
    assert_valid(form)
    who = inputs(form)["who"]
    assert who["value"] == BOB and who["choices"] == [{"title": "Bob Bell", "value": BOB}]
    assert inputs(form)["reason"]["value"] == "the handover notes"
    submit, see = form["actions"]
    assert submit["data"] == {"action": "thanks_form", "link": link}
    assert see["type"] == "Action.OpenUrl" and see["url"] == link
    shown = card_as_text(form)
    assert "Who would you like to thank?: Bob Bell (search for people)" in shown
    assert "What for?: [the handover notes]" in shown
    assert "[ ] Keep it private: only you and they will see it" in shown
    assert shown.splitlines()[-1] == "[Send thanks] [See the message]"


# -- everywhere ----------------------------------------------------------------------------------------------------


SAID = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def adopted(**overrides) -> ChangeView:
    """An adopted change whose owner said how much time it frees, in words with card syntax in them."""
    freed = TimeFreed(30, 6, None, "{{DATE(2026-11-24T10:30:00Z)}} *notes* [once]", BOB, SAID)
    return change(**{"status": "adopted", "owner_id": BOB, "time_freed": freed, **overrides})


def a_quarter() -> TimeFreedSum:
    biggest = (FreedChange(7, "A shared template for visit notes", adopted().time_freed),)
    return TimeFreedSum("Q4 2026", adopted=3, weekly=180, timed=1, not_time=(("safer", 1),), biggest=biggest)


def an_impact() -> Impact:
    weeks = tuple(date(2026, 9, 7) + timedelta(weeks=n) for n in range(12))
    thanks = Series("Thanks given", (0, 2, 4, 6, 8, 10, 12, 14, 14, 14, 14, 14))
    hours = Series("Time freed", (0,) * 11 + (3,), unit="hours a week")
    return Impact(a_quarter(), Trends(weeks, (thanks, hours)), datetime(2026, 10, 1, tzinfo=UTC))


def test_an_adopted_card_shows_the_time_it_frees_and_asks_whoever_just_adopted_it():
    plain = idea_card(change(), names)
    assert "Time freed" not in text_of(plain) and "How much time does it free?" not in buttons(plain)
    unanswered = idea_card(adopted(time_freed=None), names, viewer_id=BOB, ask_time=True)
    assert_valid(unanswered)
    assert "🎉 Adopted. How much time does it free?" in text_of(unanswered)
    assert "⏳ Time freed: not said yet" in text_of(unanswered)
    ask = buttons(unanswered)["How much time does it free?"]
    assert ask["type"] == "Action.Submit" and ask["data"]["dialog_id"] == "change_time_freed" == ask["data"]["action"]
    answered = idea_card(adopted(), names)
    no_markdown_for_user_text(answered)
    assert "🎉" not in text_of(answered) and "Change time freed" in buttons(answered)
    assert (
        "⏳ Time freed: 30 minutes a week for each of 6 people (about 3 hours a week in all): "
        "{{DATE(2026-11-24T10:30:00Z)}} *notes* [once]" in text_of(answered)
    ), "shown as typed: no date function, no markdown"


def test_the_time_freed_form_asks_minutes_people_or_what_else_and_starts_from_the_latest_answer():
    form = time_freed_form(adopted())
    assert_valid(form)
    no_markdown_for_user_text(form)
    asked = inputs(form)
    assert (asked["minutes"]["min"], asked["minutes"]["max"], asked["minutes"]["value"]) == (1, 2400, 30)
    assert (asked["people"]["min"], asked["people"]["max"], asked["people"]["value"]) == (1, 500, 6)
    assert [c["value"] for c in asked["benefit"]["choices"]] == ["safer", "kinder", "clearer", "other"]
    assert asked["note"]["maxLength"] == 300 and asked["note"]["value"].startswith("{{DATE")
    (save,) = form["actions"]
    assert save["data"] == {"action": "time_freed_form", "change": 7}


def test_the_admin_form_and_home_show_time_freed_and_the_admin_form_the_trends():
    settings = admin_form(WorkspaceConfig(), names, None, impact=an_impact())
    assert_valid(settings)
    assert (
        "⏳ Time freed, Q4 2026: 3 changes adopted this quarter, about 3 hours a week freed across the team "
        "(1 not about time: safer; 1 not yet said)." in text_of(settings)
    )
    assert "• A shared template for visit notes: 30 minutes a week for each of 6 people" in text_of(settings)
    assert "📈 Twelve weeks, 7 Sep–29 Nov 2026" in text_of(settings)
    assert "▁▂▃▄▅▆▇█████  Thanks given: 14 in the last week, 112 in twelve weeks" in text_of(settings)
    assert "Time freed: 3 hours a week by the last week's adoptions, 3 hours a week by the twelve weeks'" in text_of(
        settings
    )
    home = home_card(a_home(adopted=(adopted(),)), names)
    assert_valid(home)
    assert "Your adopted changes: time freed" in text_of(home) and "Change time freed" in buttons(home)
    assert "Your adopted changes" not in text_of(home_card(a_home(), names))


def every_card() -> list[dict]:
    readers = ChannelReaders(Directory(), TEAM)
    return [
        idea_card(change(), names),
        change_list("Open small changes", [change()], "none", names),
        nudge_card("Who made your week easier?", 1),
        stop_check_card(1),
        nudge_answer_card("Stopped.", 1, stopped=True),
        digest_card(manager_copy(a_digest(), ALICE, readers), names),
        digest_card(channel_copy(a_digest(), DIGEST_CHANNEL), names),
        home_card(a_home(), names),
        thanks_form(1000, recipient=(BOB, "Bob Bell"), link="https://teams.microsoft.com/l/message/1"),
        personal_thanks_form(PeerThanks(GEO, "Geo, colleagues said thank you for the rota."), "Geo Gale", 1000),
        idea_card(adopted(), names, viewer_id=BOB, ask_time=True),
        time_freed_form(adopted()),
        home_card(a_home(adopted=(adopted(),)), names),
        admin_form(WorkspaceConfig(), names, "19:here@thread.tacv2", impact=an_impact()),
    ]


@pytest.mark.parametrize("index", range(14))
def test_no_card_carries_slack_syntax_or_mentions_and_each_is_a_valid_adaptive_card(index):
    card = every_card()[index]
    assert_valid(card)
    raw = json.dumps(card, ensure_ascii=False)
    assert not any(s in raw for s in SLACK_SYNTAX), [s for s in SLACK_SYNTAX if s in raw]
    assert "mention" not in raw.lower() and "<at>" not in raw
    assert len(raw.encode()) < 28_000
    for _, button in _all_buttons(card):
        if button["type"] in ("Action.Execute", "Action.Submit"):
            assert isinstance(button["data"]["action"], str)
        if button["type"] == "Action.Execute":
            assert button["verb"] == button["data"]["action"]


def test_card_as_text_lists_the_text_the_inputs_and_the_buttons():
    assert card_as_text(idea_card(change(), names)) == "\n".join(
        [
            "💡 Small change",
            "A shared template for visit notes",
            "What gets in the way today:",
            "Everyone writes them from scratch",
            "Suggested by Alice Ames · Status: Idea · Owner: nobody yet · 2 backers · within the team's gift",
            "[Back this (2)] [I'll take this on]",
            "Status: (•) Idea  ( ) Trying it  ( ) Adopted  ( ) Parked  ( ) Dropped",
            "[Set status]",
        ]
    )
    digest = card_as_text(digest_card(manager_copy(a_digest(), ALICE, ChannelReaders(Directory(), TEAM)), names))
    assert "One duty phone (owned by Dani Diaz)\nbeing tried, no news for 40 days  [Remind the owner]" in digest
    assert "Geo Gale: 3 times  [Send a personal thank-you]" in digest
    stored = {
        "type": "AdaptiveCard",
        "body": [
            {"type": "TextBlock", "text": "On {{DATE(2026-11-24T10:30:00Z, SHORT)}}"},
            {"type": "FactSet", "facts": [{"title": "Owner", "value": "Bob"}]},
            {"type": "Container", "items": [{"type": "Input.Toggle", "id": "x", "title": "Yes", "value": "true"}]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open", "url": "https://example.org"}],
    }
    assert card_as_text(stored) == "On 24 Nov 2026\nOwner: Bob\n[x] Yes\n[Open]"


def test_a_leaders_personal_thank_you_form_starts_from_the_draft_and_names_the_person():
    form = personal_thanks_form(PeerThanks(GEO, "Geo, thank you for *the rota*."), "Geo Gale", 800)
    assert_valid(form)
    no_markdown_for_user_text(form)
    message = inputs(form)["message"]
    assert message["value"] == "Geo, thank you for *the rota*." and message["maxLength"] == 800
    assert "A thank-you to Geo Gale from you, by name." in card_as_text(form)
    (send,) = form["actions"]
    assert send["type"] == "Action.Submit" and send["data"] == {"action": "personal_thanks_form", "person": GEO}


def test_a_digest_says_how_many_stuck_changes_it_left_out():
    many = tuple(ChangeLine(i, f"Stuck idea {i}", "idea", None, None, "no owner after 21 days") for i in range(5))
    shown = text_of(digest_card(channel_copy(a_digest(stuck=many, stuck_total=9), DIGEST_CHANNEL), names))
    assert "Stuck idea 4" in shown and '…and 4 more: send me "list"' in shown
    shown = text_of(digest_card(channel_copy(a_digest(stuck_total=2), DIGEST_CHANNEL), names))
    assert "more: send me" not in shown


def test_a_digest_says_what_the_cadence_experiment_shows_so_far():
    arms = (ArmReport("weekly", 12, 12, 6, 0, 6, 0, 0, 0), ArmReport("fortnightly", 14, 12, 12, 0, 0, 0, 0, 0))
    verdict = (
        "clear difference: fortnightly's people answered 50 points more often than weekly's "
        "(95% interval 19 to 71 points)"
    )
    digest = a_digest(arms=arms, verdict=verdict)
    card = digest_card(channel_copy(digest, DIGEST_CHANNEL), names)
    assert_valid(card)
    shown = text_of(card)
    assert "Weekly arm (12 people): 12 nudges, 50% answered within 48 h" in shown
    assert f"The experiment so far: {verdict}." in shown
