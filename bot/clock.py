"""The clock: APScheduler in its own process. Each tick reads everything from the database and sends what is
due, so nothing lives only in memory and a restart carries on where it was. It also drains the outbox (what a web
process could not send at once) and clears what is kept only for a while."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.core.errors import StoreUnavailable
from bot.core.model import Team, TickReport
from bot.core.services import Services
from bot.delivery import Delivery

log = logging.getLogger(__name__)
TICK_MINUTES = 5
OUTBOX_SECONDS = 15


def tick(services: Services, team: Team, at: datetime | None = None, dry_run: bool = False) -> TickReport:
    return _logged("nudges", team, services.nudges.tick(team, at, dry_run=dry_run))


def digest_tick(services: Services, team: Team, at: datetime | None = None, dry_run: bool = False) -> TickReport:
    return _logged("digests", team, services.digests.tick(team, at, dry_run=dry_run))


def _logged(what: str, team: Team, report: TickReport) -> TickReport:
    for outcome, count in report.counts.items():
        metrics.NUDGES.labels(what, reason_kind(outcome)).inc(count)
    if report.skipped_locked:
        log.info("another clock is sending %s for %s; skipped", what, team.external_id)
    else:
        log.info("%s tick for %s: %d sent, %d failed", what, team.external_id, report.sent, report.failed)
    return report


def reason_kind(outcome: str) -> str:
    """An outcome as a metric label: "outside working hours in Asia/Kolkata" counts as "outside working hours"."""
    return outcome.split(" in ")[0].split(":")[0].split(" (")[0]


def every_job(services: Services, team: Team) -> None:
    """One tick of the clock: nudges, then digests. Either failing (the database is down) leaves the other to run,
    and the next tick tries again."""
    for job in (tick, digest_tick):
        started = time.monotonic()
        try:
            job(services, team)
        except StoreUnavailable:
            log.warning("%s: the database isn't answering; the next tick tries again", job.__name__)
        except Exception:
            log.exception("%s failed; the next tick tries again", job.__name__)
        metrics.TICK_SECONDS.labels(job.__name__).observe(time.monotonic() - started)


def housekeeping(services: Services) -> None:
    """Signatures kept against replays for a day, sent outbox rows (already emptied) for a week."""
    try:
        services.replays.forget_old()
        services.outbox.forget_done()
    except StoreUnavailable:
        log.warning("housekeeping: the database isn't answering; it runs again in an hour")


@dataclass(frozen=True)
class Platform:
    """What the clock needs of one platform: its services, its outbox delivery, and the workspaces to tick (asked
    each tick, so a Teams tenant that installs the bot is ticked from the next one)."""

    services: Services
    delivery: Delivery
    teams: Callable[[], list[Team]]


def every_tick(platforms: list[Platform]) -> None:
    for platform in platforms:
        try:
            teams = platform.teams()
        except StoreUnavailable:
            log.warning("the database isn't answering; the next tick tries again")
            continue
        for team in teams:
            every_job(platform.services, team)


def run(platforms: list[Platform], metrics_port: int | None = None) -> None:
    """Block until SIGTERM, ticking every few minutes (the first tick at once) and draining the outbox every few
    seconds. One clock is enough; a second sends nothing twice (docs/deploy.md). SIGTERM lets the send under way
    finish, then stops."""
    scheduler = BlockingScheduler(timezone=UTC)
    now = datetime.now(UTC)
    scheduler.add_job(
        every_tick,
        IntervalTrigger(minutes=TICK_MINUTES, timezone=UTC),
        args=(platforms,),
        next_run_time=now,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=60,
    )
    common = dict(max_instances=1, coalesce=True, next_run_time=now)
    for platform in platforms:
        scheduler.add_job(platform.delivery.drain, IntervalTrigger(seconds=OUTBOX_SECONDS, timezone=UTC), **common)
    scheduler.add_job(housekeeping, IntervalTrigger(hours=1, timezone=UTC), args=(platforms[0].services,), **common)

    def stop(_signum, _frame) -> None:
        log.info("clock stopping: finishing the send under way")
        for platform in platforms:
            platform.services.nudges.stopping.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    metrics.serve_clock_metrics(metrics_port)
    log.info("clock started: a tick every %d minutes, the outbox every %d s", TICK_MINUTES, OUTBOX_SECONDS)
    scheduler.start()


def dry_run_text(report: TickReport) -> str:
    """Per person, "would nudge" or the reason not; then a count per reason."""
    lines = [f"{name or user_id} ({user_id}): {reason}" for user_id, name, reason in report.outcomes]
    lines.append("")
    lines += [f"{count:6d}  {reason}" for reason, count in report.counts.most_common()]
    return "\n".join(lines)
