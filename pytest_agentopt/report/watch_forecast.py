"""The live view's forecast: how many more sessions and how much longer until the sequential test decides.

Two parts, each with the assumption it is made under:

* **the further pairs (or scored trials)** to a decision, from the test's current state (its counts and which
  one-sided tests still run) to its cap, by the exact forward DP of ``stats.remaining``: expected at the observed
  rates (the plug-in estimate of a pair's distribution, or of the success rate), and under the test's hypotheses
  (no difference, a difference of the effect either way, at the observed discordance; or the target's two rates).
  Sessions are pairs x 2 (both arms run every pair) or one per trial against a target. The DP costs seconds of CPU
  from an early state of the shipped design, so :class:`Forecaster` recomputes it only when the test's
  state has changed, and no sooner than nine times its last cost after it (at most a tenth of the viewer's time);
  in between the frame shows the last forecast with the pairs it was made at. The live view computes it in a
  background thread (``background=True``), on a copy of the test's counts taken when it starts, so that no frame
  waits for it: until the first forecast is ready the frame says it is being computed.
* **with several candidates**, each undecided candidate's further pairs by the same DP at its own design (alpha /
  K), at its observed rates; its sessions are its pairs (one of its trials a pair). The control runs until the
  last candidate decides: ``max_i N_i`` further pairs, whose expectation lies between the largest ``E[N_i]`` and
  the smaller of their sum and the pairs left to the cap (the candidates' stopping times are dependent through the
  shared control, so no closer figure is exact); the run's further sessions are that plus every candidate's own.
* **the time**: the expected sessions divided by the pace, the sessions finished per second over the recent
  window of the ledger's ``finished_at`` stamps (:class:`Pace`); ``unknown`` until that window holds enough.

The counts that enter the test are those the controller feeds (the viewer rebuilds the test from the ledger), so
the forecast is the controller's test's. Trials started beyond the decision point under xdist's look-ahead (see
``docs/lookahead.md``) are not counted: they are a bounded extra.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from pytest_agentopt.run.feeding import SequentialFeeder
    from pytest_agentopt.stats.design import PairedDesign
    from pytest_agentopt.stats.remaining import Remaining

__all__ = [
    "CandidateForecast",
    "CandidatesForecast",
    "Forecast",
    "Forecaster",
    "Pace",
    "Recomputer",
    "candidate_forecast_lines",
    "computing_lines",
    "duration",
    "forecast_lines",
]

T = TypeVar("T")

PACE_WINDOW_S = 300.0
"""The pace is measured over the trials finished in this many seconds before the newest one..."""
PACE_KEEP = 256
"""...and at most over this many of the newest trials."""
PACE_MIN_TRIALS = 5
"""Fewer finished trials in the window give no pace (``unknown``)."""
COST_SHARE = 0.1
"""The forecast is recomputed no sooner than its last cost / COST_SHARE after it started."""


@dataclass
class Pace:
    """Sessions finished per second over the recent window of the ledger's ``finished_at`` stamps."""

    stamps: deque[str] = field(default_factory=lambda: deque(maxlen=PACE_KEEP))

    def add(self, finished_at: object) -> None:
        if isinstance(finished_at, str):
            self.stamps.append(finished_at)

    def per_second(self) -> tuple[float, int, float] | None:
        """``(sessions per second, trials it was measured on, over how many seconds)``, or ``None``."""
        times = []
        for stamp in self.stamps:
            try:
                times.append(datetime.fromisoformat(stamp).timestamp())
            except ValueError:
                continue
        if not times:
            return None
        newest = max(times)
        recent = [moment for moment in times if moment >= newest - PACE_WINDOW_S]
        span = newest - min(recent)
        if len(recent) < PACE_MIN_TRIALS or span <= 0.0:
            return None
        return (len(recent) - 1) / span, len(recent), span


