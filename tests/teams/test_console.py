"""`python -m bot console --teams`: the real Teams bot and a fake Bot Connector in one process, played from stdin as a
newcomer types, what each person sees printed as text (cards through card_as_text)."""

from __future__ import annotations

from sqlalchemy import text

from bot.store.db import Store
from tests.test_cli import bot_env, run_bot


def play(tmp_path, *lines: str) -> str:
    result = run_bot(tmp_path, "console", "--teams", env=bot_env(tmp_path), stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr, result.stderr
    return result.stdout


def after(out: str, prompt: str) -> str:
    """What the console printed after one typed line, up to the next prompt."""
    return out.split(prompt, 1)[1].split(" in #general> ")[0].split(" in chat> ")[0]


def test_a_thanks_in_the_channel_is_posted_there_and_sent_to_bobs_chat(tmp_path):
    out = play(tmp_path, "thanks @Bob for covering my visit #supportive", "thanks @Ed for the coffee", "quit")
    said = after(out, "Alice in #general> thanks @Bob for covering my visit #supportive\n")
    assert "[#general]\n    🙏 **Alice Adeyemi** thanked **Bob Brennan**: covering my visit #supportive" in said
    assert "[Bob's chat]\n    🙏 **Alice Adeyemi** thanked you: covering my visit #supportive" in said
    assert "[#general, replying to Alice]\n    I couldn't find @Ed" in out  # not in the team: no mention, only text
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        assert s.execute(text("SELECT count(*) FROM thanks")).scalar() == 1


def test_an_idea_card_shows_as_text_with_its_buttons_and_another_person_backs_it(tmp_path):
    out = play(tmp_path, "smallchange one shared diary", "as bob", "press back this #1", "as carol", "back", "quit")
    card = after(out, "Alice in #general> smallchange one shared diary\n")
    assert card.startswith("[#general card #1]\n    💡 Small change\n    one shared diary\n")
    assert "Suggested by Alice Adeyemi · Status: Idea · Owner: nobody yet · 0 backers" in card
    assert "[Back this (0)] [I'll take this on]" in card and "[Set status]" in card

    backed = after(out, "Bob in #general> press back this #1\n")
    assert backed.startswith("[only you see this (card #1)]\n")  # the clicker's card, theirs alone
    assert "· 1 backer\n    [Unback (1)] [I'll take this on]" in backed
    assert "[#general (updated) card #1]" in backed and "[Back this (1)]" in backed  # everyone else's copy
    assert "· 2 backers" in after(out, "Carol in #general> back\n")  # the latest card


def test_a_card_in_someones_chat_is_theirs_and_what_the_bot_does_not_know_gets_its_help(tmp_path):
    lines = ("chat", "smallchange walk and talk supervision", "as dani", "take", "take #1", "dance", "help", "quit")
    out = play(tmp_path, *lines)
    assert "[Alice's chat card #1]" in out
    assert "There is no idea card you can see yet" in after(out, "Dani in chat> take\n")
    assert "Card #1 is in Alice's chat with the bot: only Alice can see it." in after(out, "Dani in chat> take #1\n")
    helped = after(out, "Dani in chat> dance\n")
    assert helped.startswith("[Dani's chat]\n    **Thank a colleague:** `thanks @name for what they did`")
    assert "`smallchange one shared template for visit notes` posts an idea card" in helped
    assert "Idea cards are numbered" in after(out, "Dani in chat> help\n")  # the console's own help


def test_an_adopted_cards_time_button_opens_the_dialog_and_only_its_owner_or_suggester_may_answer(tmp_path):
    lines = ("smallchange one shared diary", "as bob", "take", "status adopted", "time", "30", "6", "", "")
    out = play(tmp_path, *lines, "as carol", "time", "quit")
    adopted = after(out, "Bob in #general> status adopted\n")
    assert "🎉 Adopted. How much time does it free?" in adopted.split("[#general (updated) card #1]")[0]
    assert "⏳ Time freed: not said yet\n    [How much time does it free?]" in adopted
    answered = after(out, "Bob in #general> time\n")
    assert answered.startswith("-- dialog: Time freed")
    assert (
        "[only you see this]\n    Saved: 30 minutes a week for each of 6 people (about 3 hours a week in all)."
        in answered
    )
    assert "⏳ Time freed: 30 minutes a week for each of 6 people (about 3 hours a week in all)" in answered
    assert "Only its owner (Bob Brennan) or the person who suggested it (Alice Adeyemi)" in after(
        out, "Carol in #general> time\n"
    )
    with Store.from_url(f"sqlite:///{tmp_path / 'smallchanges.db'}").session() as s:
        assert s.execute(text("SELECT minutes, people FROM time_freed")).all() == [(30, 6)]


def test_a_card_number_may_come_before_the_button_as_well_as_after_it(tmp_path):
    lines = ("smallchange one shared diary", "smallchange a quiet room", "as bob", "#1 back", "#1 take", "#1 trying")
    out = play(tmp_path, *lines)
    backed = after(out, "Bob in #general> #1 back\n")
    assert "[#general (updated) card #1]" in backed and "[Back this (1)]" in backed
    assert "Owner: Bob Brennan" in after(out, "Bob in #general> #1 take\n")
    assert "Status: Trying it" in after(out, "Bob in #general> #1 trying\n")
