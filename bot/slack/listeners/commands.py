"""/thanks and /smallchange. Each acks at once (Bolt's lazy listeners); the work follows on the work pool and the
reply through response_url. What must follow a saved record goes through the outbox."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.errors import Refused, Replayed
from bot.core.grammar import read_smallchange, read_thanks
from bot.core.model import Team, ThanksRequest
from bot.core.services import Services
from bot.slack import blocks, modals
from bot.slack.delivery import SlackDelivery, card, thanks_messages
from bot.slack.listeners import admin
from bot.slack.listeners.export import send_export
from bot.slack.listeners.lazy import lazily
from bot.slack.listeners.refresh import refresh_home
from bot.slack.listeners.replies import OUTAGES, told
from bot.slack.metadata import seal
from bot.slack.text import escape, plain, tokens

log = logging.getLogger(__name__)
T = TypeVar("T")

THANKS_USAGE = (
    "*Thank a colleague:* `/thanks @name for what they did`, for example\n"
    "`/thanks @bob @carol for covering my home visit #supportive`\n"
    "• `/thanks` on its own opens a form.\n"
    "• `/thanks private @bob for …`: only you and Bob see it.\n"
    "• `/thanks @bob from a family: what they said` passes on thanks from a family, a young person or a "
    "partner agency. Say which kind only, never a name.\n"
    "• Tag a value with `#{values}`."
)
CHANGE_HELP = (
    "*Suggest a small change:* `/smallchange the idea`, for example\n"
    "`/smallchange one shared template for visit notes`\n"
    "• `/smallchange` on its own opens a form (what gets in the way, whose gift it is).\n"
    "• `/smallchange anon the idea` posts it with no name attached; your name is not stored.\n"
    "• `/smallchange list`: the team's open ideas, most backed first.\n"
    "• `/smallchange mine`: ideas you suggested, own or back.\n"
    "• `/smallchange nudges`: how often I check in with you, your days off, snooze or stop.\n"
    "• `/smallchange admin`: workspace settings (admins).\n"
    "• `/smallchange export [since 2026-01-01] [json]`: the team's records as CSV, sent to you in a DM (admins).\n"
    "On each card: *Back this*, *I'll take this on*, and a status menu (idea → trying → adopted, or parked / dropped). "
    "An idea that needs someone outside the team has *Raise with leaders* too."
)


def save_or_explain(respond: Respond, what: str, typed: str, save: Callable[[], T]) -> T | None:
    """Run a save. If it is refused or fails, tell the person why (echoing what they typed when it failed, so nothing
    is lost), and return None."""
    try:
        return save()
    except Replayed:
        raise  # the same request again: it says nothing
    except Exception as exc:
        echo = "" if isinstance(exc, Refused) else f"\nWhat you wrote:\n```{escape(typed)}```"
        respond(told(exc, f"Your {what} was *not* saved", "Nothing was posted. Please try again in a minute.") + echo)
    return None


def thanks_usage(services: Services, team: Team) -> str:
    try:
        values = services.workspaces.get(team).values
    except OUTAGES:
        values = services.workspaces.defaults.values  # the help still answers with the database down
    return THANKS_USAGE.format(values=", #".join(v.replace(" ", "-") for v in values))


def register(app: App, services: Services, delivery: SlackDelivery) -> None:
    defaults = services.settings.defaults
    secret = services.settings.slack_signing_secret

    def thanks(command: dict, respond: Respond, client: WebClient, team: Team) -> None:
        text = (command.get("text") or "").strip()
        if text.lower() == "help":
            respond(thanks_usage(services, team))
            return
        if not text:  # the form, set to share in this channel; it is submitted in thanks_ways
            form = modals.thanks_modal(defaults.reason_max_chars, channel_id=command.get("channel_id"))
            try:
                client.views_open(trigger_id=command["trigger_id"], view=form)
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                respond(thanks_usage(services, team))
            return
        parsed = read_thanks(tokens(text))
        request = ThanksRequest(
            giver_id=command["user_id"],
            recipient_ids=parsed.recipient_ids,
            reason=parsed.reason,
            private=parsed.private,
            channel_id=command.get("channel_id"),
            unresolved_names=parsed.unresolved_names,
            groups=parsed.groups,
            source=parsed.source,
        )
        given = save_or_explain(
            respond,
            "thank-you",
            f"/thanks {plain(text)}",
            lambda: services.thanks.give(
                team,
                request,
                lambda given: thanks_messages(given, request.channel_id, response_url=command["response_url"]),
            ),
        )
        if given is None:
            return
        refresh_home(services, client, team, given.giver.id, *(p.id for p in given.recipients))

    def smallchange(command: dict, respond: Respond, client: WebClient, team: Team) -> None:
        user_id, channel_id = command["user_id"], command.get("channel_id")
        try:
            asked = read_smallchange(plain(command.get("text") or ""))
        except Refused as refusal:
            respond(f"{escape(refusal.message)} For example: `/smallchange export since 2026-01-01`.")
            return
        if asked.kind == "help":
            return  # answered by the ack
        if asked.kind == "form":
            try:
                client.views_open(
                    trigger_id=command["trigger_id"],
                    view=blocks.change_modal(
                        defaults.change_max_chars, channel_id, seal(secret, {"channel": channel_id})
                    ),
                )
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                respond("I couldn't open the form just now. Try `/smallchange` again, or type the idea after it.")
            return
        if asked.kind in ("admin", "nudges"):
            opener = admin.open_admin if asked.kind == "admin" else admin.open_my_nudges
            opener(services, client, respond, team, user_id, command["trigger_id"])
            return
        if asked.kind == "export":
            send_export(services, client, respond, team, user_id, asked.since, asked.format)
            return
        if asked.kind in ("list", "mine"):
            try:
                if asked.kind == "list":
                    title = "Open small changes, most backed first"
                    changes = services.changes.open_changes(team)
                    empty = "No open ideas yet. Suggest one with `/smallchange your idea`."
                else:
                    title = "Your small changes"
                    changes = services.changes.mine(team, user_id)
                    empty = "You haven't suggested, owned or backed a change yet."
            except OUTAGES as exc:
                respond(told(exc, "I couldn't load the list just now"))
                return
            headline, listing = blocks.change_list(title, changes, empty)
            respond(text=headline, blocks=listing)
            return

        def cards(change) -> list:
            return [card(change.id, channel_id, response_url=command["response_url"], to=user_id)]

        change = save_or_explain(
            respond,
            "idea",
            asked.idea,
            lambda: services.changes.suggest(
                team, user_id, asked.idea, anonymous=asked.anonymous, channel_id=channel_id, cards=cards
            ),
        )
        if change is None:
            return
        refresh_home(services, client, team, user_id)
        if asked.anonymous:
            respond(
                ":detective: Posted anonymously. Your name isn't stored with this idea, so nobody can see it was you."
            )

    app.command("/thanks")(**lazily(services, delivery, thanks))

    def smallchange_ack(ack: Ack, command: dict) -> None:
        """Help is the answer to the command itself: fixed words, nothing to look up."""
        if asks_for_help(str(command.get("text") or "")):
            ack(CHANGE_HELP)
        else:
            ack()

    app.command("/smallchange")(**lazily(services, delivery, smallchange, ack=smallchange_ack))


def asks_for_help(text: str) -> bool:
    """Whether /smallchange asks for help, which its ack answers; any refusal is left to the work that follows."""
    try:
        return read_smallchange(plain(text)).kind == "help"
    except Refused:
        return False
