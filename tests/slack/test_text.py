"""Reading /thanks text as Slack delivers it, and rendering user text so that it cannot ping anyone."""

from bot.slack.text import escape, parse_thanks, plain, quote


def test_recipients_private_flag_and_reason_are_read_from_command_text():
    parsed = parse_thanks("private <@U1|bob>, <@U2|carol> and <@U3> for covering my visit")
    assert parsed.private is True
    assert parsed.recipient_ids == ("U1", "U2", "U3")
    assert parsed.reason == "covering my visit"


def test_mentions_later_in_the_reason_are_not_recipients():
    parsed = parse_thanks("<@U1|bob> for helping <@U2|carol> with the court report")
    assert parsed.recipient_ids == ("U1",)
    assert parsed.reason == "helping @carol with the court report"


def test_names_slack_could_not_resolve_are_reported():
    assert parse_thanks("@bob for the cover").unresolved_names == ("@bob",)


def test_group_and_channel_mentions_are_reported_as_groups():
    parsed = parse_thanks("<!here> <!subteam^S1|@fostering> for the week")
    assert parsed.groups == ("@here", "@fostering") and parsed.recipient_ids == ()


def test_the_word_private_only_counts_first():
    parsed = parse_thanks("<@U1|bob> for keeping it private")
    assert parsed.private is False and parsed.reason == "keeping it private"


def test_slack_markup_becomes_plain_readable_text():
    text = "<!channel> &amp; <#C1|general> <https://example.org|the form> <!date^1700000000^{date}|Nov 14> &lt;b&gt;"
    assert plain(text) == "@channel & #general the form (https://example.org) Nov 14 <b>"


def test_rendered_text_has_no_markup_left():
    rendered = escape(plain("<!here> <!everyone> <@U1|bob> &lt;!channel&gt;"))
    assert "<" not in rendered and ">" not in rendered
    assert rendered == "@here @everyone @bob &lt;!channel&gt;"


def test_every_line_of_a_quote_is_quoted_and_escaped():
    assert quote("one\ntwo > three") == "> one\n> two &gt; three"
