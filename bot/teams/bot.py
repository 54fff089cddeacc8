"""What the Teams bot does with each activity: it turns the activity into neutral tokens and requests, lets the core
decide on a worker thread (the core is synchronous; the SDK's event loop must not wait on the database), and sends
what the core saved through the outbox.

A message reaches the bot in its 1:1 chat, or in a channel or group chat when it is @mentioned. Teams says who
wrote (their Teams id and Entra object id), from which tenant, in which conversation, and through which
`serviceUrl` to answer: each is remembered (bot.teams.addresses) for the messages that follow later.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import httpx
from microsoft_teams.api import (
    AdaptiveCardActionCardResponse,
    AdaptiveCardActionMessageResponse,
    AdaptiveCardAttachment,
    AdaptiveCardInvokeActivity,
    ApiClient,
    CardTaskModuleTaskInfo,
    ConversationUpdateActivity,
    FileConsentInvokeActivity,
    InstalledActivity,
    InvokeResponse,
    MessageActivity,
    MessageActivityInput,
    MessageExtensionFetchTaskInvokeActivity,
    MessageExtensionSubmitActionInvokeActivity,
    MessagingExtensionActionInvokeResponse,
    TaskFetchInvokeActivity,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleResponse,
    TaskSubmitInvokeActivity,
    card_attachment,
)
from microsoft_teams.apps import ActivityContext, App
from microsoft_teams.cards import AdaptiveCard
from microsoft_teams.common import ClientOptions

from bot.core.errors import PlatformUnavailable, Refused, Replayed, StoreUnavailable
from bot.core.experiment import report_lines
from bot.core.freed import freed_words
from bot.core.grammar import PersonMention, Token, Words, read_dates, read_smallchange, read_thanks, record_id
from bot.core.model import ALREADY_REMINDED, LEADER_ANSWERS, REMINDED, WITHIN_GIFT, ChangeView, Team, ThanksRequest
from bot.core.records import UnknownWorkspace
from bot.core.services import Services
from bot.settings import Settings
from bot.teams import cards
from bot.teams.addresses import CONVERSATION, PERSON, TENANT, Addresses
from bot.teams.delivery import (
    TeamsDelivery,
    answered_messages,
    card_message,
    dm,
    raised_messages,
    thanks_messages,
    updated,
)
from bot.teams.export import Exports, file_info
from bot.teams.text import Mentioned, escape, tokens

log = logging.getLogger(__name__)
OUTAGES = (StoreUnavailable, PlatformUnavailable)
THANKS_WORDS = ("thanks", "thank")
CHANGE_WORDS = ("smallchange", "idea")
NUDGE_ANSWERS = ("nudge_snooze", "nudge_fewer", "nudge_stop", "nudge_stop_yes", "nudge_stop_no", "nudge_resume")
ROSTER_PAGE = 200
MAX_KEY = 64  # the longest conversation id the core stores as a channel
FORBIDDEN = InvokeResponse(status=403)
DATABASE_DOWN = "⚠️ Not saved: the database isn't answering right now. Please try again in a minute."
HELP = (
    "**Thank a colleague:** `thanks @name for what they did`, for example "
    "`thanks @Bob @Carol for covering my home visit #supportive`.\n\n"
    "- `thanks private @Bob for …`: only you and Bob see it.\n"
    "- `thanks @Bob from a family: what they said` passes on thanks from a family, a young person or a partner "
    "agency. Say which kind only, never a name.\n\n"
    "**Suggest a small change:** `smallchange one shared template for visit notes` posts an idea card: colleagues "
    "press **Back this**, someone says **I'll take this on**, and its status moves idea → trying → adopted.\n\n"
    "- `smallchange anon …` posts it with no name attached; your name is not stored.\n"
    "- `list`: the team's open ideas, most backed first. `mine`: ideas you suggested, own or back.\n"
    "- `home`: the thanks you received and gave, your ideas, and your nudge settings. `nudges`: how often I check "
    "in with you, your days off, snooze or stop. `admin`: the team's settings, and `export [since 2026-01-01] "
    "[json]`: the team's records as a file, in our 1:1 chat (admins).\n\n"
    "On any message, **⋯ → More actions → Thank the author** thanks whoever wrote it.\n\n"
    "In a channel or group chat, @mention me first: `@Small Changes thanks @Bob for …`."
)


@dataclass(frozen=True)
class Tenants:
    """Which tenants the bot serves: the one it was registered in (TENANT_ID), or, for an app offered to many, each
    tenant that installed it."""

    addresses: Addresses
    only: str | None = None

    def allows(self, team: Team) -> bool:
        if self.only:
            return team.external_id == self.only
        return self.addresses.get(team, TENANT, team.external_id) is not None

    def served(self) -> list[Team]:
        """The tenants the clock ticks for."""
        return [Team("teams", tenant) for tenant in ([self.only] if self.only else self.addresses.tenants())]


def teams_app(settings: Settings) -> tuple[App, Callable[[str], ApiClient]]:
    """The SDK's App, and a Bot Connector client for each serviceUrl (tenants in other regions answer elsewhere)
    carrying the App's credentials."""
    app = App(
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        tenant_id=settings.tenant_id,
        dangerously_allow_unauthenticated_requests=settings.teams_unauthenticated,
        client=ClientOptions(timeout=10),
    )
    clients: dict[str, ApiClient] = {}

    def api_for(service_url: str) -> ApiClient:
        if service_url not in clients:
            clients[service_url] = ApiClient(
                service_url, app.http_client.clone(), cloud=app.cloud, token_provider=app.token_provider
            )
        return clients[service_url]

    return app, api_for


