"""Checking a manifest read back from disk before a run is resumed from it.

A manifest is written by the plugin, but it lives in a directory people copy, edit and sometimes damage. Resuming
trusts it for the run's seed, cap, sequential settings and both configs, so every value a resume uses is checked
here first: a missing key, a wrong type, a setting out of range or a config that no longer validates is a
:class:`~pytest_agentopt.errors.LedgerError` naming the file and the field (``field 'run.alpha': ...``), which the
pytest shell reports as a usage error (exit 4) with nothing run and nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pytest_agentopt.configs.model import validate_config
from pytest_agentopt.errors import AgentoptUsageError, LedgerError
from pytest_agentopt.run.options import DEFAULT_FAMILY_ERROR, FAMILY_ERRORS, MAX_TRIALS
from pytest_agentopt.run.shards import Shard
from pytest_agentopt.run.trial_order import ARMS_AB, ARMS_SINGLE, candidate_arms
from pytest_agentopt.stats.wald import DIRECTIONS

_VALID_ARMS = (list(ARMS_AB), list(ARMS_SINGLE))


def _valid_arms(value: Any) -> bool:
    """``["control", "test"]``, ``["test"]``, or a control with several candidates ``test``, ``test2``..."""
    if value in _VALID_ARMS:
        return True
    return isinstance(value, list) and len(value) > 2 and value == ["control", *candidate_arms(len(value) - 1)]


def check_resumable(manifest: Mapping[str, Any], path: Path) -> None:
    """Raise :class:`LedgerError` unless ``manifest`` (read from ``path``) holds everything a resume uses."""

    def fail(field: str, problem: str) -> LedgerError:
        return LedgerError(
            f"{path}: field {field!r}: {problem}; the manifest is damaged or was edited: this run cannot be resumed "
            "(start a new run)"
        )

    def require(field: str, value: Any, valid: Callable[[Any], bool], what: str) -> None:
        if not valid(value):
            raise fail(field, f"{what}, got {_shown(value)}" if value is not _MISSING else f"missing ({what})")

    get = _getter(manifest)
    require("run_id", get("run_id"), _is_text, "must be a run id (a non-empty string)")
    require("run", get("run"), _is_object, "must be an object")
    run = manifest["run"]
    require("run.seed", get("run.seed"), lambda v: _is_int(v) and v >= 0, "must be a non-negative integer")
    require(
        "run.trials",
        get("run.trials"),
        lambda v: _is_int(v) and 1 <= v <= MAX_TRIALS,
        f"must be an integer from 1 to {MAX_TRIALS}",
    )
    require(
        "run.arms",
        get("run.arms"),
        _valid_arms,
        'must be ["control", "test"], ["test"] or ["control", "test", "test2", ...]',
    )
    require("run.sprt", get("run.sprt"), lambda v: isinstance(v, bool), "must be true or false")
    for name in ("alpha", "beta"):
        require(f"run.{name}", get(f"run.{name}"), lambda v: _is_number(v) and 0 < v < 0.5, "must be in (0, 0.5)")
    require("run.effect", get("run.effect"), lambda v: _is_number(v) and 0 < v < 1, "must be in (0, 1)")
    require(
        "run.target",
        get("run.target"),
        lambda v: v is None or (_is_number(v) and 0 < v <= 1),
        "must be null or a rate in (0, 1]",
    )
    direction = run.get("direction", "both")
    require("run.direction", direction, lambda v: v in DIRECTIONS, f"must be one of {', '.join(DIRECTIONS)}")
    require(
        "run.family_error",
        run.get("family_error", DEFAULT_FAMILY_ERROR),
        lambda v: v in FAMILY_ERRORS,
        f"must be one of {', '.join(FAMILY_ERRORS)}",
    )
    require("run.shard", run.get("shard"), _is_shard, "must be null or a shard I/N with 1 <= I <= N")
    if run["arms"] == list(ARMS_SINGLE) and run["sprt"] and run["target"] is None:
        raise fail("run.target", "a single-config sequential run needs a target rate, got null")
    require("arms", get("arms"), _is_object, "must be an object")
    if sorted(manifest["arms"]) != sorted(run["arms"]):
        got = _shown(sorted(manifest["arms"]))
        raise fail("arms", f"must hold exactly the arms {', '.join(run['arms'])}, got {got}")
    for arm in run["arms"]:
        require(f"arms.{arm}", get(f"arms.{arm}"), _is_object, "must be an object")
        require(f"arms.{arm}.config_hash", get(f"arms.{arm}.config_hash"), _is_text, "must be a non-empty string")
        require(f"arms.{arm}.config", get(f"arms.{arm}.config"), _is_object, "must be an object")
        entry = manifest["arms"][arm]
        require(
            f"arms.{arm}.source", entry.get("source"), lambda v: v is None or isinstance(v, str), "must be a string"
        )
        require(
            f"arms.{arm}.lineage",
            entry.get("lineage", []),
            lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
            "must be a list of experiment ids",
        )
        _check_config(entry["config"], where=f"{path}: field 'arms.{arm}.config'")
    require(
        "overrides",
        manifest.get("overrides", []),
        lambda v: isinstance(v, list) and all(isinstance(item, str) for item in v),
        "must be a list of KEY=VALUE strings",
    )
    require("resumes", manifest.get("resumes", []), lambda v: isinstance(v, list), "must be a list")


def _check_config(data: Mapping[str, Any], *, where: str) -> None:
    try:
        validate_config(data, where=where)
    except AgentoptUsageError as exc:
        raise LedgerError(f"{exc}; the manifest is damaged or was edited: this run cannot be resumed") from None


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _getter(manifest: Mapping[str, Any]) -> Callable[[str], Any]:
    def get(dotted: str) -> Any:
        value: Any = manifest
        for part in dotted.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return _MISSING
            value = value[part]
        return value

    return get


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _is_shard(value: Any) -> bool:
    if value is None:
        return True
    try:
        Shard.parse(value)
    except (ValueError, AttributeError):
        return False
    return isinstance(value, str)


def _is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
