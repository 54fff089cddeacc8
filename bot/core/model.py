"""The core's value objects: what the services take and return, and what adapters render.

No store and no platform behind any of them, so an adapter, a test or the clock can build and read them freely.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.settings import CONFIG_DIR

MIN_GROUP = 5  # no per-person figure, and nobody named, for a group smaller than this


# Who: workspaces and people
@dataclass(frozen=True)
class Team:
    """A workspace as the platform names it: ("slack", "T123") or ("teams", tenant id)."""

    platform: str
    external_id: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    tz: str = "UTC"
    is_guest: bool = False
    status_text: str = ""
    status_emoji: str = ""


@dataclass(frozen=True)
class Audience:
    """Who may read a conversation: anyone in the workspace (a public channel), or only its members."""

    public: bool = False
    members: frozenset[str] = frozenset()

    def includes(self, user_id: str) -> bool:
        return self.public or user_id in self.members


# Small changes
STATUSES = ("idea", "trying", "adopted", "parked", "dropped")
OPEN_STATUSES = ("idea", "trying")
STATUS_LABELS = {
    "idea": "Idea",
    "trying": "Trying it",
    "adopted": "Adopted",
    "parked": "Parked",
    "dropped": "Dropped",
}


# "How much time does it free?" for an adopted change: minutes a week for how many people, or, when it is not about
# time, what it does instead: each answer, as a form offers it
BENEFITS = {"safer": "safer", "kinder": "kinder", "clearer": "clearer", "other": "something else"}
MINUTES_MAX = 2400  # a week, for each person: 40 hours
PEOPLE_MAX = 500


@dataclass(frozen=True)
class TimeFreed:
    """The latest answer to "how much time does it free?": `minutes` a week for each of `people`, or, not about
    time, a `benefit` (a key of BENEFITS); either with an optional note. Who said it, and when."""

    minutes: int | None
    people: int | None
    benefit: str | None
    note: str | None
    by: str
    at: datetime

    @property
    def weekly(self) -> int:
        """Minutes a week freed across the team (0 when it is not about time)."""
        return (self.minutes or 0) * (self.people or 0)


@dataclass(frozen=True)
class FreedChange:
    """An adopted change in a sum of time freed, with what its latest answer said."""

    id: int
    text: str
    freed: TimeFreed


@dataclass(frozen=True)
class TimeFreedSum:
    """Changes adopted in a stretch of time (a calendar quarter so far) and the time they free: the latest answer of
    each, summed as minutes a week across the team."""

    label: str  # e.g. "Q4 2026"
    adopted: int  # still adopted now
    weekly: int  # minutes a week, summed over the answers about time
    timed: int  # how many said how much time they free
    not_time: tuple[tuple[str, int], ...] = ()  # (benefit, how many), most first
    biggest: tuple[FreedChange, ...] = ()  # the top few by minutes × people

    @property
    def unanswered(self) -> int:
        return self.adopted - self.timed - sum(n for _, n in self.not_time)


TREND_WEEKS = 12  # the weeks a trend covers, up to the end of a digest's period or the current week
SPARKS = "▁▂▃▄▅▆▇█"


@dataclass(frozen=True)
class Series:
    """One trend's weekly values, oldest first: counts, or hours a week for the time freed."""

    name: str  # e.g. "Thanks given"
    values: tuple[float, ...]
    unit: str = ""  # after a value in words, e.g. "hours a week"

    @property
    def sparkline(self) -> str:
        """The values as block characters, scaled from zero to the series' highest (a flat line when all are 0)."""
        top = max(self.values, default=0)
        if top <= 0:
            return SPARKS[0] * len(self.values)
        return "".join(SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1) + 0.5))] for v in self.values)

    def number(self, value: float) -> str:
        return f"{value:,.1f}".removesuffix(".0") if self.unit else f"{value:,.0f}"

    def said(self, value: float) -> str:
        return f"{self.number(value)} {self.unit}".rstrip()


