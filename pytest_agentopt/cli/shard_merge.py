"""Merging the shards of a run (``--agent-shard I/N``) into one new run: ``agentopt merge`` (no pytest).

Every shard is a run of its own, with the same configs, seed, trials per task and settings, over its share of the
tasks (``shards.py``). The merge checks that the shard runs belong together (the same settings and plan, every
shard once, each finished), then writes one new run under ``<agent-dir>/runs/``: a manifest (the shards' own, with
``merged_from``), the ledger (every shard's records, re-numbered to their position in the unsharded plan and
carrying the new run id) and the summary, built by the same code as a run's, with the fixed-sample verdict.

Why not a sequential verdict: the sequential test is valid only when results enter it in the one planned order
and the run stops the moment it decides; shards run apart with nobody to stop them, so the merged run is analysed
as the fixed sample it is (``--agent-shard`` refuses ``--sprt``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.run.options import DEFAULT_DRIFT_ALPHA
from pytest_agentopt.run.shards import Shard, ShardInfo, plan_digest
from pytest_agentopt.storage.ledger import (
    LedgerWriter,
    RunPaths,
    create_run_directory,
    read_ledger,
    read_manifest,
    utc_now,
    write_json_atomic,
)
from pytest_agentopt.storage.summary_schema import RunSummary, read_summary
from pytest_agentopt.storage.trial_record import TrialRecord

SEQUENTIAL_NOTE = (
    "the verdict is the fixed-sample one: a sequential verdict needs one controller that feeds every pair to the "
    "test in planned order and stops every worker the moment it decides, and shards run apart (run --sprt in one "
    "session with more xdist workers instead)"
)

# The run settings every shard must share (the manifest's ``run`` section, less the shard itself).
SHARED_SETTINGS = ("seed", "trials", "arms", "sprt", "alpha", "beta", "effect", "target", "direction", "cap_pairs")


@dataclass(frozen=True)
class ShardRun:
    """One shard run as read from its directory."""

    paths: RunPaths
    manifest: dict[str, Any]
    summary: RunSummary
    plan: ShardInfo
    """The summary's ``shard`` section: the share of the plan this shard ran."""
    shard: Shard
    records: list[TrialRecord]
    problems: list[str]

    @property
    def run_id(self) -> str:
        return str(self.manifest["run_id"])


@dataclass(frozen=True)
class MergedRun:
    run_dir: Path
    summary: RunSummary


def read_shard_run(paths: RunPaths) -> ShardRun:
    """A finished shard run, or :class:`LedgerError` saying why it cannot be merged."""
    from pytest_agentopt.storage.manifest_schema import check_resumable

    manifest = read_manifest(paths)
    check_resumable(manifest, paths.manifest)
    run_id = manifest["run_id"]
    shard_text = manifest["run"].get("shard")
    if shard_text is None:
        raise LedgerError(
            f"{paths.directory}: run {run_id} is not a shard (it was not run with --agent-shard I/N); merge "
            "combines the shards of one sharded run"
        )
    if not paths.summary.is_file():
        raise LedgerError(
            f"{paths.directory}: shard {shard_text} (run {run_id}) has not finished (no {paths.summary.name}): "
            f"finish it first (pytest --agent-resume {run_id} ...)"
        )
    stored = read_summary(paths.summary)
    if stored.summary is None:
        raise LedgerError(
            f"{stored.problem}: shard {shard_text} (run {run_id}) has a summary without the shape docs/summary.md "
            "describes (damaged or edited): merge cannot trust its plan or figures"
        )
    summary = stored.summary
    if summary["interrupted"]:
        raise LedgerError(
            f"{paths.directory}: shard {shard_text} (run {run_id}) was interrupted ({summary['stopped_by']}): "
            f"finish it first (pytest --agent-resume {run_id} ...)"
        )
    plan = summary["shard"]
    if plan is None:
        raise LedgerError(
            f"{paths.summary}: shard {shard_text} (run {run_id}) recorded no plan (it ran no agent task: more "
            "shards than tasks, or a -k/-m selection that left none); merge needs every shard's plan"
        )
    ledger = read_ledger(paths.trials, owner=run_id)
    return ShardRun(paths, manifest, summary, plan, Shard.parse(shard_text), ledger.records, ledger.problems)


def check_shards(shards: Sequence[ShardRun]) -> list[str]:
    """Raise :class:`LedgerError` naming what differs unless ``shards`` are every shard of one run, once each;
    return every task of the unsharded plan."""
    first = shards[0]

    def differs(other: ShardRun, what: str, mine: object, theirs: object) -> LedgerError:
        return LedgerError(
            f"cannot merge: run {other.run_id} (shard {other.shard}) differs from run {first.run_id} (shard "
            f"{first.shard}) in {what}: {theirs!r} against {mine!r}; merge only the shards of one sharded run "
            "(the same configs, --agent-seed, --agent-trials, settings and tests)"
        )

    for other in shards[1:]:
        for key in SHARED_SETTINGS:
            if other.manifest["run"].get(key) != first.manifest["run"].get(key):
                raise differs(other, f"run.{key}", first.manifest["run"].get(key), other.manifest["run"].get(key))
        for arm in first.manifest["run"]["arms"]:
            mine, theirs = (run.manifest["arms"][arm]["config_hash"] for run in (first, other))
            if mine != theirs:
                raise differs(other, f"the {arm} config (its config hash)", mine, theirs)
        if other.shard.count != first.shard.count:
            raise differs(other, "the number of shards", first.shard.count, other.shard.count)
        mine_digest, their_digest = (run.plan["plan_digest"] for run in (first, other))
        if mine_digest != their_digest:
            raise differs(other, "the plan (the collected tasks; shard.plan_digest)", mine_digest, their_digest)
    by_index: dict[int, ShardRun] = {}
    for run in shards:
        if run.shard.index in by_index:
            raise LedgerError(
                f"cannot merge: runs {by_index[run.shard.index].run_id} and {run.run_id} are both shard {run.shard}: "
                "shards overlap (the same tasks would count twice); give each shard once"
            )
        by_index[run.shard.index] = run
    count = first.shard.count
    missing = [str(Shard(index, count)) for index in range(1, count + 1) if index not in by_index]
    if missing:
        raise LedgerError(
            f"cannot merge: shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} of {first.shard.count} "
            f"missing; a merge of some shards would leave out their tasks: give every shard's run"
        )
    tasks = sorted({task for run in shards for task in run.plan["tasks"]})
    trials = first.manifest["run"]["trials"]
    total = first.plan["tasks_total"]
    if len(tasks) != total or plan_digest(tasks, trials) != first.plan["plan_digest"]:
        raise LedgerError(
            f"cannot merge: the shards' tasks ({len(tasks)}) are not the {total} tasks their plan holds; a "
            "shard's summary.json was edited or belongs to another suite"
        )
    for run in shards:
        if set(run.plan["tasks"]) != run.shard.tasks(tasks):
            raise LedgerError(
                f"cannot merge: run {run.run_id} ran other tasks than shard {run.shard} of these tasks; its "
                "summary.json was edited or belongs to another suite"
            )
    return tasks


