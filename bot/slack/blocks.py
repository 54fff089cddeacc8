"""Block Kit rendering with slack_sdk's models, which check Slack's size limits as they serialise."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.changes import STATUS_LABELS, STATUSES, ChangeView
from bot.core.thanks import GivenThanks
from bot.slack.text import escape, quote

Blocks = list[dict]


def _people(ids: Sequence[str]) -> str:
    mentions = [f"<@{i}>" for i in ids]
    return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]


def _values_line(values: Sequence[str]) -> list:
    return [ContextBlock(elements=[MarkdownTextObject(text="Values: " + " · ".join(escape(v) for v in values))])]


def thanks_post(given: GivenThanks) -> tuple[str, Blocks]:
    """The appreciation shown in the channel."""
    who = _people([p.id for p in given.recipients])
    headline = f":sparkles: <@{given.giver.id}> thanked {who}"
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{quote(given.reason)}"))]
    if given.values:
        blocks += _values_line(given.values)
    return headline, [b.to_dict() for b in blocks]


def thanks_dm(given: GivenThanks, channel_id: str | None) -> tuple[str, Blocks]:
    """The note each recipient receives."""
    how = "privately thanked you" if given.private else "thanked you"
    where = f" in <#{channel_id}>" if channel_id and not given.private else ""
    others = len(given.recipients) - 1
    also = f" (and {others} other{'s' if others > 1 else ''})" if others else ""
    headline = f":sparkles: <@{given.giver.id}> {how}{also}{where}"
    blocks = [SectionBlock(text=MarkdownTextObject(text=f"{headline}\n{quote(given.reason)}"))]
    if given.values:
        blocks += _values_line(given.values)
    return headline, [b.to_dict() for b in blocks]


def thanks_private_receipt(given: GivenThanks) -> str:
    who = _people([p.id for p in given.recipients])
    return f":lock: Sent privately to {who}. Only you and they can see it; nothing was posted in the channel."


def _card_context(change: ChangeView) -> str:
    by = f"<@{change.suggester_id}>" if change.suggester_id else "anonymous"
    owner = f"<@{change.owner_id}>" if change.owner_id else "nobody yet"
    backers = len(change.backers)
    parts = [
        f"Suggested by {by}",
        f"Status: *{STATUS_LABELS[change.status]}*",
        f"Owner: {owner}",
        f"{backers} backer{'' if backers == 1 else 's'}",
    ]
    if change.within_gift is not None:
        parts.append("within the team's gift" if change.within_gift else "needs someone outside the team")
    return " · ".join(parts)


def _status_option(status: str) -> Option:
    return Option(value=status, label=STATUS_LABELS[status])


def change_card(change: ChangeView) -> tuple[str, Blocks]:
    """The idea card: the idea, who suggested it, status, owner, backers, and the buttons."""
    text = f":bulb: *Small change:* {escape(change.text)}"
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=text))]
    if change.obstacle:
        blocks.append(
            SectionBlock(text=MarkdownTextObject(text="*What gets in the way today:*\n" + quote(change.obstacle)))
        )
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_card_context(change))]))
    value = str(change.id)
    backers = len(change.backers)
    owner_button = (
        ButtonElement(text="Hand it back", action_id="change_hand_back", value=value)
        if change.owner_id
        else ButtonElement(text="I'll take this on", action_id="change_take", value=value, style="primary")
    )
    blocks.append(
        ActionsBlock(
            block_id=f"change_{change.id}",
            elements=[
                ButtonElement(text=f"Back this ({backers})", action_id="change_back", value=value),
                owner_button,
                StaticSelectElement(
                    action_id="change_status",
                    placeholder="Status",
                    options=[_status_option(s) for s in STATUSES],
                    initial_option=_status_option(change.status),
                ),
            ],
        )
    )
    return f"Small change: {change.text[:150]}", [b.to_dict() for b in blocks]


def change_list(title: str, changes: Sequence[ChangeView], empty: str) -> tuple[str, Blocks]:
    """An ephemeral list of changes (at most 20, well inside the 50-block limit)."""
    blocks: list = [HeaderBlock(text=title)]
    if not changes:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
    for change in changes:
        owner = f"owner <@{change.owner_id}>" if change.owner_id else "no owner yet"
        backers = len(change.backers)
        line = (
            f"*{escape(change.text)}*\n{STATUS_LABELS[change.status]} · "
            f"{backers} backer{'' if backers == 1 else 's'} · {owner}"
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    return title, [b.to_dict() for b in blocks]


def change_modal(channel_id: str, max_chars: int) -> dict:
    """/smallchange with no text: the change, what gets in the way, whose gift it is, anonymity."""
    return View(
        type="modal",
        callback_id="change_submit",
        private_metadata=channel_id,
        title="Suggest a small change",
        submit="Post it",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="change",
                label="The change",
                hint="One small thing that would free up time, e.g. a shared template for visit notes.",
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=max_chars),
            ),
            InputBlock(
                block_id="obstacle",
                label="What gets in the way today?",
                optional=True,
                element=PlainTextInputElement(action_id="text", multiline=True, max_length=max_chars),
            ),
            InputBlock(
                block_id="gift",
                label="Can the team do this itself?",
                optional=True,
                element=RadioButtonsElement(
                    action_id="choice",
                    options=[
                        Option(value="within", label="Yes, it's within our gift"),
                        Option(value="outside", label="No, it needs someone else"),
                    ],
                ),
            ),
            InputBlock(
                block_id="anon",
                label="Anonymity",
                optional=True,
                element=CheckboxesElement(
                    action_id="choice",
                    options=[Option(value="anon", label="Post anonymously (your name is not stored)")],
                ),
            ),
        ],
    ).to_dict()