@dataclass(frozen=True)
class Trends:
    """Twelve weeks of the team's figures, each week Monday to Sunday in the team's main timezone. Team totals only:
    nothing in them names anyone, so every copy of a digest may carry them."""

    weeks: tuple[date, ...]  # each week's Monday, oldest first
    series: tuple[Series, ...]

    @property
    def quiet(self) -> bool:
        return not any(any(s.values) for s in self.series)

    @property
    def span(self) -> str:
        return f"{self.weeks[0]:%-d %b}–{self.weeks[-1] + timedelta(days=6):%-d %b %Y}" if self.weeks else ""

    def alt_text(self) -> str:
        """The chart in words, for a screen reader or a workspace without images: every number it shows."""
        lines = [f"Weekly trends for the {len(self.weeks)} weeks {self.span}, oldest first."]
        for s in self.series:
            numbers = ", ".join(s.number(v) for v in s.values)
            lines.append(f"{s.name}{f' ({s.unit})' if s.unit else ''}: {numbers}.")
        return " ".join(lines)


@dataclass(frozen=True)
class Impact:
    """What the admin view shows beside the experiment: the quarter's time freed and the twelve weeks' trends."""

    freed: TimeFreedSum
    trends: Trends
    began: datetime  # the quarter's first moment, in the team's main timezone


CLOSED_STATUSES = ("adopted", "dropped")  # nothing more to do, nor to raise with leaders

# Ideas that are not within the team's gift, raised with leaders: what one may need, and the leaders' answers
NEEDS = {
    "funding": "funding",
    "skills": "technical skills",
    "permission": "permission",
    "service": "another service's help",
    "time": "time",
}
TAKE_UP, MORE_INFO, NOT_NOW = "take_up", "more_info", "not_now"  # as stored; a button is leaders_<answer>
LEADER_ANSWERS = {TAKE_UP: "We'll take this up", MORE_INFO: "Need more information", NOT_NOW: "Not now"}
LEADERS_WAIT = timedelta(days=30)  # an idea waiting longer than this for leaders' answer is flagged in the digest


@dataclass(frozen=True)
class Raised:
    """An idea raised with leaders: by whom, when and what it needs; then their answer, once one is given."""

    id: int
    by: str
    at: datetime
    needs: tuple[str, ...]
    note: str | None
    answer: str | None = None  # TAKE_UP, MORE_INFO or NOT_NOW; None while it waits
    answered_by: str | None = None
    answered_at: datetime | None = None
    taker_id: str | None = None  # who takes it up
    said: str | None = None  # the leaders' question (more info), their reason (not now), or a word with take up


@dataclass(frozen=True)
class ChangeView:
    """A change as the stored counts show it, for rendering."""

    id: int
    text: str
    obstacle: str | None
    within_gift: bool | None
    suggester_id: str | None
    owner_id: str | None
    status: str
    backers: tuple[str, ...]
    channel_id: str | None
    message_ts: str | None
    time_freed: TimeFreed | None = None  # the latest answer, once adopted
    raised: Raised | None = None  # the latest time it was raised with leaders

    @property
    def raisable(self) -> bool:
        """Whether it can be raised with leaders now: it needs someone outside the team, is not adopted or dropped,
        and is neither waiting for leaders nor taken up by them (after "more information" or "not now" it can be
        raised again)."""
        return (
            self.within_gift is False
            and self.status not in CLOSED_STATUSES
            and (self.raised is None or self.raised.answer in (MORE_INFO, NOT_NOW))
        )


@dataclass(frozen=True)
class LeaderNews:
    """Who hears of an idea raised with leaders, or of their answer: the core decides, an adapter writes the
    messages. `channel` is the leadership channel (for a raise, when one is set); each of `people` gets a DM."""

    change: ChangeView
    channel: str | None
    people: tuple[str, ...]


# "Can the team do this itself?", as a form asks it: each answer, its words, and what is stored
WITHIN_GIFT = {"within": ("Yes, it's within our gift", True), "outside": ("No, it needs someone else", False)}


