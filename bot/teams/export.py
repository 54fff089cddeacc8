"""`export` in Teams: an admin's copy of the team's records, to them alone.

Teams lets a bot send a file only in a person's 1:1 chat, and only once they agree to it: the bot sends a file
consent card, and when the admin accepts, Teams gives an upload address in their OneDrive. The file waits in this
process until then (for EXPIRES), so an export asked for just before a restart is asked for again.
"""

from __future__ import annotations

import io
import secrets
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from microsoft_teams.api import Attachment, FileConsentCard, MessageActivityInput

from bot.core.model import Team
from bot.core.ports import utc_now
from bot.core.records import RecordsService

EXPIRES = timedelta(minutes=15)
CONSENT = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO = "application/vnd.microsoft.teams.card.file.info"


@dataclass(frozen=True)
class Waiting:
    user_id: str
    name: str
    content: bytes
    until: datetime


class Exports:
    def __init__(self, records: RecordsService, now: Callable[[], datetime] = utc_now):
        self.records, self.now = records, now
        self.waiting: dict[str, Waiting] = {}
        self.lock = threading.Lock()

    def offer(self, team: Team, user_id: str, since: date | None, format: str) -> MessageActivityInput:
        """The consent card for an export of the team's records (the core refuses anyone but an admin): the CSV
        files in one zip, or one JSON file."""
        data = self.records.export(team, user_id, since)
        name = f"smallchanges-{data.exported_at:%Y%m%d}"
        if format == "json":
            name, content = name + ".json", data.to_json().encode()
        else:
            name, content = name + ".zip", _zipped({f"{name}-{f}": t for f, t in data.csv_files().items()})
        token = secrets.token_urlsafe(16)
        with self.lock:
            now = self.now()
            self.waiting = {k: w for k, w in self.waiting.items() if w.until > now}
            self.waiting[token] = Waiting(user_id, name, content, now + EXPIRES)
        counts = f"thanks: {len(data.thanks)}, ideas: {len(data.ideas)}, nudges: {len(data.nudges)}"
        about = f"Small Changes export{f' since {since}' if since else ''}: {counts}. Private thanks are not quoted."
        card = FileConsentCard(
            description=about,
            size_in_bytes=len(content),
            accept_context={"export": token},
            decline_context={"export": token},
        )
        return MessageActivityInput(text=about, attachments=[Attachment(content_type=CONSENT, name=name, content=card)])

    def take(self, token: object, user_id: str) -> Waiting | None:
        """The file waiting under `token`, for the admin who asked for it alone; once."""
        with self.lock:
            waiting = self.waiting.get(token) if isinstance(token, str) else None
            if waiting is None or waiting.user_id != user_id or waiting.until <= self.now():
                return None
            return self.waiting.pop(token)


def _zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def file_info(name: str, content_url: str, unique_id: str | None, file_type: str | None) -> MessageActivityInput:
    """The card that shows the uploaded file in the chat, for the admin to open."""
    content = {"uniqueId": unique_id, "fileType": file_type}
    return MessageActivityInput(
        text=f"Your export is in your OneDrive: {name}",
        attachments=[Attachment(content_type=FILE_INFO, content_url=content_url, name=name, content=content)],
    )
