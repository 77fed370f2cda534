"""``cluster_tasks``: which tasks tell configs apart, from every config's Wilson interval on each task.

For each task, each config that ran it gets its success rate on the task with a Wilson 95% interval. Then, in
this order (the first rule that holds wins):

* **trivial**: every config's lower bound is >= ``high`` (0.8): everyone solves it reliably;
* **challenging**: every config's upper bound is <= ``low`` (0.5): nobody solves it reliably;
* **discriminative**: some two configs' intervals do not overlap (the lowest upper bound lies below the highest
  lower bound): configs really differ on it;
* **undetermined**: none of these yet; more trials would settle it.

So a task run by one config can be trivial or challenging but never discriminative, and with few trials most
tasks are undetermined: 10 successes out of 10 give the interval [0.72, 1], not yet above 0.8.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_agentopt.analysis.groups import group_by
from pytest_agentopt.analysis.table import TrialTable
from pytest_agentopt.stats.intervals import wilson_interval

__all__ = ["CLUSTERS", "TASK_COLUMNS", "cluster_tasks"]

CLUSTERS = ("trivial", "discriminative", "challenging", "undetermined")
TASK_COLUMNS = frozenset({"task_id", "task_code", "category", "config_hash", "experiment_id", "outcome"})
"""The ledger columns ``cluster_tasks`` reads."""


def cluster_tasks(
    table: TrialTable, *, high: float = 0.8, low: float = 0.5, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """One row per task (first appearance order): ``task_id``, ``code``, ``declared_category``, ``cluster``,
    ``configs``, ``min_rate``, ``min_rate_ci``, ``min_rate_config``, ``max_rate``, ``max_rate_ci``,
    ``max_rate_config``, ``reason`` and ``per_config`` (each config's ``config_hash``, ``experiment_id``,
    ``trials``, ``successes``, ``rate``, ``ci``)."""
    scored = table.array("scored")
    tasks = group_by(table, "task_id", scored)
    configs = group_by(table, "config_hash", scored)
    width = max(1, len(configs))
    keys = tasks.index * width + configs.index
    keys = np.where(scored, keys, -1)
    cells = len(tasks) * width
    trials = np.bincount(keys[scored], minlength=cells).reshape(len(tasks), width) if cells else np.zeros((0, 0))
    success = table.array("success")
    wins = np.bincount(keys[scored & success], minlength=cells).reshape(len(tasks), width) if cells else trials
    experiment_ids = [", ".join(str(i) for i in ids) for ids in configs.distinct(table, "experiment_id")]
    codes = tasks.most_common(table, "task_code")
    categories = tasks.most_common(table, "category")
    rows: list[dict[str, Any]] = []
    for t, task_id in enumerate(tasks.labels):
        per_config = []
        for c in np.flatnonzero(trials[t]).tolist():
            n, k = int(trials[t, c]), int(wins[t, c])
            per_config.append(
                {
                    "config_hash": configs.labels[c],
                    "experiment_id": experiment_ids[c],
                    "trials": n,
                    "successes": k,
                    "rate": k / n,
                    "ci": list(wilson_interval(k, n, confidence)),
                }
            )
        cluster, reason = _classify(per_config, high, low)
        lowest = min(per_config, key=lambda entry: (entry["rate"], entry["ci"][1]))
        highest = max(per_config, key=lambda entry: (entry["rate"], entry["ci"][0]))
        rows.append(
            {
                "task_id": task_id,
                "code": codes[t],
                "declared_category": categories[t],
                "cluster": cluster,
                "configs": len(per_config),
                "min_rate": lowest["rate"],
                "min_rate_ci": lowest["ci"],
                "min_rate_config": lowest["experiment_id"],
                "max_rate": highest["rate"],
                "max_rate_ci": highest["ci"],
                "max_rate_config": highest["experiment_id"],
                "reason": reason,
                "per_config": per_config,
            }
        )
    return rows


def _describe(entry: dict[str, Any]) -> str:
    lower, upper = entry["ci"]
    return f"{entry['experiment_id']} {entry['successes']}/{entry['trials']} [{lower:.2f}, {upper:.2f}]"


def _classify(per_config: list[dict[str, Any]], high: float, low: float) -> tuple[str, str]:
    lowest_lower = min(per_config, key=lambda entry: entry["ci"][0])
    highest_upper = max(per_config, key=lambda entry: entry["ci"][1])
    if lowest_lower["ci"][0] >= high:
        return "trivial", f"every config's lower bound is >= {high:g} (lowest: {_describe(lowest_lower)})"
    if highest_upper["ci"][1] <= low:
        return "challenging", f"every config's upper bound is <= {low:g} (highest: {_describe(highest_upper)})"
    lowest_upper = min(per_config, key=lambda entry: entry["ci"][1])
    highest_lower = max(per_config, key=lambda entry: entry["ci"][0])
    if lowest_upper["ci"][1] < highest_lower["ci"][0]:
        return "discriminative", f"{_describe(lowest_upper)} and {_describe(highest_lower)} do not overlap"
    lowest = min(per_config, key=lambda entry: entry["rate"])
    highest = max(per_config, key=lambda entry: entry["rate"])
    if len(per_config) == 1:
        return "undetermined", f"one config, neither >= {high:g} nor <= {low:g} reliably: {_describe(lowest)}"
    return (
        "undetermined",
        f"intervals overlap, neither all >= {high:g} nor all <= {low:g}: lowest {_describe(lowest)}, "
        f"highest {_describe(highest)}",
    )