# Thanks
# Gratitude from outside the team, passed on by a colleague: only the kind of source is kept, never a name.
SOURCES = {"family": "a family", "young person": "a young person", "agency": "a partner agency"}
OUTSIDE = {  # each kind of source, counted: (one, several)
    "family": ("a family", "families"),
    "young person": ("a young person", "young people"),
    "agency": ("a partner agency", "partner agencies"),
}


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class ThanksRequest:
    giver_id: str
    recipient_ids: tuple[str, ...]
    reason: str
    private: bool = False
    channel_id: str | None = None
    unresolved_names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # user groups or everyone-mentions named as recipients, as their labels
    via: str = "command"  # command | modal | reaction | shortcut | leader
    source: str | None = None  # relayed gratitude from outside: "family", "young person" or "agency"
    event_id: str | None = None  # the platform event it came from (a reaction), so a retried event counts once
    message_ref: str | None = None  # the message it thanks for (a reaction or the message shortcut)


@dataclass(frozen=True)
class GivenThanks:
    id: int
    giver: Person
    recipients: tuple[Person, ...]
    reason: str
    values: tuple[str, ...]
    private: bool
    source: str | None = None
    via: str = "command"


# A workspace's settings
CADENCE_WEEKS = {"weekly": 1, "fortnightly": 2, "monthly": 4, "every 2 months": 8}
CADENCES = ("off", "weekly", "fortnightly", "monthly")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WorkspaceConfig:
    """Everything an admin can tune. Stored as overrides of the defaults, so new defaults reach everyone."""

    cadence: str = "fortnightly"
    days: tuple[int, ...] = (1, 2, 3)  # Monday is 0
    start: time = time(10)
    end: time = time(15)
    weekly_cap: int = 1
    holidays: tuple[date, ...] = ()
    nudge_guests: bool = False
    experiment: tuple[str, ...] = ()
    stopped_arms: tuple[str, ...] = ()  # arms of the experiment an admin stopped: their people get `cadence`
    sends_per_second: float = 5.0
    prompts: tuple[str, ...] = ("Who made your week easier?",)
    thanks_daily_cap: int = 10
    values: tuple[str, ...] = ("supportive", "creative", "honest", "innovative", "open to new ideas")
    thanks_reaction: str = "pray"  # a reaction with this emoji on a message counts as thanks to its author
    digest_cadence: str = "weekly"
    digest_channel: str | None = None
    managers: tuple[str, ...] = ()
    leadership_channel: str | None = None  # where ideas raised with leaders are posted
    leaders: tuple[str, ...] = ()  # who is sent them, and may answer them (with admins)
    admins: tuple[str, ...] = ()  # people an admin made admins too (on Teams, the only admins besides ADMIN_USER_IDS)
    timezone: str = "UTC"  # for people whose own timezone the platform does not tell (Teams, until they write)

    @classmethod
    def defaults(cls, path: Path = CONFIG_DIR / "defaults.toml") -> WorkspaceConfig:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        nudges, thanks, digests = data.get("nudges", {}), data.get("thanks", {}), data.get("digests", {})
        return cls().with_changes(
            {
                **nudges,
                "daily_cap": thanks.get("daily_cap"),
                "values": thanks.get("values"),
                "thanks_reaction": thanks.get("reaction"),
                "digest_cadence": digests.get("cadence"),
            }
        )

    def with_changes(self, raw: dict) -> WorkspaceConfig:
        """Apply settings in their stored (JSON) form; unknown keys and None are ignored."""
        parsed: dict = {}
        for key, value in raw.items():
            if key in ("digest_channel", "leadership_channel"):  # "" (none chosen in the form) clears it
                parsed[key] = value or None
                continue
            if value is None:
                continue
            if key == "daily_cap":
                key = "thanks_daily_cap"
            if key == "days":
                value = tuple(sorted(DAYS.index(d[:3].lower()) if isinstance(d, str) else int(d) for d in value))
            elif key in ("start", "end"):
                value = value if isinstance(value, time) else time.fromisoformat(value)
            elif key == "holidays":
                value = tuple(sorted(d if isinstance(d, date) else date.fromisoformat(d) for d in value))
            elif key in ("experiment", "stopped_arms", "prompts", "values", "managers", "admins", "leaders"):
                value = tuple(value)
            elif key in ("weekly_cap", "thanks_daily_cap"):
                value = int(value)
            elif key == "sends_per_second":
                value = float(value)
            elif key in ("cadence", "digest_cadence") and value not in CADENCES:
                raise ValueError(f"unknown cadence {value!r}")
            elif key == "thanks_reaction":
                value = str(value).strip().strip(":") or "pray"
            if key in {f.name for f in fields(self)}:
                parsed[key] = value
        return replace(self, **parsed)

    def stored(self) -> dict:
        """This configuration in JSON-friendly form."""
        out = {}
        for key, value in asdict(self).items():
            if key == "days":
                value = [DAYS[d] for d in value]
            elif key in ("start", "end"):
                value = value.strftime("%H:%M")
            elif key == "holidays":
                value = [d.isoformat() for d in value]
            elif isinstance(value, tuple):
                value = list(value)
            out[key] = value
        return out


