"""What people type after the thanks and small change commands, read the same way on every platform.

An adapter turns its platform's text into neutral tokens (people, groups, everyone-mentions and plain words); the
grammar here turns those into requests, so the private keyword, the `from a family:` sources and the small change
subcommands are written once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.core.errors import Refused


@dataclass(frozen=True)
class PersonMention:
    """A person the platform resolved: their id, and the name shown for them when the platform gave one."""

    user_id: str
    name: str | None = None


@dataclass(frozen=True)
class GroupMention:
    """A user group (Slack's @fostering): not a person, so never a recipient."""

    label: str


@dataclass(frozen=True)
class EveryoneMention:
    """@here, @channel or @everyone."""

    label: str


@dataclass(frozen=True)
class Words:
    """Plain text as a person would read it."""

    text: str


Token = PersonMention | GroupMention | EveryoneMention | Words

PRIVATE_WORDS = ("private", "privately")
# `from a family: …` passes on thanks from outside the team; what people call each kind of source.
SOURCE_WORDS = {
    "family": ("family", "families", "parent", "carer", "foster carer", "kinship carer", "grandparent"),
    "young person": ("young person", "young people", "child", "children", "care leaver", "teenager"),
    "agency": ("agency", "agencies", "partner agency", "partner agencies", "partner", "school", "police", "health"),
}
SOURCE_OF = {w: source for source, words in SOURCE_WORDS.items() for word in words for w in (word, word + "s")}
FROM_SOURCE = re.compile(r"^from\s+(?:(?:an?|the|our|their)\s+)?([a-z][a-z -]*?)\s*:\s*", re.IGNORECASE)
TYPED_NAME = re.compile(r"@([^\s,]+)")  # an @name the platform did not turn into a mention
BETWEEN_NAMES = re.compile(r"[\s,]*(?:(?:and|&)\s+)?")
SPACE = re.compile(r"\s+")
LEADING_FOR = re.compile(r"^for\b[:\s]*", re.IGNORECASE)


@dataclass(frozen=True)
class ThanksText:
    """`[private] @bob @carol [for] reason` or `[private] @bob from a family: reason`, read."""

    private: bool
    recipient_ids: tuple[str, ...]
    unresolved_names: tuple[str, ...]
    groups: tuple[str, ...]  # group and everyone-mentions among the names, as their labels
    reason: str
    source: str | None = None  # "family", "young person" or "agency" when passing on thanks from outside


def read_thanks(tokens: Iterable[Token]) -> ThanksText:
    """The names at the start are whom the thanks is for; mentions later on are part of the reason."""
    rest = _merged(tokens)
    _drop_leading(rest, SPACE)
    private = False
    if rest and isinstance(rest[0], Words):
        first, space, after = rest[0].text.partition(" ")
        if first.lower() in PRIVATE_WORDS and (space or len(rest) == 1):
            private = True
            rest[0] = Words(after)
            _drop_leading(rest, SPACE)
    recipients: list[str] = []
    unresolved: list[str] = []
    groups: list[str] = []
    while rest:
        head = rest.pop(0)
        if isinstance(head, PersonMention):
            recipients.append(head.user_id)
        elif isinstance(head, GroupMention | EveryoneMention):
            groups.append(head.label)
        elif typed := TYPED_NAME.match(head.text):
            unresolved.append("@" + typed.group(1))
            rest.insert(0, Words(head.text[typed.end() :]))
        else:
            rest.insert(0, head)
            break
        _drop_leading(rest, BETWEEN_NAMES)
    source, text = _source("".join(_shown(token) for token in rest).strip())
    reason = LEADING_FOR.sub("", text.strip()).strip()
    return ThanksText(private, tuple(recipients), tuple(unresolved), tuple(groups), reason, source)


def _merged(tokens: Iterable[Token]) -> list[Token]:
    """Neighbouring words as one, so the grammar reads across them."""
    merged: list[Token] = []
    for token in tokens:
        if isinstance(token, Words) and merged and isinstance(merged[-1], Words):
            merged[-1] = Words(merged[-1].text + token.text)
        else:
            merged.append(token)
    return merged


def _drop_leading(rest: list[Token], pattern: re.Pattern[str]) -> None:
    """Remove what `pattern` matches at the start of the leading words, and the words if nothing is left."""
    if rest and isinstance(rest[0], Words):
        found = pattern.match(rest[0].text)
        text = rest[0].text[found.end() :] if found else rest[0].text
        if text:
            rest[0] = Words(text)
        else:
            del rest[0]


def _shown(token: Token) -> str:
    if isinstance(token, PersonMention):
        return "@" + (token.name or token.user_id)
    if isinstance(token, Words):
        return token.text
    return token.label


def _source(text: str) -> tuple[str | None, str]:
    """A leading `from a family:` (or a synonym): the kind of source and the rest. Any other `from …` is
    ordinary reason text and is left as it was."""
    found = FROM_SOURCE.match(text)
    source = SOURCE_OF.get(" ".join(found.group(1).lower().split())) if found else None
    return (source, text[found.end() :]) if found and source else (None, text)


SmallChangeKind = Literal["form", "help", "list", "mine", "nudges", "admin", "export", "suggest"]
ALONE = ("list", "mine", "nudges", "admin")  # subcommands only when nothing follows; otherwise the text is an idea
ANONYMOUS_WORDS = ("anon", "anonymous")
EXPORT_OPTIONS = re.compile(r"(?:\s*\b(?:since|csv|json|\d{4}-\d\d?-\d\d?)\b)*\s*", re.IGNORECASE)


@dataclass(frozen=True)
class SmallChangeCommand:
    kind: SmallChangeKind
    idea: str = ""  # for suggest
    anonymous: bool = False  # for suggest: no name is stored with the idea
    since: date | None = None  # for export: records from this day on
    format: Literal["csv", "json"] = "csv"  # for export


def read_smallchange(text: str) -> SmallChangeCommand:
    """The small change command's plain text: a subcommand, or else the idea itself. Raises Refused when an export
    names a date that cannot be read."""
    text = text.strip()
    word, _, rest = text.partition(" ")
    word = word.lower()
    if not text:
        return SmallChangeCommand("form")
    if text.lower() == "help":
        return SmallChangeCommand("help")
    if word in ALONE and not rest.strip():
        return SmallChangeCommand(word)
    if word == "export" and EXPORT_OPTIONS.fullmatch(rest):
        return _export(rest)
    anonymous = word in ANONYMOUS_WORDS
    return SmallChangeCommand("suggest", idea=rest if anonymous else text, anonymous=anonymous)


def _export(options: str) -> SmallChangeCommand:
    words = options.lower().split()
    dates = [w for w in words if w not in ("since", "csv", "json")]
    try:
        since = date.fromisoformat(dates[0]) if dates else None
    except ValueError:
        raise Refused(f"I couldn't read {dates[0]} as a date; write dates like 2026-01-01.") from None
    return SmallChangeCommand("export", since=since, format="json" if "json" in words else "csv")


DIGITS = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1  # the largest id either database's integer column holds


def record_id(value: object) -> int | None:
    """A record id from a button's value or a block id: digits that fit the database's integer, else None (a
    forged or mangled value is refused politely, never sent to the database)."""
    text = str(value) if value is not None else ""
    return int(text) if DIGITS.fullmatch(text) and 0 < int(text) <= MAX_ID else None


def read_dates(text: str) -> tuple[list[str], list[str]]:
    """Holiday dates typed by an admin: (valid ISO dates, what could not be read)."""
    good, bad = [], []
    for part in text.replace(",", "\n").split():
        try:
            good.append(date.fromisoformat(part.strip()).isoformat())
        except ValueError:
            bad.append(part)
    return good, bad
