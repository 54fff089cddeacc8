"""Managers' digests: what the team did in the last period, sent through the clock and the sends ledger."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from bot.core.nudges import NudgeService
from bot.core.ports import Directory, Notifier, utc_now
from bot.core.workspace import WorkspaceSettingsService
from bot.store.db import Store


class DigestService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        notifier: Notifier,
        workspaces: WorkspaceSettingsService,
        nudges: NudgeService,
        now: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.store, self.directory, self.notifier, self.workspaces = store, directory, notifier, workspaces
        self.nudges, self.now, self.sleep = nudges, now, sleep
