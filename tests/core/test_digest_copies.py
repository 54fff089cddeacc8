"""Each reader's copy of a digest, a leader's personal thank-you draft and a reminder's outcome, as the core makes them
with no chat platform: an in-memory directory and notifier, and a real database where one is needed. Whatever
renders these can only show what they hold."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, date, datetime

import pytest

from bot.core.admins import Admins
from bot.core.digests import ChannelReaders, DigestService, channel_copy, manager_copy
from bot.core.errors import PlatformUnavailable, Refused
from bot.core.model import (
    ALREADY_REMINDED,
    REMINDED,
    UNREACHABLE,
    Audience,
    ChangeLine,
    ChangeView,
    Digest,
    Highlight,
    Person,
    Reminder,
    Team,
    Thanked,
    ThankedLine,
    ThanksRequest,
    WorkspaceConfig,
)
from bot.core.nudges import NudgeService
from bot.core.outbox import Outbox
from bot.core.ports import SendFailed
from bot.core.thanks import ThanksService
from bot.core.workspace import WorkspaceSettingsService
from bot.settings import Defaults
from bot.store.models import Change

TEAM = Team("slack", "T1")
ALICE, BOB, CAROL, DANI, FRAN, GEO = "U0ALICE", "U0BOB", "U0CAROL", "U0DANI", "U0FRAN", "U0GEO"
NAMES = {ALICE: "Alice", BOB: "Bob", CAROL: "Carol", DANI: "Dani", FRAN: "Fran", GEO: "Geo"}
DIGEST_CHANNEL, GENERAL, CASEWORK, UNKNOWN = "C0DIGEST", "C0GENERAL", "C0CASEWORK", "C0UNKNOWN"
LAST_WEEK = datetime(2026, 11, 18, 11, 0, tzinfo=UTC)  # in the week digest "1w151" covers
TUESDAY = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


class Directory:
    """The team, and who may read each channel: #general is public, #casework has Alice and Bob, and the platform
    will not say who is in C0UNKNOWN."""

    def __init__(self):
        self.people = [Person(user_id, name, tz="Europe/London") for user_id, name in NAMES.items()]
        self.audiences = {
            DIGEST_CHANNEL: Audience(public=True),
            GENERAL: Audience(public=True),
            CASEWORK: Audience(members=frozenset({ALICE, BOB})),
        }

    def person(self, team: Team, user_id: str) -> Person | None:
        return next((p for p in self.people if p.id == user_id), None)

    def everyone(self, team: Team) -> list[Person]:
        return self.people

    def audience(self, team: Team, channel_id: str) -> Audience:
        if channel_id not in self.audiences:
            raise PlatformUnavailable("channel_not_found")
        return self.audiences[channel_id]


class Notifier:
    """Records the reminders it is asked to send; `down` makes it fail as a platform outage would."""

    def __init__(self):
        self.reminded: list[tuple[str, str]] = []
        self.down = False

    def remind(self, team: Team, owner_id: str, change: ChangeView, asker_id: str) -> None:
        if self.down:
            raise SendFailed("internal_error", permanent=False)
        self.reminded.append((owner_id, asker_id))


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def highlight(giver: str, recipient: str, reason: str, channel_id: str | None) -> Highlight:
    return Highlight(giver, (recipient,), reason, (), None, channel_id)


def a_digest() -> Digest:
    """Six people; four public thank-yous said in different places, best first; Geo appears only in the lists of
    people (thanked by colleagues, and not thanked lately)."""
    return Digest(
        period="1w151",
        start=date(2026, 11, 16),
        end=date(2026, 11, 23),
        people=6,
        names=NAMES,
        thanks=4,
        candidates=(
            highlight(BOB, FRAN, "the Hendersons' review", CASEWORK),
            highlight(CAROL, BOB, "the duty cover", DIGEST_CHANNEL),
            highlight(FRAN, CAROL, "sorting the rota", GENERAL),
            highlight(DANI, ALICE, "the late call", UNKNOWN),
        ),
        thanked_by_peers=(Thanked(GEO, 3), Thanked(ALICE, 1), Thanked(FRAN, 1)),
        unthanked=(GEO, DANI),
        stuck=(ChangeLine(7, "one duty phone", "trying", DANI, None, "being tried, no news for 40 days"),),
        stuck_total=1,
    )


def readers() -> ChannelReaders:
    return ChannelReaders(Directory(), TEAM)


def test_the_channels_copy_quotes_only_what_was_said_in_it_and_lists_and_names_nobody_else():
    digest = a_digest()

    copy = channel_copy(digest, DIGEST_CHANNEL)

    assert [h.reason for h in copy.highlights] == ["the duty cover"]
    assert copy.names == {CAROL: "Carol", BOB: "Bob", DANI: "Dani"}  # the thank-you's two, and the stuck idea's owner
    shown = repr(copy)
    assert "Geo" not in shown and GEO not in shown  # only in the lists of people: nowhere in the channel's copy
    assert "Hendersons" not in shown and "sorting the rota" not in shown and "the late call" not in shown
    assert not {"thanked_by_peers", "unthanked", "candidates"} & {f.name for f in fields(copy)}
    assert (copy.thanks, copy.stuck_total, copy.span) == (4, 1, "16 Nov–22 Nov 2026")  # the figures are everyone's


def test_a_managers_copy_quotes_only_what_that_manager_may_read_now():
    digest = a_digest()
    run = readers()  # one digest run: the managers share the directory's answers

    alice, dani = manager_copy(digest, ALICE, run), manager_copy(digest, DANI, run)

    # Alice is in #casework; Dani is not. Nobody is quoted what was said where the platform would not say who reads.
    assert [h.reason for h in alice.highlights] == ["the Hendersons' review", "the duty cover", "sorting the rota"]
    assert [h.reason for h in dani.highlights] == ["the duty cover", "sorting the rota"]
    assert "candidates" not in {f.name for f in fields(alice)}


def test_a_manager_reads_their_own_line_but_is_offered_no_personal_thank_you_to_themselves():
    copy = manager_copy(a_digest(), ALICE, readers())

    assert copy.thanked_by_peers == (
        ThankedLine(GEO, 3, True),
        ThankedLine(ALICE, 1, False),
        ThankedLine(FRAN, 1, True),
    )
    assert copy.unthanked == (GEO, DANI)


# -- with a database: the personal thank-you's draft and the reminder ---------------------------------------------


class Core:
    def __init__(self, store):
        self.clock = Clock(LAST_WEEK)
        self.directory, self.notifier, self.store = Directory(), Notifier(), store
        outbox = Outbox(store, now=self.clock)
        workspaces = WorkspaceSettingsService(store, WorkspaceConfig(), outbox, Admins(self.directory), now=self.clock)
        nudges = NudgeService(store, self.directory, self.notifier, workspaces, outbox, now=self.clock)
        self.thanks = ThanksService(store, self.directory, Defaults(), workspaces, outbox, now=self.clock)
        self.digests = DigestService(store, self.directory, self.notifier, workspaces, nudges, now=self.clock)
        nudges.sync_people(TEAM)

    def thank(self, giver: str, recipient: str, reason: str, channel_id: str) -> None:
        self.thanks.give(TEAM, ThanksRequest(giver, (recipient,), reason, channel_id=channel_id))

    def stuck_change(self, owner_id: str) -> int:
        with self.store.session() as session:
            change = Change(
                workspace_id=self.store.workspace_id(TEAM.platform, TEAM.external_id),
                text="one duty phone for the week",
                suggester_id=BOB,
                owner_id=owner_id,
                status="trying",
                created_at=LAST_WEEK,
                updated_at=LAST_WEEK,
            )
            session.add(change)
            session.flush()
            return change.id


@pytest.fixture
def core(store) -> Core:
    return Core(store)


def test_a_personal_thank_you_is_drafted_only_from_what_the_leader_could_read(core):
    core.thank(BOB, FRAN, "covering my duty day", GENERAL)
    core.thank(GEO, FRAN, "the review with the Hendersons", CASEWORK)  # Alice is in #casework, Dani is not

    for_dani = core.digests.peer_thanks(TEAM, FRAN, "1w151", DANI, max_chars=500)
    for_alice = core.digests.peer_thanks(TEAM, FRAN, "1w151", ALICE, max_chars=500)

    assert for_dani.user_id == FRAN
    assert for_dani.draft == (
        "Thank you, Fran. Your colleagues told me what you did this week:\n"
        "• covering my duty day\n\n"
        "I wanted to thank you myself too."
    )
    assert "• the review with the Hendersons\n" in for_alice.draft


def test_a_leader_cannot_start_a_personal_thank_you_to_themselves_or_from_an_unknown_digest(core):
    core.thank(BOB, ALICE, "covering my duty day", GENERAL)
    with pytest.raises(Refused, match="yourself"):
        core.digests.peer_thanks(TEAM, ALICE, "1w151", ALICE, max_chars=500)
    with pytest.raises(Refused) as refused:
        core.digests.peer_thanks(TEAM, BOB, "not a period", ALICE, max_chars=500)
    assert "ordinary thank-you" in refused.value.message and "/" not in refused.value.message


def test_a_reminder_says_whether_the_owner_was_reminded_already_reminded_or_unreachable(core):
    core.clock.at = TUESDAY
    change_id = core.stuck_change(owner_id=FRAN)
    core.notifier.down = True

    assert core.digests.remind_owner(TEAM, change_id, ALICE) == Reminder(
        FRAN, UNREACHABLE, why="failed: internal_error (will retry)"
    )
    core.notifier.down = False
    assert core.digests.remind_owner(TEAM, change_id, ALICE) == Reminder(FRAN, REMINDED)
    assert core.digests.remind_owner(TEAM, change_id, DANI) == Reminder(FRAN, ALREADY_REMINDED)
    assert core.notifier.reminded == [(FRAN, ALICE)]
