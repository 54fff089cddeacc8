"""The Teams app package: config/teams/manifest.json filled in for one bot and its public host, checked, and zipped with
its two icons at the zip's root, which is what Teams takes in Apps → Manage your apps → Upload an app.

The manifest is checked against the rules below (the schema's required fields and value limits that matter for this
app, plus the icons' sizes), and also against Microsoft's v1.30 JSON schema, vendored in config/teams/, whenever the
`jsonschema` package is installed (it is in the `dev` extra).
"""

from __future__ import annotations

import io
import json
import re
import struct
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.settings import CONFIG_DIR

TEAMS_DIR = CONFIG_DIR / "teams"
TEMPLATE = TEAMS_DIR / "manifest.json"
SCHEMA = TEAMS_DIR / "MicrosoftTeams.schema.json"
PACKAGE_NAME = "smallchanges-teams.zip"
MANIFEST_VERSION = "1.30"
COLOR_SIZE, OUTLINE_SIZE = 192, 32
BOT_SCOPES = ("personal", "team", "groupChat", "copilot")
MESSAGE_CONTEXTS = ("compose", "commandBox", "message")
MAX_COMMANDS = 10  # per command list: the menu Teams shows stays short (the schema allows 12)
APP_ID_NAMESPACE = uuid.UUID("5c0b7a1e-6d1f-4f3a-9a57-2f1c1e5a7c11")  # the app id is derived from the bot's, stably

GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
SEMVER = re.compile(r"(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)")
HEX_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
HOST_NAME = re.compile(r"(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
PLACEHOLDER = re.compile(r"\{\{[A-Z_]+\}\}")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class PackageError(Exception):
    """A setting is missing or wrong: one line that tells the operator what to set."""


class ManifestInvalid(Exception):
    """The filled-in manifest breaks a rule or the schema: the template in config/teams/ needs fixing."""

    def __init__(self, problems: list[str]):
        super().__init__("The Teams manifest is not valid: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PackageSettings:
    client_id: str  # the bot's Microsoft Entra app (client) id
    host: str  # the public host name: https://<host>/api/messages is the bot's messaging endpoint
    website_url: str
    privacy_url: str
    terms_url: str

    @property
    def app_id(self) -> str:
        """The Teams app's own id: the same for the same bot on every build, so a new package updates the app."""
        return str(uuid.uuid5(APP_ID_NAMESPACE, self.client_id))

    @classmethod
    def from_env(cls, env: Mapping[str, str], host: str | None = None) -> PackageSettings:
        """CLIENT_ID, the host (given, else TEAMS_PUBLIC_HOST), and the developer's pages (TEAMS_WEBSITE_URL,
        TEAMS_PRIVACY_URL, TEAMS_TERMS_URL; by default https://<host>/, /privacy and /terms)."""
        client_id = (env.get("CLIENT_ID") or "").strip()
        if not client_id:
            raise PackageError(
                "Missing setting CLIENT_ID: the bot's Microsoft Entra app (client) id, a GUID. "
                "Set it in the environment or in .env."
            )
        if not GUID.fullmatch(client_id):
            raise PackageError(f"CLIENT_ID must be the bot's app (client) id, a GUID: {client_id!r}.")
        given = (host or env.get("TEAMS_PUBLIC_HOST") or "").strip()
        if not given:
            raise PackageError(
                "Missing setting TEAMS_PUBLIC_HOST: the bot's public host name, e.g. bot.example.com "
                "(or pass --host). Set it in the environment or in .env."
            )
        name = public_host(given)
        return cls(
            client_id=client_id.lower(),
            host=name,
            website_url=_https_url(env, "TEAMS_WEBSITE_URL", f"https://{name}/"),
            privacy_url=_https_url(env, "TEAMS_PRIVACY_URL", f"https://{name}/privacy"),
            terms_url=_https_url(env, "TEAMS_TERMS_URL", f"https://{name}/terms"),
        )


def public_host(text: str) -> str:
    """`bot.example.com`, or `https://bot.example.com/`, as the bare host name; anything else is a PackageError."""
    parts = urlsplit(text if "://" in text else "https://" + text)
    try:
        port = parts.port
    except ValueError:
        port = -1
    name = (parts.hostname or "").lower()
    if parts.scheme.lower() != "https":
        raise PackageError(f"The public host must be reached over https: {text!r}.")
    if port is not None or parts.username or parts.query or parts.fragment or parts.path not in ("", "/"):
        raise PackageError(f"The public host is a host name like bot.example.com, with no port or path: {text!r}.")
    if not HOST_NAME.fullmatch(name):
        raise PackageError(f"The public host must be a DNS name like bot.example.com: {text!r}.")
    return name


def _https_url(env: Mapping[str, str], name: str, default: str) -> str:
    url = (env.get(name) or "").strip() or default
    if not re.match(r"https://[^/\s]+", url) or len(url) > 2048:
        raise PackageError(f"{name} must be an https:// address: {url!r}.")
    return url


def manifest(settings: PackageSettings, template: Path = TEMPLATE) -> dict[str, Any]:
    """The template with every {{PLACEHOLDER}} replaced, inside the JSON strings (so no value can break the JSON)."""
    values = {
        "{{CLIENT_ID}}": settings.client_id,
        "{{APP_ID}}": settings.app_id,
        "{{HOST}}": settings.host,
        "{{WEBSITE_URL}}": settings.website_url,
        "{{PRIVACY_URL}}": settings.privacy_url,
        "{{TERMS_URL}}": settings.terms_url,
    }

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            return PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), node)
        if isinstance(node, list):
            return [fill(item) for item in node]
        if isinstance(node, dict):
            return {key: fill(value) for key, value in node.items()}
        return node

    return fill(json.loads(template.read_text(encoding="utf-8")))


