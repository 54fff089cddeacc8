"""Adaptive Cards (version 1.5) for Teams: what bot.slack renders in Block Kit (the idea card, lists, nudges, digests,
Home and the thanks form), with the same content and the same choices, as plain JSON dicts to store in the outbox.

Text rules. Everything a person wrote (ideas, reasons, names, prompts, values) goes into a RichTextBlock's TextRuns,
which read no markdown: it shows exactly as typed, never as a link, a list or bold. Cards never carry mention
entities, so nothing in them pings anyone. Only our own fixed words go into TextBlocks (headings), and none of them
uses markdown. Dates are written out in the reader's timezone, not left to the card's {{DATE()}} functions.

Buttons. A button that changes something is an Action.Execute whose `verb` is the Slack action id and whose data is
`{"action": verb, ...ids}` (the SDK's on_card_action_execute("x") routes by data["action"]); it sends no inputs,
except "Set status", which sends the status menu's value as data["status"]. A button that opens a form is an
Action.Submit with `msteams: {"type": "task/fetch"}` (an Action.Execute cannot open a dialog), and its data carries
both `dialog_id` and `action` set to the Slack action id (the SDK's on_dialog_open("x") routes by data["dialog_id"]).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from microsoft_teams.cards import (
    ActionSet,
    AdaptiveCard,
    Choice,
    ChoiceSetInput,
    Column,
    ColumnSet,
    DateInput,
    ExecuteAction,
    NumberInput,
    OpenUrlAction,
    QueryData,
    RichTextBlock,
    SubmitAction,
    TextBlock,
    TextInput,
    TextRun,
    TimeInput,
    ToggleInput,
)

from bot.core.digests import shorten
from bot.core.freed import NOTE_MAX, freed_words, sum_words
from bot.core.home import HomePage, ThanksLine, nudge_settings
from bot.core.leaders import day
from bot.core.model import (
    BENEFITS,
    CADENCES,
    DAY_NAMES,
    DAYS,
    LEADER_ANSWERS,
    LEADERS_WAIT,
    MIN_GROUP,
    MINUTES_MAX,
    MORE_INFO,
    NEEDS,
    NOT_NOW,
    OUTSIDE,
    PEOPLE_MAX,
    SOURCES,
    STATUS_LABELS,
    STATUSES,
    TAKE_UP,
    WITHIN_GIFT,
    ChangeLine,
    ChangeView,
    ChannelDigest,
    Figures,
    Impact,
    ManagerDigest,
    PeerThanks,
    PersonState,
    Raised,
    TimeFreedSum,
    Trends,
    WorkspaceConfig,
    zone,
)
from bot.core.policy import chosen_cadence, personal_cadences
from bot.core.ports import FORMER_COLLEAGUE, is_former_colleague
from bot.core.trends import trend_lines
from bot.core.words import emoji_safe_cut
from bot.core.workspace import EXPERIMENTS, experiment_choices

Names = Callable[[str], str]
Card = dict[str, Any]

VERSION = "1.5"
STATUS_INPUT = "status"  # the idea card's status menu: its value arrives as data["status"] with "Set status"
THANKS_INPUTS = ("who", "source", "reason", "private")  # the thanks form's inputs, as they arrive in its data
PEOPLE_SEARCH = "graph.microsoft.com/users"  # Teams' people picker: the values are Entra (AAD) object ids

# Limits, as the Slack renderers keep them, so a card stays far inside Teams' ~28 KB per message.
CARD_TEXT_MAX = 2000  # characters of one idea or obstacle on its card
PREVIEW_CHARS = 400  # an idea or a reason in a list or on Home
LIST_SHOWN = 20
STUCK_SHOWN = 5
WAITING_SHOWN = 5  # ideas waiting on leaders, in a digest
ADOPTED_SHOWN = 5
PEERS_SHOWN = 10  # people with a "Send a personal thank-you" button
NAMES_SHOWN = 40  # names in one line before "and N more"
QUOTE_CHARS = 280  # a highlight's reason in a digest
ZWSP = "\u200b"


# -- text ---------------------------------------------------------------------------------------------------------


def _safe(text: str) -> str:
    """Text for a TextRun, as typed. A TextRun reads no markdown; only the card's {{DATE(…)}} and {{TIME(…)}}
    functions would still be evaluated, so their braces are kept apart with a zero-width space."""
    return text.replace("{{", "{" + ZWSP + "{")


def _preview(text: str, limit: int = PREVIEW_CHARS) -> str:
    """The text, or its start cut at a space where one is near (never inside an emoji) and marked with "…"."""
    if len(text) <= limit:
        return text
    cut = max(text.rfind(" ", limit // 2, limit), text.rfind("\n", limit // 2, limit))
    if cut <= 0:
        cut = emoji_safe_cut(text, limit - 1)
    return text[:cut].rstrip() + "…"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _who(names: Names) -> Names:
    """A person's name, or "a former colleague" once they were erased."""
    return lambda user_id: FORMER_COLLEAGUE if is_former_colleague(user_id) else names(user_id)