def register(
    app: App, services: Services, delivery: TeamsDelivery, addresses: Addresses, tenants: Tenants, exports: Exports
) -> None:
    @app.on_message
    async def on_message(ctx: ActivityContext[MessageActivity]):
        activity = ctx.activity
        mentioned = [
            Mentioned(e.text or "", e.mentioned.id, e.mentioned.name or "")
            for e in activity.entities or ()
            if getattr(e, "type", None) == "mention" and getattr(e, "mentioned", None)
        ]
        try:
            team = await served(ctx, tenants)
            if team is None:
                return FORBIDDEN
            said = await meet(ctx, addresses, team, tokens(activity.text or "", mentioned, activity.recipient.id))
        except OUTAGES:
            await ctx.send(DATABASE_DOWN)
            return None
        reply = await asyncio.to_thread(answer, services, delivery, addresses, exports, team, activity, said)
        if isinstance(reply, dict):
            await ctx.send(AdaptiveCard.model_validate(reply))
        elif isinstance(reply, MessageActivityInput) or reply:
            await ctx.send(reply)

    @app.on_card_action_execute
    async def on_card_action(ctx: ActivityContext[AdaptiveCardInvokeActivity]):
        activity = ctx.activity
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        action = activity.value.action
        data = dict(action.data or {}) | {"verb": action.verb or (action.data or {}).get("action")}
        shown = await asyncio.to_thread(pressed, services, delivery, addresses, team, activity, data)
        if isinstance(shown, str):
            return AdaptiveCardActionMessageResponse(value=shown)  # to the person who pressed, alone
        return AdaptiveCardActionCardResponse(value=AdaptiveCard.model_validate(shown))

    @app.on_dialog_open
    async def on_dialog_open(ctx: ActivityContext[TaskFetchInvokeActivity]):
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        opener = ctx.activity.from_.aad_object_id if ctx.activity.from_ else None
        data = dict(ctx.activity.value.data or {})
        card = ctx.activity.reply_to_id  # the message the button was on: Teams says so now, not when it is sent
        try:
            opened = await asyncio.to_thread(dialog, services, delivery, team, opener, data, card)
        except Refused as refusal:
            return TaskModuleResponse(task=TaskModuleMessageResponse(value=refusal.message))
        except OUTAGES:
            return TaskModuleResponse(task=TaskModuleMessageResponse(value=DATABASE_DOWN))
        if opened is None:
            return TaskModuleResponse(task=TaskModuleMessageResponse(value="That form isn't one I know."))
        return TaskModuleResponse(task=TaskModuleContinueResponse(value=task_info(*opened)))

    @app.on_dialog_submit
    async def on_dialog_submit(ctx: ActivityContext[TaskSubmitInvokeActivity]):
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        data = dict(ctx.activity.value.data or {})
        said = await asyncio.to_thread(submitted, services, delivery, addresses, team, ctx.activity, data, "modal")
        return TaskModuleResponse(task=TaskModuleMessageResponse(value=said))

    @app.on_message_ext_open
    async def on_thank_the_author(ctx: ActivityContext[MessageExtensionFetchTaskInvokeActivity]):
        """A message's "Thank the author": the thanks form, for its author, with a link to the message."""
        activity = ctx.activity
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        message = activity.value.message_payload
        author = message.from_.user if message and message.from_ else None
        if author is None or not author.id:
            refused = "I can thank a person for their message, not an app or a bot."
            return MessagingExtensionActionInvokeResponse(task=TaskModuleMessageResponse(value=refused))
        await meet(ctx, addresses, team, [PersonMention(author.id, author.display_name)], by_entra_id=True)
        form = cards.thanks_form(
            services.settings.defaults.reason_max_chars,
            recipient=(author.id, author.display_name or "them"),
            link=message.link_to_message,
        )
        return MessagingExtensionActionInvokeResponse(task=TaskModuleContinueResponse(value=task_info("Thank", form)))

    @app.on_message_ext_submit
    async def on_thank_the_author_submit(ctx: ActivityContext[MessageExtensionSubmitActionInvokeActivity]):
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        data = dict(ctx.activity.value.data or {})
        said = await asyncio.to_thread(submitted, services, delivery, addresses, team, ctx.activity, data, "shortcut")
        return MessagingExtensionActionInvokeResponse(task=TaskModuleMessageResponse(value=said))

    @app.on_file_consent
    async def on_file_consent(ctx: ActivityContext[FileConsentInvokeActivity]):
        """The admin accepted (or declined) the export's file: it is uploaded to where Teams says, in their
        OneDrive, and shown in the chat."""
        team = await served(ctx, tenants)
        if team is None:
            return FORBIDDEN
        answer = ctx.activity.value
        user_id = ctx.activity.from_.aad_object_id if ctx.activity.from_ else None
        waiting = exports.take((answer.context or {}).get("export"), user_id or "")
        if answer.action != "accept" or answer.upload_info is None:
            await ctx.send("Nothing was shared." if waiting else "That export has expired. Nothing was shared.")
            return InvokeResponse(status=200)
        if waiting is None:
            await ctx.send("That export has expired (or was already sent). Ask again with export.")
            return InvokeResponse(status=200)
        info = answer.upload_info
        size = len(waiting.content)
        headers = {"Content-Length": str(size), "Content-Range": f"bytes 0-{size - 1}/{size}"}
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                uploaded = await client.put(info.upload_url, content=waiting.content, headers=headers)
                uploaded.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("uploading an export failed: %s", type(exc).__name__)
            await ctx.send("⚠️ Your export was *not* saved: OneDrive didn't take the file. Please ask again soon.")
            return InvokeResponse(status=200)
        await ctx.send(file_info(info.name or waiting.name, info.content_url, info.unique_id, info.file_type))
        return InvokeResponse(status=200)

    @app.on_install_add
    async def on_install(ctx: ActivityContext[InstalledActivity]):
        team = Team("teams", tenant_of(ctx.activity))
        if tenants.only and team.external_id != tenants.only:
            return FORBIDDEN
        await asyncio.to_thread(
            addresses.remember, team, TENANT, team.external_id, ctx.activity.service_url
        )  # an app offered to many tenants serves this one from now on
        await meet_everyone(ctx, addresses, team)

    @app.on_conversation_update
    async def on_conversation_update(ctx: ActivityContext[ConversationUpdateActivity]):
        team = await served(ctx, tenants)
        if team is not None:
            await meet_everyone(ctx, addresses, team)


