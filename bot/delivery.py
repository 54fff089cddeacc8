"""An adapter's delivery of the outbox, the same for every platform: what a request saved is sent at once, what
waits is sent by a background drain, and each send is counted. Only `send` (and the platform it speaks to) differs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import metrics
from bot.core.errors import StoreUnavailable
from bot.core.model import Team
from bot.core.outbox import DeliveryReport, Outbox, Send, Written

log = logging.getLogger(__name__)
DRAIN_SECONDS = 15.0


class Delivery:
    def __init__(self, platform: str, send: Send, outbox: Outbox):
        self.platform, self.send, self.outbox = platform, send, outbox

    def send_claimed(self, team: Team, written: Written) -> DeliveryReport:
        """What a request's work wrote and claimed (bot.core.outbox.Outbox.claiming), sent now."""
        return self._counted(lambda: self.outbox.send_claimed(self.send, team, written))

    def deliver(self) -> DeliveryReport:
        """Everything due: what could not be sent at once (the platform was down, a 429), or was left by a process
        that stopped."""
        return self._counted(lambda: self.outbox.deliver(self.send, self.platform))

    @staticmethod
    def _counted(send: Callable[[], DeliveryReport]) -> DeliveryReport:
        try:
            report = send()
        except StoreUnavailable:  # the messages are safe in the outbox; the next drain sends them
            log.warning("could not use the outbox: the database isn't answering")
            return DeliveryReport()
        for outcome, count in (("sent", report.sent), ("retrying", report.retrying), ("failed", report.failed)):
            if count:
                metrics.OUTBOX_SENT.labels(outcome).inc(count)
        return report

    def drain(self) -> None:
        """Everything due, for a background job: a database that is down is one log line, tried again next time."""
        report = self.deliver()
        if report.sent or report.retrying or report.failed:
            log.info("outbox: %d sent, %d to retry, %d failed", report.sent, report.retrying, report.failed)

    def start_draining(self, every: float = DRAIN_SECONDS) -> Callable[[], None]:
        """Retry what is due every few seconds in this process's background (a web worker, Socket Mode); claims
        keep several processes doing so from sending anything twice. Returns how to stop it."""
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(self.drain, IntervalTrigger(seconds=every), max_instances=1, coalesce=True)
        scheduler.start()
        return lambda: scheduler.shutdown(wait=False)