def build(settings: PackageSettings, template: Path = TEMPLATE) -> bytes:
    """The package's bytes: manifest.json, color.png and outline.png at the root. The same settings give the same
    bytes (fixed timestamps), so a rebuilt package only differs when something in it changed."""
    filled = manifest(settings, template)
    files = {
        "manifest.json": (json.dumps(filled, indent=2, ensure_ascii=False) + "\n").encode("utf-8"),
        "color.png": color_icon(_accent(filled)),
        "outline.png": outline_icon(),
    }
    problems = rule_problems(filled, files) + (schema_problems(filled) or [])
    if problems:
        raise ManifestInvalid(problems)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in files.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            package.writestr(entry, data)
    return buffer.getvalue()


def write(settings: PackageSettings, out: Path | None = None) -> Path:
    """Build the package and write it to `out` (a file, or a folder to put smallchanges-teams.zip in)."""
    path = out or Path(PACKAGE_NAME)
    if path.is_dir():
        path = path / PACKAGE_NAME
    data = build(settings)
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise PackageError(f"Could not write {path}: {exc.strerror or exc}.") from None
    return path


# The checks


def schema_checked() -> bool:
    """Whether packages are also checked against the full JSON schema (only when jsonschema is installed)."""
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        return False
    return True


def schema_problems(filled: Mapping[str, Any], schema: Path = SCHEMA) -> list[str] | None:
    """Where the manifest breaks Microsoft's v1.30 schema; None when jsonschema is not installed."""
    if not schema_checked():
        return None
    from jsonschema import Draft4Validator

    validator = Draft4Validator(json.loads(schema.read_text(encoding="utf-8")))
    errors = sorted(validator.iter_errors(filled), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message[:200]}" for e in errors]


