"""The clock's messages to Teams people and channels: nudges and stop-checks in a person's 1:1 chat with the bot,
digests in the digest channel or a manager's chat, and a change owner's reminder. Each is sent at once, for the
sends ledger to record (sent, or SendFailed)."""

from __future__ import annotations

import logging

from bot.charts import chart_png
from bot.core.experiment import overload_text
from bot.core.model import ChangeView, ChannelDigest, ManagerDigest, Overload, Team, Trends
from bot.core.ports import SendFailed
from bot.teams import cards
from bot.teams.delivery import TeamsSender, dm, post

log = logging.getLogger(__name__)


class TeamsNotifier:
    def __init__(self, sender: TeamsSender):
        self.sender = sender

    def nudge(self, team: Team, user_id: str, prompt: str, send_id: int) -> None:
        self._send(team, dm(user_id, prompt, cards.nudge_card(prompt, send_id)))

    def stop_check(self, team: Team, user_id: str, send_id: int) -> None:
        self._send(team, dm(user_id, "Shall I stop these check-ins?", cards.stop_check_card(send_id)))

    def unavailable(self, team: Team, user_id: str) -> str | None:
        """Teams tells a bot nothing of presence or out-of-office without Graph permissions: working hours, days off
        and snoozes still hold."""
        return None

    def digest(self, team: Team, to: str, digest: ManagerDigest | ChannelDigest) -> None:
        names = self.sender.names(team)
        card = cards.digest_card(digest, names)
        headline = cards.digest_headline(digest)
        message = dm(to, headline, card) if isinstance(digest, ManagerDigest) else post(to, headline, card)
        self._send(team, message)
        if isinstance(digest, ManagerDigest) and digest.trends:
            self._chart(team, to, digest.trends, digest.period)

    def _chart(self, team: Team, to: str, trends: Trends, period: str) -> None:
        """The trends as an image, in a message of its own under a manager's digest, its numbers in the message's
        text (Teams has no alt text for an inline image). Best effort: the digest is sent already, and is not sent
        again for a chart that failed."""
        png = chart_png(trends)
        if png is None:
            return
        try:
            self._send(team, dm(to, "📈 " + trends.alt_text(), image=(f"trends-{period}.png", png)))
        except SendFailed as failed:
            log.info("no trends chart sent: %s", failed)

    def remind(self, team: Team, owner_id: str, change: ChangeView, asker_id: str) -> None:
        names = self.sender.names(team)
        text = (
            f"{names(asker_id)} would like to hear how your small change is going: “{change.text[:300]}”. "
            "Update its status on its card when you can."
        )
        self._send(team, dm(owner_id, text))

    def overload(self, team: Team, admin_id: str, overload: Overload) -> None:
        self._send(team, dm(admin_id, overload_text(overload, "the settings (send me `admin`)")))

    def _send(self, team: Team, message) -> None:
        self.sender(team, message.kind, message.payload)
