"""The live view's forecast: how many more sessions and how much longer until the sequential test decides.

Two parts, each with the assumption it is made under:

* **the further pairs (or scored trials)** to a decision, from the test's current state (its counts and which
  one-sided tests still run) to its cap, by the exact forward DP of ``stats.remaining``: expected at the observed
  rates (the plug-in estimate of a pair's distribution, or of the success rate), and under the test's hypotheses
  (no difference, a difference of the effect either way, at the observed discordance; or the target's two rates).
  Sessions are pairs x 2 (both arms run every pair) or one per trial against a target. The DP costs seconds of CPU
  from an early state of the shipped design, so :class:`Forecaster` recomputes it only when the test's
  state has changed, and no sooner than nine times its last cost after it (at most a tenth of the viewer's time);
  in between the frame shows the last forecast with the pairs it was made at.
* **the time**: the expected sessions divided by the pace, the sessions finished per second over the recent
  window of the ledger's ``finished_at`` stamps (:class:`Pace`); ``unknown`` until that window holds enough.

The counts that enter the test are those the controller feeds (the viewer rebuilds the test from the ledger), so
the forecast is the controller's test's. Trials started beyond the decision point under xdist's look-ahead (see
``docs/lookahead.md``) are not counted: they are a bounded extra.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentopt.run.feeding import SequentialFeeder
    from pytest_agentopt.stats.remaining import Remaining

__all__ = ["Forecast", "Forecaster", "Pace", "duration", "forecast_lines"]

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


@dataclass
class Forecaster:
    """Recomputes the forecast when the test's state changed, within :data:`COST_SHARE` of the viewer's time."""

    clock: Callable[[], float] = time.monotonic
    last: Forecast | None = None
    _key: tuple[object, ...] | None = None
    _not_before: float = -math.inf

    def forecast(self, feeder: SequentialFeeder, cap_units: int) -> Forecast | None:
        """The forecast for the feeder's test with the test ending after ``cap_units`` units in all."""
        key = _state_key(feeder, cap_units)
        if key is None:
            return None
        if key == self._key or self.clock() < self._not_before:
            return self.last
        started = self.clock()
        self.last = _compute(feeder, cap_units)
        self._key = key
        self._not_before = started + (self.clock() - started) / COST_SHARE
        return self.last


def _state_key(feeder: SequentialFeeder, cap_units: int) -> tuple[object, ...] | None:
    if feeder.decision is not None or feeder.units == 0 or cap_units <= feeder.units:
        return None
    if feeder.paired_test is not None:
        test = feeder.paired_test
        return (test.wins, test.losses, test.ties, tuple(sorted(test.states.items())), cap_units)
    if feeder.target_test is not None:
        target = feeder.target_test
        return (target.trials, target.successes, cap_units)
    return None


def _compute(feeder: SequentialFeeder, cap_units: int) -> Forecast | None:
    # numpy and the DP only when a frame needs a forecast: the controller imports this module's caller for a
    # constant (``report.watch.PLAN_FILE``), and numpy costs every run a fifth of a second.
    from pytest_agentopt.number_format import pct
    from pytest_agentopt.stats.remaining import paired_remaining, target_remaining

    if feeder.paired_test is not None:
        from pytest_agentopt.stats.extension import running_state

        test = feeder.paired_test
        design = test.design
        wins, losses, ties = test.wins, test.losses, test.ties
        pairs = wins + losses + ties
        discordance = (wins + losses) / pairs
        effect = design.delta
        with_effect = max(discordance, effect)
        assumptions: list[tuple[str, tuple[float, float, float]]] = [
            ("at the observed rates", (losses / pairs, ties / pairs, wins / pairs)),
            ("no difference", (discordance / 2, 1.0 - discordance, discordance / 2)),
        ]
        if design.direction != "worse":
            better = ((with_effect - effect) / 2, 1.0 - with_effect, (with_effect + effect) / 2)
            assumptions.append((f"better by {effect:g}", better))
        if design.direction != "better":
            worse = ((with_effect + effect) / 2, 1.0 - with_effect, (with_effect - effect) / 2)
            assumptions.append((f"worse by {effect:g}", worse))
        results = paired_remaining(
            design,
            wins=wins,
            losses=losses,
            ties=ties,
            state=running_state(design.direction, dict(test.states)),
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
    target = feeder.target_test
    if target is None:
        return None
    trials, successes, p0, p1 = target.trials, target.successes, target.p0, target.p1
    rates = (("at the observed rate", successes / trials), (f"at {p0:g}", p0), (f"at {p1:g}", p1))
    figures = tuple(
        (
            label,
            target_remaining(
                p0=p0,
                p1=p1,
                bounds=target.bounds,
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
        lines.append(
            f"time     unknown: no pace yet (fewer than {PACE_MIN_TRIALS} trials finished within "
            f"{PACE_WINDOW_S:.0f} s of the newest)"
        )
        return lines
    rate, trials, span = measured
    expected = [result.expected * per / rate for _, result in forecast.figures]
    lines.append(
        f"time     about {duration(expected[0])} {label}, {duration(min(expected[1:]))} to "
        f"{duration(max(expected[1:]))} under the hypotheses (pace {rate:.3g} sessions/s: the last {trials} trials, "
        f"over {duration(span)})"
    )
    return lines


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
