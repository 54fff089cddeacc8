"""Digests in Block Kit (a manager's DM, and the channel's copy), the reminder to a change's owner, and a leader's
personal thank-you: its form and the DM it becomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.digests import shorten
from bot.core.model import (
    ALREADY_REMINDED,
    LEADERS_WAIT,
    MIN_GROUP,
    NEEDS,
    OUTSIDE,
    REMINDED,
    STATUS_LABELS,
    ChangeLine,
    ChangeView,
    ChannelDigest,
    Figures,
    ManagerDigest,
    PeerThanks,
    Reminder,
)
from bot.slack.blocks import time_freed_sum, trends_text
from bot.slack.text import escape, mention, quote

Blocks = list[dict]
# At most 40 blocks in all, inside Slack's 50 per message:
STUCK_SHOWN = 5
WAITING_SHOWN = 5  # ideas waiting on leaders, all in one section
ADOPTED_SHOWN = 5
PEERS_SHOWN = 10  # people with a "Send a personal thank-you" button
NAMES_SHOWN = 40  # names in one line before "and N more"
QUOTE_CHARS = 280  # user text in a list is cut here, so every section stays far inside 3,000 characters


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _names(ids: Sequence[str], who: Callable[[str], str]) -> str:
    shown = [who(i) for i in ids[:NAMES_SHOWN]]
    if len(ids) > NAMES_SHOWN:
        shown.append(f"{len(ids) - NAMES_SHOWN} more")
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _section(mrkdwn: str, accessory: ButtonElement | None = None, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn), accessory=accessory, block_id=block_id)


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn)])


def digest_message(digest: ManagerDigest | ChannelDigest) -> tuple[str, Blocks]:
    """A copy of the digest, as the core cut it for its reader. A manager's names people as mentions (which ping
    nobody outside the DM) and has its lists of people; the channel's calls the few people it mentions by their
    plain names, so nobody is pinged."""
    if isinstance(digest, ManagerDigest):
        who = mention
    else:

        def who(user_id: str) -> str:
            return escape(digest.names.get(user_id) or "a former colleague")

    period = "week" if digest.weeks == 1 else "period"
    blocks: list = [HeaderBlock(text=f"Team digest: {digest.span}")]
    blocks += _thanks(digest, period, who)
    blocks.append(DividerBlock())
    blocks += _changes(digest, period, who)
    blocks.append(DividerBlock())
    blocks += _attention(digest)
    if digest.trends and not digest.trends.quiet:
        blocks += [DividerBlock(), _section(trends_text(digest.trends))]
    if isinstance(digest, ManagerDigest):
        blocks.append(DividerBlock())
        blocks += _people(digest, who)
    blocks.append(_context(":lock: Private thank-yous are counted here, never quoted or named."))
    headline = (
        f"Team digest for {digest.span}: {_plural(digest.thanks, 'thank-you')}, {_plural(digest.new, 'new idea')}"
    )
    return headline, [b.to_dict() for b in blocks]


def _thanks(digest: ManagerDigest | ChannelDigest, period: str, who: Callable[[str], str]) -> list:
    if not digest.thanks:
        lines = [f"*:sparkles: Thanks:* none this {period}."]
    else:
        givers, receivers = (_plural(n, "person", "people") for n in (digest.givers, digest.receivers))
        private = f" {digest.private} of them private." if digest.private else ""
        lines = [f"*:sparkles: Thanks:* {_plural(digest.thanks, 'thank-you')} from {givers} to {receivers}.{private}"]
    if digest.values:
        lines.append("Values most recognised: " + " · ".join(f"*{escape(v)}* ({n})" for v, n in digest.values))
    if digest.outside:
        parts = [f"{n} from {OUTSIDE.get(s, ('outside', 'outside'))[n != 1]}" for s, n in digest.outside]
        total = sum(n for _, n in digest.outside)
        lines.append(f"{total} passed on from outside the team: " + ", ".join(parts) + ".")
    blocks: list = [_section("\n".join(lines))]
    for h in digest.highlights:
        recipients = _names(h.recipient_ids, who) if h.recipient_ids else "a colleague"
        if h.source:
            line = f"{who(h.giver_id)} passed on thanks from {OUTSIDE.get(h.source, ('outside',))[0]} to {recipients}"
        else:
            line = f"{who(h.giver_id)} thanked {recipients}"
        blocks.append(_section(f"{line}\n{quote(shorten(h.reason or '', QUOTE_CHARS))}"))
    return blocks


def _change_line(change: ChangeLine, who: Callable[[str], str]) -> str:
    people = []
    if change.suggester_id:
        people.append(f"suggested by {who(change.suggester_id)}")
    if change.owner_id:
        people.append(f"owned by {who(change.owner_id)}")
    return f"*{escape(shorten(change.text, 150))}*" + (f" ({', '.join(people)})" if people else "")


def _changes(digest: Figures, period: str, who: Callable[[str], str]) -> list:
    counts = [
        f"{digest.new} new",
        f"{digest.backed} backed",
        f"{digest.owned} taken on",
        f"{digest.trying} being tried",
        f"{len(digest.adopted)} adopted",
    ]
    blocks: list = [_section(f"*:bulb: Small changes this {period}:* " + " · ".join(counts))]
    if digest.adopted:
        lines = [f"• {_change_line(c, who)}" for c in digest.adopted[:ADOPTED_SHOWN]]
        if len(digest.adopted) > ADOPTED_SHOWN:
            lines.append(f"…and {len(digest.adopted) - ADOPTED_SHOWN} more.")
        blocks.append(_section("*You said, we did:*\n" + "\n".join(lines)))
    if digest.freed and digest.freed.adopted:
        blocks.append(_section(time_freed_sum(digest.freed)))
    if digest.stuck:
        blocks.append(
            _section(
                f"*Stuck ({digest.stuck_total}):* no owner two weeks after it was suggested, or being tried with no "
                "news for a month."
            )
        )
        for change in digest.stuck[:STUCK_SHOWN]:
            value = str(change.id)
            button = (
                ButtonElement(text="Remind the owner", action_id="digest_remind", value=value)
                if change.owner_id
                else ButtonElement(text="I'll take this on", action_id="digest_take", value=value, style="primary")
            )
            line = f"{_change_line(change, who)}\n_{change.stuck}_"
            blocks.append(_section(line, accessory=button, block_id=f"digest_stuck_{change.id}"))
        if digest.stuck_total > STUCK_SHOWN:
            blocks.append(_context(f"…and {digest.stuck_total - STUCK_SHOWN} more: see `/smallchange list`."))
    if digest.waiting:
        blocks += _waiting(digest)
    return blocks


def _waiting(digest: Figures) -> list:
    """Ideas raised with leaders and not answered yet, the longest waiting first; over LEADERS_WAIT is flagged."""
    lines = [
        f"*:raising_hand: Waiting on leaders ({digest.waiting_total}):* raised because the team can't do them alone."
    ]
    for idea in digest.waiting[:WAITING_SHOWN]:
        needs = ", ".join(NEEDS.get(n, n) for n in idea.needs)
        waited = f"waiting {_plural(idea.days, 'day')}"
        if idea.overdue:
            waited = f":warning: *{waited}*, more than {LEADERS_WAIT.days}"
        lines.append(f"• *{escape(shorten(idea.text, 150))}*: needs {needs}; {waited}")
    blocks: list = [_section("\n".join(lines))]
    if digest.waiting_total > WAITING_SHOWN:
        blocks.append(_context(f"…and {digest.waiting_total - WAITING_SHOWN} more waiting on leaders."))
    return blocks


def _attention(digest: Figures) -> list:
    if not digest.nudges:
        return [_section("*:seedling: Nudges:* none went out.")]
    lines = [f"*:seedling: Nudges:* {_plural(digest.nudges, 'nudge')} went out."]
    for arm in digest.arms:
        label = "Everyone" if arm.arm == "everyone" else f"{arm.arm.capitalize()} arm"
        lines.append(
            f"{label} ({arm.people} people): {_plural(arm.nudges, 'nudge')}, {arm.response_rate:.0%} answered "
            f"within 48 h; asked for a break: {arm.snoozes} not this week, {arm.fewer} fewer, {arm.opt_outs} stopped."
        )
    if digest.verdict:
        lines.append(f"_The experiment so far: {digest.verdict}._")
    blocks: list = [_section("\n".join(lines))]
    if digest.arms_hidden:
        blocks.append(
            _context(
                f"{_plural(digest.arms_hidden, 'group')} of fewer than {MIN_GROUP} people left out, so no one can "
                "be singled out."
            )
        )
    return blocks


def _people(digest: ManagerDigest, who: Callable[[str], str]) -> list:
    if digest.small_group:
        return [
            _context(
                f"Your team has fewer than {MIN_GROUP} people, so nobody is named: the lists of who was thanked "
                "and who wasn't are left out."
            )
        ]
    blocks: list = []
    peers = digest.thanked_by_peers
    if peers:
        blocks.append(_section("*Thanked by colleagues* (in public). A word from you would mean a lot:"))
        for thanked in peers[:PEERS_SHOWN]:
            button = (
                ButtonElement(
                    text="Send a personal thank-you",
                    action_id="digest_personal_thanks",
                    value=f"{thanked.user_id} {digest.period}",
                )
                if thanked.offer_thanks
                else None
            )
            line = f"{who(thanked.user_id)}: {_plural(thanked.times, 'time')}"
            blocks.append(_section(line, accessory=button, block_id=f"digest_thanked_{thanked.user_id}"))
        if len(peers) > PEERS_SHOWN:
            blocks.append(_context("Also thanked: " + _names([t.user_id for t in peers[PEERS_SHOWN:]], who) + "."))
    if digest.unthanked:
        blocks.append(_section("*No thanks in 8 weeks:* " + _names(digest.unthanked, who) + "."))
    return blocks


# -- the buttons' answers ----------------------------------------------------------------------------------------


def reminder(change: ChangeView, asker_id: str) -> str:
    """The DM to a stuck change's owner (text only: the idea may need more than a section holds)."""
    return (
        f":wave: <@{asker_id}> asked me to check in on a small change you own, "
        f"now *{STATUS_LABELS[change.status]}*:\n{quote(change.text)}\n"
        "If it has moved on, update the status on its card. If you can't take it further, hand it back there, "
        "so someone else can."
    )


