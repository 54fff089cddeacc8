"""A modal's private_metadata, signed: Slack hands it back with the submission, and nothing in it is trusted
unless it is exactly what this bot wrote (a forged channel or person is refused, not acted on)."""

from __future__ import annotations

import hashlib
import hmac
import json

SEPARATOR = "."


def _key(secret: str) -> bytes:
    return hashlib.sha256(b"small-changes private_metadata\0" + secret.encode()).digest()


def seal(secret: str, data: dict) -> str:
    body = json.dumps(data, separators=(",", ":"), sort_keys=True)
    mac = hmac.new(_key(secret), body.encode(), hashlib.sha256).hexdigest()[:32]
    return mac + SEPARATOR + body


def unseal(secret: str, text: object) -> dict | None:
    """What `seal` wrote, or None for anything else (empty, altered, not ours)."""
    if not isinstance(text, str):
        return None
    mac, _, body = text.partition(SEPARATOR)
    expected = hmac.new(_key(secret), body.encode(), hashlib.sha256).hexdigest()[:32]
    if not body or not hmac.compare_digest(mac, expected):
        return None
    data = json.loads(body)
    return data if isinstance(data, dict) else None
