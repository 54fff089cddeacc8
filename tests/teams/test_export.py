"""export in Teams: the team's records, to an admin alone, as a file they agree to receive in their 1:1 chat."""

from __future__ import annotations

import io
import zipfile

from tests.teams.conftest import ADMIN, ALICE, BOB

CONSENT = "application/vnd.microsoft.teams.card.file.consent"


def consent(teams, sender: dict = ADMIN) -> dict:
    path = f"/v3/conversations/a:1personal-{sender['id']}/activities"
    return [
        a
        for c in teams.connector.sent()
        if c.path == path
        for a in c.body.get("attachments") or []
        if a["contentType"] == CONSENT
    ][-1]


def answer_consent(teams, offered: dict, action: str, sender: dict = ADMIN) -> int:
    value = {
        "type": "fileUpload",
        "action": action,
        "context": offered["content"]["acceptContext"],
        "uploadInfo": {
            "name": offered["name"],
            "uploadUrl": teams.connector.url + "upload/" + offered["name"],
            "contentUrl": "https://contoso-my.sharepoint.com/personal/dani/Documents/Applications/" + offered["name"],
            "uniqueId": "1150D938-8870-4044-9F2C-5BBDEBA70C9D",
            "fileType": offered["name"].rsplit(".", 1)[-1],
        },
    }
    return teams.post(teams.activity("invoke", sender, "personal", name="fileConsent/invoke", value=value))


def test_an_admin_agrees_to_the_file_and_it_is_uploaded_to_their_onedrive_and_shown(teams):
    teams.say("thanks <at>Bob Example</at> for covering my visit", mentions=(BOB,))
    teams.say("export", sender=ADMIN, where="personal")
    offered = consent(teams)
    assert offered["name"].endswith(".zip") and offered["content"]["sizeInBytes"] > 0
    assert "thanks: 1" in offered["content"]["description"]
    assert answer_consent(teams, offered, "accept") == 200
    [upload] = teams.connector.sent("PUT", offered["name"])
    assert upload.headers["Content-Range"] == f"bytes 0-{len(upload.raw) - 1}/{len(upload.raw)}"
    files = zipfile.ZipFile(io.BytesIO(upload.raw))
    thanks = next(name for name in files.namelist() if name.endswith("thanks.csv"))
    assert "covering my visit" in files.read(thanks).decode()
    shown = teams.connector.sent()[-1].body["attachments"][0]
    assert shown["contentType"] == "application/vnd.microsoft.teams.card.file.info"
    assert answer_consent(teams, offered, "accept") == 200  # again: it went once
    assert len(teams.connector.sent("PUT", offered["name"])) == 1
    assert "already sent" in teams.replies("personal", sender=ADMIN)[-1]


def test_export_is_for_admins_in_their_own_chat_and_a_declined_file_goes_nowhere(teams):
    teams.say("export", sender=ALICE, where="personal")
    assert teams.replies("personal", sender=ALICE)[-1].startswith("Only workspace admins")
    teams.say("export")
    assert teams.replies()[-1].startswith("An export holds the whole team's records")
    teams.say("export since 2026-13-01", sender=ADMIN, where="personal")
    assert "couldn't read 2026-13-01 as a date" in teams.replies("personal", sender=ADMIN)[-1]
    teams.say("export json", sender=ADMIN, where="personal")
    offered = consent(teams)
    assert offered["name"].endswith(".json")
    assert answer_consent(teams, offered, "decline") == 200
    assert teams.replies("personal", sender=ADMIN)[-1] == "Nothing was shared."
    assert teams.connector.sent("PUT", offered["name"]) == []


def test_someone_else_cannot_take_an_admins_export(teams):
    teams.say("export", sender=ADMIN, where="personal")
    offered = consent(teams)
    assert answer_consent(teams, offered, "accept", sender=ALICE) == 200
    assert teams.connector.sent("PUT", offered["name"]) == []
