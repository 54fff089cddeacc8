"""Workspace settings for admins (/smallchange admin) and each person's own (/smallchange nudges)."""

from __future__ import annotations

import logging
import re
from collections import Counter

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable, StoreUnavailable
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack import modals
from bot.slack.blocks import report_lines
from bot.slack.listeners.replies import why_not

log = logging.getLogger(__name__)
EMOJI_NAME = re.compile(r"[a-z0-9_+'-]+")  # a reaction's name as Slack spells it, e.g. raised_hands or +1
FAILURES = (StoreUnavailable, PlatformUnavailable)
NOT_ADMIN = (
    "Only workspace admins and owners (and people the bot's operator has named) can change Small Changes' "
    "settings. You can change your own nudges with `/smallchange nudges`."
)


def open_admin(services: Services, client: WebClient, respond: Respond, team: Team, user_id: str, trigger: str):
    """The settings modal, for admins only, with a dry run of the next tick and the nudge report."""
    try:
        if not services.changes.is_admin(team, user_id):
            respond(NOT_ADMIN)
            return
        config = services.workspaces.get(team)
        counts = Counter(decision.reason for _, decision in services.nudges.plan(team))
        report = report_lines(services.nudges.report(team))
    except FAILURES as exc:
        respond(f":warning: I couldn't load the settings: {why_not(exc)}. Please try again.")
        return
    summary = [f"{n} {reason}" for reason, n in counts.most_common()] or [
        "Nobody known yet: the clock learns the team."
    ]
    try:
        client.views_open(trigger_id=trigger, view=modals.admin_modal(config, summary, report))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        respond("I couldn't open the settings just now. Try `/smallchange admin` again.")


def open_my_nudges(services: Services, client: WebClient, respond: Respond, team: Team, user_id: str, trigger: str):
    try:
        view = modals.my_nudges_modal(services.nudges.preferences(team, user_id), services.workspaces.get(team))
        client.views_open(trigger_id=trigger, view=view)
    except FAILURES as exc:
        respond(f":warning: I couldn't load your settings: {why_not(exc)}. Please try again.")
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        respond("I couldn't open your settings just now. Try `/smallchange nudges` again.")


def _value(values: dict, block: str, element: str, key: str):
    return (values.get(block, {}).get(element) or {}).get(key)


def register(app: App, services: Services) -> None:
    @app.view("admin_submit")
    def admin_submitted(ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        team, user_id = Team("slack", body["team"]["id"]), body["user"]["id"]
        if not services.changes.is_admin(team, user_id):
            ack(response_action="errors", errors={"cadence": NOT_ADMIN})
            return
        values = view["state"]["values"]
        holidays, unreadable = modals.parse_dates(_value(values, "holidays", "text", "value") or "")
        start = _value(values, "start", "time", "selected_time")
        end = _value(values, "end", "time", "selected_time")
        prompts = [p.strip() for p in (_value(values, "prompts", "text", "value") or "").splitlines() if p.strip()]
        value_names = [v.strip() for v in (_value(values, "values", "text", "value") or "").splitlines() if v.strip()]
        days = [o["value"] for o in (_value(values, "days", "choice", "selected_options") or [])]
        reaction = _value(values, "thanks_reaction", "text", "value")
        reaction = reaction.strip().strip(":").lower() if reaction is not None else None
        errors = {}
        if reaction is not None and not EMOJI_NAME.fullmatch(reaction):
            errors["thanks_reaction"] = "Type an emoji's name, like pray or raised_hands (no spaces)."
        if unreadable:
            errors["holidays"] = f"I couldn't read {', '.join(unreadable[:3])}: use dates like 2026-12-25."
        if start and end and end <= start:
            errors["end"] = "The end of the day must come after its start."
        if not prompts:
            errors["prompts"] = "Keep at least one prompt."
        if not value_names:
            errors["values"] = "Keep at least one value."
        if not days:
            errors["days"] = "Choose at least one day (or set the cadence to off)."
        if errors:
            ack(response_action="errors", errors=errors)
            return
        experiment = _value(values, "experiment", "choice", "selected_option") or {}
        changes = {
            "cadence": (_value(values, "cadence", "choice", "selected_option") or {}).get("value"),
            "days": days,
            "start": start,
            "end": end,
            "weekly_cap": _value(values, "weekly_cap", "number", "value"),
            "holidays": holidays,
            "prompts": prompts,
            "thanks_daily_cap": _value(values, "thanks_daily_cap", "number", "value"),
            "values": value_names,
            "thanks_reaction": reaction,
            "digest_cadence": (_value(values, "digest_cadence", "choice", "selected_option") or {}).get("value"),
            "digest_channel": _value(values, "digest_channel", "choice", "selected_conversation") or "",
            "managers": _value(values, "managers", "users", "selected_users") or [],
            "experiment": list(modals.EXPERIMENTS.get(experiment.get("value", "none"), ())),
            "nudge_guests": bool(_value(values, "guests", "choice", "selected_options")),
        }
        try:
            changed = services.workspaces.update(team, user_id, changes)
        except FAILURES as exc:
            ack(response_action="errors", errors={"cadence": f"Not saved: {why_not(exc)}. Try again."})
            return
        ack()
        note = "Settings saved: " + ", ".join(c.replace("_", " ") for c in changed) if changed else "Nothing changed."
        client.chat_postMessage(channel=user_id, text=note + ". Every change is recorded with who and when.")