async def meet_everyone(ctx: ActivityContext, addresses: Addresses, team: Team) -> None:
    """Where the bot was added (a team, a group chat, someone's personal scope), learn who is there: the team's
    roster a page at a time, so the clock can nudge people who have not written to the bot yet."""
    activity = ctx.activity
    await asyncio.to_thread(remember_conversation, addresses, team, activity)
    if activity.conversation.conversation_type == "personal":
        await asyncio.to_thread(remember_sender, addresses, team, activity)
        return
    continuation = None
    while True:
        try:
            page = await ctx.api.conversations.get_paged_members(
                activity.conversation.id, page_size=ROSTER_PAGE, continuation_token=continuation
            )
        except httpx.HTTPError as exc:
            log.warning("could not read a conversation's members: %s", type(exc).__name__)
            return
        for member in page.members or ():
            if member.aad_object_id:
                await asyncio.to_thread(
                    addresses.remember,
                    team,
                    PERSON,
                    member.aad_object_id,
                    activity.service_url,
                    teams_id=member.id,
                    name=member.name,
                )
        continuation = page.continuation_token
        if not continuation:
            return


async def served(ctx: ActivityContext, tenants: Tenants) -> Team | None:
    """The tenant an activity came from, if the bot serves it; None (403, nothing created) for any other."""
    team = Team("teams", tenant_of(ctx.activity))
    if await asyncio.to_thread(tenants.allows, team):
        return team
    log.warning("refused an activity from a tenant the bot is not installed in")
    return None


async def meet(
    ctx: ActivityContext, addresses: Addresses, team: Team, said: list[Token], by_entra_id: bool = False
) -> list[Token]:
    """The people mentioned, as the core knows them: Teams mentions people by Teams id (29:…), the core knows them
    by Entra object id (which a message's author comes as). Someone the bot has not met is looked up in the
    conversation they were mentioned in; one it cannot find is left as a typed name, which the core answers with
    "I couldn't find @Name"."""
    out: list[Token] = []
    for token in said:
        if isinstance(token, PersonMention):
            user_id = await _met(ctx, addresses, team, token.user_id, by_entra_id)
            token = PersonMention(user_id, token.name) if user_id else Words("@" + (token.name or "someone"))
        out.append(token)
    return out


async def _met(ctx: ActivityContext, addresses: Addresses, team: Team, mentioned: str, by_entra_id: bool) -> str | None:
    sender = ctx.activity.from_
    if sender and sender.aad_object_id and mentioned in (sender.id, sender.aad_object_id):
        return sender.aad_object_id  # the writer, who may not be met yet: the activity says who they are
    if by_entra_id:
        known = await asyncio.to_thread(addresses.get, team, PERSON, mentioned)
    else:
        known = await asyncio.to_thread(addresses.person_by_teams_id, team, mentioned)
    if known and known.teams_id:
        return known.key
    try:
        member = await ctx.api.conversations.get_member_by_id(ctx.activity.conversation.id, mentioned)
    except httpx.HTTPError as exc:
        log.info("could not look up a mentioned person: %s", type(exc).__name__)
        return None
    if not member.aad_object_id:
        return None
    await asyncio.to_thread(
        addresses.remember,
        team,
        PERSON,
        member.aad_object_id,
        ctx.activity.service_url,
        teams_id=member.id,
        name=member.name,
    )
    return member.aad_object_id


