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

MARKUP = re.compile(r"<([^<>]*)>")
MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
LEADING_RECIPIENT = re.compile(
    r"^(?:<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|<!([^|>]+)(?:\|([^>]*))?>|@([^\s,]+))[\s,]*(?:(?:and|&amp;|&)\s+)?"
)
PRIVATE_WORDS = ("private", "privately")

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


def parse_thanks(text: str, name_of: NameOf | None = None) -> ThanksText:
    """`[private] @bob @carol [for] reason` in Slack's escaped command text."""
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
    reason = re.sub(r"^for\b[:\s]*", "", rest.strip(), flags=re.IGNORECASE)
    return ThanksText(private, tuple(recipients), tuple(unresolved), tuple(groups), plain(reason, name_of).strip())
