"""Block Kit rendering with slack_sdk's models, which check Slack's size limits as they serialise."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.core.digests import shorten
from bot.core.freed import NOTE_MAX, freed_words, sum_words
from bot.core.model import (
    BENEFITS,
    MINUTES_MAX,
    MORE_INFO,
    NEEDS,
    PEOPLE_MAX,
    SOURCES,
    STATUS_LABELS,
    STATUSES,
    TAKE_UP,
    WITHIN_GIFT,
    ChangeView,
    GivenThanks,
    Raised,
    TimeFreedSum,
    Trends,
)
from bot.core.trends import trend_lines
from bot.core.words import emoji_safe_cut
from bot.slack.text import date, escape, mention, quote

Blocks = list[dict]


def people(ids: Sequence[str]) -> str:
    """Mentions as a sentence ("@a, @b and @c"); an erased person reads as "a former colleague"."""
    mentions = [mention(i) for i in ids]
    return mentions[0] if len(mentions) == 1 else ", ".join(mentions[:-1]) + " and " + mentions[-1]


def _values_line(values: Sequence[str]) -> list:
    return [ContextBlock(elements=[MarkdownTextObject(text="Values: " + " · ".join(escape(v) for v in values))])]


def thanks_post(given: GivenThanks) -> tuple[str, Blocks]:
    """The appreciation shown in the channel."""
    who = people([p.id for p in given.recipients])
    headline = f":sparkles: {mention(given.giver.id)} thanked {who}"
    if given.source:  # the kind of source only: a family or a young person is never named
        headline = f":sparkles: Thanks from {SOURCES[given.source]} for {who}, passed on by {mention(given.giver.id)}"
    blocks = sections(f"{headline}\n{quote(given.reason)}")
    if given.values:
        blocks += _values_line(given.values)
    return headline, [b.to_dict() for b in blocks]


def thanks_dm(given: GivenThanks, channel_id: str | None) -> tuple[str, Blocks]:
    """The note each recipient receives."""
    how = "privately thanked you" if given.private else "thanked you"
    where = f" in <#{channel_id}>" if channel_id and not given.private else ""
    others = len(given.recipients) - 1
    also = f" (and {others} other{'s' if others > 1 else ''})" if others else ""
    headline = f":sparkles: {mention(given.giver.id)} {how}{also}{where}"
    if given.source:
        passed, source = "passed on privately by" if given.private else "passed on by", SOURCES[given.source]
        headline = f":sparkles: Thanks from {source} for you{also}, {passed} {mention(given.giver.id)}{where}"
    elif given.via == "reaction":
        headline = f":sparkles: {mention(given.giver.id)} thanked you with a reaction to your message{where}"
    blocks = sections(f"{headline}\n{quote(given.reason)}")
    if given.values:
        blocks += _values_line(given.values)
    return headline, [b.to_dict() for b in blocks]


def thanks_private_receipt(given: GivenThanks) -> str:
    who = people([p.id for p in given.recipients])
    return f":lock: Sent privately to {who}. Only you and they can see it; nothing was posted in the channel."


SECTION_MAX = 3000  # characters of text one section block holds, counted after escaping
NOTIFICATION_MAX = 150


def _notification(prefix: str, text: str) -> str:
    """The message's top-level text (notifications, screen readers): escaped like the card, and short."""
    room = NOTIFICATION_MAX - len(prefix)
    if len(text) <= room:
        return prefix + escape(text)
    return prefix + escape(text[: emoji_safe_cut(text, room - 1)].rstrip()) + "…"