def tenant_of(activity) -> str:
    conversation = activity.conversation
    tenant = getattr(conversation, "tenant_id", None)
    data = activity.channel_data
    return tenant or (data.tenant.id if data and data.tenant else "")


def conversation_key(activity) -> str:
    """The core's id for the conversation a message came from (where a thank-you is posted): a channel without the
    thread's message, and a digest of an id longer than the core keeps (a group chat's can be)."""
    return short_key(whole_conversation(activity))


def whole_conversation(activity) -> str:
    return activity.conversation.id.split(";messageid=")[0]


def short_key(conversation_id: str) -> str:
    if len(conversation_id) <= MAX_KEY:
        return conversation_id
    return "teams:" + hashlib.sha256(conversation_id.encode()).hexdigest()[:32]


def remember_conversation(addresses: Addresses, team: Team, activity) -> None:
    if activity.conversation.conversation_type != "personal":
        whole = whole_conversation(activity)
        addresses.remember(team, CONVERSATION, short_key(whole), activity.service_url, chat_id=whole)


def remember_sender(addresses: Addresses, team: Team, activity) -> str | None:
    """The writer's Entra object id (the core's id for them), with where to reach them; None if Teams did not say."""
    sender = activity.from_
    if not sender or not sender.aad_object_id:
        return None
    personal = activity.conversation.conversation_type == "personal"
    addresses.remember(
        team,
        PERSON,
        sender.aad_object_id,
        activity.service_url,
        teams_id=sender.id,
        name=sender.name,
        tz=timezone_of(activity),
        chat_id=activity.conversation.id if personal else None,
    )
    remember_conversation(addresses, team, activity)
    return sender.aad_object_id


def timezone_of(activity) -> str | None:
    for entity in activity.entities or ():
        if getattr(entity, "type", None) == "clientInfo" and getattr(entity, "timezone", None):
            return entity.timezone
    return (activity.model_extra or {}).get("localTimezone")


def answer(
    services: Services,
    delivery: TeamsDelivery,
    addresses: Addresses,
    exports: Exports,
    team: Team,
    activity,
    said: list[Token],
) -> str | dict | MessageActivityInput | None:
    """The reply to one message, after doing what it asks."""
    try:
        with services.store.one_connection(services.replays.recorder(team, "teams:" + activity.id)):
            user_id = remember_sender(addresses, team, activity)
            if user_id is None:
                return None  # not a person (another bot, a system message)
            word, rest = first_word(said)
            if word in THANKS_WORDS:
                return give_thanks(services, delivery, team, activity, user_id, rest)
            if word in CHANGE_WORDS:
                return small_change(services, delivery, team, activity, user_id, plain_text(rest))
            if word in ("list", "mine") and not rest:
                return small_change(services, delivery, team, activity, user_id, word)
            if word == "admin" and not rest:
                services.workspaces.for_admin(team, user_id)  # refuses anyone else, with why
                return cards.admin_button(None if personal_chat(activity) else conversation_key(activity))
            if word == "export":
                return export_offer(services, exports, team, activity, user_id, plain_text(rest))
            if word == "nudges" and not rest:
                return cards.my_nudges_button()
            if word == "home" and not rest:
                return cards.home_card(services.home.page(team, user_id), delivery.sender.names(team))
            return HELP
    except Replayed:
        log.info("ignored a message Teams sent again")
        return None
    except Refused as refusal:
        return escape(refusal.message)
    except OUTAGES:
        return DATABASE_DOWN


def first_word(said: list[Token]) -> tuple[str, list[Token]]:
    if not said or not isinstance(said[0], Words):
        return "", said
    word, _, rest = said[0].text.lstrip().partition(" ")
    return word.lower().strip(":,"), ([Words(rest)] if rest else []) + said[1:]


def give_thanks(services: Services, delivery: TeamsDelivery, team: Team, activity, giver: str, rest) -> str:
    parsed = read_thanks(rest)
    personal = activity.conversation.conversation_type == "personal"
    where = None if personal else conversation_key(activity)
    request = ThanksRequest(
        giver_id=giver,
        recipient_ids=parsed.recipient_ids,
        reason=parsed.reason,
        private=parsed.private,
        channel_id=where,
        unresolved_names=parsed.unresolved_names,
        groups=parsed.groups,
        source=parsed.source,
    )
    with services.outbox.claiming() as written:
        try:
            given = services.thanks.give(team, request, lambda given: thanks_messages(given, where))
        except Refused as refusal:
            return escape(refusal.message)
        finally:
            delivery.send_claimed(team, written)
    names = ", ".join(escape(p.name) for p in given.recipients)
    if given.private:
        return f"Sent privately to {names}. Only you and they can see it."
    if personal:
        return f"Sent to {names}. (Say it in a channel, mentioning me, to share it with the team too.)"
    return None