# Nudges: the plan's view of a person, its decisions, and what a tick did
@dataclass(slots=True)  # not frozen: a plan builds 100,000 of these and frozen dataclasses are slower to make
class PersonState:
    """One person as the plan sees them: their profile, their choices and what the ledger says."""

    user_id: str
    name: str = ""
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    is_guest: bool = False
    status_text: str = ""
    status_emoji: str = ""
    cadence: str | None = None
    opted_out: bool = False
    snoozed_until: date | None = None
    alternate_day_off: date | None = None
    unanswered: int = 0
    last_nudge_at: datetime | None = None
    sent_last_7_days: int = 0
    stop_check_sent: bool = False
    active_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    kind: str | None  # "nudge", "stop_check", or None when not due
    reason: str
    period: str = ""
    arm: str | None = None


@dataclass
class TickReport:
    """What one tick did (or, in a dry run, would do), person by person."""

    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (user id, name, reason)
    sent: int = 0
    failed: int = 0
    skipped_locked: bool = False

    @property
    def counts(self) -> Counter:
        return Counter(reason for _, _, reason in self.outcomes)


@dataclass(frozen=True)
class ArmReport:
    """One experiment arm's counts (or the one "everyone" arm): nudges and clicks on them (snoozes, fewer and
    opt-outs count clicks), and the people who asked for fewer or stopped at least once."""

    arm: str
    people: int
    nudges: int
    responded: int  # nudges answered within 48 h: a click, a thank-you or an idea
    snoozes: int
    fewer: int
    opt_outs: int
    thanks: int
    ideas: int
    people_fewer: int = 0
    people_stopped: int = 0
    stopped: bool = False  # an admin stopped this arm: its figures end when it stopped

    @property
    def response_rate(self) -> float:
        return self.responded / self.nudges if self.nudges else 0.0


@dataclass(frozen=True)
class Overload:
    """An arm whose people asked for fewer nudges, or stopped them, clearly more often than another arm's: `count` of
    its `people` against `other_count` of `other_people`, and the 95% interval of the difference (as fractions)."""

    arm: str
    other: str
    measure: str  # "fewer" or "stopped"
    count: int
    people: int
    other_count: int
    other_people: int
    low: float
    high: float


# Digests: the whole period's material, and the copies cut from it for each reader
@dataclass(frozen=True)
class Highlight:
    """A public thank-you worth retelling."""

    giver_id: str
    recipient_ids: tuple[str, ...]
    reason: str
    values: tuple[str, ...]
    source: str | None  # passed on from outside the team: "family", "young person", "agency"
    channel_id: str | None = None  # where it was said: only those who could read it there may see it quoted


@dataclass(frozen=True)
class Thanked:
    user_id: str
    times: int  # public thank-yous from colleagues in the period


@dataclass(frozen=True)
class ChangeLine:
    id: int
    text: str
    status: str
    owner_id: str | None
    suggester_id: str | None
    stuck: str = ""  # why it is stuck, e.g. "no owner after 21 days"


@dataclass(frozen=True)
class WaitingLine:
    """An idea raised with leaders and not answered yet: what it needs, how long it has waited, and whether that is
    longer than LEADERS_WAIT."""

    id: int
    text: str
    needs: tuple[str, ...]
    days: int
    overdue: bool


