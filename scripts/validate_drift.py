"""Seeded simulation of the drift report (docs/drift-validation.md): false alarms under no change, power on a
planted step-count increase, and the family-wise coverage of its intervals.

It drives the real code: ``run.trial_order.build_plan`` orders the pairs (trial-major rounds, tasks shuffled per
round), the paired sequential test with the shipped calibrated design (``--sprt``, direction ``both``) decides when
the run stops, and ``report.drift.drift_report`` computes the summary's ``drift`` section from trial records built
like the plugin's (same-outcome pairs before the decision, every recorded feature, 2,000 seeded sign flips).

The world: ``--tasks`` tasks drawn afresh for every run, each with a success probability from a logit-normal
(task spread ``sigma``, the same for both arms: the success rate never changes) and a step level (lognormal).
A trial's steps are Poisson around its task's level, **1.5 times higher when the trial fails** (so the features
depend on the outcomes the sequential test stops on); tool calls are Binomial(steps, 0.6); input and output
tokens are steps times lognormal amounts; reasoning tokens are heavy-tailed (Pareto); latency is lognormal; the
cost follows the tokens; a custom metric ``score`` is Cauchy (no mean). Scenarios vary the tails, the task spread
and the dependence between features (one lognormal factor per trial shared by every feature), and whether the run
is sequential or a fixed sample of 10 trials per task. Planted changes: every step count of the test arm 30 %
higher (tool calls, tokens, cost and latency follow the steps, as they would), or additive shifts of latency
(+0.5 s) and score (+1) whose true value is known (for the intervals' coverage).

Each false-alarm rate is checked against the 0.999 quantile of Binomial(runs, alpha): a true rate at alpha would
fail the check with probability below 1e-3. Power is reported with its Monte Carlo standard error.
"""

from __future__ import annotations

import argparse
import functools
import math
import multiprocessing
import shlex
import sys
import time
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from scipy.stats import binom
from tabulate import tabulate

from pytest_agentopt.report.drift import drift_report
from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
from pytest_agentopt.stats.design import paired_design
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.storage.trial_record import TrialRecord

ALPHA, BETA, DELTA = 0.05, 0.10, 0.15
FAILURE_STEP_FACTOR = 1.5
TOOL_CALL_SHARE = 0.6
PRICE_IN, PRICE_OUT = 0.15e-6, 0.6e-6


@dataclass(frozen=True)
class Scenario:
    name: str
    sequential: bool = True
    step_factor: float = 1.0
    """The test arm's steps relative to the control's (1.3: the planted 30 % increase)."""
    latency_shift: float = 0.0
    score_shift: float = 0.0
    task_spread: float = 2.0
    """Sd of the tasks' success logits (and of their log step levels, halved)."""
    tail: float = 1.0
    """Latency's log-scale sd; the reasoning tokens' Pareto index is 1 / tail + 0.5 (heavier with a larger tail)."""
    shared: float = 0.0
    """Sd of one lognormal factor per trial that multiplies every feature (dependence between features)."""
    tasks: int = 10
    fixed_trials: int = 10
    truth: dict[str, float] = field(default_factory=dict)
    """Known true shifts for the coverage check (every feature not named: 0); empty: no coverage check."""


def _scenarios() -> tuple[Scenario, ...]:
    null_truth: dict[str, float] = {"*": 0.0}
    return (
        Scenario("no change: typical (spread 2, lognormal latency, Pareto reasoning, Cauchy score)", truth=null_truth),
        Scenario("no change: heavy tails (latency sd 2, Pareto index 1)", tail=2.0, truth=null_truth),
        Scenario("no change: correlated features (shared factor sd 1)", shared=1.0, truth=null_truth),
        Scenario("no change: large task spread (sigma 3)", task_spread=3.0, truth=null_truth),
        Scenario("no change: skewed and 30 tasks", tail=1.5, tasks=30, truth=null_truth),
        Scenario("no change: fixed sample, 10 x 10 pairs", sequential=False, truth=null_truth),
        Scenario("steps +30 %: sequential run", step_factor=1.3),
        Scenario("steps +30 %: fixed sample, 10 x 10 pairs", sequential=False, step_factor=1.3),
        Scenario(
            "latency +0.5 s and score +1 (additive)",
            latency_shift=0.5,
            score_shift=1.0,
            truth={"*": 0.0, "latency_s": 0.5, "metrics.score": 1.0},
        ),
    )


