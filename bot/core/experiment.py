"""Reading the cadence experiment: each arm's figures with 95% intervals, the differences between arms, a verdict in
plain words, and the overload guard's rule. The statistics are statsmodels' own, imported only when needed: it is
the optional extra small-changes[stats], and without it the counts are still shown, with a line saying how to get the
intervals. Choices (also in docs/features.md):

- The person is the unit for "fewer" and opt-outs (the share of an arm's people who asked for fewer at least once,
  or stopped), and the nudge for answers (the share of nudges answered within 48 h). Shares get Wilson intervals;
  a difference between two shares, Newcombe's hybrid score interval.
- Nudges, thanks and ideas per person are Poisson rates with the arm's people as exposure: exact (Garwood)
  intervals; a difference between two arms' rates, the score interval.
- With more than two arms each is compared with the first.
- Below MIN_PEOPLE people or MIN_NUDGES nudges in an arm nothing is concluded.
- A difference is "clear" when its 95% interval leaves out zero; otherwise the verdict says how many more people
  each arm would need to detect a DETECTABLE difference in answers (80% power, two-sided 5%), from statsmodels'
  NormalIndPower.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module

from bot.core.model import ArmReport, Overload

MIN_PEOPLE = 10  # in each arm, before anything is concluded
MIN_NUDGES = 10
DETECTABLE = 0.10  # the difference in answered shares the "how many more people" estimate is for
POWER = 0.8
ALPHA = 0.05
INSTALL = "install small-changes[stats] to see intervals"
LOAD_MEASURES = ("fewer", "stopped")


@dataclass(frozen=True)
class Estimate:
    """A figure with its 95% interval (None, None when the statistics library is not installed)."""

    value: float
    low: float | None = None
    high: float | None = None

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class ArmFigures:
    counts: ArmReport
    nudges: Estimate  # per person
    answered: Estimate  # share of nudges answered within 48 h
    fewer: Estimate  # share of people who asked for fewer
    stopped: Estimate  # share of people who stopped
    thanks: Estimate  # per person
    ideas: Estimate  # per person


@dataclass(frozen=True)
class Difference:
    """`arm` minus `other` on one measure (shares as fractions, rates per person)."""

    arm: str
    other: str
    measure: str  # "answered", "fewer", "stopped", "thanks", "ideas"
    estimate: Estimate


@dataclass(frozen=True)
class Reading:
    arms: tuple[ArmFigures, ...]
    differences: tuple[Difference, ...]
    verdict: str  # "" when there is no experiment
    overloads: tuple[Overload, ...]
    intervals: bool  # False when the statistics library is not installed


def _library():
    """statsmodels' functions, or None when the extra is not installed."""
    try:
        proportion = import_module("statsmodels.stats.proportion")
        rates = import_module("statsmodels.stats.rates")
        power = import_module("statsmodels.stats.power")
    except ImportError:
        return None
    return proportion, rates, power


def _floats(pair) -> tuple[float, float]:
    return float(pair[0]), float(pair[1])


def share(count: int, total: int, library=None) -> Estimate:
    """count of total, with a Wilson interval."""
    value = count / total if total else 0.0
    if library is None or not total:
        return Estimate(value)
    return Estimate(value, *_floats(library[0].proportion_confint(count, total, alpha=ALPHA, method="wilson")))


def rate(count: int, people: int, library=None) -> Estimate:
    """count per person, with an exact Poisson interval."""
    value = count / people if people else 0.0
    if library is None or not people:
        return Estimate(value)
    return Estimate(value, *_floats(library[1].confint_poisson(count, people, method="exact-c", alpha=ALPHA)))


def share_difference(count: int, total: int, other_count: int, other_total: int, library=None) -> Estimate:
    value = (count / total if total else 0.0) - (other_count / other_total if other_total else 0.0)
    if library is None or not (total and other_total):
        return Estimate(value)
    interval = library[0].confint_proportions_2indep(
        count, total, other_count, other_total, method="newcomb", compare="diff", alpha=ALPHA
    )
    return Estimate(value, *_floats(interval))


def rate_difference(count: int, people: int, other_count: int, other_people: int, library=None) -> Estimate:
    value = (count / people if people else 0.0) - (other_count / other_people if other_people else 0.0)
    if library is None or not (people and other_people):
        return Estimate(value)
    import numpy  # statsmodels' own dependency

    with numpy.errstate(divide="ignore", invalid="ignore"):  # 0 against 0: the ratio it also works out is undefined
        interval = library[1].confint_poisson_2indep(
            count, people, other_count, other_people, method="score", compare="diff", alpha=ALPHA
        )
    return Estimate(value, *_floats(interval))


