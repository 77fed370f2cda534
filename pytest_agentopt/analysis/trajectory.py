"""``trajectory_metrics``: how the agent worked, per arm, config, task or task category (scored trials only).

* ``mean_steps``, ``mean_tool_calls``: over trials that recorded them;
* ``step_efficiency``: mean of ``min(1, optimal_steps / steps)`` over *successful* trials that have both (the
  marker's optimal number of steps, the steps the agent took); 1.0 (100 %) is optimal, lower is wasted effort. A
  trial that took fewer steps than the declared optimum counts as 100 %, not more: beating "optimal" says the
  task's ``optimal_steps`` is too high, not that the agent was more than efficient, and an average above 100 %
  would hide the waste of the other trials;
* ``under_optimal_rate``: over those same trials, the share that took fewer steps than ``optimal_steps`` (when it
  is not 0, check the task's ``optimal_steps``);
* ``early_termination_rate``: over trials of tasks marked ``impossible``, the share that succeeded, i.e. that
  the agent correctly refused;
* ``token_waste``: tokens (input + output) spent on failed or errored trials, as a share of all tokens spent;
* ``false_done_rate``: over trials that recorded the ``claimed_done`` metric, the share where the agent claimed
  success but the check failed;
* ``mean_latency_s``: wall time of the trial.

A figure is ``None`` when nothing it needs was recorded.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from pytest_agentopt.analysis.groups import Groups, group_by
from pytest_agentopt.analysis.plain import json_number
from pytest_agentopt.analysis.table import TrialTable

__all__ = ["GROUPINGS", "TRAJECTORY_COLUMNS", "Grouping", "trajectory_metrics"]

Grouping = Literal["arm", "config", "task", "category"]
GROUPINGS: dict[str, str] = {"arm": "arm", "config": "config_hash", "task": "task_id", "category": "category"}
TRAJECTORY_COLUMNS = frozenset(
    {*GROUPINGS.values(), "experiment_id", "task_code", "outcome", "steps", "tool_calls", "optimal_steps", "impossible"}
    | {"tokens_input", "tokens_output", "metrics", "latency_s"}
)
"""The ledger columns ``trajectory_metrics`` reads."""


def trajectory_metrics(table: TrialTable, by: Grouping = "arm") -> list[dict[str, Any]]:
    """One row per group (first appearance order); keys in the module docstring plus ``group`` and ``trials``.

    Rows also carry ``experiment_id`` (``by="config"``) or ``code`` and ``category`` (``by="task"``).
    """
    if by not in GROUPINGS:
        raise ValueError(f"by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    scored = table.array("scored")
    groups = group_by(table, GROUPINGS[by], scored)
    success = table.array("success")
    failed = scored & ~success
    steps = table.array("steps")
    optimal = table.array("optimal_steps")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(steps > 0, optimal / steps, np.nan)
    efficiency = np.minimum(ratio, 1.0)  # NaN (steps or optimum unknown) stays NaN
    with_ratio = success & ~np.isnan(ratio)
    under_optimal = groups.count(with_ratio & (ratio > 1.0))
    with_ratio_count = groups.count(with_ratio)
    impossible = table.array("impossible")
    tokens = table.array("tokens_total")
    has_tokens = ~np.isnan(tokens)
    tokens_known = np.where(has_tokens, tokens, 0.0)
    all_tokens = groups.total(tokens_known, has_tokens)
    wasted_tokens = groups.total(tokens_known, has_tokens & failed)
    claimed = table.array("claimed_done")
    claimed_recorded = ~np.isnan(claimed)
    claimed_count = groups.count(claimed_recorded)
    false_done = groups.count(claimed_recorded & (claimed == 1.0) & ~success)
    impossible_count = groups.count(impossible)
    refused = groups.count(impossible & success)
    trials = groups.count()
    mean_steps = groups.mean(steps)
    mean_tool_calls = groups.mean(table.array("tool_calls"))
    step_efficiency = groups.mean(efficiency, success)
    latency = groups.mean(table.array("latency_s"))
    extra = _extra_columns(table, groups, by)
    rows: list[dict[str, Any]] = []
    for g, label in enumerate(groups.labels):
        rows.append(
            {
                "group": label,
                **extra[g],
                "trials": int(trials[g]),
                "mean_steps": json_number(mean_steps[g]),
                "mean_tool_calls": json_number(mean_tool_calls[g]),
                "step_efficiency": json_number(step_efficiency[g]),
                "under_optimal_rate": float(under_optimal[g] / with_ratio_count[g]) if with_ratio_count[g] else None,
                "early_termination_rate": float(refused[g] / impossible_count[g]) if impossible_count[g] else None,
                "token_waste": float(wasted_tokens[g] / all_tokens[g]) if all_tokens[g] > 0 else None,
                "false_done_rate": float(false_done[g] / claimed_count[g]) if claimed_count[g] else None,
                "mean_latency_s": json_number(latency[g]),
            }
        )
    return rows


def _extra_columns(table: TrialTable, groups: Groups, by: str) -> list[dict[str, Any]]:
    if by == "config":
        ids = groups.distinct(table, "experiment_id")
        return [{"experiment_id": ", ".join(str(i) for i in values)} for values in ids]
    if by == "task":
        codes = groups.most_common(table, "task_code")
        categories = groups.most_common(table, "category")
        return [{"code": code, "category": category} for code, category in zip(codes, categories, strict=True)]
    return [{} for _ in groups.labels]
