"""The live view's forecast without pytest: the pace, the recomputation policy, a target run, the wording."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import threading
import time
from copy import deepcopy
from typing import Any

import pytest

from pytest_agentopt.report.watch_forecast import (
    CandidateForecast,
    CandidatesForecast,
    Forecaster,
    Pace,
    Recomputer,
    candidate_forecast_lines,
    duration,
    forecast_lines,
)
from pytest_agentopt.run.candidates import candidate_feeders
from pytest_agentopt.run.feeding import Decision, SequentialFeeder
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.stats.extension import running_state
from pytest_agentopt.stats.remaining import Remaining, paired_remaining, target_remaining
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


def _candidates(pairs: dict[str, tuple[int, int, int]]) -> dict[str, SequentialFeeder]:
    """Three candidates' feeders as a run builds them (alpha / 3 each), with ``(wins, losses, ties)`` fed to each."""
    feeders = candidate_feeders(["a1", "a2", "a3"], alpha=0.05, beta=0.10, effect=0.15, direction="both").feeders
    for arm, (wins, losses, ties) in pairs.items():
        test = feeders[arm].paired_test
        assert test is not None
        for control, treated in [(False, True)] * wins + [(True, False)] * losses + [(False, False)] * ties:
            test.add_pair(control, treated)
        assert test.verdict is None
        feeders[arm].units = wins + losses + ties
    return feeders


def _brute_force_further_pairs(test: Any, cap_pairs: int, rates: tuple[float, float, float]) -> float:
    """E[further pairs] by playing every sequence of the remaining pairs on copies of the live test."""
    expected = 0.0
    outcomes = ((rates[0], (True, False)), (rates[1], (False, False)), (rates[2], (False, True)))
    for path in itertools.product(outcomes, repeat=cap_pairs):
        copy = deepcopy(test)
        probability = math.prod(p for p, _ in path)
        for step, (_, (control, treated)) in enumerate(path, start=1):
            copy.add_pair(control, treated)
            if copy.verdict is not None or step == cap_pairs:
                expected += probability * step
                break
    return expected


def test_each_undecided_candidate_is_forecast_by_the_dp_at_its_own_alpha_over_k_design() -> None:
    feeders = _candidates({"a1": (9, 1, 2), "a2": (3, 3, 6), "a3": (1, 8, 3)})
    forecast = Forecaster().candidates(feeders, 4)
    assert forecast is not None
    assert forecast.units == 12
    assert forecast.cap_pairs == 4
    assert set(forecast.candidates) == {"a1", "a2", "a3"}
    for arm, feeder in feeders.items():
        test: Any = feeder.paired_test
        assert test.design.bounds == design_for(0.05 / 3, 0.10, 0.15, "both").bounds  # alpha / K
        rates = (test.losses / 12, test.ties / 12, test.wins / 12)
        (reference,) = paired_remaining(
            test.design,
            wins=test.wins,
            losses=test.losses,
            ties=test.ties,
            state=running_state("both", dict(test.states)),
            cap_pairs=16,
            distributions=[rates],
        )
        assert forecast.candidates[arm].remaining == reference
        # exact on the small cap: every sequence of the four remaining pairs played on the live test
        exact = _brute_force_further_pairs(test, 4, rates)
        assert reference.expected - 1e-12 <= exact <= reference.expected_at_most + 1e-12
        assert reference.expected_at_most - reference.expected <= 0.05  # the DP's stated tolerance


def test_the_control_runs_until_the_last_candidate_decides_within_exact_bounds() -> None:
    def remaining(expected: float, slack: float = 0.0) -> Remaining:
        return Remaining(expected=expected, to_cap=40, reaches_cap=0.0, p95=40, dropped=0.0, slack=slack)

    def forecast(*results: Remaining, cap: int = 40) -> CandidatesForecast:
        candidates = {f"a{i}": CandidateForecast(10, "", result) for i, result in enumerate(results)}
        return CandidatesForecast(units=10, candidates=candidates, cap_pairs=cap)

    # E[max] lies between the largest expectation and their sum...
    assert forecast(remaining(10.0), remaining(25.0)).control_pairs == (25.0, 35.0)
    assert forecast(remaining(10.0), remaining(25.0)).run_sessions == (35.0 + 25.0, 35.0 + 35.0)
    # ...and the pairs left to the cap; the dropped mass counts as running to the cap above
    assert forecast(remaining(10.0, slack=1.0), remaining(25.0), cap=30).control_pairs == (25.0, 30.0)
    assert forecast(remaining(10.0, slack=1.0), remaining(25.0), cap=30).run_sessions == (60.0, 66.0)
    # one candidate left: the control needs exactly what it needs
    assert forecast(remaining(12.5)).control_pairs == (12.5, 12.5)
    # N1 uniform on {1, 2} and N2 uniform on {1, 3}, independent: E[max] = (1 + 3 + 2 + 3) / 4 = 2.25
    assert forecast(remaining(1.5), remaining(2.0)).control_pairs == (2.0, 3.5)


