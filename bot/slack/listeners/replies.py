"""What a person is told when the core turned their request down or could not do it: plainly, never a stack trace.
Every listener answers through `told` (or `told_in_form`), so a refusal, an outage and a bug read alike everywhere."""

import logging
from collections.abc import Callable, Mapping
from typing import TypeVar

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import PlatformUnavailable, Refused, Replayed, StoreUnavailable
from bot.slack.text import escape

T = TypeVar("T")
log = logging.getLogger(__name__)
OUTAGES = (StoreUnavailable, PlatformUnavailable)  # nothing was saved, and trying again in a while will do


def why_not(exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        return "the database isn't answering right now"
    if isinstance(exc, PlatformUnavailable):
        return "Slack didn't answer when I checked who's who"
    return "something went wrong on my side"


def _log_if_bug(exc: Exception) -> None:
    """A refusal or an outage is expected and explained; anything else is a bug, logged once with its traceback."""
    if not isinstance(exc, (Refused, *OUTAGES)):
        log.error("a request failed: %s", type(exc).__name__, exc_info=exc)


def told(exc: Exception, not_done: str = "That wasn't done", then: str = "Please try again.") -> str:
    """What the person is told when `exc` stopped their request: a refusal in its own words; otherwise `not_done`,
    why, and `then`."""
    _log_if_bug(exc)
    if isinstance(exc, Refused):
        return escape(exc.message)
    return f":warning: {not_done}: {why_not(exc)}. {then}"


def told_in_form(exc: Exception) -> str:
    """`told`, shown on a form's field (plain text there)."""
    _log_if_bug(exc)
    if isinstance(exc, Refused):
        return exc.message
    return f"Not saved: {why_not(exc)}. Try again."


def attempt(tell: Callable[[str], object], not_done: str, act: Callable[[], T]) -> T | None:
    """Run `act`; if it was refused or could not be done, `tell` the person why (`told`) and return None. A replayed
    request passes through, to be ignored without a word."""
    try:
        return act()
    except Replayed:
        raise
    except Exception as exc:
        tell(told(exc, not_done))
        return None


def save_from_modal(
    ack: Ack, block: str, save: Callable[[], T], view: dict | None = None, blocks: Mapping[str, str] | None = None
) -> T | None:
    """Run a modal's save; why it was not saved is shown inline (the modal keeps what was typed) on the field a
    refusal names if the form has it (its block, through `blocks`, when named differently), else on `block`, and
    None is returned. On success the caller acks."""
    try:
        return save()
    except Exception as exc:
        field = exc.field if isinstance(exc, Refused) else None
        field = (blocks or {}).get(field, field)
        fields = ((view or {}).get("state") or {}).get("values") or {}
        ack(response_action="errors", errors={field if field in fields else block: told_in_form(exc)})
    return None


def act_or_explain(respond: Respond, not_done: str, act: Callable[[], T]) -> T | None:
    """Run a button's action. Why it was not done goes to the clicker alone and leaves the clicked message as it was;
    then None is returned."""
    return attempt(lambda text: respond(text=text, replace_original=False), not_done, act)


def open_form(client: WebClient, tell: Callable[[str], object], trigger: str, view: dict) -> None:
    """Open a form from a click; when Slack won't (the trigger expired, Slack is down), the person is told to press
    again, by `tell`."""
    try:
        client.views_open(trigger_id=trigger, view=view)
    except SlackApiError as exc:
        log.warning("views.open failed: %s", exc.response.get("error"))
        tell("I couldn't open the form just now; please press the button again.")


def privately(respond: Respond) -> Callable[[str], object]:
    """`respond` as a `tell`: a reply only the clicker sees, leaving the message they clicked as it was."""
    return lambda text: respond(text=text, replace_original=False)
