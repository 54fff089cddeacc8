"""The clock: APScheduler in its own process. Each tick reads everything from the database and sends what is
due, so nothing lives only in memory and a restart carries on where it was."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk import WebClient

from bot.core.nudges import TickReport
from bot.core.ports import Team
from bot.core.services import Services

log = logging.getLogger(__name__)
TICK_MINUTES = 5


def slack_team(client: WebClient) -> Team:
    """Single-workspace token mode: the token knows its team (auth.test)."""
    return Team("slack", client.auth_test()["team_id"])


def tick(services: Services, team: Team, at: datetime | None = None, dry_run: bool = False) -> TickReport:
    return _logged("nudges", team, services.nudges.tick(team, at, dry_run=dry_run))


def digest_tick(services: Services, team: Team, at: datetime | None = None, dry_run: bool = False) -> TickReport:
    return _logged("digests", team, services.digests.tick(team, at, dry_run=dry_run))


def _logged(what: str, team: Team, report: TickReport) -> TickReport:
    if report.skipped_locked:
        log.info("another clock is sending %s for %s; skipped", what, team.external_id)
    else:
        log.info("%s tick for %s: %d sent, %d failed", what, team.external_id, report.sent, report.failed)
    return report


def every_job(services: Services, team: Team) -> None:
    """One tick of the clock: nudges, then digests. Either failing (the database is down) leaves the other to run,
    and the next tick tries again."""
    for job in (tick, digest_tick):
        try:
            job(services, team)
        except Exception:
            log.exception("%s failed; the next tick tries again", job.__name__)


def run(services: Services, team: Team) -> None:
    """Block forever, ticking every few minutes (the first tick at once). Run exactly one clock process."""
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        every_job,
        IntervalTrigger(minutes=TICK_MINUTES, timezone=UTC),
        args=(services, team),
        next_run_time=datetime.now(UTC),
        max_instances=1,
        coalesce=True,
        misfire_grace_time=60,
    )
    log.info("clock started: a tick every %d minutes", TICK_MINUTES)
    scheduler.start()


def dry_run_text(report: TickReport) -> str:
    """Per person, "would nudge" or the reason not; then a count per reason."""
    lines = [f"{name or user_id} ({user_id}): {reason}" for user_id, name, reason in report.outcomes]
    lines.append("")
    lines += [f"{count:6d}  {reason}" for reason, count in report.counts.most_common()]
    return "\n".join(lines)
