"""The App Home tab in Block Kit: what a person has been thanked for, what they gave, their ideas, the team's
most-backed ideas and their nudge settings. Each item is one section, so even a full Home stays far inside
Slack's 100 blocks, and long text is previewed (the whole of it is in the DM or on the card)."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.home import HomePage, ThanksLine, nudge_settings
from bot.core.model import SOURCES, STATUS_LABELS, ChangeView
from bot.core.words import emoji_safe_cut
from bot.slack.blocks import people, time_freed_line
from bot.slack.text import date, escape, mention, quote

# Plain characters of a reason or an idea shown on Home. Escaped (& is &amp;) and quoted, 400 stay well
# inside a section's 3,000.
PREVIEW_CHARS = 400


def _preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: emoji_safe_cut(text, PREVIEW_CHARS - 1)].rstrip() + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def _received(thanks: ThanksLine, user_id: str) -> SectionBlock:
    giver = mention(thanks.giver_id)
    if thanks.source:  # only the kind of source is ever stored
        giver = f"{SOURCES.get(thanks.source, 'outside the team')}, passed on by {giver}"
    others = [r for r in thanks.recipient_ids if r != user_id]
    head = f"*From {giver}*" + (f" (to you and {people(others)})" if others else "") + f" · {date(thanks.created_at)}"
    lines = [head + (" · :lock: private" if thanks.private else ""), quote(_preview(thanks.reason))]
    if thanks.values:
        lines.append("_Values: " + " · ".join(escape(v) for v in thanks.values) + "_")
    return _section("\n".join(lines))


def _given(thanks: ThanksLine) -> SectionBlock:
    head = f"*To {people(thanks.recipient_ids)}* · {date(thanks.created_at)}" + (
        " · :lock: private" if thanks.private else ""
    )
    return _section(head + "\n" + quote(_preview(thanks.reason)))


def _owner(change: ChangeView, user_id: str | None = None) -> str:
    if change.owner_id is None:
        return "no owner yet"
    return "you own it" if change.owner_id == user_id else f"owner {mention(change.owner_id)}"


def _mine(change: ChangeView, user_id: str) -> SectionBlock:
    about = [f"*{STATUS_LABELS[change.status]}*"]
    if change.suggester_id == user_id:
        about.append("you suggested it")
    if user_id in change.backers:
        about.append("you back it")
    about += [_plural(len(change.backers), "backer"), _owner(change, user_id)]
    return _section(f"{escape(_preview(change.text))}\n" + " · ".join(about))


def _top(rank: int, change: ChangeView) -> SectionBlock:
    about = [f"*{STATUS_LABELS[change.status]}*", _plural(len(change.backers), "backer"), _owner(change)]
    if change.channel_id and change.channel_id.startswith(("C", "G")):
        about.append(f"in <#{change.channel_id}>")  # where the card is, to back it or take it on
    return _section(f"{rank}. {escape(_preview(change.text))}\n" + " · ".join(about))


def _nudge_settings(page: HomePage) -> str:
    return "\n".join(f"*{label}:* {value}" for label, value in nudge_settings(page))


def home_view(page: HomePage) -> dict:
    me = page.user_id
    blocks: list = [
        HeaderBlock(text="Small Changes"),
        ActionsBlock(
            block_id="home_start",
            elements=[
                ButtonElement(text="Suggest a change", action_id="home_suggest", style="primary"),
                ButtonElement(text="Thank someone", action_id="home_thank"),
            ],
        ),
        HeaderBlock(text=f"Thanks you've received ({page.received_total})"),
    ]
    if page.received:
        blocks += [_received(t, me) for t in page.received]
        if page.received_total > len(page.received):
            more = page.received_total - len(page.received)
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"And {more} more before these.")]))
    else:
        blocks.append(_section("No thanks yet. When a colleague thanks you, it shows here."))

    blocks.append(HeaderBlock(text="Thanks you've given"))
    if page.given:
        blocks.append(_section(f"You've given {_plural(page.given_total, 'thank-you')}. The latest:"))
        blocks += [_given(t) for t in page.given]
    else:
        blocks.append(_section("None yet. Press *Thank someone* above, or type `/thanks @name for …`."))

    blocks.append(HeaderBlock(text="Your ideas"))
    if page.ideas:
        blocks += [_mine(c, me) for c in page.ideas]
        if page.ideas_total > len(page.ideas):
            more = page.ideas_total - len(page.ideas)
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=f"And {more} more: `/smallchange mine`.")]))
    else:
        blocks.append(_section("Ideas you suggest, take on or back show here, with their status."))

    if page.adopted:
        blocks.append(HeaderBlock(text="Your adopted changes: time freed"))
        for change in page.adopted:
            blocks += [_section(f"*{escape(_preview(change.text))}*"), time_freed_line(change)]

    blocks.append(HeaderBlock(text="The team's most-backed open ideas"))
    if page.top:
        blocks += [_top(rank, c) for rank, c in enumerate(page.top, start=1)]
    else:
        blocks.append(_section("No open ideas yet. Press *Suggest a change* above."))

    blocks += [
        HeaderBlock(text="Your nudges"),
        _section(_nudge_settings(page)),
        ActionsBlock(
            block_id="home_nudges",
            elements=[ButtonElement(text="Change my nudges", action_id="home_my_nudges")],
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()


def unavailable_view(why: str) -> dict:
    """The Home when it can't be built: say so plainly and when to look again."""
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="Small Changes"),
            _section(f":warning: I can't load your Home right now: {why}. Open this tab again in a minute."),
        ],
    ).to_dict()


def unavailable_modal(title: str, why: str) -> dict:
    """In place of a form whose contents could not be loaded."""
    return View(
        type="modal",
        title=title,
        close="Close",
        blocks=[_section(f":warning: I couldn't load this just now: {why}. Please try again in a minute.")],
    ).to_dict()
