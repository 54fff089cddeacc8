"""Reading command text as Slack delivers it, and rendering user text so that it cannot ping anyone."""

from bot.core.grammar import EveryoneMention, GroupMention, PersonMention, Words
from bot.slack.text import escape, plain, quote, tokens


def test_people_are_read_as_mentions_with_the_name_slack_gave():
    assert tokens("private <@U1|bob>, <@W2> and &amp; more") == [
        Words("private "),
        PersonMention("U1", "bob"),
        Words(", "),
        PersonMention("W2"),
        Words(" and & more"),
    ]


def test_a_mention_without_a_name_is_named_from_the_directory_when_asked():
    assert tokens("<@U1>", name_of={"U1": "Bob"}.get) == [PersonMention("U1", "Bob")]


def test_user_groups_and_here_channel_everyone_are_read_as_what_they_are():
    assert tokens("<!here> <!channel|@channel> <!everyone> <!subteam^S1|@fostering>") == [
        EveryoneMention("@here"),
        Words(" "),
        EveryoneMention("@channel"),
        Words(" "),
        EveryoneMention("@everyone"),
        Words(" "),
        GroupMention("@fostering"),
    ]


def test_channels_links_and_dates_are_plain_words():
    text = "for <#C1|general> <https://example.org|the form> <!date^1700000000^{date}|Nov 14> &lt;b&gt;"
    assert tokens(text) == [Words("for #general the form (https://example.org) Nov 14 <b>")]


def test_typed_names_slack_did_not_resolve_stay_words():
    assert tokens("@bob for the cover") == [Words("@bob for the cover")]


def test_slack_markup_becomes_plain_readable_text():
    text = "<!channel> &amp; <#C1|general> <https://example.org|the form> <!date^1700000000^{date}|Nov 14> &lt;b&gt;"
    assert plain(text) == "@channel & #general the form (https://example.org) Nov 14 <b>"


def test_rendered_text_has_no_markup_left():
    rendered = escape(plain("<!here> <!everyone> <@U1|bob> &lt;!channel&gt;"))
    assert "<" not in rendered and ">" not in rendered
    assert rendered == "@here @everyone @bob &lt;!channel&gt;"


def test_every_line_of_a_quote_is_quoted_and_escaped():
    assert quote("one\ntwo > three") == "> one\n> two &gt; three"
