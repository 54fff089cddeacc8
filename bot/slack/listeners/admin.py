"""Workspace settings for admins (/smallchange admin) and each person's own (/smallchange nudges)."""

from __future__ import annotations

import logging
from collections import Counter

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import Refused
from bot.core.experiment import report_lines
from bot.core.grammar import read_dates
from bot.core.model import Team
from bot.core.services import Services
from bot.slack import modals
from bot.slack.delivery import SlackDelivery, dm
from bot.slack.listeners.lazy import form
from bot.slack.listeners.replies import OUTAGES, save_from_modal, told

log = logging.getLogger(__name__)
FIELD_BLOCKS = {"nudge_guests": "guests"}  # a setting refused by the core, shown on the form's block for it
OWN_NUDGES = "You can change your own nudges with `/smallchange nudges`."


def open_admin(services: Services, client: WebClient, respond: Respond, team: Team, user_id: str, trigger: str):
    """The settings modal, for admins only, with a dry run of the next tick and the nudge report."""
    try:
        config = services.workspaces.for_admin(team, user_id)
        counts = Counter(decision.reason for _, decision in services.nudges.plan(team))
        report = report_lines(services.nudges.reading(team))
        impact = services.digests.impact(team)
    except Refused as refusal:
        respond(f"{told(refusal)} {OWN_NUDGES}")
        return
    except OUTAGES as exc:
        respond(told(exc, "I couldn't load the settings"))
        return
    summary = [f"{n} {reason}" for reason, n in counts.most_common()] or [
        "Nobody known yet: the clock learns the team."
    ]
    try:
        client.views_open(trigger_id=trigger, view=modals.admin_modal(config, summary, report, impact))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        respond("I couldn't open the settings just now. Try `/smallchange admin` again.")


def open_my_nudges(services: Services, client: WebClient, respond: Respond, team: Team, user_id: str, trigger: str):
    try:
        view = modals.my_nudges_modal(services.nudges.preferences(team, user_id), services.workspaces.get(team))
        client.views_open(trigger_id=trigger, view=view)
    except OUTAGES as exc:
        respond(told(exc, "I couldn't load your settings"))
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        respond("I couldn't open your settings just now. Try `/smallchange nudges` again.")


def _value(values: dict, block: str, element: str, key: str):
    found = (values.get(block, {}).get(element) or {}).get(key)
    return found.strip() if isinstance(found, str) else found


def _lines(text) -> list[str]:
    return [line.strip() for line in (text if isinstance(text, str) else "").splitlines() if line.strip()]


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    def admin_submitted(ack: Ack, body: dict, view: dict, team: Team) -> tuple[str, ...] | None:
        user_id = body["user"]["id"]
        values = view["state"]["values"]
        holidays, unreadable = read_dates(_value(values, "holidays", "text", "value") or "")
        if unreadable:
            errors = {"holidays": f"I couldn't read {', '.join(unreadable[:3])}: use dates like 2026-12-25."}
            ack(response_action="errors", errors=errors)
            return None
        reaction = _value(values, "thanks_reaction", "text", "value")
        experiment = _value(values, "experiment", "choice", "selected_option") or {}
        changes = {
            "cadence": (_value(values, "cadence", "choice", "selected_option") or {}).get("value"),
            "days": [o.get("value") for o in (_value(values, "days", "choice", "selected_options") or [])],
            "start": _value(values, "start", "time", "selected_time"),
            "end": _value(values, "end", "time", "selected_time"),
            "weekly_cap": _value(values, "weekly_cap", "number", "value"),
            "holidays": holidays,
            "prompts": _lines(_value(values, "prompts", "text", "value")),
            "thanks_daily_cap": _value(values, "thanks_daily_cap", "number", "value"),
            "values": _lines(_value(values, "values", "text", "value")),
            "thanks_reaction": reaction.strip(":").lower() if isinstance(reaction, str) else None,
            "digest_cadence": (_value(values, "digest_cadence", "choice", "selected_option") or {}).get("value"),
            "digest_channel": _value(values, "digest_channel", "choice", "selected_conversation") or "",
            "managers": _value(values, "managers", "users", "selected_users") or [],
            "leadership_channel": _value(values, "leadership_channel", "choice", "selected_conversation") or "",
            "leaders": _value(values, "leaders", "users", "selected_users") or [],
            "experiment": list(modals.EXPERIMENTS.get(experiment.get("value", "none"), ("not offered",))),
            "nudge_guests": bool(_value(values, "guests", "choice", "selected_options")),
        }

        def saved_note(changed: list[str]) -> list:
            said = (
                "Settings saved: " + ", ".join(c.replace("_", " ") for c in changed) if changed else "Nothing changed"
            )
            return [dm(user_id, said + ". Every change is recorded with who and when.")]

        action = (_value(values, "experiment_action", "choice", "selected_option") or {}).get("value")

        def save() -> list[str]:
            return services.workspaces.update(team, user_id, changes, saved_note, experiment_action=action)

        saved = save_from_modal(ack, "cadence", save, view, FIELD_BLOCKS)
        if saved is None:
            return None
        ack()
        return ()

    app.view("admin_submit")(**form(services, delivery, admin_submitted))