@dataclass(frozen=True)
class Forecast:
    """The further units to a decision under each assumption, made when the test held ``units`` units."""

    units: int
    unit: str
    """``pairs`` or ``scored trials``."""
    sessions_per_unit: int
    observed: str
    """The observed rates the first figure assumes, in words."""
    figures: tuple[tuple[str, Remaining], ...]
    """``(assumption, figures)``: the observed rates first, then the hypotheses."""
    hypotheses_note: str
    """What the hypotheses' figures hold fixed (e.g. the observed discordance)."""


@dataclass(frozen=True)
class CandidateForecast:
    """One undecided candidate's further pairs to its decision, at its observed rates."""

    units: int
    observed: str
    remaining: Remaining


@dataclass(frozen=True)
class CandidatesForecast:
    """The undecided candidates' forecasts (by arm), made when their tests held ``units`` pairs."""

    units: int
    candidates: Mapping[str, CandidateForecast]
    cap_pairs: int
    """The pairs left to the cap when it was made: the control never runs beyond them."""

    @property
    def control_pairs(self) -> tuple[float, float]:
        """Bounds on the control's expected further pairs, ``E[max_i N_i]``: at least the largest ``E[N_i]``,
        at most their sum and the pairs left to the cap (the dropped mass counted as running to the cap above)."""
        remaining = [forecast.remaining for forecast in self.candidates.values()]
        low = max(result.expected for result in remaining)
        high = min(math.fsum(result.expected_at_most for result in remaining), float(self.cap_pairs))
        return low, max(low, high)

    @property
    def run_sessions(self) -> tuple[float, float]:
        """Bounds on the run's expected further sessions: every candidate's own plus the control's."""
        own_low = math.fsum(forecast.remaining.expected for forecast in self.candidates.values())
        own_high = math.fsum(forecast.remaining.expected_at_most for forecast in self.candidates.values())
        control_low, control_high = self.control_pairs
        return own_low + control_low, own_high + control_high


@dataclass(frozen=True)
class _PairedSnapshot:
    """A paired test's counts, copied when a forecast starts (the viewer goes on feeding the live test)."""

    design: PairedDesign
    direction: str
    wins: int
    losses: int
    ties: int
    states: tuple[tuple[str, str | None], ...]


class Recomputer(Generic[T]):
    """Runs a forecast job for a new state, no sooner than its last cost / :data:`COST_SHARE` after the last one
    started, inline or (``background``) in a daemon thread, one at a time; :attr:`last` is the newest result."""

    def __init__(self, clock: Callable[[], float], background: bool) -> None:
        self.clock = clock
        self.background = background
        self.last: T | None = None
        self._key: object = None
        self._not_before = -math.inf
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._outcome: list[T | BaseException] = []

    def get(self, key: object, job: Callable[[], T]) -> T | None:
        self._collect()
        if key == self._key or self._thread is not None or self.clock() < self._not_before:
            return self.last
        self._key = key
        self._started = self.clock()
        if not self.background:
            self.last = job()
            self._not_before = self._started + (self.clock() - self._started) / COST_SHARE
            return self.last

        def run() -> None:
            try:
                self._outcome.append(job())
            except BaseException as exc:  # handed to the viewer's thread by _collect
                self._outcome.append(exc)

        self._thread = threading.Thread(target=run, name="agentopt-watch-forecast", daemon=True)
        self._thread.start()
        return self.last

    @property
    def computing_for(self) -> float | None:
        """Seconds since the background job running now started, or ``None``."""
        self._collect()
        return None if self._thread is None else self.clock() - self._started

    def wait(self) -> None:
        """Wait for the background job running now (``agentopt watch --once`` prints one finished frame)."""
        if self._thread is not None:
            self._thread.join()
        self._collect()

    def _collect(self) -> None:
        if self._thread is None or self._thread.is_alive():
            return
        self._thread = None
        self._not_before = self._started + (self.clock() - self._started) / COST_SHARE
        outcome = self._outcome.pop()
        if isinstance(outcome, BaseException):
            raise outcome
        self.last = outcome


