"""Modals opened from nudges and settings: thank someone, my nudges, and the admin's settings."""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    ConversationSelectElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.core.model import CADENCES, DAY_NAMES, DAYS, SOURCES, Impact, PersonState, WorkspaceConfig
from bot.core.policy import chosen_cadence, personal_cadences
from bot.core.workspace import experiment_choices
from bot.slack.blocks import time_freed_sum, trends_text
from bot.slack.text import escape

EXPERIMENTS = {
    "none": (),
    "fortnightly-monthly": ("fortnightly", "monthly"),
    "weekly-fortnightly": ("weekly", "fortnightly"),
}


def _option(value: str, label: str | None = None) -> Option:
    return Option(value=value, label=label or value.capitalize())


def thanks_modal(
    max_chars: int,
    *,
    recipient_id: str | None = None,
    reason: str | None = None,
    channel_id: str | None = None,
    metadata: str = "",
) -> dict:
    """Thank someone (from /thanks, a nudge or a message's Thank the author): who, whether it passes on thanks
    from outside, what for, and the channel to share it in (not a DM: the list offers channels only).
    `metadata` travels to the submission."""
    return View(
        type="modal",
        callback_id="thanks_submit",
        private_metadata=metadata,
        title="Thank someone",
        submit="Send thanks",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="who",
                label="Who would you like to thank?",
                element=UserMultiSelectElement(
                    action_id="users", max_selected_items=10, initial_users=[recipient_id] if recipient_id else None
                ),
            ),
            InputBlock(
                block_id="source",
                label="Passing on thanks from outside the team?",
                optional=True,
                hint="Only the kind is kept: never name a family or a young person.",
                element=StaticSelectElement(
                    action_id="choice",
                    placeholder="No, it's from me",
                    options=[_option(value, label[0].upper() + label[1:]) for value, label in SOURCES.items()],
                ),
            ),
            InputBlock(
                block_id="reason",
                label="What for?",
                hint="Tag a value with #supportive, #creative …",
                element=PlainTextInputElement(
                    action_id="text", multiline=True, max_length=max_chars, initial_value=reason or None
                ),
            ),
            InputBlock(
                block_id="channel",
                label="Share it in a channel",
                optional=True,
                hint="Leave empty to thank them privately: only you and they will see it.",
                element=ConversationSelectElement(
                    action_id="choice",
                    filter={"include": ["public", "private"]},
                    initial_conversation=channel_id if channel_id and not channel_id.startswith("D") else None,
                ),
            ),
        ],
    ).to_dict()


def my_nudges_modal(person: PersonState, config: WorkspaceConfig) -> dict:
    """A person's own nudge settings: how often (never more than the team's), days off, snooze, stop."""
    labels = {"team": f"As the team sets ({config.cadence})", "off": "Off: no nudges"}
    choices = [_option(c, labels.get(c)) for c in personal_cadences(config.cadence)]
    current = chosen_cadence(person)
    initial = next((o for o in choices if o.value == current), choices[0])
    return View(
        type="modal",
        callback_id="my_nudges_submit",
        title="Your nudges",
        submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text="Now and then I send a one-line prompt, in your working hours and never more than your team "
                    "has set. Choose less, or none at all."
                )
            ),
            InputBlock(
                block_id="cadence",
                label="How often",
                element=StaticSelectElement(action_id="choice", options=choices, initial_option=initial),
            ),
            InputBlock(
                block_id="day_off",
                label="A day off in your 9-day fortnight",
                optional=True,
                hint="Pick one of your days off; I'll keep off every other week on that day.",
                element=DatePickerElement(
                    action_id="date",
                    initial_date=person.alternate_day_off.isoformat() if person.alternate_day_off else None,
                ),
            ),
            InputBlock(
                block_id="snooze",
                label="Snooze until",
                optional=True,
                element=DatePickerElement(
                    action_id="date",
                    initial_date=person.snoozed_until.isoformat() if person.snoozed_until else None,
                ),
            ),
        ],
    ).to_dict()