def rule_problems(filled: Mapping[str, Any], files: Mapping[str, bytes]) -> list[str]:
    """The rules this app's manifest must keep, checked without the schema: its required fields and their values,
    the bot, its commands and message action, the domains, and the icon files."""
    problems: list[str] = []

    def need(ok: object, problem: str) -> None:
        if not ok:
            problems.append(problem)

    left = sorted(set(PLACEHOLDER.findall(json.dumps(filled))))
    need(not left, f"placeholders not filled in: {', '.join(left)}")
    for key in ("manifestVersion", "version", "id", "developer", "name", "description", "icons", "accentColor"):
        need(key in filled, f"{key} is required")
    need(filled.get("manifestVersion") == MANIFEST_VERSION, f"manifestVersion must be {MANIFEST_VERSION}")
    need(SEMVER.fullmatch(str(filled.get("version", ""))), "version must be like 1.0.0")
    need(GUID.fullmatch(str(filled.get("id", ""))), "id must be a GUID")
    developer = filled.get("developer") or {}
    need(0 < len(developer.get("name", "")) <= 32, "developer.name: 1 to 32 characters")
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        need(str(developer.get(key, "")).startswith("https://"), f"developer.{key} must be an https:// address")
    name, description = filled.get("name") or {}, filled.get("description") or {}
    need(0 < len(name.get("short", "")) <= 30, "name.short: 1 to 30 characters")
    need(len(name.get("full", "")) <= 100, "name.full: at most 100 characters")
    need(0 < len(description.get("short", "")) <= 80, "description.short: 1 to 80 characters")
    need(0 < len(description.get("full", "")) <= 4000, "description.full: 1 to 4000 characters")
    need(HEX_COLOR.fullmatch(str(filled.get("accentColor", ""))), "accentColor must be like #4464ee")

    bots = filled.get("bots") or []
    need(len(bots) == 1, "exactly one bot")
    bot_id = bots[0].get("botId") if bots else None
    for bot in bots:
        need(GUID.fullmatch(str(bot.get("botId", ""))), "bots[0].botId must be a GUID")
        scopes = bot.get("scopes") or []
        need(scopes and set(scopes) <= set(BOT_SCOPES), f"bots[0].scopes must be some of {', '.join(BOT_SCOPES)}")
        lists = bot.get("commandLists") or []
        need(len(lists) <= 3, "bots[0].commandLists: at most 3")
        for n, commands in enumerate(lists):
            need(set(commands.get("scopes") or ["-"]) <= set(scopes), f"commandLists[{n}].scopes: the bot's scopes")
            items = commands.get("commands") or []
            need(0 < len(items) <= MAX_COMMANDS, f"commandLists[{n}]: 1 to {MAX_COMMANDS} commands")
            for command in items:
                title = command.get("title", "")
                need(0 < len(title) <= 32, f"command {title!r}: a title of 1 to 32 characters")
                need(0 < len(command.get("description", "")) <= 128, f"command {title!r}: a description ≤ 128")
    extensions = filled.get("composeExtensions") or []
    need(len(extensions) <= 1, "at most one compose extension")
    for extension in extensions:
        need(extension.get("botId") == bot_id, "composeExtensions[0].botId must be the bot's id")
        for command in extension.get("commands") or []:
            cid = command.get("id", "")
            need(0 < len(cid) <= 64, f"action {cid!r}: an id of 1 to 64 characters")
            need(command.get("type") in ("query", "action"), f"action {cid!r}: type query or action")
            need(0 < len(command.get("title", "")) <= 32, f"action {cid!r}: a title of 1 to 32 characters")
            need(len(command.get("description", "")) <= 128, f"action {cid!r}: a description ≤ 128 characters")
            need(set(command.get("context") or []) <= set(MESSAGE_CONTEXTS), f"action {cid!r}: context")
    for domain in filled.get("validDomains") or []:
        need(HOST_NAME.fullmatch(domain.removeprefix("*.")), f"validDomains: {domain!r} is not a host name")

    icons = filled.get("icons") or {}
    for key, size, alpha in (("color", COLOR_SIZE, False), ("outline", OUTLINE_SIZE, True)):
        data = files.get(icons.get(key, ""))
        if data is None:
            problems.append(f"icons.{key}: {icons.get(key)!r} is not in the package")
            continue
        width, height, color_type = png_header(data)
        need((width, height) == (size, size), f"icons.{key}: {size}×{size} pixels, not {width}×{height}")
        need(not alpha or color_type in (4, 6), f"icons.{key}: needs a transparent background (an alpha channel)")
    return problems


def png_header(data: bytes) -> tuple[int, int, int]:
    """Width, height and PNG colour type (6: RGBA, 4: grey and alpha) from the IHDR chunk; (0, 0, -1) if not a PNG."""
    if data[:8] != PNG_SIGNATURE or data[12:16] != b"IHDR":
        return 0, 0, -1
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


# The icons: a white heart, on the accent colour (color.png) or on nothing (outline.png)


def color_icon(accent: tuple[int, int, int]) -> bytes:
    """192×192, opaque: the accent colour with a white heart in the middle."""
    cover = _heart_coverage(COLOR_SIZE, margin=0.22)
    rows = []
    for line in cover:
        row = bytearray()
        for c in line:
            row += bytes(round(a + (255 - a) * c) for a in accent) + b"\xff"
        rows.append(bytes(row))
    return png(COLOR_SIZE, COLOR_SIZE, rows)


def outline_icon() -> bytes:
    """32×32: a white heart on a transparent background (its edge pixels partly transparent)."""
    rows = [b"".join(b"\xff\xff\xff" + bytes([round(255 * c)]) for c in line) for line in _heart_coverage(OUTLINE_SIZE)]
    return png(OUTLINE_SIZE, OUTLINE_SIZE, rows)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from its rows of pixels (4 bytes each), unfiltered."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return PNG_SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _heart_coverage(size: int, margin: float = 0.06, samples: int = 4) -> list[list[float]]:
    """How much of each pixel the heart (x² + y² − 1)³ ≤ x²y³ covers, sampled samples² times per pixel."""
    span = (1 - 2 * margin) * size  # the heart's width in pixels; it is 2.3 wide and 2.3 high in its own units
    scale = 2.3 / span
    offsets = [(i + 0.5) / samples for i in range(samples)]
    cover = []
    for py in range(size):
        line = []
        for px in range(size):
            inside = 0
            for oy in offsets:
                y = (size / 2 - (py + oy)) * scale + 0.1  # centre the heart (y from about -1 to 1.25)
                for ox in offsets:
                    x = (px + ox - size / 2) * scale
                    inside += (x * x + y * y - 1) ** 3 <= x * x * y * y * y
            line.append(inside / samples**2)
        cover.append(line)
    return cover


def _accent(filled: Mapping[str, Any]) -> tuple[int, int, int]:
    color = str(filled.get("accentColor", ""))
    if not HEX_COLOR.fullmatch(color):
        return (0x44, 0x64, 0xEE)  # the rules report the bad colour; the icon still needs one
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)