@dataclass
class Forecaster:
    """Recomputes the forecast when the test's state changed, within :data:`COST_SHARE` of the viewer's time;
    with ``background``, in a thread, so that a frame never waits for it."""

    clock: Callable[[], float] = time.monotonic
    background: bool = False
    _single: Recomputer[Forecast | None] = field(init=False)
    _several: Recomputer[CandidatesForecast] = field(init=False)

    def __post_init__(self) -> None:
        self._single = Recomputer(self.clock, self.background)
        self._several = Recomputer(self.clock, self.background)

    @property
    def last(self) -> Forecast | None:
        return self._single.last

    @property
    def computing_for(self) -> float | None:
        """Seconds since the forecast being computed in the background started, or ``None``."""
        single, several = self._single.computing_for, self._several.computing_for
        return single if single is not None else several

    def wait(self) -> None:
        self._single.wait()
        self._several.wait()

    def forecast(self, feeder: SequentialFeeder, cap_units: int) -> Forecast | None:
        """The forecast for the feeder's test with the test ending after ``cap_units`` units in all."""
        key = _state_key(feeder, cap_units)
        if key is None:
            return None
        if feeder.paired_test is not None:
            snapshot = _paired_snapshot(feeder)
            return self._single.get(key, lambda: _compute_paired(snapshot, cap_units))
        target = feeder.target_test
        assert target is not None
        trials, successes, p0, p1, bounds = target.trials, target.successes, target.p0, target.p1, target.bounds
        return self._single.get(key, lambda: _compute_target(trials, successes, p0, p1, bounds, cap_units))

    def candidates(self, feeders: Mapping[str, SequentialFeeder], cap_pairs: int) -> CandidatesForecast | None:
        """The undecided candidates' forecasts, each test ending after ``cap_pairs`` further pairs (the shared
        planned order gives every candidate as many); ``None`` while one of them has no pair yet or none is left."""
        undecided = {arm: feeder for arm, feeder in feeders.items() if feeder.decision is None}
        if not undecided or cap_pairs <= 0 or any(feeder.units == 0 for feeder in undecided.values()):
            return None
        keys = [_state_key(feeder, feeder.units + cap_pairs) for feeder in undecided.values()]
        if any(key is None for key in keys):
            return None
        snapshots = {arm: _paired_snapshot(feeder) for arm, feeder in undecided.items()}

        def job() -> CandidatesForecast:
            made = {}
            for arm, snapshot in snapshots.items():
                units = snapshot.wins + snapshot.losses + snapshot.ties
                forecast = _compute_paired(snapshot, units + cap_pairs, hypotheses=False)
                made[arm] = CandidateForecast(forecast.units, forecast.observed, forecast.figures[0][1])
            units = max(forecast.units for forecast in made.values())
            return CandidatesForecast(units=units, candidates=made, cap_pairs=cap_pairs)

        return self._several.get((tuple(undecided), tuple(keys)), job)


def _state_key(feeder: SequentialFeeder, cap_units: int) -> tuple[object, ...] | None:
    if feeder.decision is not None or feeder.units == 0 or cap_units <= feeder.units:
        return None
    if feeder.paired_test is not None:
        from pytest_agentopt.stats.evidence_paired import EvidencePairedTest

        test = feeder.paired_test
        if isinstance(test, EvidencePairedTest):  # --agent-family-error fdr: it stops by its e-value, not the DP's
            return None
        return (test.wins, test.losses, test.ties, tuple(sorted(test.states.items())), cap_units)
    if feeder.target_test is not None:
        target = feeder.target_test
        return (target.trials, target.successes, cap_units)
    return None


def _paired_snapshot(feeder: SequentialFeeder) -> _PairedSnapshot:
    test = feeder.paired_test
    assert test is not None
    return _PairedSnapshot(
        design=test.design,
        direction=test.design.direction,
        wins=test.wins,
        losses=test.losses,
        ties=test.ties,
        states=tuple(sorted(test.states.items())),
    )