def plain_text(said: list[Token]) -> str:
    return "".join(t.text if isinstance(t, Words) else "@" + (getattr(t, "name", None) or t.label) for t in said)


def small_change(
    services: Services, delivery: TeamsDelivery, team: Team, activity, user_id: str, text: str
) -> str | dict | None:
    """`smallchange <idea>` (or `anon <idea>`, `list`, `mine`): the same grammar and rules as Slack's command."""
    try:
        asked = read_smallchange(text)
    except Refused as refusal:
        return escape(refusal.message)
    names = delivery.sender.names(team)
    if asked.kind in ("list", "mine"):
        if asked.kind == "list":
            listed = services.changes.open_changes(team)
            return cards.change_list("Open small changes, most backed first", listed, "No open ideas yet.", names)
        listed = services.changes.mine(team, user_id)
        return cards.change_list("Your small changes", listed, "You haven't suggested, owned or backed one.", names)
    if asked.kind != "suggest":
        return HELP
    personal = activity.conversation.conversation_type == "personal"
    where = None if personal else conversation_key(activity)
    with services.outbox.claiming() as written:
        try:
            services.changes.suggest(
                team,
                user_id,
                asked.idea,
                anonymous=asked.anonymous,
                channel_id=where,
                cards=lambda change: [card_message(change.id, where, to=user_id)],
            )
        except Refused as refusal:
            return escape(refusal.message)
        finally:
            delivery.send_claimed(team, written)
    if asked.anonymous:
        return "🕵️ Posted anonymously. Your name isn't stored with this idea, so nobody can see it was you."
    return None


def pressed(
    services: Services, delivery: TeamsDelivery, addresses: Addresses, team: Team, activity, data: dict
) -> str | dict:
    """A button on a card: the card as it now stands (for the person who pressed it; everyone else's copy is
    brought up to date through the outbox), or what to tell them alone."""
    try:
        with services.store.one_connection(services.replays.recorder(team, "teams:" + activity.id)):
            user_id = remember_sender(addresses, team, activity)
            verb = str(data.get("verb") or "")
            if user_id is None:
                return "I couldn't tell who pressed that."
            if verb in NUDGE_ANSWERS:
                return nudge_answer(services, team, user_id, verb, data)
            if verb == "digest_remind":
                return reminded(services, delivery, team, user_id, data)
            if verb == "digest_take":
                return taken_from_digest(services, delivery, team, user_id, data)
            return change_pressed(services, delivery, team, activity, user_id, verb, data)
    except Replayed:
        return "Already done."
    except Refused as refusal:
        return escape(refusal.message)
    except OUTAGES:
        return DATABASE_DOWN


def change_pressed(
    services: Services, delivery: TeamsDelivery, team: Team, activity, user_id: str, verb: str, data: dict
) -> dict:
    change_id = record_id(data.get("change"))
    if change_id is None:
        raise Refused("I couldn't tell which idea that button belongs to.")
    where = conversation_key(activity) if activity.conversation.conversation_type != "personal" else None

    def others(change) -> list:
        return [card_message(change.id, where, activity.reply_to_id, to=user_id)] if activity.reply_to_id else []

    with services.outbox.claiming() as written:
        try:
            if verb == "change_back":
                change, _ = services.changes.toggle_backing(team, change_id, user_id, others)
            elif verb == "change_take":
                change = services.changes.take_on(team, change_id, user_id, others)
            elif verb == "change_hand_back":
                change = services.changes.hand_back(team, change_id, user_id, others)
            elif verb == "change_status":
                change = services.changes.set_status(team, change_id, user_id, str(data.get("status")), others)
            else:
                raise Refused("That button isn't one I know.")
        finally:
            delivery.send_claimed(team, written)
    # The one who just adopted it is asked how much time it frees, on the card they alone see now.
    ask = verb == "change_status" and data.get("status") == "adopted"
    ask = ask and services.changes.may_say_time_freed(team, change, user_id)
    return cards.idea_card(change, delivery.sender.names(team), viewer_id=user_id, ask_time=ask)


def nudge_answer(services: Services, team: Team, user_id: str, verb: str, data: dict) -> dict:
    send_id = record_id(data.get("send"))
    if send_id is None:
        raise Refused("I couldn't tell which check-in that button belongs to.")
    note = services.nudges.respond(team, send_id, user_id, verb.removeprefix("nudge_"))
    stopped = services.nudges.preferences(team, user_id).opted_out
    return cards.nudge_answer_card(note, send_id, stopped)


DIALOGS = {
    "nudge_thank": "thanks",
    "home_thank": "thanks",
    "nudge_suggest": "change",
    "home_suggest": "change",
    "home_my_nudges": "nudges",
    "admin": "settings",
    "digest_personal_thanks": "personal thanks",
    "change_time_freed": "time freed",
    "change_raise": "raise",
    **{f"leaders_{answer}": "answer" for answer in LEADER_ANSWERS},
}