def _figures(arm: ArmReport, library) -> ArmFigures:
    return ArmFigures(
        counts=arm,
        nudges=rate(arm.nudges, arm.people, library),
        answered=share(arm.responded, arm.nudges, library),
        fewer=share(arm.people_fewer, arm.people, library),
        stopped=share(arm.people_stopped, arm.people, library),
        thanks=rate(arm.thanks, arm.people, library),
        ideas=rate(arm.ideas, arm.people, library),
    )


def _differences(arm: ArmReport, first: ArmReport, library) -> list[Difference]:
    def of(measure: str, estimate: Estimate) -> Difference:
        return Difference(arm.arm, first.arm, measure, estimate)

    return [
        of("answered", share_difference(arm.responded, arm.nudges, first.responded, first.nudges, library)),
        of("fewer", share_difference(arm.people_fewer, arm.people, first.people_fewer, first.people, library)),
        of("stopped", share_difference(arm.people_stopped, arm.people, first.people_stopped, first.people, library)),
        of("thanks", rate_difference(arm.thanks, arm.people, first.thanks, first.people, library)),
        of("ideas", rate_difference(arm.ideas, arm.people, first.ideas, first.people, library)),
    ]


def too_few(arms: Sequence[ArmReport]) -> bool:
    return any(a.people < MIN_PEOPLE or a.nudges < MIN_NUDGES for a in arms)


def overloads(arms: Sequence[ArmReport]) -> list[Overload]:
    """Arms still running whose people asked for fewer nudges, or stopped them, clearly more often than another arm's
    (the 95% interval of the difference leaves out zero): one for each such arm. Reads only people, people_fewer,
    people_stopped and stopped; says nothing below MIN_PEOPLE, nor without the statistics library."""
    if len(arms) < 2 or any(a.people < MIN_PEOPLE for a in arms):
        return []
    library = _library()
    if library is None:
        return []
    found = []
    for arm in (a for a in arms if not a.stopped):
        candidates = (_overload(arm, other, m, library) for m in LOAD_MEASURES for other in arms if other is not arm)
        if warning := next((o for o in candidates if o is not None), None):
            found.append(warning)
    return found


def _overload(arm: ArmReport, other: ArmReport, measure: str, library) -> Overload | None:
    def count(a: ArmReport) -> int:
        return a.people_fewer if measure == "fewer" else a.people_stopped

    gap = share_difference(count(arm), arm.people, count(other), other.people, library)
    if gap.low is None or gap.high is None or gap.low <= 0:
        return None
    return Overload(arm.arm, other.arm, measure, count(arm), arm.people, count(other), other.people, gap.low, gap.high)


def _points(fraction: float) -> str:
    return f"{round(fraction * 100):d}"


def verdict(arms: Sequence[ArmReport]) -> str:
    """What the answers show, in plain words: a clear difference with its interval, none yet with how many more
    people would show one, or too few people to say. Never a p-value. "" without an experiment."""
    return _verdict(arms, _library()) if len(arms) > 1 else ""


def _verdict(arms: Sequence[ArmReport], library) -> str:
    if len(arms) < 2:
        return ""
    if too_few(arms):
        return (
            f"too few people to say anything yet: each arm needs at least {MIN_PEOPLE} people and {MIN_NUDGES} nudges"
        )
    if library is None:
        return INSTALL + " and a verdict"
    first, sentences = arms[0], []
    for arm in arms[1:]:
        gap = share_difference(arm.responded, arm.nudges, first.responded, first.nudges, library)
        if gap.excludes_zero():
            more, less, low, high = (
                (arm, first, gap.low, gap.high) if gap.value > 0 else (first, arm, -gap.high, -gap.low)
            )
            sentences.append(
                f"clear difference: {more.arm}'s people answered {_points(abs(gap.value))} points more often than "
                f"{less.arm}'s (95% interval {_points(low)} to {_points(high)} points)"
            )
            continue
        more = _people_needed(arm, first, library) - min(arm.people, first.people)
        if more > 0:
            sentences.append(
                f"no detectable difference yet between {arm.arm} and {first.arm}: about "
                f"{more} more people per arm would detect a "
                f"{_points(DETECTABLE)}-point difference in answers"
            )
        else:
            sentences.append(
                f"no detectable difference between {arm.arm} and {first.arm}: a {_points(DETECTABLE)}-point "
                f"difference in answers would show by now, so any difference is smaller (95% interval "
                f"{_points(gap.low)} to {_points(gap.high)} points)"
            )
    return "; ".join(sentences)


