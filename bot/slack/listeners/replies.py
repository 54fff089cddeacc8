"""What a person is told when their request could not be saved: plainly, never a stack trace."""

from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack, Respond

from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable
from bot.slack.text import escape

T = TypeVar("T")


def why_not(exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        return "the database isn't answering right now"
    if isinstance(exc, PlatformUnavailable):
        return "Slack didn't answer when I checked who's who"
    return "something went wrong on my side"


def not_saved(what: str, exc: Exception) -> str:
    return f":warning: Your {what} was *not* saved: {why_not(exc)}. Nothing was posted. Please try again in a minute."


def save_from_modal(ack: Ack, block: str, save: Callable[[], T], view: dict | None = None) -> T | None:
    """Run a modal's save; a refusal or an outage is shown inline (the modal keeps what was typed) on the field the
    refusal names if the form has it, else on `block`, and None is returned. On success the caller acks."""
    try:
        return save()
    except Refused as refusal:
        fields = ((view or {}).get("state") or {}).get("values") or {}
        ack(response_action="errors", errors={refusal.field if refusal.field in fields else block: refusal.message})
    except (StoreUnavailable, PlatformUnavailable) as exc:
        ack(response_action="errors", errors={block: f"Not saved: {why_not(exc)}. Try again."})
    return None


def act_or_explain(respond: Respond, not_done: str, act: Callable[[], T]) -> T | None:
    """Run a button's action. A refusal, or `not_done` with the reason for an outage, goes to the clicker alone and
    leaves the clicked message as it was; then None is returned."""
    try:
        return act()
    except Refused as refusal:
        respond(text=escape(refusal.message), replace_original=False)
    except (StoreUnavailable, PlatformUnavailable) as exc:
        respond(text=f":warning: {not_done}: {why_not(exc)}. Please try again.", replace_original=False)
    return None
