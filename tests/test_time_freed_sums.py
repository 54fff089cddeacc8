"""The quarter's time freed, summed in the managers' digest ("you said, we did") and the admin view, checked against a
sum the test works out itself from a seeded history: changes adopted this quarter and before it, one adopted and then
tried again, answers edited (the latest counts), one not about time, one not answered, one adopted after the week a
digest covers. "This quarter" is the calendar quarter in the team's main timezone (London for the sample team)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.console.team import ALICE, BOB, DANI
from bot.core.model import Team
from bot.core.services import Services
from tests.conftest import Clock
from tests.test_digests import CHANNEL, TUESDAY, bot  # noqa: F401  (bot: the digest fixture)

TEAM = Team("slack", "T0SAMPLE")
LONDON = ZoneInfo("Europe/London")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Seed:
    idea: str
    adopted: datetime
    answers: tuple[tuple, ...] = ()  # (when, minutes, people) or (when, what it does if not about time)
    tried_again: datetime | None = None  # moved back from adopted to trying


SEEDS = (
    Seed(
        "a shared visit template",
        at("2026-10-05T10:00"),
        ((at("2026-10-06T09:00"), 30, 6), (at("2026-11-01T09:00"), 45, 8)),
    ),
    Seed("one calendar for the duty rota", at("2026-11-02T10:00"), ((at("2026-11-03T09:00"), 60, 10),)),
    Seed("a quiet room on Fridays", at("2026-11-18T10:00"), ((at("2026-11-18T11:00"), 20, 3),)),
    # 23:30 on 30 September in UTC is 00:30 on 1 October in London: this quarter
    Seed("a phone tree for cover", at("2026-09-30T23:30"), ((at("2026-11-10T09:00"), 15, 8),)),
    Seed("a buddy for lone visits", at("2026-11-12T10:00"), ((at("2026-11-12T11:00"), "safer"),)),
    Seed("shorter handover notes", at("2026-11-19T10:00")),
    Seed("last quarter's idea", at("2026-09-20T10:00"), ((at("2026-09-21T09:00"), 120, 10),)),
    Seed(
        "adopted, then tried again", at("2026-10-20T10:00"), ((at("2026-10-21T09:00"), 100, 5),), at("2026-11-03T10:00")
    ),
    Seed("adopted after the digest's week", at("2026-11-23T12:00"), ((at("2026-11-23T13:00"), 30, 2),)),
)


def seed(services: Services, team: Team, clock: Clock, suggester: str, owner: str) -> None:
    """The history above, made as people make it: suggested a day before, taken on, adopted, answered."""
    for s in SEEDS:
        clock.at = s.adopted.replace(hour=0)
        change = services.changes.suggest(team, suggester, s.idea)
        services.changes.take_on(team, change.id, owner)
        clock.at = s.adopted
        services.changes.set_status(team, change.id, owner, "adopted")
        for when, *said in s.answers:
            clock.at = when
            if len(said) == 2:
                services.changes.say_time_freed(team, change.id, owner, minutes=said[0], people=said[1])
            else:
                services.changes.say_time_freed(team, change.id, owner, benefit=said[0])
        if s.tried_again:
            clock.at = s.tried_again
            services.changes.set_status(team, change.id, owner, "trying")


def expected(until: datetime) -> tuple[str, list[str]]:
    """The sum, worked out here: changes adopted from 1 October (London) until `until` and still adopted, each by its
    last answer; and the three that free the most."""
    counted = [s for s in SEEDS if datetime(2026, 10, 1, tzinfo=LONDON) <= s.adopted < until and not s.tried_again]
    timed = {s.idea: s.answers[-1][1] * s.answers[-1][2] for s in counted if s.answers and len(s.answers[-1]) == 3}
    minutes = sum(timed.values())
    assert minutes % 60 == 0, "the seeds add up to whole hours, so the rounding is not in question"
    not_time = [s for s in counted if s.answers and len(s.answers[-1]) == 2]
    unanswered = [s for s in counted if not s.answers]
    sentence = (
        f"{len(counted)} changes adopted this quarter, about {minutes // 60} hours a week freed across the team "
        f"({len(not_time)} not about time: safer; {len(unanswered)} not yet said)."
    )
    return sentence, sorted(timed, key=timed.get, reverse=True)[:3]


def test_the_digest_sums_the_quarter_up_to_the_end_of_its_week_and_names_the_biggest(bot):  # noqa: F811
    seed(bot.services, TEAM, bot.clock, ALICE, BOB)
    sentence, biggest = expected(until=datetime(2026, 11, 23, tzinfo=LONDON))
    assert sentence.startswith("6 changes adopted this quarter, about 19 hours a week")  # the test's own sum, read

    bot.tick(TUESDAY)

    for copy in (bot.digests(ALICE)[0], bot.digests(CHANNEL)[0]):  # a manager's copy and the channel's
        text = copy.text()
        said = text.split("*:hourglass_flowing_sand: Time freed, Q4 2026:* ", 1)[1]
        assert said.startswith(sentence)
        named = [line.split("*")[1] for line in said.split("Biggest:\n", 1)[1].splitlines()[:3]]
        assert (
            named == biggest == ["one calendar for the duty rota", "a shared visit template", "a phone tree for cover"]
        )
        assert (
            "• *a shared visit template*: 45 minutes a week for each of 8 people (about 6 hours a week in all)" in said
        )
        assert "last quarter's idea" not in text and "tried again" not in text and "after the digest's week" not in text


def test_the_admin_view_sums_the_quarter_so_far(slack, clock):
    slack.services.nudges.sync_people(TEAM)  # as the clock does each day: who is in the team, and their timezones
    seed(slack.services, TEAM, clock, ALICE, BOB)
    clock.at = TUESDAY
    sentence, biggest = expected(until=TUESDAY)
    assert sentence.startswith("7 changes adopted this quarter, about 20 hours a week")

    slack.smallchange("admin", DANI)

    shown = [b["text"]["text"] for b in slack.opened_view()["blocks"] if b["type"] == "section"]
    [freed] = [text for text in shown if text.startswith("*:hourglass_flowing_sand: Time freed")]
    assert freed.startswith(f"*:hourglass_flowing_sand: Time freed, Q4 2026:* {sentence}\nBiggest:\n")
    assert [line.split("*")[1] for line in freed.split("Biggest:\n")[1].splitlines()] == biggest


def test_the_digest_shows_the_time_freed_and_the_ideas_waiting_on_leaders_together(bot):  # noqa: F811
    seed(bot.services, TEAM, bot.clock, ALICE, BOB)
    bot.services.workspaces.update(TEAM, DANI, {"leaders": [DANI]})
    bot.clock.at = at("2026-11-20T10:00")
    change = bot.services.changes.suggest(TEAM, ALICE, "a shared diary with the health visitors", within_gift=False)
    bot.services.leaders.raise_with_leaders(TEAM, change.id, ALICE, ["funding"])

    bot.tick(TUESDAY)

    text = bot.digests(ALICE)[0].text()
    sentence, _ = expected(until=datetime(2026, 11, 23, tzinfo=LONDON))
    freed = text.index(f"*:hourglass_flowing_sand: Time freed, Q4 2026:* {sentence}")
    waiting = text.index("*:raising_hand: Waiting on leaders (1):*")
    assert freed < waiting and "• *a shared diary with the health visitors*: needs funding; waiting" in text