def merged_records(shards: Sequence[ShardRun], tasks: Sequence[str], run_id: str) -> list[TrialRecord]:
    """Every shard's records as the unsharded run has them: its run id, and the planned position in its plan."""
    from pytest_agentopt.run.trial_order import build_plan

    run = shards[0].manifest["run"]
    plan = build_plan(tasks, tuple(run["arms"]), run["trials"], run["seed"])
    position = {entry.key: entry.seq for entry in plan}
    records: list[TrialRecord] = []
    for shard in shards:
        for record in shard.records:
            merged = dict(record)
            merged["run_id"] = run_id
            merged["seq"] = position[(record["task_id"], record["arm"], record["trial"])]
            merged["after_decision"] = False
            records.append(merged)  # type: ignore[arg-type]
    records.sort(key=lambda record: record["seq"])
    return records


def merge_shards(
    shard_paths: Sequence[RunPaths], agent_dir: Path, *, gate_options: Callable[[Mapping[str, Any]], Any]
) -> MergedRun:
    """Check the shard runs, write the merged run under ``agent_dir/runs/`` and return it with its summary.

    ``gate_options(manifest_options)`` gives the :class:`~pytest_agentopt.options.RunOptions` the gate is
    evaluated with (the shards' own ``--agent-fail-inconclusive`` and ``--agent-infra-max-share``).
    """
    from pytest_agentopt.report.gate import evaluate_gate
    from pytest_agentopt.report.summary import build_summary
    from pytest_agentopt.storage.run_context import ConfigSet, RunContext

    shards = sorted((read_shard_run(paths) for paths in shard_paths), key=lambda run: run.shard.index)
    tasks = check_shards(shards)
    first = shards[0]
    manifest = first.manifest
    run = manifest["run"]
    run_dir = create_run_directory(agent_dir, manifest["experiment_id"])
    run_id = run_dir.name
    records = merged_records(shards, tasks, run_id)
    merged_manifest = {
        **manifest,
        "run_id": run_id,
        "created_at": utc_now(),
        "run": {**run, "shard": None},
        "resumes": [],
        "merged_from": [shard.run_id for shard in shards],
    }
    write_json_atomic(run_dir / "manifest.json", merged_manifest)
    with LedgerWriter(RunPaths(run_dir).trials) as ledger:
        for record in records:
            ledger.append(record)
    arms = tuple(run["arms"])
    context = RunContext(
        run_id=run_id,
        run_dir=run_dir,
        seed=run["seed"],
        trials=run["trials"],
        arms=arms,
        configs=ConfigSet({arm: manifest["arms"][arm]["config"] for arm in arms}),
        hashes={arm: manifest["arms"][arm]["config_hash"] for arm in arms},
        sprt=False,
        alpha=run["alpha"],
        beta=run["beta"],
        effect=run["effect"],
        target=run["target"],
        direction=run.get("direction", "both"),
        stop_path=run_dir / "stop",
        infra_exceptions=(),
        infra_retries=0,
        infra_backoff=0.0,
        budget_usd=None,
    )
    plan_size = sum(shard.summary["trials_planned"] or 0 for shard in shards)
    notes = [
        f"merged from {len(shards)} shards: " + ", ".join(f"{shard.shard} {shard.run_id}" for shard in shards),
        SEQUENTIAL_NOTE,
        *(f"warning: {problem}" for shard in shards for problem in shard.problems),
    ]
    summary = build_summary(
        records=records,
        context=context,
        feeder=None,
        plan_size=plan_size,
        skipped_by_stop=sum(shard.summary["trials_skipped"] for shard in shards),
        interrupted=False,
        notes=notes,
        plan={"tasks": len(tasks), "trials": run["trials"], "items": plan_size},
        merged_from=[shard.run_id for shard in shards],
        drift_alpha=_drift_alpha(manifest.get("options") or {}),
    )
    gate = evaluate_gate(summary, gate_options(manifest.get("options") or {}))
    summary["gate"] = gate.as_dict()
    summary["output_errors"] = []
    write_json_atomic(RunPaths(run_dir).summary, summary)
    return MergedRun(run_dir, summary)


def _drift_alpha(options: Mapping[str, Any]) -> float:
    """The drift report's level as the shards ran with it (their manifest's ``options``; older runs: the default)."""
    value = options.get("drift_alpha")
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 0.5:
        return float(value)
    return DEFAULT_DRIFT_ALPHA
