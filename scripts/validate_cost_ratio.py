"""Seeded validation of the paired cost ratio's confidence sequence: coverage at the stop and at every time.

Run ``python scripts/validate_cost_ratio.py --help``; ``docs/cost-ratio-validation.md`` holds the latest output and
what it means. Not part of the default test suite (a few minutes of CPU); ``tests/unit/test_cost_ratio.py``
runs its core on a small configuration.

What is simulated, and what is the real code
--------------------------------------------
A suite of ``tasks`` tasks, drawn afresh for every simulated run. Task ``j`` has

- a difficulty ``u_j ~ N(0, 1)`` on the logit scale: control solves it with probability ``expit(logit(0.60) + u_j)``
  and test with ``expit(logit(0.75) + u_j)``, so the sequential test stops at a data-dependent time;
- a cost level ``a_j ~ N(log $0.003, 1)`` shared by both arms, and a task-specific shift of the log ratio
  ``b_j ~ N(0, task_spread^2)`` (a model swap helps some tasks more than others).

A trial's cost is lognormal: ``log cost = a_j + [log ratio + b_j for the test arm] + noise * Z``, times
``failure_factor`` (3) when the trial fails (failures run into turn limits, so the cost is tied to the outcome that
drives the stop), times ``runaway_factor`` (10) with probability ``runaway`` (an agent looping): a skewed,
heavy-tailed cost with no upper bound.

The true median of the per-pair log ratio for the suite drawn (the mixture over the tasks, the outcomes and the
runaways, each a normal with variance ``2 noise^2``) is found by root finding: that is the estimand the interval
must cover.

The real code: ``plan.build_plan`` orders the pairs (trial-major rounds, tasks shuffled per round: draws without
replacement within a round, not independent draws), ``stats.sprt.PairedSequentialTest`` decides when the run stops
(alpha 0.05, beta 0.10, effect 0.15, both directions, cap ``trials`` per task), and ``cost_ratio.paired_cost_ratio``
/ ``stats.median_cs.median_confidence_path`` give the interval.

Two error rates per scenario, each with its Monte Carlo standard error:

- *at the stop*: the interval reported when the sequential test decided (or at the cap) excludes the true median;
- *at any time*: the running intersection excluded the true median at some time up to the cap, which bounds the
  error at every stopping rule at once (time-uniform coverage).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import brentq
from scipy.special import expit, logit, ndtr
from tabulate import tabulate

from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.stats.cost_ratio import paired_cost_ratio
from pytest_agentopt.stats.median_cs import median_confidence_path
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

FloatArray = npt.NDArray[np.float64]

ALPHA = 0.05
P_CONTROL, P_TEST = 0.60, 0.75
MEAN_COST = 0.003
FAILURE_FACTOR = 3.0
RUNAWAY_FACTOR = 10.0


@dataclass(frozen=True)
class Scenario:
    ratio: float
    """The typical cost ratio test / control (the median of the per-pair ratio without task spread)."""
    noise: float
    """Standard deviation of a trial's log cost."""
    task_spread: float
    """Standard deviation of the task-specific shift of the log ratio."""
    runaway: float
    """Probability that a trial costs ``RUNAWAY_FACTOR`` times more."""

    @property
    def label(self) -> str:
        return f"{self.ratio:g}x, noise {self.noise:g}, task spread {self.task_spread:g}, runaway {self.runaway:g}"


@dataclass(frozen=True)
class Config:
    runs: int
    seed: int
    tasks: int
    trials: int
    scenarios: tuple[Scenario, ...]
    processes: int


@dataclass(frozen=True)
class RunResult:
    pairs_at_stop: int
    missed_at_stop: bool
    missed_any_time: bool
    width_at_stop: float
    """upper / lower ratio of the interval at the stop (inf when unbounded)."""


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    runs: int
    missed_at_stop: int
    missed_any_time: int
    mean_pairs: float
    median_width: float

    def rate(self, misses: int) -> tuple[float, float]:
        p = misses / self.runs
        return p, math.sqrt(max(p * (1 - p), 1e-12) / self.runs)


