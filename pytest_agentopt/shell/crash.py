"""Trials whose xdist worker died: who they were, and the ledger record the controller writes for them.

A trial that kills its worker (``os._exit``, SIGKILL, the OOM killer, a segfault in a native client) sends no
report. xdist sees the worker go down, names the item it was running (``pytest_handlecrashitem``) and replaces the
worker; the controller then records the trial itself, with the outcome ``worker_crash``, the worker and its exit
status, so the ledger, the sequential test and the dispatcher all move past it.

The controller collects no items (xdist collects on the workers only), so it works a crashed trial's identity out
of its node id and the workers' collection, exactly as the workers plan it (``trial_order``): the task is the node id
without its ``arm-trial`` parameter, and the planned position comes from the same plan over the same tasks.

Why ``worker_crash`` is kept out of the statistics with the other half of its pair: the plugin cannot tell a crash
the agent caused (a segfault in its native client, memory it ran away with) from one the machine caused (the OOM
killer acting for another process, a preempted node, an operator's ``kill``). Counting it as the agent's failure
would charge the machine's faults to whichever arm happened to be running; excluding the pair - as for an
infrastructure error - keeps the paired comparison unbiased when crashes do not depend on the arm. When they do
depend on it, excluding them hides a real defect, so crashes count towards ``--agent-infra-max-share`` (the run
fails when too many trials were lost) and every one is listed in the report.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_agentopt.run.trial_order import build_plan, trial_seed
from pytest_agentopt.storage.ledger import iso_timestamp
from pytest_agentopt.storage.run_context import RunContext
from pytest_agentopt.storage.trial_record import LEDGER_SCHEMA, TrialRecord

_TRIAL_ID = re.compile(r"(?:-|\[)(control|test(?:[1-9]\d*)?)-(\d+)\]$")
"""The trial id ends an agent item's node id: ``<arm>-<trial>``, the arm ``control``, ``test``, ``test2``..."""
TASK_FIELDS = ("task_code", "category", "optimal_steps", "impossible")


def parse_trial_nodeid(nodeid: str) -> tuple[str, str, int] | None:
    """``(task_id, arm, trial)`` of an agent item's node id, ``None`` for any other test."""
    match = _TRIAL_ID.search(nodeid)
    if match is None:
        return None
    head = nodeid[: match.start()]
    task_id = head + "]" if match.group(0).startswith("-") else head
    return task_id, match.group(1), int(match.group(2))


class PlanPositions:
    """The planned position of every agent item, from the workers' collection and the resumed trials.

    Built on first use (a worker crash is rare) and kept: one dict entry per planned trial.
    """

    def __init__(self, collection: Sequence[str], context: RunContext) -> None:
        self._collection = collection
        self._context = context
        self._seq: dict[tuple[str, str, int], int] | None = None

    def seq(self, key: tuple[str, str, int]) -> int | None:
        if self._seq is None:
            self._seq = self._build()
        return self._seq.get(key)

    def _build(self) -> dict[tuple[str, str, int], int]:
        keys = {key for key in map(parse_trial_nodeid, self._collection) if key is not None}
        keys.update(key for key, _ in self._context.finished_positions())
        context = self._context
        # The trials per task the workers planned with: under a cap in pairs they are derived from the number of
        # tasks at collection (``trial_expansion``), so read them from the collected and finished trials.
        trials = max((key[2] + 1 for key in keys), default=context.trials)
        plan = build_plan({key[0] for key in keys}, context.arms, trials, context.seed)
        planned = (entry for entry in plan if entry.key in keys)
        return {entry.key: seq for seq, entry in enumerate(planned)}


def exit_status_text(returncode: int | None) -> tuple[str, str]:
    """``(error_type, description)`` of a worker's exit status: ``("signal SIGKILL", "killed by signal 9
    (SIGKILL)")``, ``("exit code 1", "exited with code 1")``, or unknown (a remote worker)."""
    if returncode is None:
        return "unknown exit status", "died (exit status unknown)"
    if returncode < 0:
        number = -returncode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"signal {name}", f"was killed by signal {number} ({name})"
    return f"exit code {returncode}", f"exited with code {returncode}"


def task_fields_of(task_id: str, records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The marker's fields of a task, from any recorded trial of it (``None`` values when none is recorded)."""
    for record in records:
        if record["task_id"] == task_id:
            return {name: record.get(name) for name in TASK_FIELDS}
    return {"task_code": None, "category": None, "optimal_steps": None, "impossible": False}


def crash_record(
    *,
    context: RunContext,
    key: tuple[str, str, int],
    seq: int,
    worker: str,
    returncode: int | None,
    started: float,
    detected: float,
    task_fields: Mapping[str, Any],
) -> TrialRecord:
    """The ledger record of a trial whose worker died while running it.

    ``started`` and ``detected`` are the controller's clock: when the worker said it started the item, and when
    the controller saw the worker go down. Nothing is known of the tokens or the cost: they are null (unknown).
    """
    task_id, arm, trial = key
    raw = context.configs.raw(arm)
    error_type, description = exit_status_text(returncode)
    return {
        "schema": LEDGER_SCHEMA,
        "run_id": context.run_id,
        "experiment_id": raw["experiment_id"],
        "arm": arm,
        "config_hash": context.hashes[arm],
        "task_id": task_id,
        "task_code": task_fields.get("task_code"),
        "category": task_fields.get("category"),
        "optimal_steps": task_fields.get("optimal_steps"),
        "impossible": bool(task_fields.get("impossible", False)),
        "trial": trial,
        "seq": seq,
        "seed": trial_seed(context.seed, task_id, trial),
        "outcome": "worker_crash",
        "error_type": error_type,
        "message": f"worker {worker} {description} while running this trial",
        "tokens": None,
        "model": raw["model_id"],
        "cost_usd": None,
        "price_source": None,
        "latency_s": round(max(0.0, detected - started), 6),
        "steps": None,
        "tool_calls": None,
        "metrics": {},
        "attempts": 1,
        "worker": worker,
        "started_at": iso_timestamp(started),
        "finished_at": iso_timestamp(detected),
        "after_decision": False,
    }


def crash_note(records: Iterable[Mapping[str, Any]], shown: int = 3) -> str | None:
    """The report's warning about trials lost with their worker (kept out of the statistics), or ``None``."""
    crashed = [r for r in records if r["outcome"] == "worker_crash"]
    if not crashed:
        return None
    listed = "; ".join(f"{r['task_id']} [{r['arm']} {r['trial']}]: {r['message']}" for r in crashed[:shown])
    more = f"; and {len(crashed) - shown} more" if len(crashed) > shown else ""
    return (
        f"warning: {len(crashed)} trial(s) ended with their worker process (worker_crash) and are kept out of the "
        f"statistics with the other half of their pairs: {listed}{more}"
    )
