"""The live view's forecast without pytest: the pace, the recomputation policy, a target run, the wording."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_agentopt.report.watch_forecast import Forecaster, Pace, duration, forecast_lines
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.stats.remaining import target_remaining
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest

SETTINGS = SequentialSettings(alpha=0.05, beta=0.10, delta=0.15)


def test_the_pace_is_the_trials_finished_per_second_over_the_recent_window() -> None:
    pace = Pace()
    assert pace.per_second() is None
    for second in (0, 1, 2, 4):
        pace.add(f"2026-12-05T10:00:0{second}.000Z")
    assert pace.per_second() is None  # four trials: not enough
    pace.add("2026-12-05T10:00:08.000Z")
    pace.add(None)  # a record without a stamp is left out
    assert pace.per_second() == pytest.approx((4 / 8, 5, 8.0))
    # A trial finished an hour later: the window keeps only what finished within five minutes of the newest.
    for second in range(5):
        pace.add(f"2026-12-05T11:00:0{second}.000Z")
    assert pace.per_second() == pytest.approx((4 / 4, 5, 4.0))


def _paired_feeder(wins: int, losses: int, ties: int) -> SequentialFeeder:
    test = PairedSequentialTest(SETTINGS, "both", design_for(0.05, 0.10, 0.15, "both"))
    for control, treated in [(False, True)] * wins + [(True, False)] * losses + [(False, False)] * ties:
        test.add_pair(control, treated)
    assert test.verdict is None
    return SequentialFeeder(paired_test=test, units=wins + losses + ties)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5  # every reading: half a second passes (the DP "costs" 0.5 s)
        return self.now


def test_the_forecast_is_recomputed_only_for_a_new_state_and_within_a_tenth_of_the_time() -> None:
    clock = FakeClock()
    forecaster = Forecaster(clock=clock)
    first = forecaster.forecast(_paired_feeder(3, 2, 5), 200)
    assert first is not None
    assert first.units == 10
    assert forecaster.forecast(_paired_feeder(3, 2, 5), 200) is first  # same state: not recomputed
    # A new state within ten times the last cost (0.5 s): the last forecast stays, and says from when it is.
    stale = forecaster.forecast(_paired_feeder(3, 2, 6), 200)
    assert stale is first
    lines = forecast_lines(stale, units_now=11, unit="pairs", pace=Pace(), reason="")
    assert lines[0].endswith("(from the test at 10 pairs)")
    clock.now += 5.0
    fresh = forecaster.forecast(_paired_feeder(3, 2, 6), 200)
    assert fresh is not None
    assert fresh.units == 11
    assert not forecast_lines(fresh, units_now=11, unit="pairs", pace=Pace(), reason="")[0].endswith("pairs)")
    # No pair in the test yet, or the cap reached: no forecast.
    assert Forecaster().forecast(SequentialFeeder(paired_test=_paired_feeder(0, 0, 0).paired_test), 200) is None
    assert Forecaster().forecast(_paired_feeder(3, 2, 5), 10) is None


def test_a_target_run_forecasts_scored_trials_one_session_each() -> None:
    test = TargetSequentialTest(0.8, SETTINGS)
    for success in (True, True, False, True):
        test.add_trial(success)
    feeder = SequentialFeeder(target_test=test, units=4)
    forecast = Forecaster().forecast(feeder, 100)
    assert forecast is not None
    expected = target_remaining(
        p0=test.p0, p1=test.p1, bounds=test.bounds, trials=4, successes=3, cap_trials=100, success_rate=0.75
    ).expected
    pace = Pace()
    for second in range(5):
        pace.add(f"2026-12-05T10:00:0{2 * second}.000Z")  # 4 trials in 8 s: 0.5 a second
    lines = forecast_lines(forecast, units_now=4, unit="scored trials", pace=pace, reason="")
    assert lines[0].startswith(
        f"expect   {expected:,.0f} more scored trials (as many sessions) to a decision at the observed rate "
        "(success 75%)"
    )
    assert lines[1].startswith("         under the hypotheses, the success rates of H0 and H1: at 0.65 ")
    assert lines[2].startswith(f"time     about {duration(expected / 0.5)} at the observed rate")


def test_durations_read_as_a_person_says_them() -> None:
    assert [duration(value) for value in (0.264, 9.94, 45.2, 250, 7500)] == [
        "0.26 s",
        "9.9 s",
        "45 s",
        "4 min 10 s",
        "2 h 05 min",
    ]


def test_the_live_view_module_imports_without_numpy() -> None:
    """The controller imports ``report.watch`` for the plan file's name in every run: the forecast's DP (numpy)
    loads only when a frame computes a forecast (numpy's import is about 0.2 s of every run's start-up)."""
    code = (
        "import sys; import pytest_agentopt.report.watch; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
