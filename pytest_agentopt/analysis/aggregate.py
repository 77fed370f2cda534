"""``config_table``: per config (``config_hash``), success with its Wilson interval and cost per task.

A *config* is a config content hash: the same content run under two experiment ids is one config, and the row
lists both ids. A *trial* is one attempt at one task; only scored trials (success, failure, error) count, as in
the run summary. Cost per task is the mean estimated cost of the scored trials whose cost is known, with a
percentile bootstrap interval (:mod:`pytest_agentopt.analysis.bootstrap`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pytest_agentopt.analysis.bootstrap import (
    BootstrapDraws,
    bootstrap_config,
    bootstrap_method,
    config_generator,
    percentile_interval,
)
from pytest_agentopt.analysis.groups import group_by
from pytest_agentopt.analysis.plain import json_interval, json_number
from pytest_agentopt.analysis.table import TrialTable
from pytest_agentopt.stats.intervals import wilson_interval

__all__ = ["CONFIG_COLUMNS", "ConfigFigures", "config_figures", "config_table"]

CONFIG_COLUMNS = frozenset(
    {"run_id", "experiment_id", "config_hash", "model", "outcome", "cost_usd", "tokens_input", "tokens_output"}
)
"""The ledger columns ``config_table`` and ``pareto_front`` read (``load_trials(..., columns=CONFIG_COLUMNS)``)."""
SUCCESS_CI_METHOD = "Wilson 95% score interval (fixed-n)"


@dataclass(frozen=True)
class ConfigFigures:
    """The rows of :func:`config_table` with each config's bootstrap draws (for the Pareto front)."""

    rows: list[dict[str, Any]]
    draws: list[BootstrapDraws]
    method: str


def config_figures(table: TrialTable, *, bootstrap: int = 1000, seed: int = 0) -> ConfigFigures:
    scored = table.array("scored")
    groups = group_by(table, "config_hash", scored)
    success = table.array("success")
    cost = table.array("cost_usd")
    trials = groups.count()
    successes = groups.count(success)
    costs = groups.mean(cost)
    inputs = groups.mean(table.array("tokens_input"))
    outputs = groups.mean(table.array("tokens_output"))
    with_cost = groups.count(~np.isnan(cost))
    models = groups.most_common(table, "model")
    runs = groups.distinct(table, "run_id")
    experiments = group_by(table, "config_hash").distinct(table, "experiment_id")
    every_config = group_by(table, "config_hash").labels
    experiments_of = dict(zip(every_config, experiments, strict=True))
    rows: list[dict[str, Any]] = []
    draws: list[BootstrapDraws] = []
    for g, (config_hash, members) in enumerate(zip(groups.labels, groups.members(), strict=True)):
        sample = bootstrap_config(
            success[members], cost[members], resamples=bootstrap, generator=config_generator(seed, str(config_hash))
        )
        draws.append(sample)
        n, k = int(trials[g]), int(successes[g])
        ids = [str(value) for value in experiments_of[config_hash]]
        rows.append(
            {
                "experiment_id": ", ".join(ids),
                "experiment_ids": ids,
                "config_hash": config_hash,
                "model": models[g],
                "trials": n,
                "successes": k,
                "success_rate": k / n,
                "success_ci": list(wilson_interval(k, n)),
                "cost_per_task_usd": json_number(costs[g]),
                "cost_ci": json_interval(percentile_interval(sample.costs)) if costs[g] is not None else None,
                "trials_with_cost": int(with_cost[g]),
                "tokens_per_task": (
                    {"input": json_number(inputs[g]), "output": json_number(outputs[g])}
                    if inputs[g] is not None
                    else None
                ),
                "runs": [str(run) for run in runs[g]],
            }
        )
    method = f"success rate: {SUCCESS_CI_METHOD}; {bootstrap_method(bootstrap, seed)}"
    return ConfigFigures(rows, draws, method)


def config_table(table: TrialTable, *, bootstrap: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per config with scored trials, in order of first appearance (see the module docstring).

    Keys: ``experiment_id`` (the ids, comma-separated), ``experiment_ids``, ``config_hash``, ``model`` (the most
    used), ``trials``, ``successes``, ``success_rate``, ``success_ci`` (Wilson 95%), ``cost_per_task_usd``,
    ``cost_ci`` (95% percentile bootstrap, ``bootstrap`` resamples seeded with ``seed``), ``trials_with_cost``,
    ``tokens_per_task`` {``input``, ``output``} (mean over trials that recorded usage), ``runs``, ``method``.
    """
    figures = config_figures(table, bootstrap=bootstrap, seed=seed)
    return [{**row, "method": figures.method} for row in figures.rows]
