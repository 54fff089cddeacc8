"""Slack text in and out: parse command text into plain text, and render stored text so it cannot ping.

Stored text is plain (what a person would read): `<@U1|bob>` becomes "@bob", `<!here>` becomes
"@here", `&amp;` becomes "&". Rendering escapes &, < and >, so nothing a user typed can become
Slack markup again: no @channel, @here, @everyone or user-group pings, whatever they wrote.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.ports import FORMER_COLLEAGUE, is_former_colleague

MARKUP = re.compile(r"<([^<>]*)>")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
LEADING_RECIPIENT = re.compile(
    r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|<!([^|>]+)(?:\|([^>]*))?>|@([^\s,]+))[\s,]*(?:(?:and|&amp;|&)\s+)?"
)
PRIVATE_WORDS = ("private", "privately")
# `from a family: …` passes on thanks from outside the team; what people call each kind of source.
SOURCE_WORDS = {
    "family": ("family", "families", "parent", "carer", "foster carer", "kinship carer", "grandparent"),
    "young person": ("young person", "young people", "child", "children", "care leaver", "teenager"),
    "agency": ("agency", "agencies", "partner agency", "partner agencies", "partner", "school", "police", "health"),
}
SOURCE_OF = {w: source for source, words in SOURCE_WORDS.items() for word in words for w in (word, word + "s")}
FROM_SOURCE = re.compile(r"^from\s+(?:(?:an?|the|our|their)\s+)?([a-z][a-z -]*?)\s*:\s*", re.IGNORECASE)

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


def escape(text: str) -> str:
    """Plain text to Slack mrkdwn that shows exactly those characters and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """A person in a message: a mention Slack renders as their name, or "a former colleague" once they were erased."""
    return FORMER_COLLEAGUE if is_former_colleague(user_id) else f"<@{user_id}>"


def quote(text: str) -> str:
    """A block quote of plain text, every line quoted."""
    return "\n".join("> " + line for line in escape(text).splitlines() or [""])


@dataclass(frozen=True)
class ThanksText:
    private: bool
    recipient_ids: tuple[str, ...]
    unresolved_names: tuple[str, ...]
    groups: tuple[str, ...]
    reason: str
    source: str | None = None  # "family", "young person" or "agency" when passing on thanks from outside


def _source(text: str) -> tuple[str | None, str]:
    """A leading `from a family:` (or a synonym): the kind of source and the rest. Any other `from …` is
    ordinary reason text and is left as it was."""
    found = FROM_SOURCE.match(text)
    source = SOURCE_OF.get(" ".join(found.group(1).lower().split())) if found else None
    return (source, text[found.end() :]) if found and source else (None, text)


def parse_thanks(text: str, name_of: NameOf | None = None) -> ThanksText:
    """`[private] @bob @carol [for] reason` or `[private] @bob from a family: reason` in Slack's escaped
    command text."""
    rest = text.strip()
    first, _, after = rest.partition(" ")
    private = first.lower() in PRIVATE_WORDS
    if private:
        rest = after.strip()
    recipients: list[str] = []
    unresolved: list[str] = []
    groups: list[str] = []
    while match := LEADING_RECIPIENT.match(rest):
        user_id, special, label, typed = match.groups()
        if user_id:
            recipients.append(user_id)
        elif special:
            groups.append(label or "@" + special.split("^")[0])
        else:
            unresolved.append("@" + typed)
        rest = rest[match.end() :]
    source, rest = _source(rest.strip())
    reason = re.sub(r"^for\b[:\s]*", "", rest.strip(), flags=re.IGNORECASE)
    reason = plain(reason, name_of).strip()
    return ThanksText(private, tuple(recipients), tuple(unresolved), tuple(groups), reason, source)


DIGITS = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1  # the largest id either database's integer column holds


def record_id(value: object) -> int | None:
    """A record id from a button's value or a block id: digits that fit the database's integer, else None (a
    forged or mangled value is refused politely, never sent to the database)."""
    text = str(value) if value is not None else ""
    return int(text) if DIGITS.fullmatch(text) and 0 < int(text) <= MAX_ID else None


CONVERSATION = re.compile(r"[CDG][A-Z0-9]{2,20}")


def conversation_id(value: object) -> str | None:
    """A Slack channel, DM or group id as Slack writes them (C…, D…, G…), else None: a value that came back from
    a form is never trusted to be one."""
    return value if isinstance(value, str) and CONVERSATION.fullmatch(value) else None
