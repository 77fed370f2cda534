"""Seeded validation of the pull-request gate as it ships: default settings on a 10-task suite, 8 workers.

Run ``python scripts/validate_gate.py`` (``--runs 500`` for a quick look); ``docs/validation.md`` ("The PR gate
with the default settings") holds the latest output and what it means. Not part of the test suite (minutes of
CPU); ``tests/unit/test_validation_script.py`` runs it on a tiny configuration.

What runs is the plugin's code, as in ``validate_sequential.py`` (whose simulated workers, durations and event
loop this reuses): ``plan.build_plan``, ``dispatch.TrialDispatcher`` with its default window, ``sequential.
SequentialFeeder`` (planned prefix, and the last look once the whole plan is committed), and
``stats.sprt.PairedSequentialTest`` with the design the plugin builds (``run.sequential_design.design_for``):
the default gate asks ``worse`` (the question a paired ``--sprt`` run asks in CI), with boundaries calibrated over the
discordance and the cap the plugin derives without ``--agent-trials`` (``trial_expansion.trials_for``).

Scenarios: control at 0.60; no change (test at 0.60) and a regression of 0.15 (test at 0.45); task difficulty
spread sigma 0 and 2 on the logit scale; failures 3 times slower than successes. With sigma = 2 a regression of
0.15 is defined two ways: on *this suite* (each simulated suite's own success rates are 0.60 and 0.45: the
question a gate answers about the suite it runs), and in the *population* of tasks (the marginal rates are 0.60
and 0.45, so a 10-task suite's own drop varies around 0.15 from run to run). The two-sided test (``both``, the
default outside CI) is also run under no change, for its average number of pairs.

Reference figures: the exact DP of the same design at the scenario's pair distribution, treating pairs as
independent (``stats.gsprt_dp``), and the lower bound on the average number of pairs of any one-sided test
(``stats.planning``).
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tabulate import tabulate

if __package__ in (None, ""):  # run as ``python scripts/validate_gate.py``: make ``scripts`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.shell.trial_expansion import trials_for
from pytest_agentopt.stats.gsprt_dp import lattice_dp
from pytest_agentopt.stats.planning import asn_lower_bounds_trinomial, paired_outcome_probabilities
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.stats.wald import Direction
from scripts.validate_sequential import (
    DrawnRun,
    Estimate,
    _expit,
    arm_intercept,
    mean_of,
    planned_order_reference,
    proportion,
    simulate_scheduled,
)

WORKERS = 8
TASKS = 10
FAILURE_SLOWDOWN = 3.0
CONTROL = 0.60
EFFECT = 0.15
PASS_LIMIT = 0.95
FAIL_LIMIT = 0.90
ASN_TARGET = 0.08


@dataclass(frozen=True)
class Scenario:
    direction: Direction
    p_test: float
    sigma: float
    suite_effect: bool
    """Calibrate each simulated suite so that its own rates are exactly the stated ones (sigma > 0 only)."""

    @property
    def label(self) -> str:
        truth = "no change" if self.p_test == CONTROL else f"regression {self.p_test - CONTROL:+.2f}"
        where = "" if self.sigma == 0 else (", on this suite" if self.suite_effect else ", in the population")
        return f"{self.direction}: {truth}, sigma {self.sigma:g}{where}"


SCENARIOS = (
    Scenario("worse", 0.60, 0.0, False),
    Scenario("worse", 0.45, 0.0, False),
    Scenario("worse", 0.60, 2.0, False),
    Scenario("worse", 0.45, 2.0, True),
    Scenario("worse", 0.45, 2.0, False),
    Scenario("both", 0.60, 0.0, False),
    Scenario("both", 0.60, 2.0, False),
)


def suite_intercept(rate: float, difficulty: np.ndarray) -> float:
    """The intercept c with mean over the suite's tasks of expit(c + u_t) equal to ``rate`` (bisection)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        middle = (low + high) / 2.0
        if float(_expit(middle + difficulty).mean()) < rate:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def draw(rng: np.random.Generator, scenario: Scenario, trials: int) -> DrawnRun:
    task_ids = [f"task{index:02d}" for index in range(TASKS)]
    plan = build_plan(task_ids, ARMS_AB, trials, seed=int(rng.integers(2**62)))
    difficulty = rng.normal(0.0, scenario.sigma, TASKS) if scenario.sigma > 0 else np.zeros(TASKS)
    rates = {"control": CONTROL, "test": scenario.p_test}
    if scenario.suite_effect:
        intercepts = {arm: suite_intercept(rate, difficulty) for arm, rate in rates.items()}
    else:
        intercepts = {arm: arm_intercept(rate, scenario.sigma) for arm, rate in rates.items()}
    index = {task_id: position for position, task_id in enumerate(task_ids)}
    logits = np.array([intercepts[trial.arm] + difficulty[index[trial.task_id]] for trial in plan])
    successes = rng.random(len(plan)) < _expit(logits)
    durations = rng.exponential(1.0, len(plan)) * np.where(successes, 1.0, FAILURE_SLOWDOWN)
    return DrawnRun(plan, [bool(v) for v in successes], [float(v) for v in durations])


