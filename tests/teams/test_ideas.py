"""Small changes in Teams: the idea card, and its buttons pressed by several people, through the real Teams app."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot.store.models import Change
from tests.teams.conftest import ALICE, BOB, CAROL, CHANNEL, button_titles


def card_text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def posted_change(store) -> Change:
    with store.session() as s:
        return s.scalars(select(Change)).one()


def test_an_idea_in_a_channel_posts_its_card_there_with_its_buttons(teams, store):
    assert teams.say("smallchange one shared template for visit notes") == 200
    [card] = teams.cards()
    assert "one shared template for visit notes" in card_text(card)
    assert {"Back this (0)", "I'll take this on", "Set status"} <= set(button_titles(card))
    change = posted_change(store)
    assert (change.channel_id, change.suggester_id) == (CHANNEL, ALICE["aadObjectId"])
    assert change.message_ts  # the card's activity id, to update it in place


def test_backing_and_taking_on_update_the_card_for_the_clicker_and_in_place_for_everyone(teams, store):
    teams.say("smallchange one shared template for visit notes")
    card_id = posted_change(store).message_ts
    shown = teams.press("change_back", sender=BOB, card=card_id, change=posted_change(store).id)
    assert shown["type"] == "application/vnd.microsoft.card.adaptive"
    assert "1 backer" in card_text(shown["value"]) and "Unback (1)" in button_titles(shown["value"])
    teams.press("change_take", sender=CAROL, card=card_id, change=posted_change(store).id)
    updates = teams.connector.sent("PUT", f"/activities/{card_id}")
    assert len(updates) == 2
    latest = updates[-1].body["attachments"][0]["content"]
    assert "Carol Example" in card_text(latest) and "1 backer" in card_text(latest)
    assert posted_change(store).owner_id == CAROL["aadObjectId"]


def test_a_refused_click_is_told_to_the_clicker_alone_and_changes_nothing(teams, store):
    teams.say("smallchange one shared template for visit notes")
    change = posted_change(store)
    teams.press("change_take", sender=CAROL, card=change.message_ts, change=change.id)
    refused = teams.press("change_hand_back", sender=BOB, card=change.message_ts, change=change.id)
    assert refused["type"] == "application/vnd.microsoft.activity.message"
    assert refused["value"].startswith("Only the owner can hand this change back, and that's Carol Example")
    moved = teams.press("change_status", sender=BOB, card=change.message_ts, change=change.id, status="adopted")
    assert moved["type"] == "application/vnd.microsoft.activity.message"
    assert posted_change(store).status == "idea" and posted_change(store).owner_id == CAROL["aadObjectId"]
    assert len(teams.connector.sent("PUT", f"/activities/{change.message_ts}")) == 1  # Carol's take only


def test_a_forged_change_id_is_refused_politely(teams):
    shown = teams.press("change_back", sender=BOB, card="1", change="1; DROP TABLE changes")
    assert shown["value"] == "I couldn't tell which idea that button belongs to."


def test_an_anonymous_idea_names_nobody_and_stores_no_suggester(teams, store):
    teams.say("smallchange anon fewer meetings on Mondays")
    [card] = teams.cards()
    assert "anonymous" in card_text(card) and "Alice" not in card_text(card)
    assert posted_change(store).suggester_id is None
    assert teams.replies()[-1].startswith("🕵️ Posted anonymously")


def test_list_shows_the_open_ideas_as_a_card(teams):
    teams.say("smallchange one shared template for visit notes")
    teams.say("list", where="personal")
    [listing] = teams.cards("personal")
    assert "Open small changes" in card_text(listing) and "one shared template" in card_text(listing)
