"""People as Slack knows them (users.info), cached briefly so a busy channel costs few API calls; and who may read a
conversation (conversations.info, conversations.members)."""

from __future__ import annotations

import threading
import time

from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable
from bot.core.model import Audience, Person, Team
from bot.slack.installs import Workspaces

NOT_FOUND = ("user_not_found", "users_not_found")


class SlackDirectory:
    def __init__(self, workspaces: Workspaces, ttl_seconds: float = 300.0):
        self.workspaces = workspaces
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, Person | None]] = {}
        self._lock = threading.Lock()

    def person(self, team: Team, user_id: str) -> Person | None:
        key = f"{team.external_id}:{user_id}"
        cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            user = self.workspaces.client_for(team).users_info(user=user_id)["user"]
        except SlackApiError as exc:
            if exc.response.get("error") in NOT_FOUND:
                self._remember(key, None)
                return None
            raise PlatformUnavailable(f"users.info failed: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise PlatformUnavailable("users.info did not answer") from exc
        person = self.from_user(user)
        self._remember(key, person)
        return person

    def _remember(self, key: str, person: Person | None) -> None:
        with self._lock:
            self._cache[key] = (time.monotonic() + self.ttl, person)

    def everyone(self, team: Team) -> list[Person]:
        """users.list, page by page (it is a Tier 2 method: few, large pages)."""
        people: list[Person] = []
        try:
            for page in self.workspaces.client_for(team).users_list(limit=200):
                people += [self.from_user(user) for user in page.get("members", [])]
        except SlackApiError as exc:
            raise PlatformUnavailable(f"users.list failed: {exc.response.get('error')}") from exc
        return people

    def fresh(self, team: Team, user_id: str) -> Person | None:
        """users.info now, not from the cache: for a status that may have changed this morning."""
        self._cache.pop(f"{team.external_id}:{user_id}", None)
        return self.person(team, user_id)

    def audience(self, team: Team, channel_id: str) -> Audience:
        """conversations.info tells a public channel (anyone may read it) from a private channel, group DM or DM,
        whose members conversations.members lists, page by page. Per conversation, not per reader: the core keeps
        each answer for the digest run, so one call (a page per 200 members) serves every manager, where
        users.conversations would page through each manager's channels and still need conversations.info to tell
        which are public. A private conversation the bot is not in is channel_not_found to it: raised like any error."""
        try:
            client = self.workspaces.client_for(team)
            channel = client.conversations_info(channel=channel_id)["channel"]
            if not (channel.get("is_private") or channel.get("is_im") or channel.get("is_mpim")):
                return Audience(public=True)
            members: set[str] = set()
            for page in client.conversations_members(channel=channel_id, limit=200):
                members.update(page.get("members", []))
        except SlackApiError as exc:
            raise PlatformUnavailable(f"who may read {channel_id}: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise PlatformUnavailable(f"who may read {channel_id}: Slack did not answer") from exc
        return Audience(members=frozenset(members))

    @staticmethod
    def from_user(user: dict) -> Person:
        profile = user.get("profile") or {}
        expires = profile.get("status_expiration") or 0
        status_live = not expires or expires > time.time()
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        return Person(
            id=user["id"],
            name=name or user["id"],
            is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
            deleted=bool(user.get("deleted")),
            is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
            tz=user.get("tz") or "UTC",
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            status_text=(profile.get("status_text") or "") if status_live else "",
            status_emoji=(profile.get("status_emoji") or "") if status_live else "",
        )
