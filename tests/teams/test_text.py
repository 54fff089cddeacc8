"""Teams message text and its mention entities, read as the same neutral tokens the core's grammar reads."""

from bot.core.grammar import EveryoneMention, GroupMention, PersonMention, Words, read_thanks
from bot.teams.text import Mentioned, escape, plain, tokens

BOT = "28:bot-app-id"
BOB = Mentioned("<at>Bob Example</at>", "29:bob", "Bob Example")
CAROL = Mentioned("<at>Carol</at>", "29:carol", "Carol")
ME = Mentioned("<at>Small Changes</at>", BOT, "Small Changes")


def test_a_channel_message_drops_the_bots_own_mention_and_keeps_people():
    text = "<at>Small Changes</at> thanks <at>Bob Example</at> and <at>Carol</at> for the review\n"
    assert tokens(text, [ME, BOB, CAROL], BOT) == [
        Words(" thanks "),
        PersonMention("29:bob", "Bob Example"),
        Words(" and "),
        PersonMention("29:carol", "Carol"),
        Words(" for the review\n"),
    ]


def test_the_grammar_reads_teams_tokens_like_slacks():
    text = "<at>Bob Example</at> <at>Carol</at> from a family: you made our week #supportive"
    read = read_thanks(tokens(text, [BOB, CAROL], BOT))
    assert read.recipient_ids == ("29:bob", "29:carol")
    assert (read.source, read.reason) == ("family", "you made our week #supportive")


def test_channel_and_tag_mentions_are_not_people():
    channel = Mentioned("<at>General</at>", "19:general@thread.tacv2", "General")
    tag = Mentioned("<at>Fostering</at>", "MjQ1Yjc3ZmQtdGFn", "Fostering")
    assert tokens("<at>General</at> <at>Fostering</at>", [channel, tag], BOT) == [
        EveryoneMention("@General"),
        Words(" "),
        GroupMention("@Fostering"),
    ]
    assert read_thanks(tokens("<at>Fostering</at> for the week", [tag], BOT)).groups == ("@Fostering",)


def test_an_at_tag_with_no_entity_is_only_words_and_names_nobody():
    read = read_thanks(tokens("<at>Bob</at> for the visit", [], BOT))
    assert read.recipient_ids == ()
    assert read.unresolved_names == ("@Bob",)


def test_the_same_name_twice_takes_its_entities_in_order():
    other_bob = Mentioned("<at>Bob Example</at>", "29:other-bob", "Bob Example")
    found = tokens("<at>Bob Example</at> <at>Bob Example</at> for cover", [BOB, other_bob], BOT)
    assert [t.user_id for t in found if isinstance(t, PersonMention)] == ["29:bob", "29:other-bob"]


def test_html_from_a_formatted_message_becomes_plain_text():
    assert plain("<p>one&nbsp;<b>shared</b> diary &amp; notes</p><p>next</p>") == "one shared diary & notes\nnext\n"


def test_stored_text_is_shown_as_typed_not_as_markup():
    assert escape("<at>Everyone</at> & <b>bold</b>") == "&lt;at&gt;Everyone&lt;/at&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
