"""Runs that repeat earlier trials: the same config, the same seed, hence the same trials again.

A trial's seed is derived from the run seed, the task and the trial index, so a run started with the same
``--agent-seed`` as an earlier run of the same config runs that run's trials again. For an agent whose behaviour
depends only on its seed, they are the same trials with the same outcomes; the history counts each (config, task,
seed) once (``analysis.load_trials``), so such a run adds nothing to it. The plugin says so when the run starts,
before it spends anything. Light on purpose (no numpy): it runs at start-up, and only with ``--agent-seed``.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import iter_runs, read_manifest

__all__ = ["earlier_runs_with_the_same_trials", "replay_warning"]


def earlier_runs_with_the_same_trials(
    agent_dir: Path, *, run_id: str, seed: int, config_hashes: Collection[str], shard: str | None = None
) -> list[str]:
    """Run ids (oldest first) of earlier runs with ``seed`` and at least one of ``config_hashes``.

    ``shard`` (``--agent-shard I/N``): the other shards of N share the seed but run other tasks, so they repeat
    nothing."""
    found: list[str] = []
    for paths in iter_runs(agent_dir):
        if paths.run_id == run_id:
            continue
        try:
            manifest = read_manifest(paths)
        except LedgerError:
            continue
        arms = manifest.get("arms")
        run = manifest.get("run")
        if not isinstance(arms, dict) or not isinstance(run, dict) or run.get("seed") != seed:
            continue
        if shard is not None and _other_shard(shard, run.get("shard")):
            continue
        hashes = {arm.get("config_hash") for arm in arms.values() if isinstance(arm, dict)}
        if hashes & set(config_hashes):
            found.append(paths.run_id)
    return found


def _other_shard(mine: str, theirs: object) -> bool:
    """Whether ``theirs`` (an earlier run's ``run.shard``) is another shard of the same number of shards."""
    if not isinstance(theirs, str) or theirs == mine:
        return False
    return theirs.partition("/")[2] == mine.partition("/")[2]


def replay_warning(earlier: list[str], seed: int) -> str:
    shown = ", ".join(earlier[-3:]) + (f" and {len(earlier) - 3} more" if len(earlier) > 3 else "")
    return (
        f"warning: --agent-seed={seed} repeats run {shown} with the same config: its trials run again with the "
        "same seeds; this run's own figures are its own, but the history (Pareto front, agentopt experiments, "
        "pareto, tasks, guidelines) counts each config, task and seed once, so it adds nothing there; leave "
        "--agent-seed out (or change it) to add new evidence"
    )
