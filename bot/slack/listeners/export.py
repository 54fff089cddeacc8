"""`/smallchange export`: an admin's copy of the team's records, sent to the admin alone."""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.core.errors import Refused
from bot.core.model import Team
from bot.core.records import UnknownWorkspace
from bot.core.services import Services
from bot.slack.listeners.replies import OUTAGES, told
from bot.slack.text import escape

log = logging.getLogger(__name__)
EXPORT_FAILED = (
    ":warning: Your Small Changes export was *not* sent: Slack didn't take the files ({reason}). Nothing was shared. "
    "Please try `/smallchange export` again soon."
)


def send_export(
    services: Services,
    client: WebClient,
    respond: Respond,
    team: Team,
    user_id: str,
    since: date | None,
    format: Literal["csv", "json"],
):
    """Admins only, and only into the admin's own DM: an export holds the whole team's records."""
    try:
        data = services.records.export(team, user_id, since)
    except UnknownWorkspace:
        respond("Nothing has been recorded in this workspace yet, so there's nothing to export.")
        return
    except (Refused, *OUTAGES) as exc:
        respond(told(exc, "I couldn't export just now", "Nothing was sent. Please try again."))
        return
    name = f"smallchanges-{team.external_id}-{data.exported_at:%Y%m%d}"
    tables = {".json": data.to_json()} if format == "json" else {f"-{f}": t for f, t in data.csv_files().items()}
    files = [{"filename": name + suffix, "title": name + suffix, "content": body} for suffix, body in tables.items()]
    counts = f"thanks: {len(data.thanks)}, ideas: {len(data.ideas)}, nudges: {len(data.nudges)}"
    about = f"Small Changes export{f' since {since}' if since else ''}: {counts}. Private thanks are not quoted."
    try:
        # Each file is uploaded first and shared in one step at the end, so a failure part-way shares nothing.
        dm = client.conversations_open(users=user_id)["channel"]["id"]
        client.files_upload_v2(file_uploads=files, channel=dm, initial_comment=about)
    except (SlackClientError, OSError) as exc:
        response = getattr(exc, "response", None)
        reason = (response.get("error") if response is not None else None) or type(exc).__name__
        log.warning("sending an export failed: %s", reason)
        tell_in_dm(client, respond, user_id, EXPORT_FAILED.format(reason=escape(str(reason))))
        return
    respond(f":inbox_tray: Sent to you in a DM ({counts}).")


def tell_in_dm(client: WebClient, respond: Respond, user_id: str, text: str) -> None:
    """Where the export would have gone, so the admin finds the reason there; in the channel if even that fails."""
    try:
        client.chat_postMessage(channel=user_id, text=text)
    except (SlackClientError, OSError):
        respond(text)