def sections(mrkdwn: str) -> list[SectionBlock]:
    """mrkdwn in as many sections as it needs, cut at a line break or a space where possible, never inside
    an escape such as &amp; or inside an emoji."""
    sections = []
    while len(mrkdwn) > SECTION_MAX:
        cut = mrkdwn.rfind("\n", SECTION_MAX // 2, SECTION_MAX) + 1 or mrkdwn.rfind(" ", 0, SECTION_MAX) + 1
        if cut <= 0:
            cut = emoji_safe_cut(mrkdwn, SECTION_MAX)
            entity = mrkdwn.rfind("&", max(0, cut - 5), cut)
            if entity != -1 and ";" not in mrkdwn[entity:cut]:
                cut = entity
        sections.append(SectionBlock(text=MarkdownTextObject(text=mrkdwn[:cut])))
        mrkdwn = mrkdwn[cut:]
    sections.append(SectionBlock(text=MarkdownTextObject(text=mrkdwn)))
    return sections


def note(mrkdwn: str) -> dict:
    """One line of our own words above a message (never user text: it is not escaped)."""
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn)).to_dict()


def with_leaders(raised: Raised, note: bool = False) -> str:
    """Where an idea stands with leaders (mrkdwn, for its card, the leaders' message and the DMs of their answer):
    when it was raised and what it needs (and, for leaders, the note that came with it), then their answer, who gave
    it and what they said."""
    needs = ", ".join(NEEDS.get(need, need) for need in raised.needs)
    line = f":raising_hand: *Raised with leaders* {date(raised.at)} · needs: {needs}"
    if note and raised.note:
        line += "\n" + quote(raised.note)
    if raised.answer is None:
        return line + "\n_Waiting for their answer._"
    answered = f"{mention(raised.answered_by or '')}, {date(raised.answered_at or raised.at)}"
    if raised.answer == TAKE_UP:
        line += f"\n:white_check_mark: *We'll take this up* ({answered}): {mention(raised.taker_id or '')} is on it."
    elif raised.answer == MORE_INFO:
        line += f"\n:question: *Leaders need more information* ({answered}):"
    else:
        line += f"\n:hourglass: *Not now* ({answered}):"
    return line + ("\n" + quote(raised.said) if raised.said else "")


def _card_context(change: ChangeView) -> str:
    by = mention(change.suggester_id) if change.suggester_id else "anonymous"
    owner = mention(change.owner_id) if change.owner_id else "nobody yet"
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
    """The idea card: the idea, who suggested it, status, owner, backers, where it stands with leaders, and the
    buttons."""
    # Escaping can make the text several times longer than was typed (& is &amp;), so it may need more than
    # one section; Slack refuses a section over 3,000 characters.
    blocks: list = sections(f":bulb: *Small change:* {escape(change.text)}")
    if change.obstacle:
        blocks += sections("*What gets in the way today:*\n" + quote(change.obstacle))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_card_context(change))]))
    if change.status == "adopted":
        blocks.append(time_freed_line(change))
    if change.raised:
        blocks += sections(with_leaders(change.raised))
    value = str(change.id)
    backers = len(change.backers)
    owner_button = (
        ButtonElement(text="Hand it back", action_id="change_hand_back", value=value)
        if change.owner_id
        else ButtonElement(text="I'll take this on", action_id="change_take", value=value, style="primary")
    )
    elements = [
        ButtonElement(text=f"Back this ({backers})", action_id="change_back", value=value),
        owner_button,
        StaticSelectElement(
            action_id="change_status",
            placeholder="Status",
            options=[_status_option(s) for s in STATUSES],
            initial_option=_status_option(change.status),
        ),
    ]
    if change.raisable:  # it needs someone outside the team, and isn't with leaders now
        label = "Raise again" if change.raised else "Raise with leaders"
        elements.append(ButtonElement(text=label, action_id="change_raise", value=value))
    blocks.append(ActionsBlock(block_id=f"change_{change.id}", elements=elements))
    return _notification("Small change: ", change.text), [b.to_dict() for b in blocks]


def time_freed_button(change: ChangeView) -> ButtonElement:
    """Opens the form asking how much time an adopted change frees (for its owner or suggester; others are told)."""
    label = "Change time freed" if change.time_freed else "How much time does it free?"
    return ButtonElement(text=label, action_id="change_time_freed", value=str(change.id))


