"""Who is due a nudge, and if not, why not. Pure functions: no I/O, time passed in, so every rule is testable."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta

from bot.core.model import CADENCE_WEEKS, Decision, PersonState, WorkspaceConfig

EPOCH_MONDAY = date(2024, 1, 1)  # periods are counted in whole weeks from this Monday
SLOWER = {"weekly": "fortnightly", "fortnightly": "monthly", "monthly": "every 2 months", "every 2 months": "off"}
AWAY_WORDS = re.compile(
    r"\b(holiday|holidays|vacation|annual leave|a/l|on leave|leave|off sick|sick|ill|ooo|out of (the )?office|"
    r"away|day off|off today|pto|parental|maternity|paternity)\b",
    re.IGNORECASE,
)
AWAY_EMOJI = {
    ":palm_tree:",
    ":desert_island:",
    ":beach_with_umbrella:",
    ":airplane:",
    ":face_with_thermometer:",
    ":thermometer:",
    ":mask:",
    ":sick:",
    ":nauseated_face:",
    ":face_with_head_bandage:",
    ":baby:",
    ":no_entry:",
    ":zzz:",
    ":sleeping:",
}


def arm_for(workspace_key: str, user_id: str, arms: tuple[str, ...]) -> str | None:
    """A stable random arm: the same person always lands in the same arm of the same experiment."""
    if not arms:
        return None
    digest = hashlib.sha256(f"{workspace_key}:{'|'.join(arms)}:{user_id}".encode()).digest()
    return arms[int.from_bytes(digest[:8], "big") % len(arms)]


def running_arm(workspace_key: str, user_id: str, config: WorkspaceConfig) -> str | None:
    """The arm whose cadence this person gets: their arm_for, unless an admin stopped it (then None: the team's
    cadence). Everyone keeps their place, so stopping one arm moves nobody in the others."""
    arm = arm_for(workspace_key, user_id, config.experiment)
    return None if arm in config.stopped_arms else arm


def is_away(status_text: str, status_emoji: str) -> bool:
    return status_emoji in AWAY_EMOJI or bool(AWAY_WORDS.search(status_text or ""))


def responded_since_last_nudge(person: PersonState) -> bool:
    return bool(person.active_at and person.last_nudge_at and person.active_at >= person.last_nudge_at)


def unanswered(person: PersonState) -> int:
    """Nudges in a row with no click, thanks or idea since; activity after the last one resets it."""
    return 0 if responded_since_last_nudge(person) else person.unanswered


def week_number(day: date) -> int:
    """Whole weeks (Monday to Sunday) since EPOCH_MONDAY."""
    return (day - EPOCH_MONDAY).days // 7


def period_weeks(config: WorkspaceConfig, person: PersonState, arm: str | None) -> int | None:
    """Weeks between nudges for this person, or None when they are off."""
    base = arm or config.cadence
    if base == "off" or person.cadence == "off":
        return None
    weeks = CADENCE_WEEKS[base]
    if person.cadence:
        weeks = max(weeks, CADENCE_WEEKS[person.cadence])  # a person may choose less often, never more
    if unanswered(person) >= 2:
        weeks *= 2  # back-off: two nudges in a row with no response halves the cadence
    return weeks


def decide(config: WorkspaceConfig, person: PersonState, local: datetime, arm: str | None = None) -> Decision:
    """Is this person due a message now (`local` is now in their own timezone), and if not, why not?"""
    if person.is_bot:
        return Decision(None, "bot")
    if person.deleted:
        return Decision(None, "deactivated")
    if person.is_guest and not config.nudge_guests:
        return Decision(None, "guest")
    if config.cadence == "off":  # an admin's "off" also pauses any experiment
        return Decision(None, "nudges are off for the workspace")
    if person.opted_out:
        return Decision(None, "opted out")
    weeks = period_weeks(config, person, arm)
    if weeks is None:
        return Decision(None, "chose no nudges")
    kind = "nudge"
    if unanswered(person) >= 4:
        if person.stop_check_sent:
            return Decision(None, "backed off: no answer to 4 nudges")
        kind = "stop_check"
    today = local.date()
    if person.snoozed_until and today < person.snoozed_until:
        return Decision(None, "snoozed")
    if local.weekday() not in config.days:
        return Decision(None, "not a working day")
    if today in config.holidays:
        return Decision(None, "holiday")
    if person.alternate_day_off and (today - person.alternate_day_off).days % 14 == 0:
        return Decision(None, "personal day off")
    if not config.start <= local.time() < config.end:
        return Decision(None, f"outside working hours in {person.tz}")
    if is_away(person.status_text, person.status_emoji):
        return Decision(None, "away status")
    if person.sent_last_7_days >= config.weekly_cap:
        return Decision(None, "weekly cap reached")
    index = week_number(today) // weeks
    period_start = EPOCH_MONDAY + timedelta(weeks=index * weeks)
    if kind == "nudge":
        last = person.last_nudge_at.astimezone(local.tzinfo).date() if person.last_nudge_at else None
        if last and last >= period_start:
            return Decision(None, "already nudged this period")
        if last and week_number(today) - week_number(last) < weeks:
            # Periods are fixed blocks of weeks, so a nudge late in one could be followed a week later by one early
            # in the next: count whole weeks from the last nudge's week as well.
            if unanswered(person) >= 2:
                return Decision(None, "backed off: half as often after 2 unanswered")
            return Decision(None, "already nudged this period")
        if person.active_at and person.active_at.astimezone(local.tzinfo).date() >= period_start:
            return Decision(None, "recently active")
    last_nudge = person.last_nudge_at or local
    period = f"{weeks}w{index}" if kind == "nudge" else f"after-{last_nudge:%Y%m%d}"
    return Decision(kind, "would nudge" if kind == "nudge" else "would ask whether to stop", period, arm)


def next_period_start(local: datetime) -> date:
    """Snoozing "not this week" lasts until next Monday."""
    today = local.date()
    return today + timedelta(days=7 - today.weekday())


LESS_OFTEN = ("fortnightly", "monthly", "every 2 months")


def personal_cadences(team_cadence: str) -> tuple[str, ...]:
    """What a person may choose for themselves: as the team sets ("team"), less often, or "off"; never more often."""
    team_weeks = CADENCE_WEEKS.get(team_cadence, 0)
    return ("team", *(c for c in LESS_OFTEN if CADENCE_WEEKS[c] > team_weeks), "off")


def chosen_cadence(person: PersonState) -> str:
    """A person's choice among personal_cadences."""
    return "off" if person.opted_out or person.cadence == "off" else (person.cadence or "team")
