"""Requests as Slack sends them: slash commands, block actions and view submissions, signed with the
signing secret. The console dispatches them into the Bolt app; the tests send them over HTTP."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier


@dataclass
class SlackRequests:
    signing_secret: str
    team_id: str
    response_base: str  # where response_url posts land, e.g. the fake Slack's /response/
    app_id: str = "A0SMALLCHG"
    enterprise_id: str | None = None  # a workspace in an Enterprise Grid org

    def __post_init__(self) -> None:
        self._serial = 0
        self.channels: dict[str, str] = {}  # response_url -> the channel it answers into

    def _next(self, kind: str, channel_id: str) -> str:
        self._serial += 1
        url = f"{self.response_base}{kind}-{self._serial}"
        self.channels[url] = channel_id
        return url

    def sign(self, body: str, timestamp: int | None = None) -> dict[str, str]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(self.signing_secret).generate_signature(timestamp=ts, body=body)
        return {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature,
        }

    def command(self, command: str, text: str, user_id: str, channel_id: str = "C0GENERAL") -> str:
        """A slash command body; `text` is as Slack delivers it (mentions already escaped)."""
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "team_domain": "sample",
                "channel_id": channel_id,
                "channel_name": "general" if channel_id == "C0GENERAL" else channel_id.lower(),
                "user_id": user_id,
                "user_name": user_id.lower(),
                "command": command,
                "text": text,
                "api_app_id": self.app_id,
                "is_enterprise_install": "false",
                "response_url": self._next("command", channel_id),
                "trigger_id": f"{self._serial}.trigger",
                **({"enterprise_id": self.enterprise_id, "enterprise_name": "Org"} if self.enterprise_id else {}),
            }
        )

    def _interaction(self, payload: dict) -> str:
        return urlencode({"payload": json.dumps(payload)})

    def block_action(self, message: dict, channel_id: str, action: dict, user_id: str) -> str:
        """A click on `action` (one element of the message's blocks) in a message in `channel_id`."""
        block_id = next(
            (
                b.get("block_id")
                for b in message.get("blocks", [])
                if any(e.get("action_id") == action["action_id"] for e in b.get("elements", []))
            ),
            "actions",
        )
        clicked = {"action_id": action["action_id"], "block_id": block_id, "action_ts": f"{time.time():.6f}"}
        if action["type"] == "button":
            clicked |= {"type": "button", "text": action["text"], "value": action.get("value", "")}
        else:
            chosen = next(o for o in action["options"] if o["value"] == action["_chosen"])
            clicked |= {"type": action["type"], "selected_option": chosen, "placeholder": action.get("placeholder")}
        return self._interaction(
            {
                "type": "block_actions",
                "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": self.team_id},
                "api_app_id": self.app_id,
                "token": "legacy-verification-token",
                "container": {
                    "type": "message",
                    "message_ts": message.get("ts", ""),
                    "channel_id": channel_id,
                    "is_ephemeral": False,
                },
                "trigger_id": f"{self._serial}.trigger",
                "team": {"id": self.team_id, "domain": "sample"},
                "enterprise": None,
                "is_enterprise_install": False,
                "channel": {"id": channel_id, "name": channel_id.lower()},
                "message": message,
                "state": {"values": {}},
                "response_url": self._next("action", channel_id),
                "actions": [clicked],
            }
        )

    def view_submission(self, view: dict, values: dict, user_id: str) -> str:
        """Submitting a modal that was opened with `view`; `values` is Slack's view.state.values."""
        submitted = view | {
            "id": view.get("id", "V0MODAL"),
            "team_id": self.team_id,
            "state": {"values": values},
            "hash": "1700000000.abcdef",
        }
        return self._interaction(
            {
                "type": "view_submission",
                "team": {"id": self.team_id, "domain": "sample"},
                "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": self.team_id},
                "api_app_id": self.app_id,
                "token": "legacy-verification-token",
                "trigger_id": f"{self._serial}.trigger",
                "view": submitted,
                "response_urls": [],
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )

    def event(self, event: dict, event_id: str, retry: int | None = None) -> tuple[str, dict[str, str]]:
        """An Events API `event_callback` (body, extra headers); a retry carries the same event_id and the
        X-Slack-Retry-Num header, as Slack sends it when the first delivery was not acknowledged in time."""
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": self.team_id,
                "api_app_id": self.app_id,
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [
                    {"team_id": self.team_id, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}
                ],
                "is_ext_shared_channel": False,
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return body, headers

    def message_shortcut(self, callback_id: str, message: dict, channel_id: str, user_id: str) -> str:
        """A message shortcut chosen from a message's ⋮ menu."""
        return self._interaction(
            {
                "type": "message_action",
                "callback_id": callback_id,
                "team": {"id": self.team_id, "domain": "sample"},
                "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": self.team_id},
                "channel": {"id": channel_id, "name": channel_id.lower()},
                "message": message,
                "message_ts": message.get("ts", ""),
                "trigger_id": f"{self._serial}.trigger",
                "response_url": self._next("shortcut", channel_id),
                "token": "legacy-verification-token",
                "action_ts": f"{time.time():.6f}",
                "is_enterprise_install": False,
                "enterprise": None,
            }
        )


def modal_values(change: str | None, obstacle: str | None = None, gift: str | None = None, anon: bool = False):
    """view.state.values for the /smallchange modal, shaped as Slack sends them."""
    radio_options = {"within": "Yes, it's within our gift", "outside": "No, it needs someone else"}
    gift_state = {"type": "radio_buttons", "selected_option": None}
    if gift:
        gift_state["selected_option"] = {"text": {"type": "plain_text", "text": radio_options[gift]}, "value": gift}
    anon_options = [{"text": {"type": "plain_text", "text": "Post anonymously"}, "value": "anon"}] if anon else []
    return {
        "change": {"text": {"type": "plain_text_input", "value": change}},
        "obstacle": {"text": {"type": "plain_text_input", "value": obstacle}},
        "gift": {"choice": gift_state},
        "anon": {"choice": {"type": "checkboxes", "selected_options": anon_options}},
    }