def time_freed_line(change: ChangeView) -> SectionBlock:
    """An adopted change's answer about time freed (or that none is in yet), with the button to give or change it."""
    said = escape(freed_words(change.time_freed)) if change.time_freed else "not said yet"
    return SectionBlock(
        text=MarkdownTextObject(text=f":hourglass_flowing_sand: *Time freed:* {said}"),
        accessory=time_freed_button(change),
    )


def time_freed_offer(change: ChangeView) -> tuple[str, Blocks]:
    """To the person who just moved a change to Adopted and may say how much time it frees."""
    text = "Adopted. How much time does it free? It's optional, and you can change it later."
    blocks = [
        SectionBlock(text=MarkdownTextObject(text=f":tada: *Adopted.* {text.removeprefix('Adopted. ')}")),
        ActionsBlock(block_id=f"time_freed_{change.id}", elements=[time_freed_button(change)]),
    ]
    return text, [b.to_dict() for b in blocks]


def _whole_number(block_id: str, label: str, top: int, initial: int | None) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=True,
        hint=f"Roughly: a whole number from 1 to {top:,}.",
        element=NumberInputElement(
            action_id="number",
            is_decimal_allowed=False,
            min_value="1",
            max_value=str(top),
            initial_value=str(initial) if initial else None,
        ),
    )


def time_freed_modal(change: ChangeView, metadata: str) -> dict:
    """How much time an adopted change frees: minutes a week for each of so many people, or, not about time, what it
    does. Opened with the latest answer filled in; `metadata` (signed) names the change."""
    freed = change.time_freed
    benefits = [Option(value=value, label=label.capitalize()) for value, label in BENEFITS.items()]
    chosen = next((o for o in benefits if freed and o.value == freed.benefit), None)
    return View(
        type="modal",
        callback_id="time_freed_submit",
        private_metadata=metadata,
        title="Time freed",
        submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f":bulb: *{escape(shorten(change.text, 300))}*")),
            _whole_number("minutes", "Minutes a week it frees, for each person", MINUTES_MAX, freed and freed.minutes),
            _whole_number("people", "For how many people", PEOPLE_MAX, freed and freed.people),
            InputBlock(
                block_id="benefit",
                label="Or, if it's not about time, it makes things",
                optional=True,
                element=StaticSelectElement(
                    action_id="choice", placeholder="It's about time", options=benefits, initial_option=chosen
                ),
            ),
            InputBlock(
                block_id="note",
                label="In a few words",
                optional=True,
                element=PlainTextInputElement(
                    action_id="text", max_length=NOTE_MAX, initial_value=freed.note if freed and freed.note else None
                ),
            ),
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text="Optional, and you can change it later. Every answer is kept with who and when; the "
                        "latest is shown on the card and counted in the team's digest."
                    )
                ]
            ),
        ],
    ).to_dict()


def time_freed_saved(change: ChangeView) -> dict:
    """What the form shows once saved."""
    said = escape(freed_words(change.time_freed)) if change.time_freed else ""
    return View(
        type="modal",
        title="Time freed",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(text=f":white_check_mark: Saved: {said}. It shows on the idea card now.")
            )
        ],
    ).to_dict()


def time_freed_sum(freed: TimeFreedSum) -> str:
    """A quarter's changes and the time they free, with the biggest named (the digest, the admin view)."""
    lines = [f"*:hourglass_flowing_sand: Time freed, {freed.label}:* {escape(sum_words(freed))}"]
    if freed.biggest:
        lines.append("Biggest:")
        lines += [f"• *{escape(shorten(c.text, 150))}*: {escape(freed_words(c.freed))}" for c in freed.biggest]
    return "\n".join(lines)


def trends_text(trends: Trends) -> str:
    """Twelve weeks as sparklines, each line with its numbers in words (the digest, the admin view)."""
    return f"*:chart_with_upwards_trend: Twelve weeks, {trends.span}:*\n" + "\n".join(trend_lines(trends))


