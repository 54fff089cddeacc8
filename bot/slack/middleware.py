"""Bolt middleware that every request passes before a listener sees it: whose workspace it is, whether there is
room to do its work, and whether it was seen before."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from slack_bolt import BoltContext, BoltRequest, BoltResponse

from bot.core.errors import StoreUnavailable
from bot.core.model import Team
from bot.core.outbox import Replays
from bot.slack.text import escape, plain

log = logging.getLogger(__name__)
ACK_BUDGET = 2.0  # seconds after a request is read by which its ack must be on its way (Slack allows 3)
BUSY_START = ":hourglass: I'm swamped right now"
BUSY = BUSY_START + ", so this was *not* saved and nothing was posted. Please try again in a minute."
SYNCHRONOUS = ("view_submission", "view_closed", "block_suggestion")  # answered in the ack; no lazy work


def signature(request: BoltRequest) -> str | None:
    """The request's Slack signature (None in Socket Mode, where nothing is signed): unique to its body and time,
    so a replay carries the same one."""
    found = request.headers.get("x-slack-signature") or [None]
    return found[0]


def only_our_workspace(team_id: str, enterprise_id: str | None) -> Callable:
    """In token mode the bot serves exactly the workspace its token belongs to (auth.test): a request for any other
    team, or from an organisation it does not know, is refused before anything is read or created."""

    def middleware(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        if context.team_id != team_id or context.enterprise_id not in (None, enterprise_id):
            log.warning("refused a request for a workspace this bot does not serve")
            return BoltResponse(status=403, body="This app is not installed in that workspace.")
        context["team"] = Team("slack", team_id)
        return next()

    return middleware


def as_workspace(context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
    """OAuth mode: Bolt has found the request's workspace installed (bot.slack.installs.installed_only refused the
    others); it is the workspace the request acts in."""
    context["team"] = Team("slack", context.team_id)
    return next()


def admit(pool, budget: float = ACK_BUDGET) -> Callable:
    """When the work pool is full, wait for room only as long as the ack can still reach Slack in time (the time
    the request already spent waiting for a thread counts), then say so rather than ack work that would be done
    minutes later: a command is told it was not saved (with what was typed, to paste again); an event or a click
    gets 503, so Slack retries the event later and shows the click failed."""

    def middleware(body: dict, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:
        arrived_at = context.get("arrived_at")
        wait = budget - (time.perf_counter() - arrived_at) if arrived_at is not None else budget
        if body.get("type") in SYNCHRONOUS or pool.admit(max(0.0, wait)):
            return next()
        log.warning("work pool full (%d waiting): refused a request", pool.pending)
        if "command" in body:
            typed = plain(str(body.get("text") or ""))
            text = BUSY + (f"\nWhat you wrote:\n```{escape(body['command'])} {escape(typed)}```" if typed else "")
            return BoltResponse(
                status=200,
                body=json.dumps({"response_type": "ephemeral", "text": text}),
                headers={"content-type": "application/json"},
            )
        return BoltResponse(status=503, body="busy")

    return middleware


def views_once(replays: Replays) -> Callable:
    """A form submitted again with the same signature (a replay) is acked and ignored. Forms are answered in the
    ack (errors show inline), so this check is too; commands, clicks and events check in their lazy work."""

    def middleware(body: dict, context: BoltContext, request: BoltRequest, next: Callable[[], BoltResponse]):
        key = signature(request)
        if body.get("type") == "view_submission" and key:
            try:
                if not replays.first_time(context["team"], key):
                    log.info("ignored a replayed form submission")
                    return BoltResponse(status=200, body="")
            except StoreUnavailable:
                pass  # the form's own save finds the database down and says so inline
        return next()

    return middleware
