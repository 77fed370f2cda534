"""``cluster_tasks``: which tasks tell configs apart, from every config's Wilson interval on each task.

For each task, each config that ran it gets its success rate on the task with a Wilson 95% interval. Then, in
this order (the first rule that holds wins):

* **trivial**: every config's lower bound is >= ``high`` (0.8): everyone solves it reliably;
* **challenging**: every config's upper bound is <= ``low`` (0.5): nobody solves it reliably;
* **discriminative**: the configs' success rates on it differ, as a discovery among all the tasks: each task run
  by two or more configs gets a p-value (Fisher's exact test of two configs; with more, the smallest pairwise
  Fisher p-value times the number of pairs, Bonferroni within the task), and a task is discriminative when its
  Benjamini-Hochberg adjusted p-value (``q_value``) over the family of those tasks is <= 0.05: on average at most
  5 % of the tasks called discriminative are not. The raw call of earlier versions (two configs' 95 % intervals
  do not overlap, ``discriminative_raw``) and the raw ``p_value`` stay in each row: with 20 tasks and no real
  difference, raw calls at 5 % find about one discriminative task by chance;
* **undetermined**: none of these yet; more trials would settle it.

So a task run by one config can be trivial or challenging but never discriminative, and with few trials most
tasks are undetermined: 10 successes out of 10 give the interval [0.72, 1], not yet above 0.8.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pytest_agentopt.analysis.groups import group_by
from pytest_agentopt.analysis.multiplicity import benjamini_hochberg
from pytest_agentopt.analysis.table import TrialTable
from pytest_agentopt.stats.intervals import wilson_interval

__all__ = ["CLUSTERS", "DISCOVERY_RATE", "TASK_COLUMNS", "cluster_tasks", "difference_p_value"]

DISCOVERY_RATE = 0.05
"""The false discovery rate of the ``discriminative`` calls (Benjamini-Hochberg over the tasks)."""

CLUSTERS = ("trivial", "discriminative", "challenging", "undetermined")
TASK_COLUMNS = frozenset({"task_id", "task_code", "category", "config_hash", "experiment_id", "outcome"})
"""The ledger columns ``cluster_tasks`` reads."""


def cluster_tasks(
    table: TrialTable, *, high: float = 0.8, low: float = 0.5, confidence: float = 0.95
) -> list[dict[str, Any]]:
    """One row per task (first appearance order): ``task_id``, ``code``, ``declared_category``, ``cluster``,
    ``configs``, ``min_rate``, ``min_rate_ci``, ``min_rate_config``, ``max_rate``, ``max_rate_ci``,
    ``max_rate_config``, ``reason`` and ``per_config`` (each config's ``config_hash``, ``experiment_id``,
    ``trials``, ``successes``, ``rate``, ``ci``), ``p_value`` (configs differ on the task; ``None`` with one
    config), ``q_value`` (its Benjamini-Hochberg adjustment over the tasks with a p-value) and
    ``discriminative_raw`` (the unadjusted call: two configs' intervals do not overlap)."""
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
                "p_value": difference_p_value(per_config),
            }
        )
    _adjust(rows)
    return rows


def difference_p_value(per_config: list[dict[str, Any]]) -> float | None:
    """The p-value of "every config has the same success rate on this task" (``None``: one config only).

    Two configs: Fisher's exact test (two-sided). More: the smallest pairwise Fisher p-value times the number of
    pairs (Bonferroni within the task), at most 1."""
    from scipy.stats import fisher_exact

    if len(per_config) < 2:
        return None
    smallest = 1.0
    pairs = 0
    for i, first in enumerate(per_config):
        for second in per_config[i + 1 :]:
            table = [
                [first["successes"], first["trials"] - first["successes"]],
                [second["successes"], second["trials"] - second["successes"]],
            ]
            smallest = min(smallest, float(fisher_exact(table).pvalue))
            pairs += 1
    return min(1.0, smallest * pairs)


def _adjust(rows: list[dict[str, Any]]) -> None:
    """``q_value`` (Benjamini-Hochberg over the tasks with a p-value) and the adjusted ``discriminative`` call."""
    family = [row for row in rows if row["p_value"] is not None]
    for row, q_value in zip(family, benjamini_hochberg([row["p_value"] for row in family]), strict=True):
        row["q_value"] = q_value
    for row in rows:
        row.setdefault("q_value", None)
        row["discriminative_raw"] = row["cluster"] == "discriminative"
        if row["cluster"] in ("trivial", "challenging"):
            continue
        q_value = row["q_value"]
        if q_value is not None and q_value <= DISCOVERY_RATE:
            row["cluster"] = "discriminative"
            adjusted = (
                f"p {row['p_value']:.2g}, Benjamini-Hochberg q {q_value:.2g} <= {DISCOVERY_RATE:g} over the "
                f"{len(family)} tasks run by two or more configs"
            )
            row["reason"] = (
                f"{row['reason']}; {adjusted}"
                if row["discriminative_raw"]
                else f"success differs between configs although their 95 % intervals overlap: {adjusted}"
            )
        elif row["discriminative_raw"]:
            row["cluster"] = "undetermined"
            row["reason"] += (
                f", but not a discovery once adjusted: p {row['p_value']:.2g}, Benjamini-Hochberg q "
                f"{q_value:.2g} > {DISCOVERY_RATE:g} over the {len(family)} tasks run by two or more configs"
            )


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
