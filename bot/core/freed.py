"""Time freed by adopted changes: reading an answer to "how much time does it free?", putting it in plain words, and
summing a quarter's answers for the digest and the admin view.

"This quarter" is the calendar quarter in the team's main timezone (the one the digests keep their calendar in).
Each change counts once, by its latest answer, and only while it is still adopted. The sum is minutes × people a
week, rounded as a person would say it and always "about": the answers are people's own estimates.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime

from sqlalchemy import func, select

from bot.core.errors import Refused
from bot.core.model import BENEFITS, MINUTES_MAX, PEOPLE_MAX, FreedChange, TimeFreed, TimeFreedSum
from bot.core.words import check_text
from bot.store.models import Change, ChangeEvent, TimeFreedAnswer

NOTE_MAX = 300
BIGGEST = 3  # the changes a sum names
WHOLE = re.compile(r"\s*([0-9]+)\s*")


def _whole(value: object, top: int, refusal: str, field: str) -> int | None:
    """A whole number from 1 to `top` as a form sends it (text, or a number); None when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and (match := WHOLE.fullmatch(value)):
        number = int(match.group(1))
    if number is None or not 1 <= number <= top:
        raise Refused(refusal, field=field)
    return number


def read_answer(
    minutes: object, people: object, benefit: object, note: object
) -> tuple[int | None, int | None, str | None, str | None]:
    """An answer as a form sent it, checked: (minutes, people, None, note) when it is about time, or (None, None,
    benefit, note) when it is not. Raises Refused naming the form's field that is wrong."""
    minutes = _whole(
        minutes,
        MINUTES_MAX,
        f"Minutes a week must be a whole number from 1 to {MINUTES_MAX:,} (40 hours): the time it frees each person.",
        "minutes",
    )
    people = _whole(people, PEOPLE_MAX, f"People must be a whole number from 1 to {PEOPLE_MAX}.", "people")
    benefit = benefit.strip() if isinstance(benefit, str) and benefit.strip() else None
    note = note.strip() if isinstance(note, str) and note.strip() else None
    if note is not None:
        check_text("The note", note, field="note")
        if len(note) > NOTE_MAX:
            raise Refused(f"The note is {len(note):,} characters; the limit is {NOTE_MAX}. Please shorten it.", "note")
    if benefit is not None:
        if benefit not in BENEFITS:
            raise Refused("Choose safer, kinder, clearer or something else.", field="benefit")
        if minutes is not None or people is not None:
            raise Refused(
                "Give minutes and people if it frees time, or say what else it does if it's not about time: not both.",
                field="benefit",
            )
        if benefit == "other" and note is None:
            raise Refused("Say in a few words what it does, if not safer, kinder or clearer.", field="note")
        return None, None, benefit, note
    if minutes is None and people is None:
        raise Refused(
            "Say how many minutes a week it frees and for how many people, or, if it's not about time, what it does.",
            field="minutes",
        )
    if minutes is None:
        raise Refused("How many minutes a week does it free each person? A whole number from 1 to 2,400.", "minutes")
    if people is None:
        raise Refused(f"For how many people? A whole number from 1 to {PEOPLE_MAX}.", field="people")
    return minutes, people, None, note


# -- in words ---------------------------------------------------------------------------------------------------------


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _rounded(x: float) -> int:
    return int(x + 0.5)  # halves up, as people round (Python's round() goes to even)


def about(minutes: int) -> str:
    """Minutes (a week) as a person would say them, rounded, and "about": to 5 minutes under an hour, to half an
    hour under 10 hours, to the hour above."""
    if minutes < 10:
        return f"about {_plural(minutes, 'minute')}"
    if minutes < 60 and _rounded(minutes / 5) < 12:
        return f"about {_rounded(minutes / 5) * 5} minutes"
    if minutes < 600 and _rounded(minutes / 30) < 20:
        hours, half = divmod(_rounded(minutes / 30), 2)
        return f"about {hours}{'½' if half else ''} hour{'' if (hours, half) == (1, 0) else 's'}"
    return f"about {_plural(_rounded(minutes / 60), 'hour')}"