def _compute_paired(snapshot: _PairedSnapshot, cap_units: int, *, hypotheses: bool = True) -> Forecast:
    """The forecast at the observed rates and (``hypotheses``) under the test's hypotheses."""
    # numpy and the DP only when a frame needs a forecast: the controller imports this module's caller for a
    # constant (``report.watch.PLAN_FILE``), and numpy costs every run a fifth of a second.
    from pytest_agentopt.number_format import pct
    from pytest_agentopt.stats.extension import running_state
    from pytest_agentopt.stats.remaining import paired_remaining

    design = snapshot.design
    wins, losses, ties = snapshot.wins, snapshot.losses, snapshot.ties
    pairs = wins + losses + ties
    discordance = (wins + losses) / pairs
    effect = design.delta
    with_effect = max(discordance, effect)
    assumptions: list[tuple[str, tuple[float, float, float]]] = [
        ("at the observed rates", (losses / pairs, ties / pairs, wins / pairs)),
        ("no difference", (discordance / 2, 1.0 - discordance, discordance / 2)),
    ][: 2 if hypotheses else 1]
    if hypotheses and design.direction != "worse":
        better = ((with_effect - effect) / 2, 1.0 - with_effect, (with_effect + effect) / 2)
        assumptions.append((f"better by {effect:g}", better))
    if hypotheses and design.direction != "better":
        worse = ((with_effect + effect) / 2, 1.0 - with_effect, (with_effect - effect) / 2)
        assumptions.append((f"worse by {effect:g}", worse))
    results = paired_remaining(
        design,
        wins=wins,
        losses=losses,
        ties=ties,
        state=running_state(snapshot.direction, dict(snapshot.states)),
        cap_pairs=cap_units,
        distributions=[distribution for _, distribution in assumptions],
    )
    return Forecast(
        units=pairs,
        unit="pairs",
        sessions_per_unit=2,
        observed=f"wins {pct(wins / pairs, 0)}, losses {pct(losses / pairs, 0)}, ties {pct(ties / pairs, 0)}",
        figures=tuple((label, result) for (label, _), result in zip(assumptions, results, strict=True)),
        hypotheses_note=f"at the observed discordance {pct(discordance, 0)}"
        + (f" ({pct(effect, 0)} under a difference of {effect:g})" if discordance < effect else ""),
    )


def _compute_target(
    trials: int, successes: int, p0: float, p1: float, bounds: tuple[float, float], cap_units: int
) -> Forecast:
    from pytest_agentopt.number_format import pct
    from pytest_agentopt.stats.remaining import target_remaining

    rates = (("at the observed rate", successes / trials), (f"at {p0:g}", p0), (f"at {p1:g}", p1))
    figures = tuple(
        (
            label,
            target_remaining(
                p0=p0,
                p1=p1,
                bounds=bounds,
                trials=trials,
                successes=successes,
                cap_trials=cap_units,
                success_rate=rate,
            ),
        )
        for label, rate in rates
    )
    return Forecast(
        units=trials,
        unit="scored trials",
        sessions_per_unit=1,
        observed=f"success {pct(successes / trials, 0)}",
        figures=figures,
        hypotheses_note="the success rates of H0 and H1",
    )


def computing_lines(seconds: float) -> list[str]:
    """What a frame shows while the first forecast is being computed in the background."""
    return [
        f"expect   being computed (for {duration(seconds)}; a later frame shows it)",
        "time     unknown until the forecast of the sessions is computed",
    ]


def forecast_lines(forecast: Forecast | None, *, units_now: int, unit: str, pace: Pace, reason: str) -> list[str]:
    """The ``expect`` and ``time`` lines of a frame; ``reason`` says why there is no forecast when there is none."""
    if forecast is None:
        return [f"expect   unknown: {reason}", "time     unknown: no forecast of the sessions"]
    (label, observed), *hypotheses = forecast.figures
    stale = "" if forecast.units == units_now else f" (from the test at {forecast.units:,} {unit})"
    per = forecast.sessions_per_unit
    lines = [
        f"expect   {_count(observed)} more {forecast.unit} ({_sessions(observed, per)}) to a decision {label} "
        f"({forecast.observed}); 95% within {observed.p95:,}{stale}",
        f"         under the hypotheses, {forecast.hypotheses_note}: "
        + ", ".join(f"{name} {_count(result)}" for name, result in hypotheses),
    ]
    measured = pace.per_second()
    if measured is None:
        lines.append(NO_PACE_LINE)
        return lines
    rate, trials, span = measured
    expected = [result.expected * per / rate for _, result in forecast.figures]
    lines.append(
        f"time     about {duration(expected[0])} {label}, {duration(min(expected[1:]))} to "
        f"{duration(max(expected[1:]))} under the hypotheses ({_pace_text(rate, trials, span)})"
    )
    return lines


