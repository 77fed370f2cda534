"""Calibration table of the simulated example: runs the agent directly (no pytest) over many seeds.

    python benchmarks/calibrate.py                      # every config in configs/, 200 seeds per task
    python benchmarks/calibrate.py --seeds 50 --per-task configs/exp_041.json configs/exp_042.json

For each config it prints the success rate overall and per task category, the success on tasks about coupon
limits, the false-done rate (claimed done but failed), mean steps, mean tokens, the estimated cost per trial
and per success (``pytest_agentopt.recording.pricing``, i.e. genai-prices list prices) and the wall time per trial.
These are the figures the simulation was tuned to (see benchmarks/README.md); rerun it after changing tasks or
profiles.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(REPO))

from benchmarks.storeagent import TASKS, AgentResult, Task, run_agent  # noqa: E402
from pytest_agentopt import (  # noqa: E402
    AgentConfig,
    estimate_cost,
    load_config,
)


@dataclass(frozen=True)
class Trial:
    task: Task
    result: AgentResult
    cost_usd: float | None
    seconds: float


def run_trials(config: AgentConfig, tasks: Sequence[Task], seeds: range) -> list[Trial]:
    trials = []
    for task in tasks:
        for seed in seeds:
            started = time.perf_counter()
            result = run_agent(task, config, seed=seed)
            elapsed = time.perf_counter() - started
            cost = None
            if result.usage is not None:
                cost = estimate_cost(
                    result.usage, config.model_id, overrides=config.prices, provider_id=config.provider
                ).usd
            trials.append(Trial(task, result, cost, elapsed))
    return trials


def _rate(trials: Sequence[Trial]) -> float:
    return sum(t.result.success for t in trials) / len(trials) if trials else float("nan")


def summary_row(name: str, config: AgentConfig, trials: Sequence[Trial]) -> list[object]:
    by_category = {
        category: _rate([t for t in trials if t.task.category == category])
        for category in ("trivial", "discriminative", "challenging", "impossible")
    }
    coupon = _rate([t for t in trials if "coupon_limits" in t.task.topics])
    claimed = [t for t in trials if t.result.claimed_done]
    false_done = sum(not t.result.success for t in claimed) / len(claimed) if claimed else 0.0
    costs = [t.cost_usd for t in trials if t.cost_usd is not None]
    mean_cost = statistics.fmean(costs) if len(costs) == len(trials) else None
    successes = sum(t.result.success for t in trials)
    per_success = mean_cost * len(trials) / successes if mean_cost is not None and successes else None
    usages = [t.result.usage for t in trials if t.result.usage is not None]
    return [
        name,
        config.model_id,
        _rate(trials),
        *by_category.values(),
        coupon,
        false_done,
        statistics.fmean(t.result.steps for t in trials),
        statistics.fmean(u.input_tokens for u in usages),
        statistics.fmean(u.output_tokens for u in usages),
        mean_cost,
        per_success,
        1000 * statistics.fmean(t.seconds for t in trials),
    ]


SUMMARY_HEADERS = [
    "config",
    "model",
    "success",
    "trivial",
    "discrim.",
    "challenging",
    "impossible",
    "coupon-limit tasks",
    "false done",
    "steps",
    "input tok",
    "output tok",
    "$/trial",
    "$/success",
    "ms/trial",
]


def per_task_table(named: Sequence[tuple[str, Sequence[Trial]]]) -> str:
    rows = []
    for task in TASKS:
        row: list[object] = [task.code, task.category, ",".join(sorted(task.topics))]
        for _, trials in named:
            row.append(_rate([t for t in trials if t.task is task]))
        rows.append(row)
    headers = ["task", "category", "topics", *(name for name, _ in named)]
    return tabulate(rows, headers=headers, floatfmt=".2f")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("configs", nargs="*", type=Path, help="config files (default: every configs/*.json)")
    parser.add_argument("--seeds", type=int, default=200, help="trials per task and config (default 200)")
    parser.add_argument("--per-task", action="store_true", help="also print the success rate of every task")
    args = parser.parse_args(argv)
    paths = args.configs or sorted((REPO / "configs").glob("*.json"))
    named: list[tuple[str, Sequence[Trial]]] = []
    rows = []
    for path in paths:
        resolved = load_config(path)
        trials = run_trials(resolved.config, TASKS, range(args.seeds))
        named.append((resolved.experiment_id, trials))
        rows.append(summary_row(resolved.experiment_id, resolved.config, trials))
    print(f"{len(TASKS)} tasks x {args.seeds} seeds per config (simulated backend)\n")
    print(
        tabulate(
            rows,
            headers=SUMMARY_HEADERS,
            floatfmt=(
                "",
                "",
                ".3f",
                ".2f",
                ".2f",
                ".2f",
                ".2f",
                ".2f",
                ".3f",
                ".1f",
                ".0f",
                ".0f",
                ".5f",
                ".5f",
                ".2f",
            ),
        )
    )
    if args.per_task:
        print()
        print(per_task_table(named))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
