"""The trial record: one ledger line per finished trial (schema documented in ``docs/ledger.md``).

Records are plain dicts of JSON values so they cross from xdist workers to the controller unchanged (as a report
attribute) and are written to the ledger as they are.
"""

from __future__ import annotations

import json
import math
from typing import Any, TypedDict, cast

from pytest_agentopt.run.trial_order import is_candidate_arm

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


# ---------------------------------------------------------------------------------------------------------------
# Reading records back: the one rule every reader applies (resume, reports, the history and analysis API)
# ---------------------------------------------------------------------------------------------------------------

IDENTITY_FIELDS: tuple[str, ...] = ("run_id", "experiment_id", "arm", "config_hash", "task_id", "outcome")
"""Fields that must be strings: a record whose run, config, arm, task or outcome is anything else is not counted."""
ARMS: tuple[str, ...] = ("control", "test")


def known_arm(arm: object) -> bool:
    """``control``, ``test``, or a further candidate of a run with several (``test2``, ``test3``...)."""
    return arm in ARMS or (isinstance(arm, str) and is_candidate_arm(arm))


"""The values of ``arm``: a record of any other arm is not counted."""
_WHOLE_NUMBERS = ("schema", "trial", "seq", "seed", "attempts")
_OPTIONAL_WHOLE_NUMBERS = ("optimal_steps", "steps", "tool_calls")
_OPTIONAL_NUMBERS = ("cost_usd", "latency_s")
_FLAGS = ("impossible", "after_decision")
_TEXTS = (
    "experiment_id",
    "config_hash",
    "task_code",
    "category",
    "error_type",
    "message",
    "model",
    "price_source",
    "worker",
)
_DEFAULTS: dict[str, Any] = {
    "experiment_id": "",
    "config_hash": "",
    "task_code": None,
    "category": None,
    "optimal_steps": None,
    "impossible": False,
    "seed": 0,
    "error_type": None,
    "message": None,
    "tokens": None,
    "model": None,
    "cost_usd": None,
    "price_source": None,
    "latency_s": None,
    "steps": None,
    "tool_calls": None,
    "metrics": {},
    "attempts": 1,
    "worker": "",
    "started_at": None,
    "finished_at": None,
    "after_decision": False,
}
_SEED_RANGE = range(-(2**63), 2**63)
_NONE = type(None)
_EXACT_FIELDS = frozenset(TrialRecord.__annotations__)
# The exact types the plugin writes, field by field (``bool`` is not an ``int`` here: ``type()``, not isinstance).
_EXACT_TYPES: tuple[tuple[str, tuple[type, ...]], ...] = tuple(
    (name, types)
    for name, types in {
        "schema": (int,),
        "run_id": (str,),
        "experiment_id": (str,),
        "arm": (str,),
        "config_hash": (str,),
        "task_id": (str,),
        "task_code": (str, _NONE),
        "category": (str, _NONE),
        "optimal_steps": (int, _NONE),
        "impossible": (bool,),
        "trial": (int,),
        "seq": (int,),
        "seed": (int,),
        "outcome": (str,),
        "error_type": (str, _NONE),
        "message": (str, _NONE),
        "tokens": (dict, _NONE),
        "model": (str, _NONE),
        "cost_usd": (float, int, _NONE),
        "price_source": (str, _NONE),
        "latency_s": (float, int),
        "steps": (int, _NONE),
        "tool_calls": (int, _NONE),
        "metrics": (dict,),
        "attempts": (int,),
        "worker": (str,),
        "started_at": (str,),
        "finished_at": (str,),
        "after_decision": (bool,),
    }.items()
)