def _people_needed(arm: ArmReport, first: ArmReport, library) -> int:
    """People per arm for an 80% chance of detecting a DETECTABLE difference in answered shares at the pooled share
    (statsmodels' NormalIndPower with Cohen's h), counting nudges at the arms' present nudges per person."""
    answered = (arm.responded + first.responded) / (arm.nudges + first.nudges)
    target = answered + DETECTABLE if answered <= 0.5 else answered - DETECTABLE
    effect = abs(float(library[0].proportion_effectsize(target, answered)))
    nudges = library[2].NormalIndPower().solve_power(effect_size=effect, alpha=ALPHA, power=POWER, ratio=1.0)
    per_person = (arm.nudges + first.nudges) / (arm.people + first.people)
    return math.ceil(float(nudges) / per_person)


def read(arms: Sequence[ArmReport]) -> Reading:
    """Every arm's figures with intervals, each arm against the first, the verdict and any overloads."""
    library = _library()
    figures = tuple(_figures(arm, library) for arm in arms)
    differences = tuple(d for arm in arms[1:] for d in _differences(arm, arms[0], library))
    return Reading(figures, differences, _verdict(arms, library), tuple(overloads(arms)), library is not None)


# -- in words -------------------------------------------------------------------------------------------------------
def _interval(estimate: Estimate, spec: str) -> str:
    if estimate.low is None or estimate.high is None:
        return ""
    return f" ({estimate.low:{spec}} to {estimate.high:{spec}})"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def label(arm: str) -> str:
    return "Everyone" if arm == "everyone" else f"{arm.capitalize()} arm"


def report_lines(reading: Reading) -> list[str]:
    """The report as plain lines, for the command line and the admin views: each arm's figures with their 95%
    intervals, the differences, the verdict and any overload."""
    out = []
    for arm in reading.arms:
        c = arm.counts
        out.append(
            f"{label(c.arm)}{' (stopped)' if c.stopped else ''}: {c.people} {'person' if c.people == 1 else 'people'}, "
            f"{_plural(c.nudges, 'nudge')}, {arm.nudges.value:.1f} a person{_interval(arm.nudges, '.1f')}"
        )
        out.append(
            f"  answered within 48 h: {c.responded} of {c.nudges} nudges, {arm.answered.value:.0%}"
            f"{_interval(arm.answered, '.0%')}; {_plural(c.snoozes, 'snooze')}"
        )
        out.append(
            f"  asked for fewer: {c.people_fewer} of {c.people} people, {arm.fewer.value:.0%}"
            f"{_interval(arm.fewer, '.0%')}; stopped: {c.people_stopped}, {arm.stopped.value:.0%}"
            f"{_interval(arm.stopped, '.0%')}"
        )
        out.append(
            f"  thanks: {c.thanks}, {arm.thanks.value:.2f} a person{_interval(arm.thanks, '.2f')}; ideas: {c.ideas}, "
            f"{arm.ideas.value:.2f} a person{_interval(arm.ideas, '.2f')}"
        )
    pairs: dict[tuple[str, str], list[Difference]] = {}
    for difference in reading.differences:
        pairs.setdefault((difference.arm, difference.other), []).append(difference)
    for (arm, other), differences in pairs.items():
        said = []
        for d in differences:
            e = d.estimate
            if e.low is None or e.high is None:  # no difference is shown without its interval
                continue
            if d.measure in ("answered", "fewer", "stopped"):
                said.append(
                    f"{d.measure} {_signed(round(e.value * 100))} points ({_points(e.low)} to {_points(e.high)})"
                )
            else:
                said.append(f"{d.measure} {e.value:+.2f} a person ({e.low:+.2f} to {e.high:+.2f})")
        if said:
            out.append(f"{arm} minus {other}, with 95% intervals: " + "; ".join(said))
    if not reading.intervals and not reading.verdict:  # with an experiment, the verdict says so
        out.append(f"({INSTALL})")
    if reading.verdict:
        out.append("Verdict: " + reading.verdict + ".")
    out += [overload_text(o) for o in reading.overloads]
    return out


def _signed(n: int) -> str:
    return f"{n:+d}" if n else "0"


def overload_text(overload: Overload, where: str = "") -> str:
    """The overload guard's warning; `where` is the platform's words for where to stop the arm."""
    asked = "asked for fewer nudges" if overload.measure == "fewer" else "stopped their nudges"
    text = (
        f"⚠️ The {overload.arm} arm of the cadence experiment looks like too much: {overload.count} of its "
        f"{overload.people} people {asked}, against {overload.other_count} of {overload.other_people} in the "
        f"{overload.other} arm (95% interval of the difference {_points(overload.low)} to {_points(overload.high)} "
        "points)."
    )
    if where:
        text += (
            f" You can stop that arm, or end the experiment adopting the other, in {where}: a stopped arm's people go "
            "back to the team's cadence, and everyone else stays where they are."
        )
    return text