def admin_modal(config: WorkspaceConfig, summary: Sequence[str], report: Sequence[str], impact: Impact) -> dict:
    """Workspace settings for admins, with what a tick would do right now, how nudges are landing (the experiment's
    figures and verdict), and, while an experiment runs, what to do with it: stop an arm, or end it adopting one; and
    the changes adopted this quarter with the time they free, and the twelve weeks' trends."""
    experiment = next((k for k, v in EXPERIMENTS.items() if v == tuple(config.experiment)), "none")
    day_options = [_option(DAYS[i], DAY_NAMES[i]) for i in range(7)]
    return View(
        type="modal",
        callback_id="admin_submit",
        title="Small Changes settings",
        submit="Save",
        close="Cancel",
        blocks=[
            SectionBlock(text=MarkdownTextObject(text="*If the clock ticked now:*\n" + escape("\n".join(summary)))),
            ContextBlock(elements=[MarkdownTextObject(text=escape("\n".join(report)) or "No nudges sent yet.")]),
            SectionBlock(text=MarkdownTextObject(text=time_freed_sum(impact.freed))),
            SectionBlock(text=MarkdownTextObject(text=trends_text(impact.trends))),
            InputBlock(
                block_id="cadence",
                label="Nudge cadence",
                element=StaticSelectElement(
                    action_id="choice",
                    options=[_option(c) for c in CADENCES],
                    initial_option=_option(config.cadence),
                ),
            ),
            InputBlock(
                block_id="days",
                label="Working days",
                element=CheckboxesElement(
                    action_id="choice",
                    options=day_options,
                    initial_options=[day_options[d] for d in config.days] or None,
                ),
            ),
            InputBlock(
                block_id="start",
                label="From (each person's local time)",
                element=TimePickerElement(action_id="time", initial_time=config.start.strftime("%H:%M")),
            ),
            InputBlock(
                block_id="end",
                label="Until",
                element=TimePickerElement(action_id="time", initial_time=config.end.strftime("%H:%M")),
            ),
            InputBlock(
                block_id="weekly_cap",
                label="Most messages per person per 7 days",
                element=NumberInputElement(
                    action_id="number",
                    is_decimal_allowed=False,
                    min_value="0",
                    max_value="7",
                    initial_value=str(config.weekly_cap),
                ),
            ),
            InputBlock(
                block_id="holidays",
                label="Holidays",
                optional=True,
                hint="Dates, one per line or comma-separated: 2026-12-25, 2026-12-28",
                element=PlainTextInputElement(
                    action_id="text",
                    multiline=True,
                    initial_value=", ".join(d.isoformat() for d in config.holidays) or None,
                ),
            ),
            InputBlock(
                block_id="prompts",
                label="Prompts (one per line)",
                element=PlainTextInputElement(
                    action_id="text", multiline=True, initial_value="\n".join(config.prompts)
                ),
            ),
            InputBlock(
                block_id="thanks_daily_cap",
                label="Thank-yous per person per day",
                element=NumberInputElement(
                    action_id="number",
                    is_decimal_allowed=False,
                    min_value="1",
                    max_value="100",
                    initial_value=str(config.thanks_daily_cap),
                ),
            ),
            InputBlock(
                block_id="values",
                label="Values (one per line)",
                element=PlainTextInputElement(action_id="text", multiline=True, initial_value="\n".join(config.values)),
            ),
            InputBlock(
                block_id="thanks_reaction",
                label="Thanks reaction",
                hint="The emoji's name, without colons: reacting with it to a message thanks its author.",
                element=PlainTextInputElement(action_id="text", max_length=100, initial_value=config.thanks_reaction),
            ),
            InputBlock(
                block_id="digest_cadence",
                label="Managers' digest",
                element=StaticSelectElement(
                    action_id="choice",
                    options=[_option(c) for c in CADENCES],
                    initial_option=_option(config.digest_cadence),
                ),
            ),
            InputBlock(
                block_id="digest_channel",
                label="Digest channel",
                optional=True,
                element=ConversationSelectElement(
                    action_id="choice", initial_conversation=config.digest_channel or None
                ),
            ),
            InputBlock(
                block_id="managers",
                label="Managers (receive digests)",
                optional=True,
                element=UserMultiSelectElement(action_id="users", initial_users=list(config.managers) or None),
            ),
            InputBlock(
                block_id="leadership_channel",
                label="Leadership channel",
                optional=True,
                hint="Ideas the team can't do alone, raised with leaders, are posted here for them to answer.",
                element=ConversationSelectElement(
                    action_id="choice", initial_conversation=config.leadership_channel or None
                ),
            ),
            InputBlock(
                block_id="leaders",
                label="Leaders (get raised ideas, and answer them with admins)",
                optional=True,
                element=UserMultiSelectElement(action_id="users", initial_users=list(config.leaders) or None),
            ),
            InputBlock(
                block_id="experiment",
                label="Cadence experiment",
                element=StaticSelectElement(
                    action_id="choice",
                    options=[
                        _option("none", "None"),
                        _option("fortnightly-monthly", "Fortnightly vs monthly"),
                        _option("weekly-fortnightly", "Weekly vs fortnightly"),
                    ],
                    initial_option=_option(
                        experiment,
                        {
                            "none": "None",
                            "fortnightly-monthly": "Fortnightly vs monthly",
                            "weekly-fortnightly": "Weekly vs fortnightly",
                        }[experiment],
                    ),
                ),
            ),
            *_experiment_action(config),
            InputBlock(
                block_id="guests",
                label="Guests",
                optional=True,
                element=CheckboxesElement(
                    action_id="choice",
                    options=[_option("yes", "Nudge guest accounts too")],
                    initial_options=[_option("yes", "Nudge guest accounts too")] if config.nudge_guests else None,
                ),
            ),
        ],
    ).to_dict()


def _experiment_action(config: WorkspaceConfig) -> list[InputBlock]:
    choices = experiment_choices(config)
    if not choices:
        return []
    options = [_option(value, words) for value, words in choices]
    return [
        InputBlock(
            block_id="experiment_action",
            label="The running experiment",
            optional=True,
            hint="Stopping an arm or ending the experiment is recorded in the settings' history.",
            element=StaticSelectElement(action_id="choice", options=options, initial_option=options[0]),
        )
    ]