def candidate_forecast_lines(
    forecast: CandidatesForecast,
    *,
    names: Mapping[str, str],
    decided: Mapping[str, str],
    units_now: int,
    pace: Pace,
) -> list[str]:
    """One ``expect`` line per candidate (its further pairs, its sessions and the time to its decision; or its
    decision), the run's further sessions, and the run's time at the pace.

    A candidate's time is its further pairs at the pace of pairs: each pair position runs the control and every
    candidate still undecided, so between ``2`` and ``1 + U`` sessions a pair (``U`` undecided now; fewer as others
    decide): the expected time lies between the two, the pace of sessions held constant.
    """
    measured = pace.per_second()
    undecided = len(forecast.candidates)
    stale = "" if forecast.units == units_now else f" (from the tests at {forecast.units:,} pairs)"
    lines = []
    for arm, name in names.items():
        if arm in decided:
            lines.append(f"expect   {arm} {name}: decided {decided[arm].upper()}")
            continue
        candidate = forecast.candidates.get(arm)
        if candidate is None:  # decided after the forecast was made: the next one leaves it out
            lines.append(f"expect   {arm} {name}: unknown (not in the forecast{stale})")
            continue
        result = candidate.remaining
        timing = ""
        if measured is not None:
            low, high = (result.expected * per / measured[0] for per in (2, 1 + undecided))
            timing = f"; about {duration(low)}" + (f" to {duration(high)}" if undecided > 1 else "")
        lines.append(
            f"expect   {arm} {name}: {_count(result)} more pairs ({_count(result)} of its sessions) to its decision "
            f"at its observed rates ({candidate.observed}); 95% within {result.p95:,}{timing}{stale}"
        )
    low, high = forecast.run_sessions
    control_low, control_high = forecast.control_pairs
    lines.append(
        f"expect   the run: {_span(low, high)} more sessions: each undecided candidate's own and the control's "
        f"{_span(control_low, control_high)} pairs until the last decides (at least the most any candidate needs, "
        "at most their sum and the cap)"
    )
    if measured is None:
        lines.append(NO_PACE_LINE)
        return lines
    rate, trials, span = measured
    lines.append(
        f"time     the run: about {_span(low / rate, high / rate, duration)} at the observed rates "
        f"({_pace_text(rate, trials, span)})"
    )
    return lines


NO_PACE_LINE = (
    f"time     unknown: no pace yet (fewer than {PACE_MIN_TRIALS} trials finished within {PACE_WINDOW_S:.0f} s of the "
    "newest)"
)


def _pace_text(rate: float, trials: int, span: float) -> str:
    return f"pace {rate:.3g} sessions/s: the last {trials} trials, over {duration(span)}"


def _span(low: float, high: float, text: Callable[[float], str] = lambda value: f"{value:,.0f}") -> str:
    """``low to high``, or one figure when both read the same."""
    return text(low) if text(low) == text(high) else f"{text(low)} to {text(high)}"


def _count(result: Remaining) -> str:
    """The expectation, or its range when the dropped mass leaves more than half a unit open."""
    if result.expected_at_most - result.expected >= 0.5:
        return f"{result.expected:,.0f} to {result.expected_at_most:,.0f}"
    return f"{result.expected:,.0f}"


def _sessions(result: Remaining, per_unit: int) -> str:
    return f"{result.expected * per_unit:,.0f} sessions" if per_unit > 1 else "as many sessions"


def duration(value: float) -> str:
    """``0.26 s``, ``45 s``, ``4 min 10 s``, ``2 h 05 min``."""
    if value < 9.95:
        return f"{value:.2g} s"
    whole = round(value)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