def new_feeder(direction: Direction, plan_size: int) -> SequentialFeeder:
    settings = SequentialSettings()
    design = design_for(settings.alpha, settings.beta, settings.delta, direction)
    test = PairedSequentialTest(settings, direction, design)
    return SequentialFeeder(paired_test=test, plan_size=plan_size)


def cap_trials(direction: Direction) -> int:
    settings = SequentialSettings()
    design = design_for(settings.alpha, settings.beta, settings.delta, direction)
    assert design.required_pairs is not None, "the shipped table has no calibrated design for the defaults"
    return trials_for(design.required_pairs, TASKS)


@dataclass(frozen=True)
class Job:
    scenario: Scenario
    runs: tuple[int, ...]
    seed: int


@dataclass(frozen=True)
class Outcome:
    verdict: str
    pairs: int
    started: int
    at_cap: bool
    same_as_single_process: bool


def run_job(job: Job) -> list[Outcome]:
    trials = cap_trials(job.scenario.direction)
    outcomes = []
    stream = zlib.crc32(repr(job.scenario).encode("utf-8"))
    for run in job.runs:
        rng = np.random.default_rng([job.seed, stream, run])
        drawn = draw(rng, job.scenario, trials)
        feeder = new_feeder(job.scenario.direction, len(drawn.plan))
        scheduled = simulate_scheduled(drawn, feeder, WORKERS, "planned")
        at_cap = feeder.decision is not None and feeder.decision.at_cap
        reference = planned_order_reference(drawn, new_feeder(job.scenario.direction, len(drawn.plan)))
        same = (reference.verdict, reference.units) == (scheduled.verdict, scheduled.units)
        outcomes.append(Outcome(scheduled.verdict, scheduled.units, scheduled.started, at_cap, same))
    return outcomes


@dataclass(frozen=True)
class Reference:
    claim: float
    """Exact P(worse) for the gate, P(better or worse) for both."""
    asn: float
    lower_bound: float


def reference(scenario: Scenario) -> Reference:
    settings = SequentialSettings()
    design = design_for(settings.alpha, settings.beta, settings.delta, scenario.direction)
    cap = TASKS * cap_trials(scenario.direction)
    truth = paired_outcome_probabilities(CONTROL, scenario.p_test, scenario.sigma)
    result = lattice_dp(
        delta=EFFECT,
        bounds=design.bounds,
        direction=scenario.direction,
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"truth": np.array([truth])},
    )["truth"]
    null = paired_outcome_probabilities(CONTROL, CONTROL, scenario.sigma)
    regression = paired_outcome_probabilities(CONTROL, CONTROL - EFFECT, scenario.sigma)
    lower_h0, _ = asn_lower_bounds_trinomial(null, regression, -EFFECT, settings.alpha, settings.beta)
    claim = float(result.worse[0]) if scenario.direction == "worse" else float(result.worse[0] + result.better[0])
    return Reference(claim, float(result.asn[0]), lower_h0)


@dataclass(frozen=True)
class Row:
    scenario: Scenario
    fails: Estimate
    pairs: Estimate
    started: Estimate
    at_cap: Estimate
    same: float
    exact: Reference


