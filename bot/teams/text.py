"""Teams text in and out: a message's text and mention entities as neutral tokens, and stored text made safe to show.

Teams writes each mention into the text as `<at>Name</at>` and says who it is in a `mention` entity, in the same
order; the bot's own mention (how a channel message reaches it) is dropped. A name in `<at>` tags with no entity is
only text, so it stays words, and nothing a person typed can ping: only a mention entity we add ourselves would.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.grammar import EveryoneMention, GroupMention, PersonMention, Token, Words

AT = re.compile(r"<at(?:\s[^>]*)?>(.*?)</at>", re.IGNORECASE | re.DOTALL)
BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.IGNORECASE)
TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Mentioned:
    """One mention entity as Teams sends it: the `<at>…</at>` text it stands for, and whom it names."""

    text: str
    id: str
    name: str = ""


def plain(text: str) -> str:
    """A fragment of a Teams message (plain text, or the HTML a formatted message carries) as a person reads it."""
    return html.unescape(TAG.sub("", BREAK.sub("\n", text))).replace("\xa0", " ")


def tokens(text: str, mentions: Iterable[Mentioned], bot_id: str) -> list[Token]:
    """The message as neutral tokens: people as themselves, a channel or team mention as everyone, a tag as a group,
    everything between as plain words."""
    waiting = [m for m in mentions if m.text]
    found: list[Token] = []
    start = 0
    for match in AT.finditer(text):
        entity = next((m for m in waiting if _inner(m.text) == match.group(1)), None)
        if match.start() > start:
            found.append(Words(plain(text[start : match.start()])))
        start = match.end()
        if entity is None:
            found.append(Words("@" + plain(match.group(1))))
            continue
        waiting.remove(entity)
        if entity.id == bot_id:
            continue
        found.append(_mention(entity, plain(match.group(1))))
    if start < len(text):
        found.append(Words(plain(text[start:])))
    return found


def _inner(at_text: str) -> str | None:
    found = AT.fullmatch(at_text)
    return found.group(1) if found else None


def _mention(entity: Mentioned, shown: str) -> Token:
    name = entity.name or shown
    if entity.id.startswith("29:") or entity.id.startswith("8:orgid:"):
        return PersonMention(entity.id, name)
    if entity.id.startswith("19:"):  # the channel or the whole team
        return EveryoneMention("@" + name)
    return GroupMention("@" + name)  # a tag


def escape(text: str) -> str:
    """Stored plain text to Teams message text that shows exactly those characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
