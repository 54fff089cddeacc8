"""The Teams app package: `python -m bot teams-package` as an operator runs it, and the zip Teams is given."""

from __future__ import annotations

import io
import json
import os
import struct
import zipfile
import zlib
from pathlib import Path

import pytest

from bot.teams.package import (
    TEMPLATE,
    ManifestInvalid,
    PackageError,
    PackageSettings,
    build,
    manifest,
    png_header,
    public_host,
    rule_problems,
    schema_problems,
)
from tests.test_cli import run_bot

BOT_ID = "0f8e6c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b"
HOST = "smallchanges.example.org"
SETTINGS = PackageSettings.from_env({"CLIENT_ID": BOT_ID}, HOST)
COMMANDS = ["thanks", "smallchange", "list", "mine", "help", "nudges", "home", "admin", "export"]
TEAMS_SETTINGS = ("CLIENT_ID", "CLIENT_SECRET", "TENANT_ID", "TEAMS_")


def package_env(**values: str) -> dict[str, str]:
    """A clean environment: no Teams setting inherited from a developer's shell."""
    root = str(Path(__file__).resolve().parents[2])
    env = {k: v for k, v in os.environ.items() if not k.startswith(TEAMS_SETTINGS)}
    return {**env, "PYTHONPATH": root, **values}


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return {name: package.read(name) for name in package.namelist()}


def pixels(png: bytes) -> list[bytes]:
    """The RGBA pixels of a PNG this package wrote (one IDAT chunk, 8-bit RGBA, every row unfiltered)."""
    width, height, color_type = png_header(png)
    assert color_type == 6
    at = png.index(b"IDAT")
    raw = zlib.decompress(png[at + 4 : at + 4 + struct.unpack(">I", png[at - 4 : at])[0]])
    stride = 1 + 4 * width
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return [row[1 + 4 * x : 5 + 4 * x] for row in rows for x in range(width)]


def test_the_command_writes_a_zip_with_exactly_the_manifest_and_two_icons_at_its_root(tmp_path):
    result = run_bot(tmp_path, "teams-package", "--host", HOST, env=package_env(CLIENT_ID=BOT_ID))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "smallchanges-teams.zip"
    files = unzip((tmp_path / "smallchanges-teams.zip").read_bytes())
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    written = json.loads(files["manifest.json"])
    assert written["bots"][0]["botId"] == BOT_ID
    assert written["validDomains"] == [HOST]


def test_the_settings_may_come_from_dotenv_and_out_may_name_a_folder(tmp_path):
    (tmp_path / "dist").mkdir()
    (tmp_path / ".env").write_text(f"CLIENT_ID={BOT_ID}\nTEAMS_PUBLIC_HOST=https://{HOST}/\n")
    env = package_env()
    result = run_bot(tmp_path, "teams-package", "--out", "dist", env=env)
    assert result.returncode == 0, result.stderr
    written = json.loads(unzip((tmp_path / "dist" / "smallchanges-teams.zip").read_bytes())["manifest.json"])
    assert written["validDomains"] == [HOST]
    assert written["developer"]["privacyUrl"] == f"https://{HOST}/privacy"


def test_a_missing_client_id_is_one_line_and_exit_code_2(tmp_path):
    result = run_bot(tmp_path, "teams-package", "--host", HOST, env=package_env(TEAMS_PUBLIC_HOST=HOST))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Missing setting CLIENT_ID:")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "smallchanges-teams.zip").exists()


def test_a_missing_host_is_one_line_and_exit_code_2(tmp_path):
    result = run_bot(tmp_path, "teams-package", env=package_env(CLIENT_ID=BOT_ID))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Missing setting TEAMS_PUBLIC_HOST:")


