"""``experiment_history``: every experiment in the history, with its lineage and its latest verdict.

An experiment is an experiment id with a config content hash: editing ``exp_042.json`` and running it again gives
a second row for ``exp_042`` (a different config), so figures from different contents are never mixed. The
lineage (child first) is the inheritance chain the manifests recorded for the arm (experiment ids as resolved, so
a parent file ``v1.json`` holding ``"experiment_id": "baseline"`` reads ``baseline``); manifests written before
that was recorded give the ``parent`` references of the resolved configs instead. The verdict is that of
the latest run in which the experiment was compared with a control: as the test arm, or as one of the candidates
of a run with several (each candidate's own verdict against that run's control).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_agentopt.analysis.groups import group_by_pair
from pytest_agentopt.analysis.plain import json_number
from pytest_agentopt.analysis.runs import RunInfo
from pytest_agentopt.analysis.table import TrialTable
from pytest_agentopt.stats.intervals import wilson_interval

__all__ = ["HISTORY_COLUMNS", "experiment_history", "lineage", "parent_map", "recorded_lineages"]

HISTORY_COLUMNS = frozenset({"run_id", "experiment_id", "config_hash", "model", "outcome", "cost_usd"})
"""The ledger columns ``experiment_history`` reads."""


def parent_map(runs: Iterable[RunInfo]) -> dict[str, str | None]:
    """experiment id -> its parent's id, from the arms of every run (a later run wins)."""
    parents: dict[str, str | None] = {}
    for run in runs:
        for arm in run.arms.values():
            if arm.experiment_id:
                parents[arm.experiment_id] = arm.parent
    return parents


def recorded_lineages(runs: Iterable[RunInfo]) -> dict[str, tuple[str, ...]]:
    """experiment id -> the lineage its manifests recorded (a later run wins; older manifests recorded none)."""
    lineages: dict[str, tuple[str, ...]] = {}
    for run in runs:
        for arm in run.arms.values():
            if arm.experiment_id and arm.lineage:
                lineages[arm.experiment_id] = arm.lineage
    return lineages


def lineage(
    experiment_id: str,
    parents: Mapping[str, str | None],
    recorded: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """``[experiment_id, parent, grandparent, ...]``.

    A lineage the manifests ``recorded`` (the resolved inheritance chain, child first) is taken as it is, from the
    experiment itself or from the first ancestor that has one; otherwise the chain follows ``parents`` and stops
    at a parent the history does not know (kept) or at a cycle.
    """
    recorded = recorded or {}
    chain = [experiment_id]
    current = experiment_id
    while True:
        known = recorded.get(current)
        if known:
            for ancestor in known[1:]:
                if ancestor in chain:
                    break
                chain.append(ancestor)
            return chain
        parent = parents.get(current)
        if parent is None or parent in chain:
            return chain
        chain.append(parent)
        if parent not in parents and parent not in recorded:
            return chain
        current = parent


def _latest_test_runs(runs: Sequence[RunInfo]) -> dict[tuple[str, str], tuple[RunInfo, str]]:
    """(experiment id, config hash) -> the latest run that compared it with a control, and its arm there (``test``,
    or ``test2``... for a candidate of a run with several)."""
    latest: dict[tuple[str, str], tuple[RunInfo, str]] = {}
    for run in runs:  # oldest first, so the last assignment is the latest run
        arms = run.candidate_arms() or (["test"] if "test" in run.arms else [])
        for arm in arms:
            test = run.arms[arm]
            latest[(test.experiment_id, test.config_hash)] = (run, arm)
    return latest


def _control_of(run: RunInfo) -> str | None:
    """The experiment id of the run's control (the manifest's field, else its control arm's)."""
    control = run.arms.get("control")
    return run.control_experiment_id or (control.experiment_id if control is not None else None)


def experiment_history(runs: Sequence[RunInfo], table: TrialTable) -> list[dict[str, Any]]:
    """One row per (experiment id, config hash) with trials in ``table``, in order of first appearance.

    Keys: ``experiment_id``, ``config_hash``, ``lineage`` (child first), ``model``, ``trials`` (scored),
    ``successes``, ``success_rate``, ``success_ci`` (Wilson 95%), ``cost_per_task_usd``, ``verdict``,
    ``verdict_reason``, ``verdict_control`` (the control of that run), ``verdict_run``, ``runs``, ``last_run``,
    ``last_run_at`` and ``date`` (the last run's creation date).
    """
    ordered = sorted(runs, key=lambda run: (run.created_at or "", run.run_id))
    parents = parent_map(ordered)
    recorded = recorded_lineages(ordered)
    created = {run.run_id: run.created_at for run in ordered}
    run_rank = {run.run_id: position for position, run in enumerate(ordered)}
    latest_test = _latest_test_runs(ordered)
    everything = group_by_pair(table, "experiment_id", "config_hash")
    scored = table.array("scored")
    success = table.array("success")
    trials = everything.count(scored)
    successes = everything.count(scored & success)
    costs = everything.mean(table.array("cost_usd"), scored)
    models = everything.most_common(table, "model", scored)
    run_lists = everything.distinct(table, "run_id")
    rows: list[dict[str, Any]] = []
    for g, (experiment_id, config_hash) in enumerate(everything.labels):
        n, k = int(trials[g]), int(successes[g])
        its_runs = sorted((str(run) for run in run_lists[g]), key=lambda run: (run_rank.get(run, -1), run))
        last_run = its_runs[-1] if its_runs else None
        found = latest_test.get((str(experiment_id), str(config_hash)))
        verdict_run = found[0] if found is not None else None
        verdict, reason = found[0].verdict_of(found[1]) if found is not None else (None, None)
        last_at = created.get(last_run) if last_run is not None else None
        rows.append(
            {
                "experiment_id": experiment_id,
                "config_hash": config_hash,
                "lineage": lineage(str(experiment_id), parents, recorded),
                "model": models[g],
                "trials": n,
                "successes": k,
                "success_rate": k / n if n else None,
                "success_ci": list(wilson_interval(k, n)) if n else None,
                "cost_per_task_usd": json_number(costs[g]),
                "verdict": verdict,
                "verdict_reason": reason,
                "verdict_control": _control_of(verdict_run) if verdict_run is not None else None,
                "verdict_run": verdict_run.run_id if verdict_run is not None else None,
                "runs": its_runs,
                "last_run": last_run,
                "last_run_at": last_at,
                "date": last_at[:10] if isinstance(last_at, str) else None,
            }
        )
    return rows
