"""Export a workspace's records, and erase one person's personal data on request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.core.ports import utc_now
from bot.store.db import Store


class RecordsService:
    def __init__(self, store: Store, now: Callable[[], datetime] = utc_now):
        self.store, self.now = store, now
