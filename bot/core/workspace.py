"""Per-workspace settings: config/defaults.toml, overridden by what admins chose, with an audit trail."""

from __future__ import annotations

import json
import re
import threading
import time as monotonic_time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import date, datetime, time
from zoneinfo import available_timezones

from bot.core.admins import Actor, Admins, Operator
from bot.core.errors import Refused
from bot.core.model import CADENCES, DAYS, Team, WorkspaceConfig
from bot.core.outbox import Message, Outbox
from bot.core.ports import utc_now
from bot.core.words import check_text
from bot.store.db import Store
from bot.store.models import SettingsChange, WorkspaceSettings

# What an admin may choose, checked on the server whatever a form allowed: (least, most).
NUMBERS = {"weekly_cap": (0, 7), "thanks_daily_cap": (1, 100)}
MOST = {  # (items, characters)
    "prompts": (20, 300),
    "values": (20, 60),
    "managers": (50, 200),
    "admins": (50, 200),
    "leaders": (50, 200),
    "holidays": (366, 10),
}
EMOJI_NAME = re.compile(r"[a-z0-9_+'-]{1,100}")  # a reaction's name, e.g. raised_hands or +1
PLATFORM_ID = re.compile(r"[A-Za-z0-9:@._;=+/-]{2,200}")  # a person or channel as a platform writes it: no spaces
EXPERIMENTS = ((), ("fortnightly", "monthly"), ("weekly", "fortnightly"))
# Ending an experiment by adopting an arm is one entry in the settings' history: {"adopted": arm}, the experiment and
# cadence it replaced as its old value. The settings it changes at once:
EXPERIMENT_ENDED = "experiment_ended"
ENDING = ("cadence", "experiment", "stopped_arms")
NOT_ADMIN = (
    "Only workspace admins and owners (and people the bot's operator has named) can change Small Changes' settings."
)


def check_changes(changes: dict) -> None:
    """Refuse (naming the setting) anything the settings form could not have offered: a crafted submission with a
    weekly cap of 100 or a daily cap of "1e9" is turned down here, not trusted because the form had limits."""

    def refuse(field: str, why: str):
        raise Refused(why, field=field)

    for key, value in changes.items():
        if value is None:
            continue
        if key in NUMBERS:
            least, most = NUMBERS[key]
            if not (isinstance(value, int | str) and str(value).isdigit() and least <= int(value) <= most):
                refuse(key, f"Choose a whole number from {least} to {most}.")
        elif key in ("cadence", "digest_cadence") and value not in CADENCES:
            refuse(key, f"Choose one of {', '.join(CADENCES)}.")
        elif key == "days" and (not isinstance(value, list) or not value or any(d not in DAYS for d in value)):
            refuse(key, "Choose at least one day (or set the cadence to off).")
        elif key in ("start", "end"):
            try:
                time.fromisoformat(value)
            except (TypeError, ValueError):
                refuse(key, "Choose a time like 10:00.")
        elif key in MOST:
            items, chars = MOST[key]
            if not isinstance(value, list) or len(value) > items:
                refuse(key, f"Keep it to {items} at most.")
            for item in value:
                if not isinstance(item, str) or not 0 < len(item) <= chars:
                    refuse(key, f"Keep each one to {chars} characters.")
                check_text(key.rstrip("s").capitalize(), item, field=key)
                if key in ("managers", "admins", "leaders") and not PLATFORM_ID.fullmatch(item):
                    refuse(key, f"Choose {key} from the list.")
                if key == "holidays":
                    try:
                        date.fromisoformat(item)
                    except ValueError:
                        refuse(key, f"I couldn't read {item!r}: use dates like 2026-12-25.")
            if key in ("prompts", "values") and not value:
                refuse(key, f"Keep at least one {key.rstrip('s')}.")
        elif key == "thanks_reaction" and not (isinstance(value, str) and EMOJI_NAME.fullmatch(value.strip(": "))):
            refuse(key, "Type an emoji's name, like pray or raised_hands (no spaces).")
        elif (
            key in ("digest_channel", "leadership_channel")
            and value
            and not (isinstance(value, str) and PLATFORM_ID.fullmatch(value))
        ):
            refuse(key, "Choose a channel from the list.")
        elif key == "experiment" and tuple(value or ()) not in EXPERIMENTS:
            refuse(key, "Choose one of the experiments offered.")
        elif key == "stopped_arms":
            refuse(key, "Stop an arm with the experiment's own choices.")
        elif key == "nudge_guests" and not isinstance(value, bool):
            refuse(key, "Choose yes or no.")
        elif key == "timezone" and value not in available_timezones():
            refuse(key, "Choose a timezone like Europe/London.")
    if changes.get("start") and changes.get("end") and changes["end"] <= changes["start"]:
        refuse("end", "The end of the day must come after its start.")