def _names(ids: Sequence[str], who: Names) -> str:
    """People as a sentence ("A, B and C"), at most NAMES_SHOWN of them before "and N more"."""
    shown = [who(i) for i in ids[:NAMES_SHOWN]]
    if len(ids) > NAMES_SHOWN:
        shown.append(f"{len(ids) - NAMES_SHOWN} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _run(text: str, *, bold: bool = False, italic: bool = False, size: str | None = None) -> TextRun:
    return TextRun(text=_safe(text), weight="Bolder" if bold else None, italic=italic or None, size=size)


def _bold(text: str) -> TextRun:
    return _run(text, bold=True)


def _para(
    *parts: str | TextRun, subtle: bool = False, separator: bool = False, spacing: str | None = None
) -> RichTextBlock:
    """One paragraph of plain runs: strings are plain text, TextRuns keep their own style."""
    inlines = [p if isinstance(p, TextRun) else _run(p) for p in parts if (p.text if isinstance(p, TextRun) else p)]
    if subtle:
        for run in inlines:
            run.is_subtle = True
    return RichTextBlock(inlines=inlines, separator=separator or None, spacing=spacing)


def _heading(text: str, *, size: str = "Medium", separator: bool = False) -> TextBlock:
    """Our own words only: a TextBlock would read markdown in anything else."""
    return TextBlock(text=text, wrap=True, weight="Bolder", size=size, style="heading", separator=separator or None)


# -- buttons ------------------------------------------------------------------------------------------------------


def _execute(title: str, action: str, *, style: str | None = None, **data: Any) -> ExecuteAction:
    """A button that does something: routed by data["action"] (and the same verb), sending no inputs."""
    return ExecuteAction(
        title=title, verb=action, data={"action": action, **data}, associated_inputs="none", style=style
    )


def _opens(title: str, action: str, *, style: str | None = None, **data: Any) -> SubmitAction:
    """A button that opens a form: Teams asks the bot for it (task/fetch) with this data."""
    return SubmitAction(
        title=title,
        data={"msteams": {"type": "task/fetch"}, "dialog_id": action, "action": action, **data},
        associated_inputs="none",
        style=style,
    )


def _buttons(*actions: ExecuteAction | SubmitAction | None) -> ActionSet:
    return ActionSet(actions=[a for a in actions if a is not None])


def _beside(items: list, button: ExecuteAction | SubmitAction | None) -> ColumnSet | list:
    """Text with its button on the right, as a Slack section's accessory."""
    if button is None:
        return items
    return ColumnSet(
        columns=[
            Column(width="stretch", items=items),
            Column(width="auto", items=[_buttons(button)], vertical_content_alignment="Center"),
        ]
    )


def _integral(value: Any) -> Any:
    """The SDK types every number as a float (maxLength 1000.0); whole ones are written as integers."""
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _card(body: list, actions: list | None = None) -> Card:
    flat: list = []
    for element in body:
        flat.extend(element if isinstance(element, list) else [element])
    card = AdaptiveCard(version=VERSION, body=flat, actions=actions or None)
    return _integral(card.model_dump(mode="json", exclude_none=True, by_alias=True))


# -- small changes ------------------------------------------------------------------------------------------------


def idea_card(change: ChangeView, names: Names, viewer_id: str | None = None, ask_time: bool = False) -> Card:
    """The idea card: the idea, what gets in the way, who suggested it (nobody, if anonymous), status, owner, the
    number of backers, whose gift it is, where it stands with leaders, and its buttons: Back this (pressed again, it
    withdraws the backing), I'll take this on or Hand it back, Raise with leaders (a form) for an idea the team can't
    do alone, and the status menu with "Set status".

    A card in a channel is the same for everyone, as in Slack. Pass `viewer_id` only for a card one person alone
    sees (their 1:1, or the card returned to the person who pressed a button): they see "Unback" if they back it,
    and "Hand it back" only if they own it."""
    who = _who(names)
    backers = len(change.backers)
    body: list = [
        _para(_bold("💡 Small change")),
        _para(_run(_preview(change.text, CARD_TEXT_MAX), size="Medium"), spacing="Small"),
    ]
    if change.obstacle:
        body += [_para(_bold("What gets in the way today:")), _para(_run(_preview(change.obstacle, CARD_TEXT_MAX)))]
    about: list = [
        "Suggested by ",
        who(change.suggester_id) if change.suggester_id else "anonymous",
        " · Status: ",
        _bold(STATUS_LABELS[change.status]),
        " · Owner: ",
        who(change.owner_id) if change.owner_id else "nobody yet",
        " · " + _plural(backers, "backer"),
    ]
    if change.within_gift is not None:
        about.append(" · " + ("within the team's gift" if change.within_gift else "needs someone outside the team"))
    body.append(_para(*about, subtle=True))
    if change.status == "adopted":
        if ask_time:
            body.append(_para("🎉 Adopted. How much time does it free? It's optional, and you can change it later."))
        body += _time_freed_line(change)
    if change.raised:
        body += _with_leaders(change.raised, who)

    backs = viewer_id is not None and viewer_id in change.backers
    back = _execute(f"{'Unback' if backs else 'Back this'} ({backers})", "change_back", change=change.id)
    if change.owner_id is None:
        owner = _execute("I'll take this on", "change_take", style="positive", change=change.id)
    elif viewer_id is None or viewer_id == change.owner_id:
        owner = _execute("Hand it back", "change_hand_back", change=change.id)
    else:
        owner = None
    set_status = ExecuteAction(
        title="Set status",
        verb="change_status",
        data={"action": "change_status", "change": change.id},
        associated_inputs="auto",
    )
    raising = None
    if change.raisable:  # it needs someone outside the team, and isn't with leaders now
        label = "Raise again" if change.raised else "Raise with leaders"
        raising = _opens(label, "change_raise", change=change.id)
    body += [
        _buttons(back, owner, raising),
        ChoiceSetInput(
            id=STATUS_INPUT,
            label="Status",
            style="compact",
            value=change.status,
            choices=[Choice(title=STATUS_LABELS[s], value=s) for s in STATUSES],
        ),
        _buttons(set_status),
    ]
    return _card(body)


def _time_freed_button(change: ChangeView) -> SubmitAction:
    label = "Change time freed" if change.time_freed else "How much time does it free?"
    return _opens(label, "change_time_freed", change=change.id)


def _time_freed_line(change: ChangeView) -> list:
    """An adopted change's answer about time freed (or that none is in yet), with the button to give or change it."""
    said = freed_words(change.time_freed) if change.time_freed else "not said yet"
    return [_para(_bold("⏳ Time freed: "), said), _buttons(_time_freed_button(change))]


def _whole_number(input_id: str, label: str, top: int, value: int | None) -> NumberInput:
    return NumberInput(id=input_id, label=f"{label} (1 to {top:,})", min=1, max=top, value=value or None)


def time_freed_form(change: ChangeView) -> Card:
    """How much time an adopted change frees, in a dialog (from its card or Home), with the latest answer filled in:
    minutes a week for each of so many people, or, not about time, what it does. Submitted as data
    {"action": "time_freed_form", "change": id} plus the inputs "minutes", "people", "benefit" ("" or a key of
    BENEFITS) and "note"."""
    freed = change.time_freed
    body: list = [
        _heading("How much time does it free?"),
        _para(_bold(_preview(change.text, 300))),
        _whole_number("minutes", "Minutes a week it frees, for each person", MINUTES_MAX, freed and freed.minutes),
        _whole_number("people", "For how many people", PEOPLE_MAX, freed and freed.people),
        ChoiceSetInput(
            id="benefit",
            label="Or, if it's not about time, it makes things",
            style="compact",
            placeholder="It's about time",
            value=freed.benefit if freed and freed.benefit else None,
            choices=[Choice(title=label.capitalize(), value=value) for value, label in BENEFITS.items()],
        ),
        TextInput(id="note", label="In a few words", max_length=NOTE_MAX, value=freed.note if freed else None),
        _para(
            "Optional, and you can change it later. Every answer is kept with who and when; the latest is shown on the "
            "card and counted in the team's digest.",
            subtle=True,
        ),
    ]
    data = {"action": "time_freed_form", "change": change.id}
    return _card(body, [SubmitAction(title="Save", style="positive", data=data)])


def _time_freed_sum(freed: TimeFreedSum) -> list:
    """A quarter's changes and the time they free, with the biggest named (the digest, the admin view)."""
    body: list = [_para(_bold(f"⏳ Time freed, {freed.label}: "), sum_words(freed))]
    if freed.biggest:
        body.append(_para("Biggest:", spacing="None"))
        body += [
            _para("• ", _bold(shorten(c.text, 150)), ": " + freed_words(c.freed), spacing="None") for c in freed.biggest
        ]
    return body


def _trends(trends: Trends) -> list:
    """Twelve weeks as sparklines, each line with its numbers in words (the digest, the admin view)."""
    return [
        _para(_bold(f"📈 Twelve weeks, {trends.span}"), separator=True),
        *(_para(line, spacing="None") for line in trend_lines(trends)),
    ]


def change_list(title: str, changes: Sequence[ChangeView], empty: str, names: Names | None = None) -> Card:
    """A list of changes (list, mine): each idea, its status, backers and owner; at most LIST_SHOWN of them.
    Without `names` an owner is not named ("has an owner")."""
    who = _who(names) if names else None
    body: list = [_heading(title)]
    if not changes:
        body.append(_para(empty))
    for change in changes[:LIST_SHOWN]:
        if change.owner_id is None:
            owner = "no owner yet"
        else:
            owner = f"owner {who(change.owner_id)}" if who else "has an owner"
        about = f"{STATUS_LABELS[change.status]} · {_plural(len(change.backers), 'backer')} · {owner}"
        body += [_para(_bold(_preview(change.text)), separator=True), _para(about, subtle=True, spacing="None")]
    if len(changes) > LIST_SHOWN:
        body.append(_para(f"…and {len(changes) - LIST_SHOWN} more.", subtle=True))
    return _card(body)


# -- ideas raised with leaders ------------------------------------------------------------------------------------


def _needs(raised: Raised) -> str:
    return ", ".join(NEEDS.get(need, need) for need in raised.needs)


def _with_leaders(raised: Raised, who: Names, note: bool = False) -> list:
    """Where an idea stands with leaders: when it was raised and what it needs (and, for leaders, the note that came
    with it), then their answer, who gave it and what they said. Dates are UTC: a card in a channel has many readers."""
    body: list = [_para("🙋 ", _bold("Raised with leaders"), f" {day(raised.at)} · needs: {_needs(raised)}")]
    if note and raised.note:
        body.append(_para(_run(_preview(raised.note), italic=True), spacing="None"))
    if raised.answer is None:
        return body + [_para("Waiting for their answer.", subtle=True, spacing="None")]
    answered = f" ({who(raised.answered_by or '')}, {day(raised.answered_at or raised.at)})"
    if raised.answer == TAKE_UP:
        said = [_bold("✅ We'll take this up"), answered, f": {who(raised.taker_id or '')} is on it."]
    elif raised.answer == MORE_INFO:
        said = [_bold("❓ Leaders need more information"), answered, ":"]
    else:
        said = [_bold("⏳ Not now"), answered, ":"]
    body.append(_para(*said, spacing="None"))
    if raised.said:
        body.append(_para(_run(_preview(raised.said), italic=True), spacing="None"))
    return body


def leaders_card(change: ChangeView, names: Names) -> Card:
    """What leaders get (in the leadership channel and each named leader's chat): the idea, what it needs and the note,
    with a button for each answer (each opens its form) while it waits; once answered, the answer instead."""
    raised = change.raised
    assert raised is not None, "only a raised idea goes to leaders"
    who = _who(names)
    body: list = [
        _para(_bold(who(raised.by)), " raised an idea the team can't do alone:"),
        _para(_run(_preview(change.text, CARD_TEXT_MAX), size="Medium"), spacing="Small"),
    ]
    if change.obstacle:
        body += [_para(_bold("What gets in the way today:")), _para(_run(_preview(change.obstacle, CARD_TEXT_MAX)))]
    suggested = who(change.suggester_id) if change.suggester_id else "anonymous"
    owner = who(change.owner_id) if change.owner_id else "nobody yet"
    body.append(
        _para(f"Suggested by {suggested} · Owner: {owner} · {_plural(len(change.backers), 'backer')}", subtle=True)
    )
    body += _with_leaders(raised, who, note=True)
    if raised.answer is None:
        body.append(
            _buttons(
                *(
                    _opens(
                        LEADER_ANSWERS[answer],
                        f"leaders_{answer}",
                        style="positive" if answer == TAKE_UP else None,
                        raised=raised.id,
                    )
                    for answer in LEADER_ANSWERS
                )
            )
        )
    return _card(body)


def raise_form(change: ChangeView, max_chars: int) -> Card:
    """Raise an idea with leaders, in a dialog from its card: what it needs, and a note (after leaders asked for more
    information, their question is shown and the note answers it). Submitted as data {"action": "raise_form",
    "change": id} plus the inputs "needs" (keys of NEEDS, comma separated) and "note"."""
    raised = change.raised
    asked = raised.said if raised and raised.answer == MORE_INFO else None
    body: list = [_heading("Raise with leaders"), _para(_run(_preview(change.text), italic=True))]
    if asked:
        body.append(_para(_bold("Leaders asked: "), _preview(asked)))
    body += [
        ChoiceSetInput(
            id="needs",
            label="What does it need?",
            is_multi_select=True,
            style="expanded",
            is_required=True,
            error_message="Choose at least one thing it needs.",
            choices=[Choice(title=label[0].upper() + label[1:], value=key) for key, label in NEEDS.items()],
            value=",".join(raised.needs) if raised else None,
        ),
        TextInput(
            id="note",
            label="Your answer to their question" if asked else "A note for leaders (optional)",
            is_multiline=True,
            is_required=bool(asked),
            error_message="Answer their question.",
            max_length=max_chars,
            placeholder="Anything that would help them decide: who else is involved, what it would save.",
        ),
    ]
    return _card(
        body, [SubmitAction(title="Raise it", style="positive", data={"action": "raise_form", "change": change.id})]
    )


def answer_form(answer: str, change: ChangeView, names: Names, answerer: str, max_chars: int, card: str | None) -> Card:
    """A leader's answer, in a dialog from the card they got: who takes it up (the answerer unless they pick someone
    else) and a word if they like; or the question for the owner, or why not now, both required. `card` is the
    message the button was on (Teams says so when the dialog opens, not when it is sent), to show the answer there.
    Submitted as data {"action": "leaders_form", "raised": id, "answer": answer, "card": card} plus the inputs
    "taker" (an Entra object id) and "said"."""
    raised = change.raised
    body: list = [
        _heading(LEADER_ANSWERS[answer]),
        _para(_run(_preview(change.text), italic=True)),
        _para(f"Needs: {_needs(raised)}" if raised else "", subtle=True, spacing="None"),
    ]
    words = {"id": "said", "is_multiline": True, "max_length": max_chars}
    if answer == TAKE_UP:
        body += [
            ChoiceSetInput(
                id="taker",
                label="Who will take it up?",
                placeholder="Type a name",
                choices=[Choice(title=names(answerer), value=answerer)],
                choices_data=QueryData(dataset=PEOPLE_SEARCH),
                value=answerer,
            ),
            TextInput(label="Anything to add? (optional)", **words),
        ]
    elif answer == MORE_INFO:
        body.append(
            TextInput(
                label="Your question for the owner", is_required=True, error_message="Write your question.", **words
            )
        )
    else:
        body += [
            TextInput(label="Why not now?", is_required=True, error_message="Say why not now.", **words),
            _para("Everyone behind the idea reads this: closing the loop is the point.", subtle=True, spacing="None"),
        ]
    data = {"action": "leaders_form", "raised": raised.id if raised else None, "answer": answer, "card": card}
    return _card(body, [SubmitAction(title="Send answer", style="positive", data=data)])


ANSWERED = {
    TAKE_UP: "Leaders will take up a small change you're part of.",
    MORE_INFO: "Leaders need more information about a small change you're part of.",
    NOT_NOW: "Leaders said not now to a small change you're part of.",
}


def answered_card(change: ChangeView, names: Names) -> Card:
    """The message that tells the owner, the suggester, the backers (and whoever raised it or takes it up) how
    leaders answered."""
    raised = change.raised
    assert raised is not None and raised.answer is not None, "only an answer is told"
    body: list = [
        _para(_bold("🙋 " + ANSWERED[raised.answer])),
        _para(_run(_preview(change.text), size="Medium"), spacing="Small"),
        *_with_leaders(raised, _who(names)),
    ]
    if raised.answer == MORE_INFO:
        body.append(
            _para("Its owner or the person who suggested it answers by pressing Raise again on its card.", subtle=True)
        )
    return _card(body)


# -- nudges -------------------------------------------------------------------------------------------------------


def nudge_card(prompt: str, send_id: int) -> Card:
    """One short prompt and five ways to answer it, the last three about the nudges themselves. The first two open
    a form (the change, the thanks); the others answer at once. Every one carries data["send"] = send_id."""
    return _card(
        [
            _para("🌱 ", prompt),
            _buttons(
                _opens("Suggest a change", "nudge_suggest", style="positive", send=send_id),
                _opens("Thank someone", "nudge_thank", send=send_id),
                _execute("Not this week", "nudge_snooze", send=send_id),
                _execute("Fewer of these", "nudge_fewer", send=send_id),
                _execute("Stop", "nudge_stop", style="destructive", send=send_id),
            ),
            _para("Small Changes checks in now and then, never more than your team set.", subtle=True),
        ]
    )


def stop_check_card(send_id: int) -> Card:
    return _card(
        [
            _para(
                "👋 I've sent you a few nudges with no answer. Shall I stop? One click either way; nothing else needed."
            ),
            _buttons(
                _execute("Yes, stop", "nudge_stop_yes", style="destructive", send=send_id),
                _execute("Keep them coming", "nudge_stop_no", send=send_id),
            ),
        ]
    )


def nudge_answer_card(note: str, send_id: int, stopped: bool) -> Card:
    """What replaces a nudge once answered; after Stop, the one-click way back in."""
    body: list = [_para(note)]
    if stopped:
        body.append(_buttons(_execute("Start again", "nudge_resume", send=send_id)))
    return _card(body)


# -- digests ------------------------------------------------------------------------------------------------------


def digest_card(copy: ManagerDigest | ChannelDigest, names: Names) -> Card:
    """A copy of the digest, as the core cut it for its reader; it decides nothing about privacy. A manager's copy
    names people with `names` and has the lists of people; the channel's never calls `names`: it knows only the
    plain names in `copy.names`, and anyone else in it is "a former colleague"."""
    if isinstance(copy, ManagerDigest):
        who = _who(names)
    else:

        def who(user_id: str) -> str:
            return copy.names.get(user_id) or FORMER_COLLEAGUE

    period = "week" if copy.weeks == 1 else "period"
    body: list = [_heading(f"Team digest: {copy.span}", size="Large")]
    body += _digest_thanks(copy, period, who)
    body += _digest_changes(copy, period, who)
    body += _digest_nudges(copy)
    if copy.trends and not copy.trends.quiet:
        body += _trends(copy.trends)
    if isinstance(copy, ManagerDigest):
        body += _digest_people(copy, who)
    body.append(_para("🔒 Private thank-yous are counted here, never quoted or named.", subtle=True, separator=True))
    return _card(body)


def digest_headline(copy: Figures) -> str:
    """The message's text beside the card (notifications, the chat list)."""
    return f"Team digest for {copy.span}: {_plural(copy.thanks, 'thank-you')}, {_plural(copy.new, 'new idea')}"


def _digest_thanks(copy: ManagerDigest | ChannelDigest, period: str, who: Names) -> list:
    if not copy.thanks:
        body: list = [_para(_bold("✨ Thanks: "), f"none this {period}.")]
    else:
        givers, receivers = (_plural(n, "person", "people") for n in (copy.givers, copy.receivers))
        private = f" {copy.private} of them private." if copy.private else ""
        summary = f"{_plural(copy.thanks, 'thank-you')} from {givers} to {receivers}.{private}"
        body = [_para(_bold("✨ Thanks: "), summary)]
    if copy.values:
        runs: list = ["Values most recognised: "]
        for i, (value, n) in enumerate(copy.values):
            runs += [" · " if i else "", _bold(value), f" ({n})"]
        body.append(_para(*runs))
    if copy.outside:
        parts = [f"{n} from {OUTSIDE.get(s, ('outside', 'outside'))[n != 1]}" for s, n in copy.outside]
        total = sum(n for _, n in copy.outside)
        body.append(_para(f"{total} passed on from outside the team: " + ", ".join(parts) + "."))
    for h in copy.highlights:
        recipients = _names(h.recipient_ids, who) if h.recipient_ids else "a colleague"
        if h.source:
            line = [_bold(who(h.giver_id)), f" passed on thanks from {OUTSIDE.get(h.source, ('outside',))[0]} to "]
        else:
            line = [_bold(who(h.giver_id)), " thanked "]
        body += [
            _para(*line, _bold(recipients)),
            _para(_run(shorten(h.reason or "", QUOTE_CHARS), italic=True), spacing="None"),
        ]
    return body


def _change_line(change: ChangeLine, who: Names) -> list:
    people = []
    if change.suggester_id:
        people.append(f"suggested by {who(change.suggester_id)}")
    if change.owner_id:
        people.append(f"owned by {who(change.owner_id)}")
    return [_bold(shorten(change.text, 150)), f" ({', '.join(people)})" if people else ""]


def _digest_changes(copy: Figures, period: str, who: Names) -> list:
    counts = [
        f"{copy.new} new",
        f"{copy.backed} backed",
        f"{copy.owned} taken on",
        f"{copy.trying} being tried",
        f"{len(copy.adopted)} adopted",
    ]
    body: list = [_para(_bold(f"💡 Small changes this {period}: "), " · ".join(counts), separator=True)]
    if copy.adopted:
        body.append(_para(_bold("You said, we did:")))
        body += [_para("• ", *_change_line(c, who), spacing="None") for c in copy.adopted[:ADOPTED_SHOWN]]
        if len(copy.adopted) > ADOPTED_SHOWN:
            body.append(_para(f"…and {len(copy.adopted) - ADOPTED_SHOWN} more.", spacing="None"))
    if copy.freed and copy.freed.adopted:
        body += _time_freed_sum(copy.freed)
    if copy.stuck:
        body.append(
            _para(
                _bold(f"Stuck ({copy.stuck_total}): "),
                "no owner two weeks after it was suggested, or being tried with no news for a month.",
            )
        )
        for change in copy.stuck[:STUCK_SHOWN]:
            button = (
                _execute("Remind the owner", "digest_remind", change=change.id)
                if change.owner_id
                else _execute("I'll take this on", "digest_take", style="positive", change=change.id)
            )
            text = [_para(*_change_line(change, who)), _para(_run(change.stuck, italic=True), spacing="None")]
            body.append(_beside(text, button))
        more = copy.stuck_total - len(copy.stuck[:STUCK_SHOWN])
        if more > 0:
            body.append(_para(f'…and {more} more: send me "list" to see every open change.', subtle=True))
    if copy.waiting:
        body.append(
            _para(
                _bold(f"🙋 Waiting on leaders ({copy.waiting_total}): "), "raised because the team can't do them alone."
            )
        )
        for idea in copy.waiting[:WAITING_SHOWN]:
            waited = f"waiting {_plural(idea.days, 'day')}"
            flag = [_bold(f"⚠️ {waited}"), f", more than {LEADERS_WAIT.days}"] if idea.overdue else [waited]
            needs = ", ".join(NEEDS.get(n, n) for n in idea.needs)
            body.append(_para("• ", _bold(shorten(idea.text, 150)), f": needs {needs}; ", *flag, spacing="None"))
        if copy.waiting_total > WAITING_SHOWN:
            body.append(_para(f"…and {copy.waiting_total - WAITING_SHOWN} more waiting on leaders.", subtle=True))
    return body


def _digest_nudges(copy: Figures) -> list:
    if not copy.nudges:
        return [_para(_bold("🌱 Nudges: "), "none went out.", separator=True)]
    body: list = [_para(_bold("🌱 Nudges: "), f"{_plural(copy.nudges, 'nudge')} went out.", separator=True)]
    for arm in copy.arms:
        label = "Everyone" if arm.arm == "everyone" else f"{arm.arm.capitalize()} arm"
        body.append(
            _para(
                f"{label} ({arm.people} people): {_plural(arm.nudges, 'nudge')}, {arm.response_rate:.0%} answered "
                f"within 48 h; asked for a break: {arm.snoozes} not this week, {arm.fewer} fewer, "
                f"{arm.opt_outs} stopped.",
                spacing="None",
            )
        )
    if copy.verdict:
        body.append(_para(_run(f"The experiment so far: {copy.verdict}.", italic=True), spacing="None"))
    if copy.arms_hidden:
        body.append(
            _para(
                f"{_plural(copy.arms_hidden, 'group')} of fewer than {MIN_GROUP} people left out, so no one can be "
                "singled out.",
                subtle=True,
            )
        )
    return body


def _digest_people(copy: ManagerDigest, who: Names) -> list:
    if copy.small_group:
        return [
            _para(
                f"Your team has fewer than {MIN_GROUP} people, so nobody is named: the lists of who was thanked and "
                "who wasn't are left out.",
                subtle=True,
                separator=True,
            )
        ]
    body: list = []
    peers = copy.thanked_by_peers
    if peers:
        body.append(
            _para(_bold("Thanked by colleagues"), " (in public). A word from you would mean a lot:", separator=True)
        )
        for thanked in peers[:PEERS_SHOWN]:
            button = (
                _opens(
                    "Send a personal thank-you", "digest_personal_thanks", person=thanked.user_id, period=copy.period
                )
                if thanked.offer_thanks
                else None
            )
            body.append(_beside([_para(_bold(who(thanked.user_id)), f": {_plural(thanked.times, 'time')}")], button))
        if len(peers) > PEERS_SHOWN:
            body.append(
                _para("Also thanked: " + _names([t.user_id for t in peers[PEERS_SHOWN:]], who) + ".", subtle=True)
            )
    if copy.unthanked:
        body.append(_para(_bold("No thanks in 8 weeks: "), _names(copy.unthanked, who) + ".", separator=not peers))
    return body


# -- Home ---------------------------------------------------------------------------------------------------------


def _when(thanks: ThanksLine, tz: str) -> str:
    """The day it was given, in the reader's timezone (a stored time without a zone is UTC)."""
    at = thanks.created_at if thanks.created_at.tzinfo else thanks.created_at.replace(tzinfo=UTC)
    return f"{at.astimezone(zone(tz)):%-d %b %Y}"


def _received(thanks: ThanksLine, page: HomePage, who: Names) -> list:
    giver = who(thanks.giver_id)
    if thanks.source:  # only the kind of source is ever stored
        giver = f"{SOURCES.get(thanks.source, 'outside the team')}, passed on by {giver}"
    others = [r for r in thanks.recipient_ids if r != page.user_id]
    head: list = [_bold(f"From {giver}")]
    if others:
        head.append(f" (to you and {_names(others, who)})")
    head.append(f" · {_when(thanks, page.nudges.tz)}" + (" · 🔒 private" if thanks.private else ""))
    body = [_para(*head, separator=True), _para(_run(_preview(thanks.reason), italic=True), spacing="None")]
    if thanks.values:
        body.append(_para("Values: " + " · ".join(thanks.values), subtle=True, spacing="None"))
    return body


def _given(thanks: ThanksLine, page: HomePage, who: Names) -> list:
    head = f" · {_when(thanks, page.nudges.tz)}" + (" · 🔒 private" if thanks.private else "")
    return [
        _para(_bold(f"To {_names(thanks.recipient_ids, who)}"), head, separator=True),
        _para(_run(_preview(thanks.reason), italic=True), spacing="None"),
    ]


def _owner(change: ChangeView, who: Names, user_id: str | None = None) -> str:
    if change.owner_id is None:
        return "no owner yet"
    return "you own it" if change.owner_id == user_id else f"owner {who(change.owner_id)}"


def _mine(change: ChangeView, user_id: str, who: Names) -> list:
    about: list = [_bold(STATUS_LABELS[change.status])]
    if change.suggester_id == user_id:
        about.append(" · you suggested it")
    if user_id in change.backers:
        about.append(" · you back it")
    about.append(f" · {_plural(len(change.backers), 'backer')} · {_owner(change, who, user_id)}")
    return [_para(_preview(change.text), separator=True), _para(*about, subtle=True, spacing="None")]


def _top(rank: int, change: ChangeView, who: Names) -> list:
    about = [
        _bold(STATUS_LABELS[change.status]),
        f" · {_plural(len(change.backers), 'backer')} · {_owner(change, who)}",
    ]
    return [_para(f"{rank}. ", _preview(change.text), separator=True), _para(*about, subtle=True, spacing="None")]


def _nudge_settings(page: HomePage) -> list:
    return [
        _para(_bold(f"{label}: "), value, spacing=None if n == 0 else "None")
        for n, (label, value) in enumerate(nudge_settings(page))
    ]


def home_card(page: HomePage, names: Names) -> Card:
    """A person's Home, as the Slack Home tab shows it: the thanks they received and gave, their ideas, the team's
    most-backed open ideas and their nudge settings, with Suggest a change, Thank someone and Change my nudges
    (each opens a form)."""
    who = _who(names)
    me = page.user_id
    body: list = [
        _heading("Small Changes", size="Large"),
        _buttons(_opens("Suggest a change", "home_suggest", style="positive"), _opens("Thank someone", "home_thank")),
        _heading(f"Thanks you've received ({page.received_total})", separator=True),
    ]
    if page.received:
        for thanks in page.received:
            body += _received(thanks, page, who)
        if page.received_total > len(page.received):
            body.append(_para(f"And {page.received_total - len(page.received)} more before these.", subtle=True))
    else:
        body.append(_para("No thanks yet. When a colleague thanks you, it shows here."))

    body.append(_heading("Thanks you've given", separator=True))
    if page.given:
        body.append(_para(f"You've given {_plural(page.given_total, 'thank-you')}. The latest:"))
        for thanks in page.given:
            body += _given(thanks, page, who)
    else:
        body.append(_para('None yet. Press Thank someone above, or send me "thanks @name for …".'))

    body.append(_heading("Your ideas", separator=True))
    if page.ideas:
        for change in page.ideas:
            body += _mine(change, me, who)
        if page.ideas_total > len(page.ideas):
            body.append(_para(f'And {page.ideas_total - len(page.ideas)} more: send me "mine".', subtle=True))
    else:
        body.append(_para("Ideas you suggest, take on or back show here, with their status."))

    if page.adopted:
        body.append(_heading("Your adopted changes: time freed", separator=True))
        for change in page.adopted:
            body += [_para(_bold(_preview(change.text)), separator=True), *_time_freed_line(change)]

    body.append(_heading("The team's most-backed open ideas", separator=True))
    if page.top:
        for rank, change in enumerate(page.top, start=1):
            body += _top(rank, change, who)
    else:
        body.append(_para("No open ideas yet. Press Suggest a change above."))

    body += [
        _heading("Your nudges", separator=True),
        *_nudge_settings(page),
        _buttons(_opens("Change my nudges", "home_my_nudges")),
    ]
    return _card(body)


# -- the thanks form ----------------------------------------------------------------------------------------------


def thanks_form(
    max_chars: int, recipient: tuple[str, str] | None = None, prefill: str = "", link: str | None = None
) -> Card:
    """Thank someone, in a dialog (from a nudge, Home, or a message's "Thank the author"): who (Teams' people
    picker, prefilled with `recipient` = (Entra object id, display name) when there is one), whether it passes on
    thanks from outside the team, what for, and whether it stays private. `link` is the message it thanks for.

    Submitted as data {"action": "thanks_form", "link"?: link} plus the inputs: "who" (object ids, comma
    separated), "source" ("" or a key of SOURCES), "reason", "private" ("true" or "false")."""
    who = ChoiceSetInput(
        id="who",
        label="Who would you like to thank?",
        is_multi_select=True,
        is_required=True,
        error_message="Choose at least one person.",
        placeholder="Type a name",
        choices=[Choice(title=recipient[1], value=recipient[0])] if recipient else [],
        choices_data=QueryData(dataset=PEOPLE_SEARCH),
        value=recipient[0] if recipient else None,
    )
    body: list = [_heading("Thank someone"), who]
    if recipient and link:
        body.append(_para("For their message. You can add more people.", subtle=True, spacing="Small"))
    body += [
        ChoiceSetInput(
            id="source",
            label="Passing on thanks from outside the team?",
            style="compact",
            placeholder="No, it's from me",
            choices=[Choice(title=label[0].upper() + label[1:], value=value) for value, label in SOURCES.items()],
        ),
        _para("Only the kind is kept: never name a family or a young person.", subtle=True, spacing="None"),
        TextInput(
            id="reason",
            label="What for?",
            is_multiline=True,
            is_required=True,
            error_message="Say what you're thanking them for.",
            max_length=max_chars,
            placeholder="Tag a value with #supportive, #creative …",
            value=prefill or None,
        ),
        ToggleInput(
            id="private",
            title="Keep it private: only you and they will see it",
            value="false",
            value_on="true",
            value_off="false",
            wrap=True,
        ),
    ]
    data: dict = {"action": "thanks_form"}
    if link:
        data["link"] = link
    actions: list = [SubmitAction(title="Send thanks", style="positive", data=data)]
    if link and link.startswith("https://"):
        actions.append(OpenUrlAction(title="See the message", url=link))
    return _card(body, actions)


def change_form(max_chars: int) -> Card:
    """Suggest a small change, in a dialog (from a nudge or Home), asking what Slack's form asks: the change, what
    gets in the way, whether the team can do it itself, and anonymity. Submitted as data {"action": "change_form"}
    plus the inputs "change", "obstacle", "gift" ("within", "outside" or "") and "anonymous" ("true"/"false")."""
    body: list = [
        _heading("Suggest a small change"),
        TextInput(
            id="change",
            label="The change",
            is_multiline=True,
            is_required=True,
            error_message="Describe the change in a sentence.",
            max_length=max_chars,
            placeholder="One small thing that would free up time, e.g. a shared template for visit notes.",
        ),
        TextInput(id="obstacle", label="What gets in the way today?", is_multiline=True, max_length=max_chars),
        ChoiceSetInput(
            id="gift",
            label="Can the team do this itself?",
            style="expanded",
            choices=[Choice(title=label, value=value) for value, (label, _) in WITHIN_GIFT.items()],
        ),
        ToggleInput(
            id="anonymous",
            title="Post anonymously (your name is not stored)",
            value="false",
            value_on="true",
            value_off="false",
            wrap=True,
        ),
    ]
    return _card(body, [SubmitAction(title="Post it", style="positive", data={"action": "change_form"})])


def my_nudges_form(person: PersonState, config: WorkspaceConfig) -> Card:
    """A person's own nudge settings, as Slack's form asks them: how often (never more than the team's), a day off
    in a 9-day fortnight, snooze until. Submitted as data {"action": "nudges_form"} plus the inputs "cadence" (one
    of personal_cadences), "day_off" and "snooze" (dates, or empty)."""
    labels = {"team": f"As the team sets ({config.cadence})", "off": "Off: no nudges"}
    body: list = [
        _heading("Your nudges"),
        _para(
            "Now and then I send a one-line prompt, in your working hours and never more than your team has set. "
            "Choose less, or none at all.",
        ),
        ChoiceSetInput(
            id="cadence",
            label="How often",
            style="compact",
            value=chosen_cadence(person),
            choices=[Choice(title=labels.get(c, c.capitalize()), value=c) for c in personal_cadences(config.cadence)],
        ),
        DateInput(
            id="day_off",
            label="A day off in your 9-day fortnight (I'll keep off every other week on that day)",
            value=person.alternate_day_off.isoformat() if person.alternate_day_off else None,
        ),
        DateInput(
            id="snooze",
            label="Snooze until",
            value=person.snoozed_until.isoformat() if person.snoozed_until else None,
        ),
    ]
    return _card(body, [SubmitAction(title="Save", style="positive", data={"action": "nudges_form"})])


def _people_picker(input_id: str, label: str, ids: Sequence[str], names: Names) -> ChoiceSetInput:
    return ChoiceSetInput(
        id=input_id,
        label=label,
        is_multi_select=True,
        placeholder="Type a name",
        choices=[Choice(title=names(i), value=i) for i in ids],
        choices_data=QueryData(dataset=PEOPLE_SEARCH),
        value=",".join(ids) or None,
    )


def _toggle(input_id: str, title: str, on: bool) -> ToggleInput:
    return ToggleInput(
        id=input_id, title=title, value="true" if on else "false", value_on="true", value_off="false", wrap=True
    )


def admin_form(
    config: WorkspaceConfig,
    names: Names,
    here: str | None,
    report: Sequence[str] = (),
    *,
    impact: Impact | None = None,
) -> Card:
    """A workspace's settings for its admins, as Slack's settings form offers them (but the thanks reaction: Teams
    tells bots of no reactions), with who else is an admin and the team's timezone, after how nudges are landing
    (`report`: the experiment's figures and verdict), the changes adopted this quarter with the time they free and
    the twelve weeks' trends (`impact`). `here` is the conversation it was opened in, which can be made the digest
    channel and the leadership channel. Submitted as data {"action": "admin_form", "here": here} plus the inputs
    named as the settings (days, managers, admins and leaders comma separated; values, prompts and holidays one a
    line), the toggles "digest_here" and "leaders_here" and, while an experiment runs, "experiment_action" (one of
    experiment_choices)."""
    experiment = "-".join(config.experiment) or "none"
    choices = experiment_choices(config)
    body: list = [
        _heading("Small Changes settings"),
        _para("How nudges are landing", subtle=True),
        *(_para(line, spacing="None") for line in report or ["No nudges sent yet."]),
        *(_time_freed_sum(impact.freed) + _trends(impact.trends) if impact else []),
        _para("Nudges", subtle=True, separator=True),
        ChoiceSetInput(
            id="cadence",
            label="How often people are nudged",
            style="compact",
            value=config.cadence,
            choices=[Choice(title=c.capitalize(), value=c) for c in CADENCES],
        ),
        ChoiceSetInput(
            id="days",
            label="On these days",
            is_multi_select=True,
            value=",".join(DAYS[d] for d in config.days),
            choices=[Choice(title=DAY_NAMES[n], value=day) for n, day in enumerate(DAYS)],
        ),
        TimeInput(id="start", label="From", value=f"{config.start:%H:%M}"),
        TimeInput(id="end", label="Until", value=f"{config.end:%H:%M}"),
        NumberInput(id="weekly_cap", label="At most this many a week each", min=0, max=7, value=config.weekly_cap),
        TextInput(id="prompts", label="Prompts (one a line)", is_multiline=True, value="\n".join(config.prompts)),
        TextInput(
            id="holidays",
            label="Holidays (dates, one a line)",
            is_multiline=True,
            value="\n".join(d.isoformat() for d in config.holidays) or None,
        ),
        ChoiceSetInput(
            id="experiment",
            label="Try two cadences side by side",
            style="compact",
            value=experiment,
            choices=[Choice(title="No experiment", value="none")]
            + [Choice(title=" or ".join(arms), value="-".join(arms)) for arms in EXPERIMENTS if arms],
        ),
        *(
            [
                ChoiceSetInput(
                    id="experiment_action",
                    label="The running experiment (stopping an arm or ending it is recorded)",
                    style="compact",
                    value="keep",
                    choices=[Choice(title=words, value=value) for value, words in choices],
                )
            ]
            if choices
            else []
        ),
        TextInput(
            id="timezone",
            label="The team's timezone (for people who have not written to me yet)",
            value=config.timezone,
        ),
        _para("Thanks", subtle=True, separator=True),
        NumberInput(
            id="thanks_daily_cap",
            label="Thank-yous a person may give a day",
            min=1,
            max=100,
            value=config.thanks_daily_cap,
        ),
        TextInput(
            id="values",
            label="Values to tag thanks with (one a line)",
            is_multiline=True,
            value="\n".join(config.values),
        ),
        _para("Digests and admins", subtle=True, separator=True),
        ChoiceSetInput(
            id="digest_cadence",
            label="Managers' digest",
            style="compact",
            value=config.digest_cadence,
            choices=[Choice(title=c.capitalize(), value=c) for c in CADENCES],
        ),
        _people_picker("managers", "Managers who get the digest", config.managers, names),
        _people_picker("admins", "Also admins (besides the bot's operator's list)", config.admins, names),
        _people_picker(
            "leaders", "Leaders (get ideas raised with them, and answer with admins)", config.leaders, names
        ),
    ]
    if here:
        body += [
            _toggle("digest_here", "Post the team's digest in this conversation", config.digest_channel == here),
            _toggle(
                "leaders_here",
                "Post ideas raised with leaders in this conversation, for leaders to answer",
                config.leadership_channel == here,
            ),
        ]
    return _card(body, [SubmitAction(title="Save", style="positive", data={"action": "admin_form", "here": here})])


def admin_button(here: str | None) -> Card:
    """The answer to `admin`, for an admin: a button that opens the settings."""
    return _card([_buttons(_opens("Open the settings", "admin", here=here))])


def my_nudges_button() -> Card:
    """The answer to `nudges`: a button that opens the form (a dialog opens from a card, not from a message)."""
    return _card(
        [
            _para("How often I check in with you, your days off, snooze or stop:"),
            _buttons(_opens("Change my nudges", "home_my_nudges")),
        ]
    )


def personal_thanks_form(thanks: PeerThanks, name: str, max_chars: int) -> Card:
    """A leader's personal thank-you, in a dialog opened from a digest's "Send a personal thank-you": the draft the
    core made, to make their own. Submitted as data {"action": "personal_thanks_form", "person": user id} plus the
    input "message"."""
    return _card(
        [
            _heading("Personal thank-you"),
            _para(
                "A thank-you to ",
                _bold(name),
                " from you, by name. It goes to them alone, as a direct message; nothing is posted in a channel.",
            ),
            TextInput(
                id="message",
                label="Your message",
                is_multiline=True,
                is_required=True,
                error_message="Write a few words of thanks.",
                max_length=max_chars,
                value=thanks.draft or None,
            ),
            _para("Started from what colleagues said; make it your own.", subtle=True, spacing="None"),
        ],
        [
            SubmitAction(
                title="Send",
                style="positive",
                data={"action": "personal_thanks_form", "person": thanks.user_id},
            )
        ],
    )


# -- the local console --------------------------------------------------------------------------------------------

DATE_FUNCTION = re.compile(r"\{\{(DATE|TIME)\(([^,)]+)(?:,\s*\w+)?\)\}\}")


def card_as_text(card: Card) -> str:
    """Any card as readable plain text, its inputs and buttons included ([Back this (2)]), for the console."""
    lines: list[str] = []
    _text_of(card.get("body") or [], lines)
    if card.get("actions"):
        lines.append(_button_row(card["actions"]))
    return "\n".join(line for line in lines if line.strip())


def _plain(text: str) -> str:
    def date_of(match: re.Match[str]) -> str:
        try:
            at = datetime.fromisoformat(match.group(2).strip().replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        return f"{at:%-d %b %Y}" if match.group(1) == "DATE" else f"{at:%H:%M}"

    return DATE_FUNCTION.sub(date_of, text).replace("{" + ZWSP + "{", "{{")


def _button_row(actions: Iterable[dict]) -> str:
    return " ".join(f"[{a.get('title') or a.get('verb') or a.get('type')}]" for a in actions)


def _text_of(elements: Iterable[dict], lines: list[str]) -> None:
    for element in elements:
        kind = element.get("type")
        if kind == "TextBlock":
            lines.append(_plain(element.get("text", "")))
        elif kind == "RichTextBlock":
            runs = element.get("inlines") or []
            lines.append(_plain("".join(r if isinstance(r, str) else r.get("text", "") for r in runs)))
        elif kind == "FactSet":
            lines += [f"{_plain(f.get('title', ''))}: {_plain(f.get('value', ''))}" for f in element.get("facts", [])]
        elif kind == "Container":
            _text_of(element.get("items") or [], lines)
        elif kind == "ColumnSet":
            columns = []
            for column in element.get("columns") or []:
                inner: list[str] = []
                _text_of(column.get("items") or [], inner)
                columns.append("\n".join(inner))
            lines.append("  ".join(c for c in columns if c))
        elif kind == "ActionSet":
            lines.append(_button_row(element.get("actions") or []))
        elif kind == "Input.ChoiceSet":
            lines.append(_choice_text(element))
        elif kind == "Input.Text":
            lines.append(f"{element.get('label', element.get('id'))}: [{_plain(element.get('value') or '…')}]")
        elif kind == "Input.Toggle":
            ticked = element.get("value") == element.get("valueOn", "true")
            lines.append(f"[{'x' if ticked else ' '}] {element.get('title', '')}")


def _choice_text(element: dict) -> str:
    label = element.get("label") or element.get("id", "")
    choices = element.get("choices") or []
    chosen = set((element.get("value") or "").split(",")) - {""}
    if "choices.data" in element:  # the people picker: who is chosen so far
        picked = [c.get("title", "") for c in choices if c.get("value") in chosen]
        return f"{label}: {', '.join(picked) or '(nobody yet)'} (search for people)"
    shown = [f"({'•' if c.get('value') in chosen else ' '}) {c.get('title', '')}" for c in choices]
    if not chosen and element.get("placeholder"):
        shown.insert(0, f"(•) {element['placeholder']}")
    return f"{label}: " + "  ".join(shown)
