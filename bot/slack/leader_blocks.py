"""Ideas raised with leaders, in Block Kit: the form that raises one, the message leaders answer on (in the leadership
channel and each named leader's DM), the form of each answer, and the DM that tells people the answer."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.core.digests import shorten
from bot.core.model import LEADER_ANSWERS, MORE_INFO, NEEDS, NOT_NOW, TAKE_UP, ChangeView
from bot.slack.blocks import Blocks, sections, with_leaders
from bot.slack.text import escape, mention, quote

SHOWN_CHARS = 500  # an idea or a question quoted in a form: escaped, it stays far inside a section's 3,000


def _need(key: str) -> Option:
    return Option(value=key, label=NEEDS[key][0].upper() + NEEDS[key][1:])


def _idea(change: ChangeView, limit: int | None = None) -> str:
    text = shorten(change.text, limit) if limit else change.text
    return f":bulb: *Small change:* {escape(text)}"


def raise_modal(change: ChangeView, max_chars: int, metadata: str) -> dict:
    """Raise an idea with leaders: what it needs, and a note. After leaders asked for more information, their question
    is shown and the note answers it. `metadata` (signed) names the idea and the card the button was on."""
    asked = change.raised.said if change.raised and change.raised.answer == MORE_INFO else None
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=_idea(change, SHOWN_CHARS)))]
    if asked:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="*Leaders asked:*\n" + quote(shorten(asked, 500)))))
    before = [_need(n) for n in change.raised.needs if n in NEEDS] if change.raised else []
    blocks += [
        InputBlock(
            block_id="needs",
            label="What does it need?",
            element=CheckboxesElement(
                action_id="choice", options=[_need(key) for key in NEEDS], initial_options=before or None
            ),
        ),
        InputBlock(
            block_id="note",
            label="Your answer to their question" if asked else "A note for leaders",
            optional=not asked,
            hint="Anything that would help them decide: who else is involved, what it would save.",
            element=PlainTextInputElement(action_id="text", multiline=True, max_length=max_chars),
        ),
    ]
    return View(
        type="modal",
        callback_id="leaders_raise_submit",
        private_metadata=metadata,
        title="Raise with leaders",
        submit="Raise it",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def leaders_message(change: ChangeView) -> tuple[str, Blocks]:
    """What leaders get (in the leadership channel and each named leader's DM): the idea, what it needs and the note,
    with a button for each answer while it waits; once answered, the answer instead of the buttons."""
    raised = change.raised
    assert raised is not None, "only a raised idea goes to leaders"
    suggested = mention(change.suggester_id) if change.suggester_id else "anonymous"
    owner = mention(change.owner_id) if change.owner_id else "nobody yet"
    backers = len(change.backers)
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=f"{mention(raised.by)} raised an idea the team can't do alone:")),
        *sections(_idea(change)),
    ]
    if change.obstacle:
        blocks += sections("*What gets in the way today:*\n" + quote(change.obstacle))
    about = f"Suggested by {suggested} · Owner: {owner} · {backers} backer{'' if backers == 1 else 's'}"
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=about)]))
    blocks += sections(with_leaders(raised, note=True))
    if raised.answer is None:
        value = str(raised.id)
        blocks.append(
            ActionsBlock(
                block_id=f"leaders_{raised.id}",
                elements=[
                    ButtonElement(
                        text=LEADER_ANSWERS[answer],
                        action_id=f"leaders_{answer}",
                        value=value,
                        style="primary" if answer == TAKE_UP else None,
                    )
                    for answer in LEADER_ANSWERS
                ],
            )
        )
    text = f"Raised with leaders: {shorten(change.text, 120)}"
    return escape(text), [b.to_dict() for b in blocks]


def answer_modal(answer: str, change: ChangeView, answerer: str, max_chars: int, metadata: str) -> dict:
    """A leader's answer: who takes it up (the answerer unless they choose someone else) and a word if they like; or
    the question for the owner, or why not now, both required. `metadata` (signed) names the raise, the answer and
    the message the button was on."""
    raised = change.raised
    needs = ", ".join(NEEDS.get(n, n) for n in raised.needs) if raised else ""
    blocks: list = [SectionBlock(text=MarkdownTextObject(text=f"{_idea(change, SHOWN_CHARS)}\nNeeds: {needs}"))]
    words = PlainTextInputElement(action_id="text", multiline=True, max_length=max_chars)
    if answer == TAKE_UP:
        blocks += [
            InputBlock(
                block_id="taker",
                label="Who will take it up?",
                element=UserSelectElement(action_id="user", initial_user=answerer),
            ),
            InputBlock(block_id="said", label="Anything to add?", optional=True, element=words),
        ]
    elif answer == MORE_INFO:
        blocks.append(InputBlock(block_id="said", label="Your question for the owner", element=words))
    else:
        blocks.append(
            InputBlock(
                block_id="said",
                label="Why not now?",
                hint="Everyone behind the idea reads this: closing the loop is the point.",
                element=words,
            )
        )
    return View(
        type="modal",
        callback_id="leaders_answer_submit",
        private_metadata=metadata,
        title=LEADER_ANSWERS[answer],
        submit="Send answer",
        close="Cancel",
        blocks=blocks,
    ).to_dict()


def answered_dm(change: ChangeView) -> tuple[str, Blocks]:
    """The DM that tells the owner, the suggester, the backers (and whoever raised it or takes it up) how leaders
    answered."""
    raised = change.raised
    assert raised is not None and raised.answer is not None, "only an answer is told"
    headline = {
        TAKE_UP: "Leaders will take up a small change you're part of.",
        MORE_INFO: "Leaders need more information about a small change you're part of.",
        NOT_NOW: "Leaders said not now to a small change you're part of.",
    }[raised.answer]
    blocks: list = [
        SectionBlock(text=MarkdownTextObject(text=f":raising_hand: {headline}")),
        *sections(_idea(change, SHOWN_CHARS)),
        *sections(with_leaders(raised)),
    ]
    if raised.answer == MORE_INFO:
        hint = "Its owner or the person who suggested it answers by pressing *Raise again* on its card."
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=hint)]))
    return headline, [b.to_dict() for b in blocks]
