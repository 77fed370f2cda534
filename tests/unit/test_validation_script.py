"""Smoke test of scripts/validate_sequential.py: a tiny configuration, its structure and its invariants.

The full validation (thousands of runs) is not part of the suite; its output lives in docs/validation.md.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pytest_agentopt.run.dispatch import default_window
from scripts.validate_sequential import (
    INCONCLUSIVE,
    Estimate,
    PairedReference,
    PairedScenario,
    SuiteModel,
    TargetReference,
    TargetScenario,
    ValidationConfig,
    ValidationReport,
    arm_intercept,
    parse_args,
    render_report,
    run_validation,
)

WORKERS = (1, 3)
RUNS = 40
SMOKE = ValidationConfig(
    runs=RUNS,
    seed=11,
    workers=WORKERS,
    processes=1,
    suite=SuiteModel(tasks=12, trials_per_task=8),
    paired=(PairedScenario(0.60, 0.60, 0.0), PairedScenario(0.60, 0.75, 2.0)),
    target_single=(TargetScenario(0.95, 0.80), TargetScenario(0.95, 0.95)),
    target_parallel=(TargetScenario(0.65, 0.50),),
)
# The probability that a correct implementation falls outside the checked binomial interval, per check.
TAIL = 1e-4
_ZERO = Estimate(0.0, 0.0)


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return run_validation(SMOKE)


def test_it_reports_every_scenario_for_every_worker_count_and_ordering(report: ValidationReport) -> None:
    assert [result.scenario for result in report.paired] == list(SMOKE.paired)
    assert [result.scenario for result in report.target_single] == list(SMOKE.target_single)
    assert [result.scenario for result in report.target_parallel] == list(SMOKE.target_parallel)
    parallel_keys = {(1, "planned"), (3, "planned"), (3, "completion")}
    for result in [*report.paired, *report.target_parallel]:
        assert set(result.scheduled) == parallel_keys
    for result in report.target_single:
        assert set(result.scheduled) == {(1, "planned")}


def test_its_verdict_rates_are_distributions_over_all_runs(report: ValidationReport) -> None:
    for result in [*report.paired, *report.target_single, *report.target_parallel]:
        for summary in [result.reference_run, *result.scheduled.values()]:
            assert summary.runs == RUNS
            rates = [estimate.value for estimate in summary.verdicts.values()]
            assert all(0.0 <= rate <= 1.0 for rate in rates)
            assert math.isclose(sum(rates), 1.0)
            assert INCONCLUSIVE in summary.verdicts


def test_planned_prefix_decisions_never_depend_on_the_number_of_workers(report: ValidationReport) -> None:
    for result in [*report.paired, *report.target_single, *report.target_parallel]:
        for (_, ordering), summary in result.scheduled.items():
            if ordering == "planned":
                assert summary.same_as_reference == 1.0


def test_sessions_started_beyond_the_decision_stay_within_the_dispatch_window(report: ValidationReport) -> None:
    # Every item started before the decision lies below the lowest unfinished one plus the window, and the
    # decision is at or after that lowest item: at most window - 1 sessions beyond those that were used.
    for result in [*report.paired, *report.target_parallel]:
        for (workers, ordering), summary in result.scheduled.items():
            assert summary.excess.value >= 0.0
            if ordering == "planned":
                assert summary.excess_max <= default_window(workers) - 1


def _binomial_interval(probability: float, runs: int) -> tuple[float, float]:
    """The central range of Binomial(runs, probability) / runs leaving at most TAIL / 2 out on each side."""
    pmf = [math.comb(runs, k) * probability**k * (1.0 - probability) ** (runs - k) for k in range(runs + 1)]
    low = next(k for k in range(runs + 1) if sum(pmf[: k + 1]) > TAIL / 2)
    high = next(k for k in range(runs, -1, -1) if sum(pmf[k:]) > TAIL / 2)
    return low / runs, high / runs


def test_its_simulated_error_rates_agree_with_the_exact_dp(report: ValidationReport) -> None:
    # Without task spread the simulated pairs (and target trials) are i.i.d., the DP's model, truncated at the
    # same cap; so the simulated rate is Binomial(RUNS, exact) / RUNS and must lie in its central 1 - TAIL range.
    paired_h0 = report.paired[0]
    exact = paired_h0.exact
    assert isinstance(exact, PairedReference)
    summary = paired_h0.scheduled[(3, "planned")]
    for verdict, probability in (("better", exact.better), ("worse", exact.worse), (INCONCLUSIVE, exact.undecided)):
        low, high = _binomial_interval(probability, RUNS)
        assert low <= summary.verdicts.get(verdict, _ZERO).value <= high, verdict
    for result in report.target_single:
        target = result.exact
        assert isinstance(target, TargetReference)
        observed = result.scheduled[(1, "planned")].verdicts.get("meets_target", _ZERO).value
        low, high = _binomial_interval(target.accept_h1, RUNS)
        assert low <= observed <= high


def test_its_simulated_pairs_used_agree_with_the_exact_dp(report: ValidationReport) -> None:
    # The mean of RUNS i.i.d. stopping times: 5 standard errors (normal approximation; the stopping time is
    # bounded by the cap, so its mean is close to normal already at 40 runs) leaves a negligible false alarm.
    paired_h0 = report.paired[0]
    exact = paired_h0.exact
    assert isinstance(exact, PairedReference)
    units = paired_h0.scheduled[(1, "planned")].units
    assert abs(units.value - exact.asn) <= 5 * units.standard_error


def test_it_renders_a_table_per_scenario_and_a_line_per_check(report: ValidationReport) -> None:
    text = render_report(report, "python scripts/validate_sequential.py --runs 40")
    assert "Command: `python scripts/validate_sequential.py --runs 40`" in text
    for heading in ("## 1. Paired test", "## 2. Planned-prefix order vs completion order", "## 3. One config"):
        assert heading in text
    check_lines = [line for line in text.splitlines() if line.startswith(("- PASS: ", "- FAIL: "))]
    assert len(check_lines) == len(report.checks) > 0


def test_its_acceptance_checks_include_the_worker_independence_check(report: ValidationReport) -> None:
    names = {check.name: check.passed for check in report.checks}
    assert names["planned-prefix decisions identical to the unscheduled run for every worker count"]


def test_its_calibration_gives_the_stated_marginal_success_rate() -> None:
    # E[expit(c + 2 Z)] by Monte Carlo with 200,000 draws: standard error <= 0.5 / sqrt(200,000) ~ 0.0011;
    # 0.005 is more than 4 standard errors.
    draws = np.random.default_rng(3).normal(0.0, 2.0, 200_000)
    for rate in (0.60, 0.75):
        marginal = float(np.mean(1.0 / (1.0 + np.exp(-(arm_intercept(rate, 2.0) + draws)))))
        assert abs(marginal - rate) < 0.005


def test_its_command_line_reads_the_worker_counts() -> None:
    config = parse_args(["--runs", "10", "--seed", "5", "--workers", "8,4", "--processes", "1"])
    assert (config.runs, config.seed, config.workers, config.processes) == (10, 5, (4, 8), 1)


def test_its_command_line_rejects_zero_workers() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--workers", "0,4"])


def test_it_runs_the_design_the_plugin_runs_with_the_cap_the_plugin_derives() -> None:
    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.shell.trial_expansion import trials_for
    from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest
    from pytest_agentopt.stats.target_design import target_design
    from scripts.validate_sequential import cap_trials, new_feeder

    settings = SequentialSettings()
    suite = SuiteModel(tasks=24)  # no --trials-per-task: the derived cap
    paired, target = PairedScenario(0.60, 0.60, 0.0), TargetScenario(0.65, 0.50)
    design = design_for(settings.alpha, settings.beta, settings.delta, "both")
    assert design.source == "calibrated"
    assert design.required_pairs is not None
    assert cap_trials(paired, suite, settings) == trials_for(design.required_pairs, 24)
    one_sample = target_design(0.65, settings.alpha, settings.beta, settings.delta)
    assert one_sample.required_trials is not None
    assert cap_trials(target, suite, settings) == trials_for(one_sample.required_trials, 24)
    assert cap_trials(paired, SuiteModel(tasks=24, trials_per_task=5), settings) == 5

    feeder = new_feeder(paired, settings, plan_size=4)
    assert isinstance(feeder.paired_test, PairedSequentialTest)
    assert feeder.paired_test.design == design  # the same table, built once per process
    target_feeder = new_feeder(target, settings, plan_size=6)
    assert isinstance(target_feeder.target_test, TargetSequentialTest)
    assert target_feeder.target_test.design is one_sample
    # The plan's last item asks the test for its last look: 6 successes (below Wald's bound) decide at the cap.
    for seq in range(6):
        target_feeder.add(seq, task_id=f"t{seq}", arm="test", trial=0, outcome="success")
    assert target_feeder.decision is not None
    assert target_feeder.decision.at_cap
    assert target_feeder.decision.verdict == "meets_target"
