"""The trial record: one ledger line per finished trial (schema documented in ``docs/ledger.md``).

Records are plain dicts of JSON values so they cross from xdist workers to the controller unchanged (as a report
attribute) and are written to the ledger as they are.
"""

from __future__ import annotations

from typing import Any, TypedDict

LEDGER_SCHEMA = 1


TOKEN_CLASSES: tuple[str, ...] = ("input", "output", "cache_read", "cache_write", "reasoning")
"""The token classes of a record's ``tokens`` object, in their documented order."""


class TokenCounts(TypedDict):
    input: int
    output: int
    cache_read: int
    cache_write: int
    reasoning: int


class TrialRecord(TypedDict):
    schema: int
    run_id: str
    experiment_id: str
    arm: str
    config_hash: str
    task_id: str
    task_code: str | None
    category: str | None
    optimal_steps: int | None
    impossible: bool
    trial: int
    seq: int
    seed: int
    outcome: str
    error_type: str | None
    message: str | None
    tokens: TokenCounts | None
    model: str | None
    cost_usd: float | None
    price_source: str | None
    latency_s: float
    steps: int | None
    tool_calls: int | None
    metrics: dict[str, Any]
    attempts: int
    worker: str
    started_at: str
    finished_at: str
    after_decision: bool


REQUIRED_FIELDS: frozenset[str] = frozenset(TrialRecord.__annotations__)


def is_trial_record(value: object) -> bool:
    """Whether ``value`` looks like a trial record of a schema this version can read."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("schema"), int)
        and value["schema"] <= LEDGER_SCHEMA
        and {"run_id", "arm", "task_id", "trial", "seq", "outcome"} <= value.keys()
    )
