"""Prometheus metrics (prometheus-client): what a team running the bot watches.

The web server's workers are separate processes, so `python -m bot serve` gives them a shared folder
(PROMETHEUS_MULTIPROC_DIR) and GET /metrics adds them up; the outbox's depth is read from the database when
scraped, so every process reports the same. The clock serves its own on METRICS_PORT."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from bot.core.outbox import Outbox

ACK_LIMIT = 3.0  # Slack shows a failure when an answer takes longer

REQUESTS = Counter("smallchanges_requests_total", "Requests answered, by kind and HTTP status", ["kind", "status"])
ERRORS = Counter("smallchanges_request_errors_total", "Requests answered with a 5xx, by kind", ["kind"])
SLOW_ACKS = Counter("smallchanges_slow_acks_total", "Requests answered after Slack's 3 s, by kind", ["kind"])
ACK_SECONDS = Histogram(
    "smallchanges_ack_seconds",
    "Time from a whole request read to its answer",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
WORK = Counter("smallchanges_work_total", "Work after the ack, by kind and outcome", ["kind", "outcome"])
WORK_WAITING = Gauge("smallchanges_work_waiting", "Work queued or running in this process", multiprocess_mode="livesum")
OUTBOX_SENT = Counter("smallchanges_outbox_messages_total", "Outbox messages tried, by outcome", ["outcome"])
NUDGES = Counter("smallchanges_clock_outcomes_total", "The clock's decisions, by job and outcome", ["job", "outcome"])
TICK_SECONDS = Histogram(
    "smallchanges_tick_seconds", "How long a clock tick took", ["job"], buckets=(0.1, 0.5, 1, 5, 15, 60, 240)
)


class OutboxCollector:
    """The outbox's depth and the age of its oldest waiting message, read from the database when scraped."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    def collect(self):
        try:
            waiting, oldest = self.outbox.depth()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is down; /healthz says so
            return
        yield GaugeMetricFamily("smallchanges_outbox_depth", "Outbox messages waiting to be sent", value=waiting)
        yield GaugeMetricFamily(
            "smallchanges_outbox_oldest_seconds", "How long the oldest waiting outbox message has waited", value=oldest
        )


def exposition(outbox: Outbox | None) -> tuple[bytes, str]:
    """The text format, for GET /metrics: every worker's counts when they share a folder, plus the outbox."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    if outbox is not None:
        registry.register(OutboxCollector(outbox))
    return generate_latest(registry), CONTENT_TYPE_LATEST


def serve_clock_metrics(port: int | None, address: str = "127.0.0.1") -> None:
    """The clock's own metrics (its ticks, the outbox it drains) on a private port, when METRICS_PORT is set."""
    if port:
        start_http_server(port, addr=address)