def _true_median(means: FloatArray, weights: FloatArray, scale: float) -> float:
    """The median of the mixture sum_i weights_i N(means_i, scale^2) (weights sum to 1)."""

    def cdf_minus_half(m: float) -> float:
        return float(np.sum(weights * ndtr((m - means) / scale))) - 0.5

    lo, hi = float(means.min()) - 10 * scale, float(means.max()) + 10 * scale
    return float(brentq(cdf_minus_half, lo, hi, xtol=1e-12))


def simulate_run(scenario: Scenario, tasks: int, trials: int, seed: int) -> RunResult:
    """One simulated run (module doc): the pairs in planned order, the stop, and the interval's misses."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, tasks)
    level = rng.normal(math.log(MEAN_COST), 1.0, tasks)
    shift = math.log(scenario.ratio) + rng.normal(0.0, scenario.task_spread, tasks)
    p_control = expit(logit(P_CONTROL) + difficulty)
    p_test = expit(logit(P_TEST) + difficulty)

    # The truth: per task, the log ratio is shift + log(ff) (f_t - f_c) + log(rf) (r_t - r_c) + noise (Z_t - Z_c).
    means: list[FloatArray] = []
    weights: list[FloatArray] = []
    log_ff, log_rf, q = math.log(FAILURE_FACTOR), math.log(RUNAWAY_FACTOR), scenario.runaway
    for fail_c in (0, 1):
        for fail_t in (0, 1):
            for run_c in (0, 1):
                for run_t in (0, 1):
                    w_outcome = (p_control if not fail_c else 1 - p_control) * (p_test if not fail_t else 1 - p_test)
                    w_runaway = (q if run_c else 1 - q) * (q if run_t else 1 - q)
                    means.append(shift + log_ff * (fail_t - fail_c) + log_rf * (run_t - run_c))
                    weights.append(w_outcome * w_runaway / tasks)
    truth = _true_median(np.concatenate(means), np.concatenate(weights), scenario.noise * math.sqrt(2.0))

    plan = build_plan([f"t{j:03d}" for j in range(tasks)], ARMS_AB, trials, seed)
    order = [(int(entry.task_id[1:]), entry.trial) for entry in plan if entry.arm == "control"]
    n = len(order)
    task = np.array([j for j, _ in order])
    u = rng.random((n, 2))
    solved_control = u[:, 0] < p_control[task]
    solved_test = u[:, 1] < p_test[task]
    runaway = rng.random((n, 2)) < q
    noise = rng.normal(0.0, scenario.noise, (n, 2))
    log_control = level[task] + noise[:, 0] + log_ff * ~solved_control + log_rf * runaway[:, 0]
    log_test = level[task] + shift[task] + noise[:, 1] + log_ff * ~solved_test + log_rf * runaway[:, 1]
    control_cost, test_cost = np.exp(log_control), np.exp(log_test)

    test = PairedSequentialTest(SequentialSettings(alpha=ALPHA, beta=0.10, delta=0.15))
    stop = n
    for index in range(n):
        test.add_pair(bool(solved_control[index]), bool(solved_test[index]))
        if test.verdict is not None:
            stop = index + 1
            break
    reported = paired_cost_ratio(list(zip(control_cost[:stop], test_cost[:stop], strict=True)), ALPHA)
    assert reported is not None
    true_ratio = math.exp(truth)
    lower, upper = reported["lower"], reported["upper"]
    missed_at_stop = lower is not None and not (lower <= true_ratio <= (upper if upper is not None else math.inf))
    lowers, uppers = median_confidence_path(list(np.log(test_cost / control_cost)), ALPHA)
    missed_any_time = not lowers[-1] <= truth <= uppers[-1]
    width = upper / lower if lower and upper is not None else math.inf
    return RunResult(stop, missed_at_stop, missed_any_time, width)


def _scenario_job(job: tuple[Scenario, int, int, int, int]) -> ScenarioResult:
    scenario, runs, tasks, trials, seed = job
    results = [simulate_run(scenario, tasks, trials, seed * 1_000_003 + index) for index in range(runs)]
    return ScenarioResult(
        scenario=scenario,
        runs=runs,
        missed_at_stop=sum(result.missed_at_stop for result in results),
        missed_any_time=sum(result.missed_any_time for result in results),
        mean_pairs=float(np.mean([result.pairs_at_stop for result in results])),
        median_width=float(np.median([result.width_at_stop for result in results])),
    )


def run_validation(config: Config) -> list[ScenarioResult]:
    jobs = [
        (scenario, config.runs, config.tasks, config.trials, config.seed + 7919 * index)
        for index, scenario in enumerate(config.scenarios)
    ]
    if config.processes <= 1:
        return [_scenario_job(job) for job in jobs]
    with multiprocessing.Pool(config.processes) as pool:
        return pool.map(_scenario_job, jobs)


def binomial_limit(runs: int, rate: float = ALPHA, tail: float = 1e-3) -> int:
    """The largest miss count still consistent with an error rate of ``rate`` (upper tail ``tail``)."""
    from scipy.stats import binom

    return int(binom.ppf(1.0 - tail, runs, rate))


def render_report(results: Sequence[ScenarioResult], config: Config, seconds: float, command: str) -> list[str]:
    rows = []
    failures = 0
    for result in results:
        stop, stop_se = result.rate(result.missed_at_stop)
        anytime, anytime_se = result.rate(result.missed_any_time)
        limit = binomial_limit(result.runs)
        ok = result.missed_at_stop <= limit and result.missed_any_time <= limit
        failures += not ok
        rows.append(
            [
                result.scenario.label,
                f"{stop:.4f} ({stop_se:.4f})",
                f"{anytime:.4f} ({anytime_se:.4f})",
                f"{result.mean_pairs:.1f}",
                f"{result.median_width:.2f}",
                "PASS" if ok else "FAIL",
            ]
        )
    headers = ["scenario", "missed at the stop (SE)", "missed at any time (SE)", "mean pairs", "median width", "check"]
    return [
        f"command: {command}",
        f"{config.runs} runs per scenario, {config.tasks} tasks, cap {config.trials} trials per task "
        f"({config.tasks * config.trials} pairs), seed {config.seed}, alpha {ALPHA:g}",
        "",
        *tabulate(rows, headers=headers, tablefmt="github").splitlines(),
        "",
        f"check: both miss counts at most {binomial_limit(config.runs)} of {config.runs} (the 0.999 quantile of "
        f"Binomial({config.runs}, {ALPHA:g})); {len(results) - failures} of {len(results)} scenarios pass",
        f"median width: upper / lower limit of the reported interval at the stop; took {seconds:.0f} s",
    ]


DEFAULT_SCENARIOS = tuple(
    Scenario(ratio, noise, spread, runaway)
    for ratio in (1.0, 3.0, 10.0, 30.0, 100.0)
    for noise, spread, runaway in ((0.5, 0.0, 0.0), (1.0, 1.0, 0.05))
)


def parse_args(argv: Sequence[str]) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=2000, help="simulated runs per scenario (default 2000)")
    parser.add_argument("--seed", type=int, default=20240601, help="master seed (default 20240601)")
    parser.add_argument("--tasks", type=int, default=24, help="tasks in the suite (default 24)")
    parser.add_argument("--trials", type=int, default=20, help="cap: trials per task per arm (default 20)")
    parser.add_argument("--processes", type=int, default=1, help="simulation processes (default 1)")
    args = parser.parse_args(argv)
    return Config(args.runs, args.seed, args.tasks, args.trials, DEFAULT_SCENARIOS, args.processes)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    config = parse_args(arguments)
    started = time.perf_counter()
    results = run_validation(config)
    command = shlex.join(["python", "scripts/validate_cost_ratio.py", *arguments])
    for line in render_report(results, config, time.perf_counter() - started, command):
        print(line)
    limit = binomial_limit(config.runs)
    return 0 if all(r.missed_at_stop <= limit and r.missed_any_time <= limit for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