class WorkspaceSettingsService:
    """Reads each workspace's configuration (cached for a minute) and records admins' changes."""

    def __init__(
        self,
        store: Store,
        defaults: WorkspaceConfig,
        outbox: Outbox,
        admins: Admins,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.defaults, self.outbox, self.admins, self.now = store, defaults, outbox, admins, now
        self._cache: dict[int, tuple[float, WorkspaceConfig]] = {}
        self._lock = threading.Lock()

    def get(self, team: Team) -> WorkspaceConfig:
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        cached = self._cache.get(workspace_id)
        if cached and cached[0] > monotonic_time.monotonic():
            return cached[1]
        with self.store.session() as session:
            row = session.get(WorkspaceSettings, workspace_id)
            config = self.defaults.with_changes(json.loads(row.overrides)) if row else self.defaults
        with self._lock:
            self._cache[workspace_id] = (monotonic_time.monotonic() + 60, config)
        return config

    def for_admin(self, team: Team, actor_id: str) -> WorkspaceConfig:
        """The settings as an admin sees them to change them; Refused for anyone else."""
        self.admins.require(team, actor_id, NOT_ADMIN)
        return self.get(team)

    def update(
        self,
        team: Team,
        actor_id: Actor,
        changes: dict,
        messages: Callable[[list[str]], Iterable[Message]] = lambda _changed: (),
        experiment_action: str | None = None,
    ) -> list[str]:
        """Apply an admin's changes (stored form), record each with who and when, with the messages that say so;
        returns the names of what changed. Raises Refused for anyone else, and, naming the setting, for a value the
        form could not have offered. `experiment_action`, one of experiment_choices' values, stops an arm of the
        running experiment or ends it adopting an arm's cadence for everyone (recorded as one EXPERIMENT_ENDED
        entry naming the arm)."""
        self.admins.require(team, actor_id, NOT_ADMIN)
        check_changes(changes)
        who = actor_id.recorded_as if isinstance(actor_id, Operator) else actor_id
        workspace_id = self.store.workspace_id(team.platform, team.external_id)
        current = self.get(team)
        wanted = current.with_changes(changes)
        if wanted.experiment != current.experiment:
            wanted = replace(wanted, stopped_arms=())  # a new experiment starts with every arm running
        verb, arm = chosen_action(current, wanted, experiment_action)
        if verb == "stop":
            wanted = replace(wanted, stopped_arms=(*current.stopped_arms, arm))
        elif verb == "adopt":
            wanted = replace(wanted, cadence=arm, experiment=(), stopped_arms=())
        new, old = wanted.stored(), current.stored()
        changed = [key for key in new if new[key] != old[key]]
        entries = {key: (old[key], new[key]) for key in changed}
        if verb == "adopt":
            for key in ENDING:
                entries.pop(key, None)
            entries[EXPERIMENT_ENDED] = ({"experiment": old["experiment"], "cadence": old["cadence"]}, {"adopted": arm})
        now = self.now()
        with self.store.session() as session:
            self.outbox.add(session, workspace_id, messages(list(entries)))
            if not changed:
                return []
            row = session.get(WorkspaceSettings, workspace_id)
            if row is None:
                row = WorkspaceSettings(workspace_id=workspace_id, overrides="{}", updated_at=now)
                session.add(row)
            overrides = json.loads(row.overrides or "{}")
            for key in changed:
                overrides[key] = new[key]
            for setting, (was, becomes) in entries.items():
                session.add(
                    SettingsChange(
                        workspace_id=workspace_id,
                        actor_id=who,
                        setting=setting,
                        old=json.dumps(was),
                        new=json.dumps(becomes),
                        at=now,
                    )
                )
            row.overrides, row.updated_at, row.updated_by = json.dumps(overrides), now, who
        with self._lock:
            self._cache.pop(workspace_id, None)
        return list(entries)


def experiment_choices(config: WorkspaceConfig) -> list[tuple[str, str]]:
    """What an admin may do with the running experiment, as (value, words): keep it, stop an arm still running
    (while another runs on) for the team's cadence, or end it adopting an arm's cadence. Empty without an
    experiment."""
    if not config.experiment:
        return []
    running = [arm for arm in config.experiment if arm not in config.stopped_arms]
    # Stopping an arm whose cadence is the team's would change nothing for its people: not offered.
    stop = [(f"stop:{a}", f"Stop the {a} arm (its people get the team's {config.cadence})") for a in running]
    stop = [(value, words) for value, words in stop if value != f"stop:{config.cadence}"]
    adopt = [(f"adopt:{a}", f"End it: {a} for everyone") for a in config.experiment]
    return [("keep", "Keep it running"), *(stop if len(running) > 1 else []), *adopt]


def chosen_action(current: WorkspaceConfig, wanted: WorkspaceConfig, action: str | None) -> tuple[str | None, str]:
    """An admin's choice for the running experiment, as (verb, arm), checked against what was on offer; (None, "")
    to keep it as it is. Refused, naming the field, if it was not offered or the same form also changed the
    experiment (or, to adopt an arm, the cadence)."""
    if not action or action == "keep":
        return None, ""
    if action not in dict(experiment_choices(current)):
        raise Refused("Choose one of the experiment's choices offered.", field="experiment_action")
    verb, _, arm = action.partition(":")
    if wanted.experiment != current.experiment or (verb == "adopt" and wanted.cadence != current.cadence):
        raise Refused(
            "Either change the experiment (or the cadence) or act on the running one, not both at once.",
            field="experiment_action",
        )
    return verb, arm
