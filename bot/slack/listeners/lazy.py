"""Listeners in two parts, as Bolt's lazy listeners: the ack on the request's own thread, at once, and the work
on the work pool (bot.slack.work), where nothing it waits for can delay another request's ack."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from slack_bolt import Ack, BoltContext
from slack_bolt.kwargs_injection.args import Args
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import Replayed, StoreUnavailable
from bot.core.model import Team
from bot.core.services import Services
from bot.slack.delivery import DurableRespond, SlackDelivery
from bot.slack.listeners.refresh import refresh_home
from bot.slack.listeners.replies import told, told_in_form
from bot.slack.middleware import signature

log = logging.getLogger(__name__)


def acknowledge(ack: Ack) -> None:
    """The ack of everything answered afterwards (through response_url, a DM, a card)."""
    ack()


def once(services: Services, delivery: SlackDelivery, work: Callable[..., None]) -> Callable[[Args], None]:
    """`work` as a lazy function, on one database connection. Its first transaction also records the request's
    signature, so a replay (the same signed request again) is turned down there. What the work saved with its
    messages (the outbox) is sent when it is done. Slack not answering while the work replies is one log line;
    anything else the work did not explain is told to the person as the listeners tell it (replies.told), where
    they can be answered, and a bug is logged with its traceback."""
    names = list(inspect.signature(work).parameters)

    def run(args: Args) -> None:
        key, team = signature(args.request), args.context.get("team")
        try:
            first = services.replays.recorder(team, key) if key and team else None
        except StoreUnavailable:
            first = None  # the work finds the database down too, and says so
        respond = None
        try:
            with services.store.one_connection(first), services.outbox.claiming() as written:
                given = {n: getattr(args, n) if hasattr(args, n) else args.context.get(n) for n in names}
                if given.get("respond") is not None and team is not None:
                    given["respond"] = DurableRespond(given["respond"], services.outbox, team, args.context.user_id)
                respond = given.get("respond")
                try:
                    work(**given)
                except (SlackApiError, OSError) as exc:
                    error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                    log.warning("%s: Slack did not take a reply (%s)", work.__name__, error)
                finally:  # whatever became of the rest, what was saved goes out
                    delivery.send_claimed(team, written)
        except Replayed:
            log.info("ignored a replayed request (%s)", work.__name__)
        except StoreUnavailable:
            log.warning("%s: the database isn't answering", work.__name__)
        except Exception as exc:
            said = told(exc)
            if respond is not None:
                respond(text=said, replace_original=False)

    run.__name__ = work.__name__  # Bolt tells lazy functions apart by name
    return run


def lazily(services: Services, delivery: SlackDelivery, work: Callable[..., None], ack: Callable = acknowledge):
    """Keyword arguments for app.command/action/event/shortcut: ack now, `work` later and once."""
    return {"ack": ack, "lazy": [once(services, delivery, work)]}


def form(services: Services, delivery: SlackDelivery, save: Callable[..., tuple[str | None, ...] | None]) -> dict:
    """Keyword arguments for app.view. `save(ack, body, view, team)` runs on the request's thread, because a form
    shows its refusals inline in the ack; it acks and returns whose Home its save changed (None when it acked
    errors). Sending the messages it saved with its record (the outbox) and refreshing Homes follow on the work
    pool."""

    def acknowledge_form(ack: Ack, body: dict, view: dict, context: BoltContext, team: Team) -> None:
        with services.outbox.claiming() as written:
            try:
                homes = save(ack, body, view, team)
            except Exception as exc:
                ack(response_action="errors", errors={next(iter(_blocks(view)), "none"): told_in_form(exc)})
                return
        # handed to the lazy function below in Bolt's copy of the context
        context["written"] = written
        context["homes"] = [user_id for user_id in homes or () if user_id]

    def follow_up(context: BoltContext, client: WebClient, team: Team) -> None:
        try:
            if context.get("written") is not None:
                delivery.send_claimed(team, context["written"])
            if context.get("homes"):
                refresh_home(services, client, team, *context["homes"])
        except Exception:
            log.exception("after %s", save.__name__)

    follow_up.__name__ = f"{save.__name__}_follow_up"
    return {"ack": acknowledge_form, "lazy": [follow_up]}


def _blocks(view: dict) -> list[str]:
    return list(((view.get("state") or {}).get("values") or {}).keys())