@functools.cache
def _design() -> Any:
    return paired_design(ALPHA, BETA, DELTA, "both")


def simulate_run(scenario: Scenario, seed: int) -> dict[str, Any]:
    """One run: its verdict, the pairs it used and its drift section."""
    rng = np.random.default_rng(seed)
    tasks = scenario.tasks
    success_logit = rng.normal(0.8, scenario.task_spread, tasks)
    p_success = 1 / (1 + np.exp(-success_logit))
    step_level = np.exp(rng.normal(math.log(8), scenario.task_spread / 2, tasks))
    design = _design()
    trials = math.ceil(design.required_pairs / tasks) if scenario.sequential and design.required_pairs else 10
    if not scenario.sequential:
        trials = scenario.fixed_trials
    plan = build_plan([f"t{j:03d}" for j in range(tasks)], ARMS_AB, trials, seed)
    test = PairedSequentialTest(SequentialSettings(alpha=ALPHA, beta=BETA, delta=DELTA), "both", design)
    records: list[TrialRecord] = []
    pending: dict[tuple[int, int], bool] = {}
    for entry in plan:
        task = int(entry.task_id[1:])
        record = _trial(rng, scenario, entry.seq, entry.arm, task, entry.trial, p_success[task], step_level[task])
        records.append(record)
        success = record["outcome"] == "success"
        key = (task, entry.trial)
        if key not in pending:
            pending[key] = success
            continue
        if scenario.sequential:
            test.add_pair(pending.pop(key), success)
            if test.verdict is not None:
                break
    verdict = test.verdict if test.verdict is not None else test.conclude() if scenario.sequential else "fixed"
    drift = drift_report(records, alpha=ALPHA, seed=seed)
    return {"verdict": verdict, "pairs": test.pairs if scenario.sequential else len(plan) // 2, "drift": drift}


def _trial(
    rng: np.random.Generator,
    scenario: Scenario,
    seq: int,
    arm: str,
    task: int,
    trial: int,
    p_success: float,
    step_level: float,
) -> TrialRecord:
    success = bool(rng.random() < p_success)
    shared = math.exp(rng.normal(0.0, scenario.shared)) if scenario.shared else 1.0
    level = step_level * (1 if success else FAILURE_STEP_FACTOR) * shared
    steps = int(rng.poisson(level * (scenario.step_factor if arm == "test" else 1.0)))
    tool_calls = int(rng.binomial(steps, TOOL_CALL_SHARE))
    input_tokens = int(steps * 800 * rng.lognormal(0.0, 0.5) * shared) + 300
    output_tokens = int(steps * 150 * rng.lognormal(0.0, 0.8) * shared) + 20
    reasoning = int(100 * (rng.pareto(1 / scenario.tail + 0.5) + 1) * shared)
    latency = 0.5 * math.sqrt(steps + 1) * rng.lognormal(0.0, scenario.tail) * shared
    score = float(rng.standard_cauchy())
    if arm == "test":
        latency += scenario.latency_shift
        score += scenario.score_shift
    return cast(
        TrialRecord,
        {
            "run_id": "simulated",
            "arm": arm,
            "task_id": f"t{task:03d}",
            "trial": trial,
            "seq": seq,
            "outcome": "success" if success else "failure",
            "after_decision": False,
            "steps": steps,
            "tool_calls": tool_calls,
            "tokens": {
                "input": input_tokens,
                "output": output_tokens,
                "cache_read": 0,
                "cache_write": 0,
                "reasoning": reasoning,
            },
            "latency_s": latency,
            "cost_usd": input_tokens * PRICE_IN + (output_tokens + reasoning) * PRICE_OUT,
            "metrics": {"score": score},
        },
    )


def _covered(drift: dict[str, Any], truth: dict[str, float]) -> bool:
    """Whether every feature's interval holds its true shift (closure: an end may be the true value)."""
    for feature in drift["features"]:
        true = truth.get(feature["name"], truth["*"])
        lower, upper = feature["lower"], feature["upper"]
        if lower is not None and upper is not None and not lower <= true <= upper:
            return False
    return True


def _job(job: tuple[Scenario, int, int]) -> dict[str, object]:
    scenario, runs, seed = job
    alarms = steps_found = covered = tested = 0
    claimed = claimed_alarms = 0
    pairs, tested_pairs = [], []
    started = time.monotonic()
    for index in range(runs):
        result = simulate_run(scenario, seed * 1_000_003 + index)
        drift = result["drift"]
        pairs.append(result["pairs"])
        if drift["status"] == "missing":
            continue
        tested += 1
        tested_pairs.append(drift["pairs"])
        alarms += drift["status"] == "drift"
        if result["verdict"] in ("better", "worse"):
            # The runs whose stop selected the most unbalanced outcomes: the drift test must hold here too.
            claimed += 1
            claimed_alarms += drift["status"] == "drift"
        steps_found += "steps" in drift["moved"]
        if scenario.truth:
            covered += _covered(drift, scenario.truth)
    null = scenario.step_factor == 1.0 and not scenario.latency_shift and not scenario.score_shift
    rate = alarms / runs
    row: dict[str, object] = {
        "scenario": scenario.name,
        "mean pairs (same outcome)": f"{np.mean(pairs):.1f} ({np.mean(tested_pairs) if tested_pairs else 0:.1f})",
        "tested": f"{tested}/{runs}",
        "drift found (SE)": f"{rate:.4f} ({math.sqrt(max(rate * (1 - rate), 1e-12) / runs):.4f})",
        "steps moved": f"{steps_found / runs:.3f}",
        "drift found after better/worse": f"{claimed_alarms}/{claimed}" if scenario.sequential else "-",
        "coverage": f"{covered / tested:.3f}" if scenario.truth and tested else "-",
        "ms per run": round(1000 * (time.monotonic() - started) / runs, 1),
    }
    if null:
        limit = int(binom.ppf(0.999, runs, ALPHA))
        row["check"] = "PASS" if alarms <= limit else "FAIL"
    else:
        row["check"] = "-"
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per scenario (default 1000)")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--processes", type=int, default=1, help="simulation processes (the results do not change)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    jobs = [(scenario, args.runs, args.seed + 7919 * i) for i, scenario in enumerate(_scenarios())]
    if args.processes > 1:
        with multiprocessing.Pool(args.processes) as pool:
            rows = pool.map(_job, jobs)
    else:
        rows = [_job(job) for job in jobs]
    command = "python scripts/validate_drift.py" + (
        " " + shlex.join(argv if argv is not None else sys.argv[1:]) if (argv or sys.argv[1:]) else ""
    )
    print(f"command: {command}")
    print(
        f"{args.runs} runs per scenario, seed {args.seed}; drift alpha {ALPHA} (family-wise); sequential runs: paired "
        f"GSPRT alpha {ALPHA}, beta {BETA}, effect {DELTA}, direction both, calibrated design, derived cap"
    )
    print()
    print(tabulate(rows, headers="keys", tablefmt="github"))
    checked = [row for row in rows if row["check"] != "-"]
    passed = sum(row["check"] == "PASS" for row in checked)
    print()
    print(
        f"check: false alarms at most the 0.999 quantile of Binomial(runs, {ALPHA}); {passed} of {len(checked)} "
        f"pass; took {time.monotonic() - started:.0f} s"
    )
    return 0 if passed == len(checked) else 1


if __name__ == "__main__":
    sys.exit(main())
