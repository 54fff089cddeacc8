"""The services an adapter can call, built once by bot.app."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.changes import ChangeService
from bot.core.digests import DigestService
from bot.core.home import HomeService
from bot.core.leaders import LeaderService
from bot.core.nudges import NudgeService
from bot.core.outbox import Outbox, Replays
from bot.core.records import RecordsService
from bot.core.thanks import ThanksService
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Settings
from bot.store.db import Store


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: Store
    thanks: ThanksService
    changes: ChangeService
    leaders: LeaderService
    workspaces: WorkspaceSettingsService
    nudges: NudgeService
    digests: DigestService
    home: HomeService
    records: RecordsService
    outbox: Outbox
    replays: Replays
