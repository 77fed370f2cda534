"""Hand-made trial records and run directories for the analysis tests."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from pytest_agentopt.configs.model import text_hash
from pytest_agentopt.storage.ledger import LedgerWriter, write_json_atomic
from pytest_agentopt.storage.summary_schema import CandidateResult, RunSummary


def trial(
    *,
    run_id: str = "r1",
    arm: str = "test",
    experiment_id: str = "exp_b",
    config_hash: str = "hb",
    task: str = "t1",
    code: str | None = None,
    category: str | None = "discriminative",
    trial_index: int | None = None,
    seq: int = 0,
    outcome: str = "success",
    cost: float | None = 0.01,
    tokens: tuple[int, int] | None = (100, 10),
    model: str | None = "gpt-x",
    steps: int | None = None,
    optimal_steps: int | None = None,
    tool_calls: int | None = None,
    impossible: bool = False,
    latency: float = 1.0,
    metrics: Mapping[str, Any] | None = None,
    message: str | None = None,
    error_type: str | None = None,
    started_at: str = "2026-11-20T10:00:00.000Z",
) -> dict[str, Any]:
    """One ledger record in the plugin's shape (key order as the controller writes it).

    The trial index defaults to ``seq``, so records made with distinct ``seq`` are distinct trials (a ledger
    counts one record per run, task, arm and trial: ``pytest_agentopt.storage.ledger_rule``).
    """
    if trial_index is None:
        trial_index = seq
    failed = outcome in ("failure", "error")
    return {
        "schema": 1,
        "run_id": run_id,
        "experiment_id": experiment_id,
        "arm": arm,
        "config_hash": config_hash,
        "task_id": f"suite.py::test_task[{task}]",
        "task_code": code if code is not None else task,
        "category": category,
        "optimal_steps": optimal_steps,
        "impossible": impossible,
        "trial": trial_index,
        "seq": seq,
        # As the plugin derives it: from the run's seed (here its id), the task and the trial index, so two runs
        # never share a trial unless a test builds a replay on purpose.
        "seed": zlib.crc32(f"{run_id}:{task}:{trial_index}".encode()),
        "outcome": outcome,
        "error_type": error_type if error_type is not None else ("AssertionError" if failed else None),
        "message": message if message is not None else ("check failed" if failed else None),
        "tokens": (
            None
            if tokens is None
            else {"input": tokens[0], "output": tokens[1], "cache_read": 0, "cache_write": 0, "reasoning": 0}
        ),
        "model": model,
        "cost_usd": cost,
        "price_source": "config prices" if cost is not None else None,
        "latency_s": latency,
        "steps": steps,
        "tool_calls": tool_calls,
        "metrics": dict(metrics or {}),
        "attempts": 1,
        "worker": "main",
        "started_at": started_at,
        "finished_at": started_at,
        "after_decision": False,
    }


def arm_entry(
    experiment_id: str, config_hash: str, *, parent: str | None = None, guidelines: Iterable[str] = (), model: str = "m"
) -> dict[str, Any]:
    """A manifest ``arms.<arm>`` entry with a valid resolved config."""
    texts = list(guidelines)
    return {
        "experiment_id": experiment_id,
        "config_hash": config_hash,
        "source": f"configs/{experiment_id}.json",
        "config": {
            "experiment_id": experiment_id,
            "parent": parent,
            "model_id": model,
            "provider": None,
            "guidelines": texts,
            "system_prompt": [],
            "temperature": 0.0,
            "max_steps": 20,
            "params": {},
            "prices": {},
        },
        "prompt_components": sorted(text_hash(text) for text in texts),
    }


def write_run(
    agent_dir: Path,
    run_id: str,
    records: Iterable[Mapping[str, Any]],
    *,
    arms: Mapping[str, Mapping[str, Any]] | None = None,
    created_at: str = "2026-11-20T10:00:00.000Z",
    summary: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """A run directory with a ledger (written by ``LedgerWriter``), a manifest and optionally a summary."""
    directory = agent_dir / "runs" / run_id
    with LedgerWriter(directory / "trials.jsonl") as writer:
        for record in records:
            writer.append(record)
    arms = dict(arms or {"test": arm_entry("exp_b", "hb")})
    components = {digest: text for arm in arms.values() for digest, text in _components(arm).items()}
    run = {
        "seed": 1,
        "trials": 10,
        "arms": list(arms),
        "sprt": False,
        "alpha": 0.05,
        "beta": 0.1,
        "effect": 0.15,
        "target": None,
        "direction": "both",
        **(settings or {}),
    }
    write_json_atomic(
        directory / "manifest.json",
        {
            "schema": 1,
            "run_id": run_id,
            "created_at": created_at,
            "experiment_id": arms["test"]["experiment_id"],
            "control_experiment_id": arms["control"]["experiment_id"] if "control" in arms else None,
            "arms": arms,
            "overrides": [],
            "prompt_components": components,
            "run": run,
            "options": {},
            "versions": {},
            "git_commit": None,
            "resumes": [],
        },
    )
    if summary is not None:
        write_json_atomic(directory / "summary.json", dict(summary))
    return directory


def _components(arm: Mapping[str, Any]) -> dict[str, str]:
    return {text_hash(text): text for text in arm["config"]["guidelines"]}


def run_summary(**fields: object) -> RunSummary:
    """A summary as the plugin writes it (built by ``build_summary`` from a few pairs), with ``fields`` set: the
    history reader reads only summaries of the documented shape, so test runs carry complete ones."""
    from tests.unit.test_summary import pairs, summarize

    summary = summarize(pairs([("failure", "success"), ("success", "success")]))
    unset = {"verdict": None, "verdict_reason": None, "decided_by": None}  # what a test does not set is unknown
    return cast(RunSummary, {**summary, **unset, **fields})


def candidate_result(arm: str, experiment_id: str, verdict: str | None, verdict_reason: str | None) -> CandidateResult:
    """One entry of a summary's ``candidates`` with the documented shape: the given verdict, the rest empty."""
    return {
        "arm": arm,
        "experiment_id": experiment_id,
        "config_hash": "0" * 12,
        "alpha": 0.025,
        "verdict": verdict,
        "verdict_reason": verdict_reason,
        "multiplicity": "bonferroni",
        "e_values": None,
        "claim_threshold": None,
        "decided_by": "sprt" if verdict is not None else None,
        "decided_at_cap": False,
        "pairs_used": None,
        "trials_started": 0,
        "trials_skipped": None,
        "trials_after_decision": 0,
        "llr": None,
        "bounds": None,
        "tests": None,
        "last_look": None,
        "pairs": None,
        "mcnemar_p": None,
        "mcnemar_direction": None,
        "effect": None,
        "cost_ratio": None,
        "config_diff": [],
        "hypothesis": None,
    }
