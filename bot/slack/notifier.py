"""Bot-initiated DMs for the nudge clock, and a fresh look at whether now is a bad moment."""

from __future__ import annotations

import logging
import time

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.charts import chart_png
from bot.core.errors import PlatformUnavailable
from bot.core.experiment import overload_text
from bot.core.model import ChangeView, ChannelDigest, ManagerDigest, Overload, Team, Trends
from bot.core.policy import is_away
from bot.slack import blocks, digest_blocks
from bot.slack.delivery import send_failure
from bot.slack.directory import SlackDirectory
from bot.slack.installs import NotInstalled, Workspaces

log = logging.getLogger(__name__)


class SlackNotifier:
    def __init__(self, workspaces: Workspaces, directory: SlackDirectory):
        self.workspaces, self.directory = workspaces, directory

    def _post(self, team: Team, user_id: str, text: str, message_blocks: list[dict] | None) -> None:
        try:
            self.workspaces.client_for(team).chat_postMessage(channel=user_id, text=text, blocks=message_blocks)
        except (SlackApiError, OSError, NotInstalled) as exc:
            raise send_failure(exc) from exc

    def nudge(self, team: Team, user_id: str, prompt: str, send_id: int) -> None:
        self._post(team, user_id, *blocks.nudge(prompt, send_id))

    def stop_check(self, team: Team, user_id: str, send_id: int) -> None:
        self._post(team, user_id, *blocks.stop_check(send_id))

    def digest(self, team: Team, to: str, copy: ManagerDigest | ChannelDigest) -> None:
        self._post(team, to, *digest_blocks.digest_message(copy))
        if isinstance(copy, ManagerDigest) and copy.trends:
            self._chart(team, to, copy.trends, copy.period)

    def _chart(self, team: Team, to: str, trends: Trends, period: str) -> None:
        """The trends as an image under a manager's digest, where the workspace allows files. Best effort: the digest
        is sent already, and a chart that fails (no files:write scope, uploads turned off) is not worth sending it
        again for; its numbers are in the sparklines and in the image's alt text."""
        png = chart_png(trends)
        if png is None:
            return
        try:
            client = self.workspaces.client_for(team)
            dm = client.conversations_open(users=to)["channel"]["id"]
            client.files_upload_v2(
                channel=dm,
                content=png,
                filename=f"trends-{period}.png",
                title=f"Twelve weeks, {trends.span}",
                alt_txt=trends.alt_text(),
            )
        except (SlackClientError, OSError, NotInstalled) as exc:
            response = getattr(exc, "response", None)
            log.info("no trends chart sent: %s", (response.get("error") if response is not None else None) or exc)

    def remind(self, team: Team, owner_id: str, change: ChangeView, asker_id: str) -> None:
        self._post(team, owner_id, digest_blocks.reminder(change, asker_id), None)

    def overload(self, team: Team, admin_id: str, overload: Overload) -> None:
        self._post(team, admin_id, overload_text(overload, "`/smallchange admin`"), None)

    def unavailable(self, team: Team, user_id: str) -> str | None:
        try:
            person = self.directory.fresh(team, user_id)
            if person is None or person.deleted:
                return "deactivated"
            if is_away(person.status_text, person.status_emoji):
                return "away status"
            dnd = self.workspaces.client_for(team).dnd_info(user=user_id)
        except (SlackApiError, PlatformUnavailable, OSError) as exc:
            log.info("could not check availability: %s", exc)
            return "could not check availability (will try later)"
        now = time.time()
        snoozing = dnd.get("snooze_enabled") and dnd.get("snooze_endtime", 0) > now
        scheduled = dnd.get("dnd_enabled") and dnd.get("next_dnd_start_ts", 0) <= now < dnd.get("next_dnd_end_ts", 0)
        return "do not disturb" if snoozing or scheduled else None
