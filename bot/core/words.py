"""What people type, checked before it is stored: the same answer on every database.

A NUL byte cannot be stored in PostgreSQL's text and would be stored and sent by SQLite; other control characters
and the bidirectional overrides (U+202A to U+202E, U+2066 to U+2069) let text hide what it says (a reason that
reads differently from what it contains). They are refused with the character named, rather than dropped without
a word. Line breaks and tabs are fine; so are emoji, accents and right-to-left scripts.
"""

from __future__ import annotations

import re
import unicodedata

from bot.core.errors import Refused

UNSEEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def check_text(label: str, text: str, field: str | None = None) -> str:
    """`text` itself; raises Refused naming the first character that may not be stored."""
    found = UNSEEN.search(text)
    if found:
        char = found.group()
        name = unicodedata.name(char, "a control character")
        raise Refused(
            f"{label} contains an invisible character (U+{ord(char):04X}, {name.lower()}) that I can't store. "
            "Please retype it, or paste it as plain text.",
            field=field,
        )
    return text


ZWJ = "\u200d"


def _joins_previous(char: str) -> bool:
    """Characters drawn as part of the one before: emoji modifiers and selectors, accents, keycaps, tags."""
    code = ord(char)
    return (
        char in (ZWJ, "\ufe0e", "\ufe0f", "\u20e3")
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or unicodedata.combining(char) != 0
    )


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF


def emoji_safe_cut(text: str, at: int) -> int:
    """The nearest cut at or before `at` that keeps every emoji (with its skin tone, family or flag) whole."""
    at = min(at, len(text))
    while 0 < at < len(text) and (_joins_previous(text[at]) or text[at - 1] == ZWJ):
        at -= 1
    if 0 < at < len(text) and _regional(text[at]):
        run = 0
        while run < at and _regional(text[at - 1 - run]):
            run += 1
        at -= run % 2  # flags are pairs of regional indicators
    return at