def test_the_manifest_keeps_the_rules_and_carries_the_bot_its_scopes_commands_and_message_action():
    files = unzip(build(SETTINGS))
    filled = json.loads(files["manifest.json"])
    assert rule_problems(filled, files) == []
    assert filled["manifestVersion"] == "1.30"
    bot = filled["bots"][0]
    assert bot["botId"] == BOT_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    personal = next(c for c in bot["commandLists"] if c["scopes"] == ["personal"])
    assert sorted(c["title"] for c in personal["commands"]) == sorted(COMMANDS)
    assert all(len(c["commands"]) <= 10 and c["commands"] for c in bot["commandLists"])
    extension = filled["composeExtensions"][0]
    assert extension["botId"] == BOT_ID
    assert extension["commands"] == [
        {
            "id": "thankAuthor",
            "type": "action",
            "title": "Thank the author",
            "description": extension["commands"][0]["description"],
            "context": ["message"],
            "fetchTask": True,
        }
    ]
    assert filled["id"] != BOT_ID and filled["id"] == SETTINGS.app_id  # the Teams app's own id, stable per bot
    assert filled["accentColor"].startswith("#")
    assert "{{" not in files["manifest.json"].decode()


def test_the_manifest_validates_against_microsofts_v1_30_schema():
    pytest.importorskip("jsonschema", reason="jsonschema is in the dev extra")
    filled = manifest(SETTINGS)
    assert schema_problems(filled) == []
    wrong = dict(filled, bots=[dict(filled["bots"][0], scopes=["personal", "channel"])])
    assert any("channel" in problem for problem in schema_problems(wrong))


def test_the_rules_catch_a_wrong_scope_a_long_title_and_a_missing_icon():
    files = unzip(build(SETTINGS))
    filled = json.loads(files["manifest.json"])
    bot = filled["bots"][0]
    assert rule_problems(dict(filled, bots=[dict(bot, scopes=["personal", "channel"])]), files)
    too_many = [dict(bot["commandLists"][0], commands=bot["commandLists"][0]["commands"] * 2)]
    assert rule_problems(dict(filled, bots=[dict(bot, commandLists=too_many)]), files)
    assert rule_problems(dict(filled, name={"short": "S" * 31}), files)
    assert rule_problems(filled, {**files, "outline.png": files["color.png"]})
    assert rule_problems(filled, {"manifest.json": files["manifest.json"]})


def test_a_placeholder_left_in_the_template_stops_the_build(tmp_path):
    template = tmp_path / "manifest.json"
    template.write_text(TEMPLATE.read_text().replace('"Small Changes"', '"{{DEVELOPER}}"', 1))
    with pytest.raises(ManifestInvalid, match="DEVELOPER"):
        build(SETTINGS, template)


def test_the_icons_are_192_and_32_pixels_and_the_outline_is_white_on_transparent():
    files = unzip(build(SETTINGS))
    assert png_header(files["color.png"]) == (192, 192, 6)
    assert png_header(files["outline.png"]) == (32, 32, 6)  # colour type 6: RGBA, so it has an alpha channel
    outline = pixels(files["outline.png"])
    assert {p[:3] for p in outline} == {b"\xff\xff\xff"}
    assert {0, 255} <= {p[3] for p in outline}
    color = pixels(files["color.png"])
    assert {p[3] for p in color} == {255} and len({p[:3] for p in color}) > 2


def test_the_same_settings_build_the_same_bytes():
    assert build(SETTINGS) == build(SETTINGS)
    other = PackageSettings.from_env({"CLIENT_ID": "1" * 8 + "-1111-1111-1111-" + "1" * 12}, HOST)
    assert other.app_id != SETTINGS.app_id


def test_the_host_is_a_bare_https_host_name():
    assert public_host("https://SmallChanges.Example.org/") == HOST
    assert public_host(HOST) == HOST
    for wrong in ("http://" + HOST, HOST + ":8443", f"https://{HOST}/api/messages", "localhost", "bad host.org"):
        with pytest.raises(PackageError):
            public_host(wrong)


def test_developer_pages_come_from_settings_and_must_be_https():
    env = {"CLIENT_ID": BOT_ID, "TEAMS_PRIVACY_URL": "https://example.org/privacy-notice"}
    assert PackageSettings.from_env(env, HOST).privacy_url == "https://example.org/privacy-notice"
    assert PackageSettings.from_env(env, HOST).terms_url == f"https://{HOST}/terms"
    with pytest.raises(PackageError, match="TEAMS_TERMS_URL"):
        PackageSettings.from_env({**env, "TEAMS_TERMS_URL": "http://example.org/terms"}, HOST)
    with pytest.raises(PackageError, match="GUID"):
        PackageSettings.from_env({"CLIENT_ID": "my-bot"}, HOST)
