"""Seeded simulation of the numeric-metric test and of cheaper-at-the-same-quality (docs/metric-tests-validation.md).

It drives the real code: ``run.trial_order.build_plan`` orders the pairs (trial-major rounds, tasks shuffled per
round), ``run.metric_pairs.metric_pairs`` builds the test the plugin builds for ``--agent-metric cost
--agent-effect-ratio R`` and for ``--agent-metric cheaper_same_quality`` (with the quality half's design the
plugin picks, ``run.sequential_design.metric_design_for``: calibrated when the shipped table holds its settings,
else Wald's), and the pairs enter in planned order until the first decision or the cap.

The world: a suite of ``--tasks`` tasks drawn afresh for every run. Each task has a cost level shared by both arms
(lognormal around $0.003, sd 1 on the log scale) and, with task spread s, its own shift of the log ratio (N(0,
s^2)). A trial's cost is lognormal with sd ``noise``, three times higher when the trial fails (costs tied to the
outcomes) and ten times higher with probability ``runaway`` (an agent looping). Success: control 0.75, test 0.75
(same quality) or 0.60 (a drop of exactly 0.15). The true median of the per-pair cost ratio is computed exactly for
the suite drawn (root finding on the mixture of normals) and the whole log ratio is shifted so that it is exactly
the scenario's ratio: the scenarios sit on the boundaries of the hypotheses, where the error rates are largest.

An error may be several verdicts (``not_cheaper|worse_quality``: a true saving missed by a wrong verdict). Each
error rate is checked against the 0.999 quantile of Binomial(runs, nominal): a true rate at the nominal value
would fail the check with probability below 1e-3.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import shlex
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr
from scipy.stats import binom
from tabulate import tabulate

from pytest_agentopt.run.metric_choice import MetricChoice
from pytest_agentopt.run.metric_pairs import metric_pairs
from pytest_agentopt.run.sequential_design import metric_design_for
from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.stats.cheaper_same_quality import quality_design
from pytest_agentopt.stats.sprt import SequentialSettings

ALPHA, BETA, DELTA = 0.05, 0.10, 0.15
MEAN_COST = 0.003
FAILURE_FACTOR = 3.0
RUNAWAY_FACTOR = 10.0
P_CONTROL = 0.75


@dataclass(frozen=True)
class Scenario:
    test: str
    """``numeric`` (``--agent-metric cost``, direction better) or ``csq`` (cheaper_same_quality)."""
    ratio: float
    """The true median of the per-pair cost ratio test / control."""
    p_test: float
    noise: float
    task_spread: float
    runaway: float
    error: str
    """The verdict that would be an error here (several: separated by ``|``)."""
    nominal: float

    @property
    def label(self) -> str:
        world = f"ratio {self.ratio:g}, success {P_CONTROL:g}->{self.p_test:g}"
        return f"{self.test}: {world}, noise {self.noise:g}, spread {self.task_spread:g}, runaway {self.runaway:g}"


def _scenarios() -> tuple[Scenario, ...]:
    worlds = ((0.5, 0.0, 0.0), (1.0, 1.0, 0.05))  # (noise, task spread, runaway)
    scenarios = []
    for noise, spread, runaway in worlds:
        common = {"noise": noise, "task_spread": spread, "runaway": runaway}
        scenarios += [
            Scenario("numeric", 1.0, P_CONTROL, error="better", nominal=ALPHA, **common),
            Scenario("numeric", 0.8, P_CONTROL, error="not_better", nominal=BETA, **common),
            # a false claim: <= alpha whichever half's null holds
            Scenario("csq", 1.0, P_CONTROL, error="cheaper_same_quality", nominal=ALPHA, **common),
            Scenario("csq", 0.5, P_CONTROL - DELTA, error="cheaper_same_quality", nominal=ALPHA, **common),
            # a true saving of R at equal quality: each half's wrong verdict <= beta / 2, together <= beta
            Scenario("csq", 0.8, P_CONTROL, error="not_cheaper", nominal=BETA / 2, **common),
            Scenario("csq", 0.8, P_CONTROL, error="not_cheaper|worse_quality", nominal=BETA, **common),
            Scenario("csq", 0.5, P_CONTROL, error="worse_quality", nominal=BETA / 2, **common),
        ]
    return tuple(scenarios)


def _mixture_median(means: np.ndarray, weights: np.ndarray, scale: float) -> float:
    def cdf_minus_half(m: float) -> float:
        return float(np.sum(weights * ndtr((m - means) / scale))) - 0.5

    return float(brentq(cdf_minus_half, float(means.min()) - 10 * scale, float(means.max()) + 10 * scale, xtol=1e-12))


def simulate_run(scenario: Scenario, tasks: int, trials: int, seed: int) -> tuple[str | None, int]:
    """One run: the verdict (``None``: undecided at the cap) and the pairs it used."""
    rng = np.random.default_rng(seed)
    level = rng.normal(math.log(MEAN_COST), 1.0, tasks)
    shift = rng.normal(0.0, scenario.task_spread, tasks)
    log_ff, log_rf, q = math.log(FAILURE_FACTOR), math.log(RUNAWAY_FACTOR), scenario.runaway
    means, weights = [], []
    for fail_c in (0, 1):
        for fail_t in (0, 1):
            for run_c in (0, 1):
                for run_t in (0, 1):
                    w = (P_CONTROL if not fail_c else 1 - P_CONTROL) * (
                        scenario.p_test if not fail_t else 1 - scenario.p_test
                    )
                    w *= (q if run_c else 1 - q) * (q if run_t else 1 - q)
                    means.append(shift + log_ff * (fail_t - fail_c) + log_rf * (run_t - run_c))
                    weights.append(np.full(tasks, w / tasks))
    truth = _mixture_median(np.concatenate(means), np.concatenate(weights), scenario.noise * math.sqrt(2.0))
    shift = shift + math.log(scenario.ratio) - truth  # the suite's true median ratio is exactly the scenario's

    plan = build_plan([f"t{j:03d}" for j in range(tasks)], ARMS_AB, trials, seed)
    order = [int(entry.task_id[1:]) for entry in plan if entry.arm == "control"]
    n = len(order)
    task = np.array(order)
    u = rng.random((n, 2))
    solved_control, solved_test = u[:, 0] < P_CONTROL, u[:, 1] < scenario.p_test
    runaway = rng.random((n, 2)) < q
    noise = rng.normal(0.0, scenario.noise, (n, 2))
    cost_control = np.exp(level[task] + noise[:, 0] + log_ff * ~solved_control + log_rf * runaway[:, 0])
    cost_test = np.exp(level[task] + shift[task] + noise[:, 1] + log_ff * ~solved_test + log_rf * runaway[:, 1])

    settings = SequentialSettings(alpha=ALPHA, beta=BETA, delta=DELTA)
    if scenario.test == "numeric":
        choice = MetricChoice("cost", "numeric", 0.8)
        pairs = metric_pairs(choice, settings, "better", None)
    else:
        choice = MetricChoice("cheaper_same_quality", "cheaper_same_quality", 0.8)
        pairs = metric_pairs(choice, settings, "worse", metric_design_for(settings, "worse", choice))
    for index in range(n):
        control = ("success" if solved_control[index] else "failure", float(cost_control[index]))
        test = ("success" if solved_test[index] else "failure", float(cost_test[index]))
        pairs.add_results(control, test)
        if pairs.verdict is not None:
            return pairs.verdict, index + 1
    return pairs.conclude(), n


def _job(job: tuple[Scenario, int, int, int, int]) -> dict[str, object]:
    scenario, runs, tasks, trials, seed = job
    verdicts: dict[str, int] = {}
    used = []
    for index in range(runs):
        verdict, pairs = simulate_run(scenario, tasks, trials, seed * 1_000_003 + index)
        verdicts[str(verdict)] = verdicts.get(str(verdict), 0) + 1
        used.append(pairs)
    errors = sum(verdicts.get(verdict, 0) for verdict in scenario.error.split("|"))
    limit = int(binom.ppf(0.999, runs, scenario.nominal))
    rate = errors / runs
    return {
        "scenario": scenario.label,
        "error verdict": scenario.error,
        "rate (SE)": f"{rate:.4f} ({math.sqrt(max(rate * (1 - rate), 1e-12) / runs):.4f})",
        "nominal": f"{scenario.nominal:g}",
        "verdicts": ", ".join(f"{key} {value}" for key, value in sorted(verdicts.items())),
        "mean pairs": round(float(np.mean(used)), 1),
        "check": "PASS" if errors <= limit else "FAIL",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per scenario (default 1000)")
    parser.add_argument("--seed", type=int, default=20240701)
    parser.add_argument("--tasks", type=int, default=24)
    parser.add_argument("--trials", type=int, default=20, help="the cap per task and arm (default 20: 480 pairs)")
    parser.add_argument("--processes", type=int, default=1, help="simulation processes (the results do not change)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    jobs = [(s, args.runs, args.tasks, args.trials, args.seed + 7919 * i) for i, s in enumerate(_scenarios())]
    if args.processes > 1:
        with multiprocessing.Pool(args.processes) as pool:
            rows = pool.map(_job, jobs)
    else:
        rows = [_job(job) for job in jobs]
    command = "python scripts/validate_metric_tests.py" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:]) if (argv or sys.argv[1:]) else ""
    )
    print(f"command: {command}")
    print(
        f"{args.runs} runs per scenario, {args.tasks} tasks, cap {args.trials} trials per task "
        f"({args.tasks * args.trials} pairs), seed {args.seed}, alpha {ALPHA}, beta {BETA}, effect ratio 0.8, "
        f"quality margin {DELTA}; cheaper_same_quality's quality half at a false not_worse <= alpha and a false "
        f"worse <= beta/2 ({quality_design(SequentialSettings(ALPHA, BETA, DELTA)).source} boundaries), its cost "
        "half at alpha and beta/2"
    )
    print()
    print(tabulate(rows, headers="keys", tablefmt="github"))
    passed = sum(row["check"] == "PASS" for row in rows)
    print()
    print(
        f"check: error count at most the 0.999 quantile of Binomial(runs, nominal); {passed} of {len(rows)} pass; "
        f"took {time.monotonic() - started:.0f} s"
    )
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