def freed_words(freed: TimeFreed) -> str:
    """One answer in plain words (text a person typed included: escape it for a platform that reads markup)."""
    if freed.benefit == "other":
        return f"not about time: {freed.note}"
    if freed.benefit:
        return f"not about time: it makes things {BENEFITS[freed.benefit]}" + (f" ({freed.note})" if freed.note else "")
    minutes, people = freed.minutes or 0, freed.people or 0
    each = f"{_plural(minutes, 'minute')} a week " + ("for 1 person" if people == 1 else f"for each of {people} people")
    total = f" ({about(freed.weekly)} a week in all)" if people > 1 else ""
    return each + total + (f": {freed.note}" if freed.note else "")


def sum_words(freed: TimeFreedSum) -> str:
    """A quarter's sum in one sentence, e.g. "7 changes adopted this quarter, about 11 hours a week freed across the
    team." (its name, freed.label, is for a heading)."""
    if not freed.adopted:
        return "No changes adopted this quarter yet."
    said = f"{_plural(freed.adopted, 'change')} adopted this quarter"
    if freed.weekly:
        said += f", {about(freed.weekly)} a week freed across the team"
    more = []
    if freed.not_time:
        more.append(f"{sum(n for _, n in freed.not_time)} not about time: " + ", ".join(b for b, _ in freed.not_time))
    if freed.unanswered:
        more.append(f"{freed.unanswered} not yet said")
    return said + (f" ({'; '.join(more)})" if more else "") + "."


# -- sums -------------------------------------------------------------------------------------------------------------


def quarter(day: date) -> tuple[date, date, str]:
    """The calendar quarter `day` is in: its first day, the day after its last, and its name ("Q4 2026")."""
    first_month = (day.month - 1) // 3 * 3 + 1
    start = date(day.year, first_month, 1)
    end = date(day.year + 1, 1, 1) if first_month == 10 else date(day.year, first_month + 3, 1)
    return start, end, f"Q{(first_month + 2) // 3} {day.year}"


def answer_of(row) -> TimeFreed:
    """A stored answer (a TimeFreedAnswer, or a row of its columns) as the core's value."""
    return TimeFreed(row.minutes, row.people, row.benefit, row.note, row.actor_id, row.at)


def freed_between(db, workspace_id: int, start: datetime, end: datetime, label: str) -> TimeFreedSum:
    """The changes adopted from `start` until `end` (and still adopted), with the time their latest answers free.
    `db` is a session or a connection."""
    adopted_then = select(ChangeEvent.change_id).where(
        ChangeEvent.workspace_id == workspace_id,
        ChangeEvent.kind == "status",
        ChangeEvent.new == "adopted",
        ChangeEvent.at >= start,
        ChangeEvent.at < end,
    )
    adopted = dict(
        db.execute(
            select(Change.id, Change.text).where(
                Change.workspace_id == workspace_id, Change.id.in_(adopted_then), Change.status == "adopted"
            )
        ).all()
    )
    latest = (
        select(func.max(TimeFreedAnswer.id))
        .where(TimeFreedAnswer.workspace_id == workspace_id, TimeFreedAnswer.change_id.in_(adopted_then))
        .group_by(TimeFreedAnswer.change_id)
    )
    a = TimeFreedAnswer
    columns = (a.change_id, a.minutes, a.people, a.benefit, a.note, a.actor_id, a.at)
    answers = [
        FreedChange(row.change_id, adopted[row.change_id], answer_of(row))
        for row in db.execute(select(*columns).where(TimeFreedAnswer.id.in_(latest)))
        if row.change_id in adopted
    ]
    timed = sorted((a for a in answers if a.freed.weekly), key=lambda a: (-a.freed.weekly, a.id))
    not_time = Counter(BENEFITS[a.freed.benefit] for a in answers if a.freed.benefit)
    return TimeFreedSum(
        label=label,
        adopted=len(adopted),
        weekly=sum(a.freed.weekly for a in timed),
        timed=len(timed),
        not_time=tuple(sorted(not_time.items(), key=lambda item: (-item[1], item[0]))),
        biggest=tuple(timed[:BIGGEST]),
    )