def change_list(title: str, changes: Sequence[ChangeView], empty: str) -> tuple[str, Blocks]:
    """An ephemeral list of changes (at most 20, each in at most two sections: inside the 50-block limit)."""
    blocks: list = [HeaderBlock(text=title)]
    if not changes:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
    for change in changes:
        owner = f"owner {mention(change.owner_id)}" if change.owner_id else "no owner yet"
        backers = len(change.backers)
        idea = escape(change.text)
        about = f"{STATUS_LABELS[change.status]} · {backers} backer{'' if backers == 1 else 's'} · {owner}"
        if len(idea) + len(about) + 3 <= SECTION_MAX:
            idea = f"*{idea}*"  # bold only where it stays in one section, so no stray asterisks show
        listed = sections(f"{idea}\n{about}")
        listed[0].block_id = f"listed_{change.id}"  # unseen in Slack; the console shows it as the card's #N
        blocks += listed
    return title, [b.to_dict() for b in blocks]


def change_modal(max_chars: int, channel_id: str | None = None, metadata: str = "") -> dict:
    """/smallchange with no text: the change, what gets in the way, whose gift it is, anonymity. Opened from
    a nudge or Home (no channel), it also asks where the team should see the card. `metadata` (signed, see
    bot.slack.metadata) travels to the submission: the channel it was opened in."""
    where = []
    if not channel_id:
        where = [
            InputBlock(
                block_id="channel",
                label="Where should the team see it?",
                optional=True,
                hint="Leave empty and I'll send the card to you, to share where you like.",
                element=ConversationSelectElement(action_id="choice", filter={"include": ["public", "private"]}),
            )
        ]
    return View(
        type="modal",
        callback_id="change_submit",
        private_metadata=metadata,
        title="Suggest a small change",
        submit="Post it",
        close="Cancel",
        blocks=[
            *where,
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
                    options=[Option(value=value, label=label) for value, (label, _) in WITHIN_GIFT.items()],
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


def nudge(prompt: str, send_id: int) -> tuple[str, Blocks]:
    """One short prompt and five ways to answer it, the last three about the nudges themselves."""
    value = str(send_id)
    message = [
        SectionBlock(text=MarkdownTextObject(text=f":seedling: {escape(prompt)}")),
        ActionsBlock(
            block_id=f"nudge_{send_id}",
            elements=[
                ButtonElement(text="Suggest a change", action_id="nudge_suggest", value=value, style="primary"),
                ButtonElement(text="Thank someone", action_id="nudge_thank", value=value),
                ButtonElement(text="Not this week", action_id="nudge_snooze", value=value),
                ButtonElement(text="Fewer of these", action_id="nudge_fewer", value=value),
                ButtonElement(text="Stop", action_id="nudge_stop", value=value, style="danger"),
            ],
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="Small Changes checks in now and then, never more than your team set.")]
        ),
    ]
    return prompt, [b.to_dict() for b in message]


def stop_check(send_id: int) -> tuple[str, Blocks]:
    question = "I've sent you a few nudges with no answer. Shall I stop?"
    value = str(send_id)
    message = [
        SectionBlock(text=MarkdownTextObject(text=f":wave: {question} One click either way; nothing else needed.")),
        ActionsBlock(
            block_id=f"nudge_{send_id}",
            elements=[
                ButtonElement(text="Yes, stop", action_id="nudge_stop_yes", value=value, style="danger"),
                ButtonElement(text="Keep them coming", action_id="nudge_stop_no", value=value),
            ],
        ),
    ]
    return question, [b.to_dict() for b in message]


def nudge_answer(note: str, send_id: int, stopped: bool) -> tuple[str, Blocks]:
    """What replaces a nudge once answered; after Stop, the one-click way back in."""
    message: list = [SectionBlock(text=MarkdownTextObject(text=note))]
    if stopped:
        message.append(
            ActionsBlock(
                block_id=f"nudge_{send_id}",
                elements=[ButtonElement(text="Start again", action_id="nudge_resume", value=str(send_id))],
            )
        )
    return note, [b.to_dict() for b in message]
