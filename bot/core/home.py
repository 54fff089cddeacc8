"""What a person's App Home shows: their thanks, their ideas, the team's top ideas and their nudge settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.changes import ChangeService
from bot.core.nudges import NudgeService
from bot.core.ports import utc_now
from bot.core.workspace import WorkspaceSettingsService
from bot.store.db import Store


class HomeService:
    def __init__(
        self,
        store: Store,
        changes: ChangeService,
        nudges: NudgeService,
        workspaces: WorkspaceSettingsService,
        now: Callable[[], datetime] = utc_now,
    ):
        self.store, self.changes, self.nudges, self.workspaces, self.now = store, changes, nudges, workspaces, now
