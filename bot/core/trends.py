"""Twelve weeks of a team's figures, for sparklines in the digest and the admin view and for a chart image.

Each series is counted by the database, a week to a row: the week a row falls in is a CASE over the twelve weeks'
boundaries (midnight on Mondays in the team's main timezone), which both engines evaluate inside one index range.
The time freed is the hours a week that the changes adopted that week free (by their latest answer, while they are
still adopted), the sum `freed.freed_between` makes for a quarter, a week at a time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select

from bot.core.model import TREND_WEEKS, Series, Trends, zone
from bot.store.models import Change, ChangeEvent, NudgeResponse, Thanks, ThanksRecipient, TimeFreedAnswer


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def trends(db, workspace_id: int, end: date, tz: str) -> Trends:
    """The TREND_WEEKS weeks before `end` (a Monday: the day after the last week). `db` is a session or a
    connection."""
    weeks = tuple(end - timedelta(weeks=TREND_WEEKS - n) for n in range(TREND_WEEKS))
    bounds = [datetime.combine(day, datetime.min.time(), zone(tz)) for day in (*weeks, end)]

    def week_of(column):
        return case(*((column < bound, n) for n, bound in enumerate(bounds[1:])))

    def within(column):
        return column >= bounds[0], column < bounds[-1]

    def counted(*rows) -> tuple[float, ...]:
        per_week = dict(rows)
        return tuple(per_week.get(n, 0) for n in range(TREND_WEEKS))

    week = week_of(Thanks.created_at).label("week")
    thanks = db.execute(  # each week's count, and its first and last id, from one index
        select(week, func.count(), func.min(Thanks.id), func.max(Thanks.id))
        .where(Thanks.workspace_id == workspace_id, *within(Thanks.created_at))
        .group_by(week)
    ).all()
    thanked = []
    if thanks:
        # Thanks are recorded as they happen, so their ids follow their times: a week's recipients are those of its
        # ids, and the twelve weeks' are one range of `ix_thanks_recipients_workspace_id_thanks_id`, read without
        # their thanks. Each person once a week by grouping, then counted: PostgreSQL hashes that, where
        # count(DISTINCT) sorts.
        by_id = case(*((ThanksRecipient.thanks_id <= last, n) for n, _, _, last in sorted(thanks)))
        thanked_in = (
            select(by_id.label("week"), ThanksRecipient.recipient_id)
            .where(
                ThanksRecipient.workspace_id == workspace_id,
                ThanksRecipient.thanks_id.between(min(t[2] for t in thanks), max(t[3] for t in thanks)),
            )
            .group_by(by_id, ThanksRecipient.recipient_id)
            .subquery()
        )
        thanked = db.execute(select(thanked_in.c.week, func.count()).group_by(thanked_in.c.week)).all()
    week = week_of(Change.created_at).label("week")
    ideas = db.execute(
        select(week, func.count()).where(Change.workspace_id == workspace_id, *within(Change.created_at)).group_by(week)
    ).all()
    week = week_of(NudgeResponse.at).label("week")
    answers = db.execute(
        select(week, func.count())
        .where(NudgeResponse.workspace_id == workspace_id, *within(NudgeResponse.at))
        .group_by(week)
    ).all()
    adopted = dict(  # change id: the week it was (last) adopted, if it still is
        db.execute(
            select(ChangeEvent.change_id, func.max(week_of(ChangeEvent.at)))
            .join(Change, Change.id == ChangeEvent.change_id)
            .where(
                ChangeEvent.workspace_id == workspace_id,
                ChangeEvent.kind == "status",
                ChangeEvent.new == "adopted",
                *within(ChangeEvent.at),
                Change.status == "adopted",
            )
            .group_by(ChangeEvent.change_id)
        ).all()
    )
    latest = (
        select(func.max(TimeFreedAnswer.id))
        .where(TimeFreedAnswer.workspace_id == workspace_id, TimeFreedAnswer.change_id.in_(list(adopted)))
        .group_by(TimeFreedAnswer.change_id)
    )
    hours = [0.0] * TREND_WEEKS
    for change_id, minutes, people in db.execute(
        select(TimeFreedAnswer.change_id, TimeFreedAnswer.minutes, TimeFreedAnswer.people).where(
            TimeFreedAnswer.id.in_(latest)
        )
    ):
        hours[adopted[change_id]] += (minutes or 0) * (people or 0) / 60
    per_adoption = [0] * TREND_WEEKS
    for n in adopted.values():
        per_adoption[n] += 1
    return Trends(
        weeks=weeks,
        series=(
            Series("Thanks given", counted(*((n, count) for n, count, _, _ in thanks))),
            Series("People thanked", counted(*thanked)),
            Series("Ideas", counted(*ideas)),
            Series("Adopted", tuple(per_adoption)),
            Series("Time freed", tuple(round(h, 1) for h in hours), unit="hours a week"),
            Series("Nudge answers", counted(*answers)),
        ),
    )


def trend_lines(trends: Trends) -> list[str]:
    """One line a series, the same on every platform: its sparkline, then the last week and the twelve weeks in words
    (a sparkline alone says nothing to a screen reader)."""
    lines = []
    for s in trends.series:
        last, total = s.said(s.values[-1]), s.said(sum(s.values))
        if s.unit:  # hours a week freed by each week's adoptions, which add up
            lines.append(f"{s.sparkline}  {s.name}: {last} by the last week's adoptions, {total} by the twelve weeks'")
        else:
            lines.append(f"{s.sparkline}  {s.name}: {last} in the last week, {total} in twelve weeks")
    return lines
