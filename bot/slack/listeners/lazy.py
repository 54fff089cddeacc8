"""Listeners in two parts, as Bolt's lazy listeners: the ack on the request's own thread, at once, and the work
on the work pool (bot.slack.work), where nothing it waits for can delay another request's ack."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_bolt import Ack, BoltContext
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import StoreUnavailable
from bot.core.outbox import Message
from bot.core.ports import Team
from bot.core.services import Services
from bot.slack.delivery import SlackDelivery
from bot.slack.listeners.refresh import refresh_home
from bot.slack.middleware import signature

log = logging.getLogger(__name__)
NOT_SAVED = "Not saved: something went wrong on my side. Please try again."


def acknowledge(ack: Ack) -> None:
    """The ack of everything answered afterwards (through response_url, a DM, a card)."""
    ack()


def once(services: Services, work: Callable[..., None]) -> Callable[[Args], None]:
    """`work` as a lazy function. A replay (the same signed request again) is skipped. Slack not answering while
    the work replies is one log line; anything else is a bug and is logged with its traceback."""
    names = list(inspect.signature(work).parameters)

    def run(args: Args) -> None:
        key, team = signature(args.request), args.context.get("team")
        try:
            if key and team and not services.replays.first_time(team, key):
                log.info("ignored a replayed request (%s)", work.__name__)
                return
        except StoreUnavailable:
            pass  # the work finds the database down too, and says so
        try:
            work(**{name: getattr(args, name) if hasattr(args, name) else args.context.get(name) for name in names})
        except SlackApiError as exc:
            log.warning("%s: Slack refused a reply (%s)", work.__name__, exc.response.get("error"))
        except OSError as exc:
            log.warning("%s: Slack did not answer a reply (%s)", work.__name__, type(exc).__name__)
        except Exception:
            log.exception("%s failed", work.__name__)

    run.__name__ = work.__name__  # Bolt tells lazy functions apart by name
    return run


def lazily(services: Services, work: Callable[..., None], ack: Callable = acknowledge) -> dict:
    """Keyword arguments for app.command/action/event/shortcut: ack now, `work` later and once."""
    return {"ack": ack, "lazy": [once(services, work)]}


@dataclass(frozen=True)
class Saved:
    """What a form saved: the messages (written with the record) to deliver, and whose Home to bring up to date."""

    messages: Iterable[Message] = ()
    homes: tuple[str | None, ...] = ()


def form(services: Services, delivery: SlackDelivery, save: Callable[..., Saved | None]) -> dict:
    """Keyword arguments for app.view. `save(ack, body, view, team)` runs on the request's thread, because a form
    shows its refusals inline in the ack; it acks and returns what it saved (None when it acked errors). Delivering
    the messages and refreshing Homes follow on the work pool."""

    def acknowledge_form(ack: Ack, body: dict, view: dict, context: BoltContext, team: Team) -> None:
        try:
            saved = save(ack, body, view, team)
        except Exception:
            log.exception("%s failed", save.__name__)
            ack(response_action="errors", errors={next(iter(_blocks(view)), "none"): NOT_SAVED})
            return
        if saved is not None:  # handed to the lazy function below in Bolt's copy of the context
            context["deliver"] = sorted({message.lane for message in saved.messages})
            context["homes"] = [user_id for user_id in saved.homes if user_id]

    def follow_up(context: BoltContext, client: WebClient, team: Team) -> None:
        try:
            if context.get("deliver"):
                services.outbox.deliver(delivery, context["deliver"])
            if context.get("homes"):
                refresh_home(services, client, team, *context["homes"])
        except Exception:
            log.exception("after %s", save.__name__)

    follow_up.__name__ = f"{save.__name__}_follow_up"
    return {"ack": acknowledge_form, "lazy": [follow_up]}


def _blocks(view: dict) -> list[str]:
    return list(((view.get("state") or {}).get("values") or {}).keys())