def dialog(
    services: Services,
    delivery: TeamsDelivery,
    team: Team,
    user_id: str | None,
    data: dict,
    card: str | None = None,
) -> tuple[str, dict] | None:
    """The form a card's button opens, by its dialog id. `card` is the message the button was on."""
    which = DIALOGS.get(str(data.get("dialog_id")))
    if which == "time freed" and user_id:
        change_id = record_id(data.get("change"))
        if change_id is None:
            raise Refused("That change no longer exists.")
        return "Time freed", cards.time_freed_form(services.changes.time_freed_question(team, change_id, user_id))
    if which == "raise" and user_id:
        change_id = record_id(data.get("change"))
        if change_id is None:
            raise Refused("I couldn't tell which idea that button belongs to.")
        change = services.leaders.check_raise(team, change_id, user_id)
        return "Raise with leaders", cards.raise_form(change, services.settings.defaults.change_max_chars)
    if which == "answer" and user_id:
        raise_id, answer = record_id(data.get("raised")), str(data.get("dialog_id")).removeprefix("leaders_")
        if raise_id is None:
            raise Refused("I couldn't tell which idea that button belongs to.")
        change = services.leaders.check_answer(team, raise_id, user_id)
        names, max_chars = delivery.sender.names(team), services.settings.defaults.change_max_chars
        return LEADER_ANSWERS[answer], cards.answer_form(answer, change, names, user_id, max_chars, card)
    if which == "personal thanks" and user_id:
        max_chars = services.settings.defaults.reason_max_chars
        person, period = str(data.get("person") or ""), str(data.get("period") or "")
        thanks = services.digests.peer_thanks(team, person, period, user_id, max_chars)
        name = delivery.sender.names(team)(person)
        return "Personal thank-you", cards.personal_thanks_form(thanks, name, max_chars)
    if which == "settings" and user_id:
        here = data.get("here") if isinstance(data.get("here"), str) else None
        config = services.workspaces.for_admin(team, user_id)
        report, impact = report_lines(services.nudges.reading(team)), services.digests.impact(team)
        form = cards.admin_form(config, delivery.sender.names(team), here, report, impact=impact)
        return "Small Changes settings", form
    if which == "nudges" and user_id:
        person, config = services.nudges.preferences(team, user_id), services.workspaces.get(team)
        return "Your nudges", cards.my_nudges_form(person, config)
    if which == "thanks":
        return "Thank someone", cards.thanks_form(services.settings.defaults.reason_max_chars)
    if which == "change":
        return "Suggest a small change", cards.change_form(services.settings.defaults.change_max_chars)
    return None


def task_info(title: str, card: dict) -> CardTaskModuleTaskInfo:
    attachment = card_attachment(AdaptiveCardAttachment(content=AdaptiveCard.model_validate(card)))
    return CardTaskModuleTaskInfo(title=title, width="medium", height="medium", card=attachment)


def submitted(
    services: Services, delivery: TeamsDelivery, addresses: Addresses, team: Team, activity, data: dict, via: str
) -> str:
    """A form sent: the thanks form (from a nudge, Home or a message) or the change form. What the person is told
    in the dialog: done, or why not (nothing saved)."""
    try:
        with services.store.one_connection(services.replays.recorder(team, "teams:" + activity.id)):
            user_id = remember_sender(addresses, team, activity)
            if user_id is None:
                return "I couldn't tell who sent that."
            personal = activity.conversation.conversation_type == "personal"
            where = None if personal else conversation_key(activity)
            if data.get("action") == "thanks_form":
                message = getattr(activity.value, "message_payload", None)  # "Thank the author": the message thanked
                ref = f"{where or 'chat'}:{message.id}"[:200] if message and message.id else None
                return thanks_from_form(services, delivery, team, user_id, where, data, via, ref)
            if data.get("action") == "change_form":
                return change_from_form(services, delivery, team, user_id, where, data)
            if data.get("action") == "personal_thanks_form":
                return personal_thanks(services, delivery, team, user_id, data)
            if data.get("action") == "admin_form":
                return settings_from_form(services, delivery, team, user_id, data)
            if data.get("action") == "nudges_form":
                return nudges_from_form(services, delivery, team, user_id, data)
            if data.get("action") == "time_freed_form":
                return time_freed_from_form(services, delivery, team, user_id, data)
            if data.get("action") == "raise_form":
                return raised_from_form(services, delivery, team, user_id, data)
            if data.get("action") == "leaders_form":
                return answered_from_form(services, delivery, team, activity, user_id, data)
            return "That form isn't one I know. Nothing was saved."
    except Replayed:
        return "Already done."
    except Refused as refusal:
        return refusal.message + " Nothing was saved."
    except OUTAGES:
        return DATABASE_DOWN