def normalise_record(value: object) -> TrialRecord | None:
    """``value`` as a trial record in the plugin's exact shape, or ``None`` when it cannot be one.

    The rule is the same for every reader (``read_ledger`` for resume and reports, ``load_trials`` for the
    history): the identity fields (:data:`IDENTITY_FIELDS`) must be strings, ``arm`` one of :data:`ARMS`, and
    ``trial``, ``seq``, ``seed`` and ``attempts`` whole numbers (a ``3.0`` or a ``"3"`` is 3); a missing optional
    field takes its default (null for unknown measurements), a number written as a string is read as the number, a
    text field holding another value becomes its text, a non-finite or non-numeric measurement becomes null.
    Lone surrogates in strings are the reader's to replace (:func:`without_surrogates`): only a line holding a
    ``\\uD800``-``\\uDFFF`` escape or its UTF-8 bytes can put one there, which a reader sees far more cheaply in
    the raw line.
    """
    if _is_exact(value):
        return cast(TrialRecord, value)  # what the plugin writes: nothing to normalise (the common case, fast)
    if not is_trial_record(value):
        return None
    record: dict[str, Any] = {**_DEFAULTS, **cast(dict[str, Any], value)}
    if not all(isinstance(record[name], str) for name in IDENTITY_FIELDS) or not known_arm(record["arm"]):
        return None
    for name in _WHOLE_NUMBERS:
        number = _whole(record[name])
        if number is None:
            return None
        record[name] = number
    if record["seed"] not in _SEED_RANGE or record["schema"] > LEDGER_SCHEMA:
        return None
    for name in _TEXTS:
        record[name] = _text(record[name])
    for name in _OPTIONAL_WHOLE_NUMBERS:
        measured = _number(record[name])
        record[name] = int(measured) if measured is not None and measured.is_integer() else measured
    for name in _OPTIONAL_NUMBERS:
        record[name] = _number(record[name])
    for name in _FLAGS:
        record[name] = bool(record[name])
    record["tokens"] = _token_counts(record["tokens"])
    if not isinstance(record["metrics"], dict):
        record["metrics"] = {}
    return cast(TrialRecord, record)


def _is_exact(value: object) -> bool:
    """Whether ``value`` is a record exactly as the plugin writes it (every field, of its exact type and range)."""
    if type(value) is not dict or value.keys() != _EXACT_FIELDS:
        return False
    for name, types in _EXACT_TYPES:
        if type(value.get(name)) not in types:
            return False
    tokens = value["tokens"]
    return (
        known_arm(value["arm"])
        and value["schema"] <= LEDGER_SCHEMA
        and value["seed"] in _SEED_RANGE
        and math.isfinite(value["latency_s"])
        and (value["cost_usd"] is None or math.isfinite(value["cost_usd"]))
        and (
            tokens is None
            or (len(tokens) == len(TOKEN_CLASSES) and all(type(tokens.get(c)) is int for c in TOKEN_CLASSES))
        )
    )


def _whole(value: object) -> int | None:
    if isinstance(value, int):
        return int(value)
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else str(value)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _token_counts(value: object) -> TokenCounts | None:
    if not isinstance(value, dict):
        return None
    counts: dict[str, int] = {}
    for token_class in TOKEN_CLASSES:
        number = _number(value.get(token_class, 0))
        counts[token_class] = int(number) if number is not None else 0
    return cast(TokenCounts, counts)


def without_surrogates(value: Any) -> Any:
    """``value`` with every lone surrogate in its strings (keys included) replaced by U+FFFD.

    Agents' error messages and labels can hold them (text decoded with ``surrogateescape``, a broken web page);
    such a string cannot be encoded as UTF-8, so no ledger, summary or report could be written with it. A value
    without any is returned as it is (the same object).
    """
    if not _has_surrogates(value):
        return value
    if isinstance(value, str):
        # A surrogate pair split over two code points is joined again; a lone one becomes U+FFFD.
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    if isinstance(value, dict):
        return {without_surrogates(key): without_surrogates(item) for key, item in value.items()}
    return [without_surrogates(item) for item in value]


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_surrogates(key) or _has_surrogates(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_surrogates(item) for item in value)
    return False
