"""What a person is told when their request could not be saved: plainly, never a stack trace."""

from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack

from bot.core.errors import PlatformUnavailable, Refused, StoreUnavailable

T = TypeVar("T")


def why_not(exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        return "the database isn't answering right now"
    if isinstance(exc, PlatformUnavailable):
        return "Slack didn't answer when I checked who's who"
    return "something went wrong on my side"


def not_saved(what: str, exc: Exception) -> str:
    return f":warning: Your {what} was *not* saved: {why_not(exc)}. Nothing was posted. Please try again in a minute."


def save_from_modal(ack: Ack, block: str, save: Callable[[], T]) -> T | None:
    """Run a modal's save; a refusal or an outage is shown inline on `block` (the modal keeps what was typed) and
    None is returned. On success the caller acks."""
    try:
        return save()
    except Refused as refusal:
        ack(response_action="errors", errors={block: refusal.message})
    except (StoreUnavailable, PlatformUnavailable) as exc:
        ack(response_action="errors", errors={block: f"Not saved: {why_not(exc)}. Try again."})
    return None