def thanks_from_form(
    services: Services,
    delivery: TeamsDelivery,
    team: Team,
    giver: str,
    where: str | None,
    data: dict,
    via: str,
    message_ref: str | None,
) -> str:
    who = tuple(filter(None, (w.strip() for w in str(data.get("who") or "").split(","))))
    request = ThanksRequest(
        giver_id=giver,
        recipient_ids=who,
        reason=str(data.get("reason") or ""),
        private=str(data.get("private")).lower() == "true",
        channel_id=where,
        via=via,
        source=str(data.get("source") or "") or None,
        message_ref=message_ref,
    )
    with services.outbox.claiming() as written:
        try:
            given = services.thanks.give(team, request, lambda given: thanks_messages(given, where))
        finally:
            delivery.send_claimed(team, written)
    names = ", ".join(p.name for p in given.recipients)
    return f"Thanks sent to {names}." + (" Only you and they can see it." if given.private else "")


def change_from_form(
    services: Services, delivery: TeamsDelivery, team: Team, user_id: str, where: str | None, data: dict
) -> str:
    gift = WITHIN_GIFT.get(str(data.get("gift") or ""), ("", None))[1]
    anonymous = str(data.get("anonymous")).lower() == "true"
    with services.outbox.claiming() as written:
        try:
            services.changes.suggest(
                team,
                user_id,
                str(data.get("change") or ""),
                anonymous=anonymous,
                obstacle=str(data.get("obstacle") or "") or None,
                within_gift=gift,
                channel_id=where,
                cards=lambda change: [card_message(change.id, where, to=user_id)],
            )
        finally:
            delivery.send_claimed(team, written)
    if anonymous:
        return "Posted anonymously. Your name isn't stored with this idea."
    if where:
        return "Posted. Colleagues can back it and someone can take it on."
    return "Sent to you: share it with your team."