def reminder_outcome(asked: Reminder) -> str:
    """What the person who asked for a reminder is told."""
    owner = f"<@{asked.owner_id}>"
    if asked.outcome == REMINDED:
        return f"I've asked {owner} how it's going, and said it was you who asked."
    if asked.outcome == ALREADY_REMINDED:
        return f"{owner} has already had a reminder about this change this week; one a week is enough."
    return f":warning: I couldn't reach {owner} just now ({escape(asked.why)}). Please try again later."


def personal_thanks_modal(thanks: PeerThanks, max_chars: int, metadata: str) -> dict:
    """`metadata` (signed, see bot.slack.metadata) names the person, for the submission."""
    return View(
        type="modal",
        callback_id="personal_thanks_submit",
        private_metadata=metadata,
        title="Personal thank-you",
        submit="Send",
        close="Cancel",
        blocks=[
            _section(
                f"A thank-you to <@{thanks.user_id}> from you, by name. It goes to them alone, as a DM; "
                "nothing is posted in a channel."
            ),
            InputBlock(
                block_id="message",
                label="Your message",
                hint="Started from what colleagues said; make it your own.",
                element=PlainTextInputElement(
                    action_id="text",
                    multiline=True,
                    max_length=max_chars,
                    initial_value=thanks.draft,
                ),
            ),
        ],
    ).to_dict()


def personal_thanks_dm(leader_id: str, message: str) -> str:
    """The DM the person receives (text only, so a long message is never cut)."""
    return f":star2: A personal thank-you from <@{leader_id}>:\n{quote(message)}"
