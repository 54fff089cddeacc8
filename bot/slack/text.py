"""Slack text in and out: read command text as neutral tokens and plain text, and render stored text so it cannot ping.

Stored text is plain (what a person would read): `<@U1|bob>` becomes "@bob", `<!here>` becomes
"@here", `&amp;` becomes "&". Rendering escapes &, < and >, so nothing a user typed can become
Slack markup again: no @channel, @here, @everyone or user-group pings, whatever they wrote.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime

from bot.core.grammar import EveryoneMention, GroupMention, PersonMention, Token, Words
from bot.core.ports import FORMER_COLLEAGUE, is_former_colleague

MARKUP = re.compile(r"<([^<>]*)>")
TOKEN = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>|<!([^|>]+)(?:\|[^>]*)?>")  # a person, or <!here>, <!subteam^…>
EVERYONE = ("here", "channel", "everyone")

NameOf = Callable[[str], str]


def plain(text: str, name_of: NameOf | None = None) -> str:
    """Slack-formatted text (as commands deliver it) to plain text a person would read."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (label or (name_of(user_id) if name_of else user_id))
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!subteam^"):
            return label or "@group"
        if target.startswith("!date^"):
            return label or ""
        if target.startswith("!"):
            return "@" + target[1:]
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(MARKUP.sub(replace, text))


def tokens(text: str, name_of: NameOf | None = None) -> list[Token]:
    """Slack's escaped command text as neutral tokens: people, user groups and @here, @channel or @everyone as
    themselves, everything between them as plain words (a formatted date is words too)."""
    found: list[Token] = []
    start = 0
    for match in TOKEN.finditer(text):
        user_id, label, special = match.groups()
        if special and special.startswith("date^"):
            continue
        if match.start() > start:
            found.append(Words(plain(text[start : match.start()], name_of)))
        if user_id:
            found.append(PersonMention(user_id, label or (name_of(user_id) if name_of else None)))
        elif special in EVERYONE:
            found.append(EveryoneMention(plain(match.group(0))))
        else:
            found.append(GroupMention(plain(match.group(0))))
        start = match.end()
    if start < len(text):
        found.append(Words(plain(text[start:], name_of)))
    return found


def escape(text: str) -> str:
    """Plain text to Slack mrkdwn that shows exactly those characters and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A person in a message: a mention Slack renders as their name, or "a former colleague" once they were erased."""
    return FORMER_COLLEAGUE if is_former_colleague(user_id) else f"<@{user_id}>"


def date(at: datetime) -> str:
    """A day Slack shows in the reader's own timezone (and as it was in UTC where it can't)."""
    return f"<!date^{int(at.timestamp())}^{{date_short}}|{at:%-d %b %Y}>"


def quote(text: str) -> str:
    """A block quote of plain text, every line quoted."""
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


CONVERSATION = re.compile(r"[CDG][A-Z0-9]{2,20}")


def conversation_id(value: object) -> str | None:
    """A Slack channel, DM or group id as Slack writes them (C…, D…, G…), else None: a value that came back from
    a form is never trusted to be one."""
    return value if isinstance(value, str) and CONVERSATION.fullmatch(value) else None