def nudges_from_form(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    choice = str(data.get("cadence") or "team")
    cadence = None if choice == "team" else choice
    day_off, snooze = form_date(data, "day_off"), form_date(data, "snooze")
    with services.outbox.claiming() as written:
        try:
            return services.nudges.set_preferences(team, user_id, cadence, day_off, snooze)
        finally:
            delivery.send_claimed(team, written)


def form_date(data: dict, name: str) -> date | None:
    try:
        return date.fromisoformat(str(data.get(name) or "")) if data.get(name) else None
    except ValueError:
        raise Refused(f"I couldn't read {data.get(name)!r} as a date.", field=name) from None


def reminded(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    """A digest's Remind the owner, for a stuck change: what the person who asked is told."""
    change_id = record_id(data.get("change"))
    if change_id is None:
        raise Refused("That change no longer exists.")
    asked = services.digests.remind_owner(team, change_id, user_id)
    owner = delivery.sender.names(team)(asked.owner_id)
    if asked.outcome == REMINDED:
        return f"I've asked {owner} how it's going, and said it was you who asked."
    if asked.outcome == ALREADY_REMINDED:
        return f"{owner} has already had a reminder about this change this week; one a week is enough."
    return f"⚠️ I couldn't reach {owner} just now ({asked.why}). Please try again later."


def posted_card(user_id: str) -> Callable[[ChangeView], list]:
    """The messages that bring a change's card up to date where it was posted, for a button pressed elsewhere."""

    def messages(change: ChangeView) -> list:
        if not (change.message_ts and change.channel_id):
            return []
        return [card_message(change.id, change.channel_id, change.message_ts, to=user_id)]

    return messages


def taken_from_digest(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    change_id = record_id(data.get("change"))
    if change_id is None:
        raise Refused("That change no longer exists.")
    with services.outbox.claiming() as written:
        try:
            services.changes.take_on(team, change_id, user_id, posted_card(user_id))
        finally:
            delivery.send_claimed(team, written)
    return "It's yours. Move its status along on the idea card as it goes."


def time_freed_from_form(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    """How much time an adopted change frees, from its dialog: the core checks who may say and the numbers."""
    change_id = record_id(data.get("change"))
    if change_id is None:
        raise Refused("That change no longer exists.")
    answer = {name: data.get(name) for name in ("minutes", "people", "benefit", "note")}
    with services.outbox.claiming() as written:
        try:
            change = services.changes.say_time_freed(team, change_id, user_id, **answer, cards=posted_card(user_id))
        finally:
            delivery.send_claimed(team, written)
    return f"Saved: {freed_words(change.time_freed)}. It shows on the idea card now."


def raised_from_form(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    """An idea raised with leaders, from the form its card's Raise with leaders opened."""
    change_id = record_id(data.get("change"))
    if change_id is None:
        raise Refused("I couldn't tell which idea that form belongs to.")
    names = delivery.sender.names(team)
    with services.outbox.claiming() as written:
        try:
            services.leaders.raise_with_leaders(
                team,
                change_id,
                user_id,
                listed(data.get("needs"), ","),
                str(data.get("note") or ""),
                posted_card(user_id),
                lambda news: raised_messages(news, names),
            )
        finally:
            delivery.send_claimed(team, written)
    return "Raised with leaders. Their answer will show on the idea's card, and everyone behind it will hear."


def answered_from_form(
    services: Services, delivery: TeamsDelivery, team: Team, activity, user_id: str, data: dict
) -> str:
    """A leader's answer, from the form a button on the card they got opened: the card shows the answer instead of
    its buttons, and so does the idea's."""
    raise_id, answer = record_id(data.get("raised")), str(data.get("answer") or "")
    if raise_id is None:
        raise Refused("I couldn't tell which idea that form belongs to.")
    names = delivery.sender.names(team)
    card = data.get("card") if isinstance(data.get("card"), str) else None
    where = {"user": user_id} if personal_chat(activity) else {"conversation": conversation_key(activity)}

    def shown(change: ChangeView) -> list:
        text = "🙋 Raised with leaders: " + escape(change.text[:200])
        answered_on = [updated(where, card, text, cards.leaders_card(change, names))] if card else []
        return answered_on + posted_card(user_id)(change)

    taker = listed(data.get("taker"), ",")
    with services.outbox.claiming() as written:
        try:
            services.leaders.answer(
                team,
                raise_id,
                user_id,
                answer,
                str(data.get("said") or ""),
                taker[0] if taker else None,
                shown,
                lambda news: answered_messages(news, names),
            )
        finally:
            delivery.send_claimed(team, written)
    return f"Sent: {LEADER_ANSWERS[answer]}. Everyone behind the idea hears it in their chat with me."


def personal_thanks(services: Services, delivery: TeamsDelivery, team: Team, leader_id: str, data: dict) -> str:
    """A leader's personal thank-you, from a digest: private, from them by name."""
    person_id, message = str(data.get("person") or ""), str(data.get("message") or "")
    if not message.strip():
        raise Refused("Write a few words of thanks.", field="message")
    leader = delivery.sender.names(team)(leader_id)

    def messages(given) -> list:
        return [dm(person_id, f"🌟 A personal thank-you from **{escape(leader)}**:\n\n{escape(given.reason)}")]

    request = ThanksRequest(leader_id, (person_id,), message, private=True, via="leader")
    with services.outbox.claiming() as written:
        try:
            given = services.thanks.give(team, request, messages)
        finally:
            delivery.send_claimed(team, written)
    return f"Your personal thank-you went to {given.recipients[0].name}, from you by name."


def settings_from_form(services: Services, delivery: TeamsDelivery, team: Team, user_id: str, data: dict) -> str:
    """An admin's settings, read from the form as Slack's are; the core checks each and who may change them."""
    holidays, unreadable = read_dates(str(data.get("holidays") or ""))
    if unreadable:
        raise Refused(f"I couldn't read {', '.join(unreadable[:3])}: use dates like 2026-12-25.", field="holidays")
    experiment = str(data.get("experiment") or "none")
    changes = {
        "cadence": data.get("cadence"),
        "days": listed(data.get("days"), ","),
        "start": data.get("start"),
        "end": data.get("end"),
        "weekly_cap": data.get("weekly_cap"),
        "holidays": holidays,
        "prompts": listed(data.get("prompts"), "\n"),
        "experiment": [] if experiment == "none" else experiment.split("-"),
        "timezone": data.get("timezone"),
        "thanks_daily_cap": data.get("thanks_daily_cap"),
        "values": listed(data.get("values"), "\n"),
        "digest_cadence": data.get("digest_cadence"),
        "managers": listed(data.get("managers"), ","),
        "admins": listed(data.get("admins"), ","),
        "leaders": listed(data.get("leaders"), ","),
    }
    here = data.get("here")
    if isinstance(here, str) and here:
        current = services.workspaces.get(team)
        for toggle, setting in (("digest_here", "digest_channel"), ("leaders_here", "leadership_channel")):
            if str(data.get(toggle)).lower() == "true":
                changes[setting] = here
            elif getattr(current, setting) == here:
                changes[setting] = ""  # no longer here
    with services.outbox.claiming() as written:
        try:
            action = data.get("experiment_action")
            changed = services.workspaces.update(
                team, user_id, changes, experiment_action=action if isinstance(action, str) else None
            )
        finally:
            delivery.send_claimed(team, written)
    if not changed:
        return "Nothing changed."
    return "Settings saved: " + ", ".join(c.replace("_", " ") for c in changed) + ". Every change is recorded."


def listed(value, separator: str) -> list[str]:
    return [part.strip() for part in str(value or "").split(separator) if part.strip()]


def personal_chat(activity) -> bool:
    return activity.conversation.conversation_type == "personal"


def export_offer(services: Services, exports: Exports, team: Team, activity, user_id: str, options: str):
    """`export [since 2026-01-01] [json]`: the team's records, as a file offered to the admin in their 1:1 chat."""
    if not personal_chat(activity):
        return "An export holds the whole team's records, so I send it to you alone: ask me in our 1:1 chat."
    asked = read_smallchange(("export " + options).strip())
    if asked.kind != "export":
        return "Try export, export since 2026-01-01, or export json."
    try:
        return exports.offer(team, user_id, asked.since, asked.format)
    except UnknownWorkspace:
        return "Nothing has been recorded here yet, so there's nothing to export."