def collect(runs: int, seed: int, processes: int, scenarios: Sequence[Scenario] | None = None) -> list[Row]:
    if scenarios is None:
        scenarios = SCENARIOS
    chunk = max(1, min(100, runs // max(1, 4 * processes)))
    jobs = [
        Job(scenario, tuple(range(start, min(runs, start + chunk))), seed)
        for scenario in scenarios
        for start in range(0, runs, chunk)
    ]
    if processes > 1:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            pending = pool.map_async(reference, scenarios, chunksize=1)
            outputs = pool.map(run_job, jobs, chunksize=1)
            references = pending.get()
    else:
        references = [reference(scenario) for scenario in scenarios]
        outputs = [run_job(job) for job in jobs]
    by_scenario: dict[Scenario, list[Outcome]] = {}
    for job, outcomes in zip(jobs, outputs, strict=True):
        by_scenario.setdefault(job.scenario, []).extend(outcomes)
    rows = []
    for scenario, exact in zip(scenarios, references, strict=True):
        outcomes = by_scenario[scenario]
        claimed = ("worse",) if scenario.direction == "worse" else ("worse", "better")
        rows.append(
            Row(
                scenario,
                proportion(sum(o.verdict in claimed for o in outcomes), len(outcomes)),
                mean_of([o.pairs for o in outcomes]),
                mean_of([o.started for o in outcomes]),
                proportion(sum(o.at_cap for o in outcomes), len(outcomes)),
                sum(o.same_as_single_process for o in outcomes) / len(outcomes),
                exact,
            )
        )
    return rows


@dataclass(frozen=True)
class SuiteSpread:
    """The exact DP of the gate at each drawn suite's own pair distribution, averaged over the suites."""

    suites: int
    claim: Estimate
    """Mean over suites of the exact P(worse) at the suite's own distribution of pairs (i.i.d. within a suite)."""
    drop: Estimate
    """The suites' own drop in success rate: mean and standard deviation (in ``standard_error``)."""
    by_drop: list[tuple[str, float, float]]
    """(range of the suite's drop, share of suites, mean exact P(worse)) per range."""


def suite_spread(scenario: Scenario, suites: int, seed: int) -> SuiteSpread:
    """Why a regression defined in the population is caught less often than one defined on the suite.

    A 10-task suite drawn from a population with spread ``sigma`` has its own drop, which varies around the
    population's; the exact DP is evaluated at each suite's own pair distribution (the mean over its tasks of
    P(test wins), P(test loses)) and averaged. Power is concave in the drop near 0.9, so the average falls below
    the power at the average drop.
    """
    settings = SequentialSettings()
    design = design_for(settings.alpha, settings.beta, settings.delta, scenario.direction)
    cap = TASKS * cap_trials(scenario.direction)
    rng = np.random.default_rng([seed, zlib.crc32(b"suite spread")])
    control, test = arm_intercept(CONTROL, scenario.sigma), arm_intercept(scenario.p_test, scenario.sigma)
    distributions, drops = [], []
    for _ in range(suites):
        difficulty = rng.normal(0.0, scenario.sigma, TASKS)
        a, b = _expit(control + difficulty), _expit(test + difficulty)
        win, loss = float(np.mean(b * (1.0 - a))), float(np.mean(a * (1.0 - b)))
        distributions.append((loss, 1.0 - win - loss, win))
        drops.append(float(np.mean(a - b)))
    result = lattice_dp(
        delta=EFFECT,
        bounds=design.bounds,
        direction=scenario.direction,
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"suites": np.array(distributions)},
    )["suites"]
    claims, drop_array = np.asarray(result.worse), np.asarray(drops)
    ranges = [(0.0, 0.12), (0.12, 0.14), (0.14, 0.16), (0.16, 0.18), (0.18, 1.0)]
    by_drop = []
    for low, high in ranges:
        inside = (drop_array >= low) & (drop_array < high)
        if inside.any():
            label = f"< {high:.2f}" if low == 0.0 else (f">= {low:.2f}" if high == 1.0 else f"{low:.2f}-{high:.2f}")
            by_drop.append((label, float(inside.mean()), float(claims[inside].mean())))
    return SuiteSpread(
        suites,
        Estimate(float(claims.mean()), float(claims.std(ddof=1)) / math.sqrt(suites)),
        Estimate(float(drop_array.mean()), float(drop_array.std(ddof=1))),
        by_drop,
    )


def spread_report(spread: SuiteSpread, scenario: Scenario) -> str:
    rows = "; ".join(
        f"drop {label}: {100 * share:.0f} % of suites, {claim:.3f}" for label, share, claim in spread.by_drop
    )
    return (
        f"Exact DP averaged over {spread.suites} drawn suites ({scenario.label}): P(gate fails: worse) "
        f"{fmt(spread.claim)}. The suites' own drop: mean {spread.drop.value:.3f}, standard deviation "
        f"{spread.drop.standard_error:.3f}. By the suite's own drop: {rows}."
    )


def fmt(estimate: Estimate, digits: int = 4) -> str:
    return f"{estimate.value:.{digits}f} ± {estimate.standard_error:.{digits}f}"


def report(rows: Sequence[Row], runs: int, seed: int, processes: int, seconds: float) -> str:
    gate_trials, both_trials = cap_trials("worse"), cap_trials("both")
    lines = [
        f"{runs} runs per scenario, seed {seed}, {processes} process(es), {seconds:.0f} s. Defaults: alpha 0.05, beta "
        f"0.1, effect 0.15, no --agent-trials: the cap the plugin derives is {gate_trials} trials per task for "
        f"`worse` and {both_trials} for `both` ({TASKS} tasks). {WORKERS} workers, failures "
        f"{FAILURE_SLOWDOWN:g}x slower, control at {CONTROL:.2f}.",
        "",
    ]
    table = []
    for row in rows:
        what = "P(gate fails: worse)" if row.scenario.direction == "worse" else "P(better or worse)"
        z = (row.fails.value - row.exact.claim) / row.fails.standard_error if row.fails.standard_error else 0.0
        table.append(
            [
                row.scenario.label,
                f"{what} {fmt(row.fails)}",
                f"{row.exact.claim:.4f} (z {z:+.1f})",
                f"{row.pairs.value:.1f} ± {row.pairs.standard_error:.1f}",
                f"{row.exact.asn:.1f}",
                f"{row.started.value:.1f}",
                f"{row.at_cap.value:.4f}",
                f"{row.same:.4f}",
            ]
        )
    headers = [
        "scenario",
        "simulated",
        "exact DP (i.i.d. pairs)",
        "pairs used",
        "DP pairs",
        "sessions started",
        "decided at the cap",
        "same as 1 process",
    ]
    lines.extend(tabulate(table, headers=headers, tablefmt="github", disable_numparse=True).splitlines())
    lines.extend(["", "Acceptance:", ""])
    for row in rows:
        scenario = row.scenario
        if scenario.direction != "worse":
            continue
        if scenario.p_test == CONTROL:
            passed = 1.0 - row.fails.value
            lines.append(
                f"- {'PASS' if passed >= PASS_LIMIT else 'FAIL'}: no change passes the gate with probability "
                f">= {PASS_LIMIT} ({scenario.label}): {passed:.4f} ± {row.fails.standard_error:.4f}"
            )
            excess = row.pairs.value / row.exact.lower_bound - 1.0
            lines.append(
                f"- {'PASS' if excess <= ASN_TARGET else 'FAIL'}: average pairs under no change within "
                f"{100 * ASN_TARGET:.0f} % of the one-sided lower bound ({scenario.label}): {row.pairs.value:.1f} "
                f"vs {row.exact.lower_bound:.1f} ({100 * excess:+.1f} %)"
            )
        else:
            ok = row.fails.value >= FAIL_LIMIT
            lines.append(
                f"- {'PASS' if ok else 'FAIL'}: a regression of 0.15 fails the gate with probability >= "
                f"{FAIL_LIMIT} ({scenario.label}): {fmt(row.fails)}"
            )
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=4000, help="simulated runs per scenario (4000)")
    parser.add_argument("--seed", type=int, default=20261204, help="master seed (20261204)")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="simulation processes")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[scenario.label for scenario in SCENARIOS],
        metavar="LABEL",
        help="run only this scenario (its label as printed in the table; repeatable; default: all)",
    )
    parser.add_argument(
        "--tasks", type=int, default=TASKS, help=f"tasks in the suite ({TASKS}: the acceptance's suite)"
    )
    parser.add_argument(
        "--suite-dp",
        type=int,
        default=1000,
        metavar="N",
        help="for the population regression rows: the exact DP averaged over N drawn suites (1000; 0: skip)",
    )
    args = parser.parse_args(argv)
    if args.runs < 2 or args.processes < 1 or args.tasks < 1:
        parser.error("--runs must be >= 2, --processes and --tasks >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    global TASKS  # read by every helper; the simulation processes are forked after this
    args = parse_args(argv)
    TASKS = args.tasks
    began = time.perf_counter()
    chosen = args.scenario or [scenario.label for scenario in SCENARIOS]
    scenarios = [scenario for scenario in SCENARIOS if scenario.label in chosen]
    rows = collect(args.runs, args.seed, args.processes, scenarios)
    print(report(rows, args.runs, args.seed, args.processes, time.perf_counter() - began))
    for scenario in scenarios:
        if args.suite_dp > 0 and scenario.sigma > 0 and not scenario.suite_effect and scenario.p_test != CONTROL:
            print()
            print(spread_report(suite_spread(scenario, args.suite_dp, args.seed), scenario))
    return 0


if __name__ == "__main__":
    sys.exit(main())