@dataclass(frozen=True)
class Figures:
    """What every copy of a digest says, whoever reads it: counts, values, the changes and the nudges. Nothing quoted
    from anyone's thanks, and no list of people."""

    period: str  # the ledger's key: the period it is sent in, e.g. "1w151"
    start: date  # the first day covered
    end: date  # the day after the last day covered
    people: int  # active people (not bots, not deactivated): the group every figure is about
    thanks: int = 0
    private: int = 0
    givers: int = 0
    receivers: int = 0
    values: tuple[tuple[str, int], ...] = ()  # from public thanks only
    outside: tuple[tuple[str, int], ...] = ()  # (source, count): never anyone's name
    new: int = 0
    backed: int = 0
    owned: int = 0
    trying: int = 0
    adopted: tuple[ChangeLine, ...] = ()
    stuck: tuple[ChangeLine, ...] = ()  # the oldest STUCK_LISTED
    stuck_total: int = 0
    waiting: tuple[WaitingLine, ...] = ()  # on leaders, the longest waiting first (the first WAITING_LISTED)
    waiting_total: int = 0
    nudges: int = 0  # sent in the period, every arm
    arms: tuple[ArmReport, ...] = ()  # only arms of at least MIN_GROUP people
    arms_hidden: int = 0
    verdict: str = ""  # what the cadence experiment shows so far, in plain words ("" without an experiment)
    freed: TimeFreedSum | None = None  # the quarter so far: changes adopted and the time they free
    trends: Trends | None = None  # the twelve weeks up to the period's end

    @property
    def weeks(self) -> int:
        return (self.end - self.start).days // 7

    @property
    def span(self) -> str:
        """The days covered, e.g. "16 Nov–22 Nov 2026"."""
        return f"{self.start:%-d %b}–{self.end - timedelta(days=1):%-d %b %Y}"

    @property
    def small_group(self) -> bool:
        return self.people < MIN_GROUP

    @property
    def quiet(self) -> bool:
        """Nothing happened, nothing is stuck and nothing waits on leaders: a digest would not earn its place."""
        return not (self.thanks or self.new or self.backed or self.owned or self.trying or self.adopted) and not (
            self.stuck_total or self.waiting_total or self.nudges
        )


@dataclass(frozen=True)
class Digest(Figures):
    """One period's digest, platform-free, before it is cut into copies: never sent as it is. Its names, candidates
    and lists of people are the material manager_copy and channel_copy choose from for each reader."""

    names: dict[str, str] = field(default_factory=dict)
    # Every public thank-you worth retelling, best first: each copy quotes the first few its reader may read.
    candidates: tuple[Highlight, ...] = ()
    thanked_by_peers: tuple[Thanked, ...] = ()  # empty for a small team
    unthanked: tuple[str, ...] = ()  # nobody thanked them, publicly or privately, in the last 8 weeks


@dataclass(frozen=True)
class ThankedLine:
    """One line of a manager's "thanked by colleagues" list, and whether that manager is offered a personal
    thank-you to them (not to themselves)."""

    user_id: str
    times: int
    offer_thanks: bool


@dataclass(frozen=True, kw_only=True)
class ManagerDigest(Figures):
    """One manager's copy, sent to them alone: it names people, quotes only thanks said where this manager may read
    now, and carries the lists of who was thanked by colleagues and who was not thanked lately (both empty, and
    nobody named, for a group of fewer than MIN_GROUP)."""

    highlights: tuple[Highlight, ...] = ()
    thanked_by_peers: tuple[ThankedLine, ...] = ()
    unthanked: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ChannelDigest(Figures):
    """The digest channel's copy: it quotes only thanks first said in that channel, lists nobody, and knows only
    the plain names of the people it mentions (a mention would ping them in front of the channel)."""

    highlights: tuple[Highlight, ...] = ()
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PeerThanks:
    """A leader's personal thank-you to one person, ready to make their own: a draft that quotes what colleagues
    publicly thanked them for in a digest's period, only where the leader could read it."""

    user_id: str
    draft: str


@dataclass(frozen=True)
class Reminder:
    """What came of asking for a stuck change's owner to be reminded, for the asker: REMINDED (the owner's DM says
    who asked), ALREADY_REMINDED this week (one a week is enough), or UNREACHABLE just now (`why`, in the ledger's
    words), so try again later."""

    owner_id: str
    outcome: str
    why: str = ""


REMINDED, ALREADY_REMINDED, UNREACHABLE = "reminded", "already reminded", "unreachable"