def test_a_decided_candidate_says_decided_and_the_others_get_pairs_sessions_and_time() -> None:
    feeders = _candidates({"a1": (9, 1, 2), "a3": (1, 8, 3)})
    feeders["a2"].decision = Decision(verdict="better", seq=30, units=10)
    forecast = Forecaster().candidates(feeders, 60)
    assert forecast is not None
    assert set(forecast.candidates) == {"a1", "a3"}
    pace = Pace()
    for second in range(5):
        pace.add(f"2026-12-05T10:00:0{2 * second}.000Z")  # 4 sessions in 8 s: 0.5 a second
    names = {"a1": "exp_1", "a2": "exp_2", "a3": "exp_3"}
    lines = candidate_forecast_lines(forecast, names=names, decided={"a2": "better"}, units_now=12, pace=pace)
    a1, a3 = forecast.candidates["a1"].remaining, forecast.candidates["a3"].remaining
    # two undecided: a pair costs 2 sessions once the other has decided, 3 while it runs
    assert lines[0] == (
        f"expect   a1 exp_1: {a1.expected:,.0f} more pairs ({a1.expected:,.0f} of its sessions) to its decision at "
        f"its observed rates (wins 75%, losses 8%, ties 17%); 95% within {a1.p95:,}; about "
        f"{duration(a1.expected * 2 / 0.5)} to {duration(a1.expected * 3 / 0.5)}"
    )
    assert lines[1] == "expect   a2 exp_2: decided BETTER"
    assert lines[2].startswith(f"expect   a3 exp_3: {a3.expected:,.0f} more pairs")
    low, high = forecast.run_sessions
    assert round(low) < round(high)
    assert lines[3].startswith(f"expect   the run: {low:,.0f} to {high:,.0f} more sessions: ")
    assert lines[4].startswith(f"time     the run: about {duration(low / 0.5)} to {duration(high / 0.5)} ")
    # a forecast made at fewer pairs says so
    stale = candidate_forecast_lines(forecast, names=names, decided={"a2": "better"}, units_now=13, pace=Pace())
    assert stale[0].endswith("(from the tests at 12 pairs)")
    assert stale[-1].startswith("time     unknown: no pace yet")


def test_no_candidate_forecast_before_every_undecided_candidate_has_a_pair() -> None:
    feeders = _candidates({"a1": (1, 0, 0), "a2": (0, 1, 0)})
    assert Forecaster().candidates(feeders, 10) is None  # a3 has no pair yet
    assert Forecaster().candidates(_candidates({"a1": (1, 0, 0), "a2": (1, 0, 0), "a3": (0, 0, 1)}), 0) is None


def test_in_the_background_a_frame_never_waits_for_the_forecast() -> None:
    release = threading.Event()
    recomputer: Recomputer[str] = Recomputer(time.monotonic, background=True)

    def job() -> str:
        release.wait(timeout=60)
        return "forecast"

    assert recomputer.get("state 1", job) is None  # returns at once: the job runs in a thread
    assert recomputer.computing_for is not None
    assert recomputer.get("state 2", job) is None  # one job at a time: a new state waits for the running one
    release.set()
    recomputer.wait()
    assert recomputer.computing_for is None
    assert recomputer.last == "forecast"
    assert recomputer.get("state 1", job) == "forecast"  # same state: not recomputed


def test_a_background_job_that_fails_fails_the_viewer_not_silently() -> None:
    recomputer: Recomputer[str] = Recomputer(time.monotonic, background=True)

    def job() -> str:
        raise ValueError("the DP failed")

    recomputer.get("state", job)
    with pytest.raises(ValueError, match="the DP failed"):
        recomputer.wait()
