"""Decoding one block of ledger lines into columns (the hot path of loading a million trials).

A block is a run of whole lines (``bytes``). Each line is parsed with the fastest JSON decoder available
(``orjson`` when it is installed, otherwise the standard library; the two give the same values), then every
field is pulled out column by column with C-level loops (``operator.itemgetter``, ``dict.fromkeys``,
``numpy.fromiter``) instead of a Python loop per trial and field. Strings become local categorical codes, merged
into the table's categories by :mod:`pytest_agentopt.analysis.loading`.

Lines that are not trial records (a torn last line after a crash, garbage) are skipped and reported as
``read_ledger`` does. Records that are trial records but not in the exact shape the plugin writes (a missing
optional field, a number written as a string...) take a slower path that normalises them one by one.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from ..records import LEDGER_SCHEMA, is_trial_record
from .table import CATEGORICAL_COLUMNS, TOKEN_CLASSES

__all__ = ["ColumnBlock", "decode_block", "json_decoder_name", "metrics_from_key"]

Loads = Callable[[bytes], Any]

_PLAIN_CATEGORICAL = tuple(name for name in CATEGORICAL_COLUMNS if name != "metrics")
_INTS: dict[str, type[np.integer[Any]]] = {
    "schema": np.int16,
    "trial": np.int32,
    "seq": np.int64,
    "seed": np.int64,
    "attempts": np.int32,
}
_FLOATS = ("optimal_steps", "cost_usd", "latency_s", "steps", "tool_calls")
_BOOLS = ("impossible", "after_decision")
_TIMES = ("started_at", "finished_at")
_NULL_TOKENS = (None,) * len(TOKEN_CLASSES)
_TOKEN_GETTER = itemgetter(*TOKEN_CLASSES)
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


def _standard_loads() -> Loads:
    return json.loads


def _fast_loads() -> tuple[Loads, str]:
    """``orjson.loads`` when installed (about 3x faster than the standard library here), else ``json.loads``."""
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return _standard_loads(), "json (standard library)"
    loads: Loads = orjson.loads
    return loads, f"orjson {getattr(orjson, '__version__', '')}".strip()


_LOADS, _DECODER_NAME = _fast_loads()


def json_decoder_name() -> str:
    """Which JSON decoder loading uses (reported by the benchmark)."""
    return _DECODER_NAME


@dataclass
class ColumnBlock:
    """The columns of one block, with categorical columns as local ``(codes, categories)``."""

    size: int
    lines: int
    """Line-number increment of this block: lines that end with a newline, plus a final unterminated one."""
    numeric: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    categorical: dict[str, tuple[npt.NDArray[np.int32], list[Any]]] = field(default_factory=dict)
    bad_lines: list[tuple[int, int, bool]] = field(default_factory=list)
    """``(0-based line index in the block, bytes, is the unterminated last line of the file)``."""


def decode_block(data: bytes) -> ColumnBlock:
    """Decode whole lines (``data`` ends with a newline unless it is the end of the file)."""
    lines = data.split(b"\n")
    last = len(lines) - 1
    records: list[Any] = []
    indices: list[int] = []
    bad: list[tuple[int, int, bool]] = []
    loads = _LOADS
    for index, line in enumerate(lines):
        if not line:
            continue
        try:
            value = loads(line)
        except ValueError:
            value = _retry(line)
            if value is _BLANK:
                continue
            if value is _UNREADABLE:
                bad.append((index, len(line), index == last))
                continue
        records.append(value)
        indices.append(index)
    try:
        block = _columns(records, _items_key)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        normalised: list[dict[str, Any]] = []
        for index, value in zip(indices, records, strict=True):
            record = _normalise(value)
            if record is None:
                bad.append((index, len(lines[index]), index == last))
            else:
                normalised.append(record)
        block = _columns(normalised, _safe_key)
        bad.sort()
    block.lines = last + (1 if lines[last] else 0)
    block.bad_lines = bad
    return block


_BLANK = object()
_UNREADABLE = object()


def _retry(line: bytes) -> Any:
    """A line the fast decoder refused: blank, or valid for the standard library (e.g. NaN), or unreadable."""
    if not line.strip():
        return _BLANK
    try:
        return json.loads(line)
    except ValueError:
        return _UNREADABLE


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------


def _columns(records: list[Any], metrics_key: Callable[[Mapping[str, Any]], Hashable]) -> ColumnBlock:
    """Columns of records in the plugin's shape; raises on anything else (the caller then normalises)."""
    size = len(records)
    block = ColumnBlock(size=size, lines=0)
    schemas = list(map(itemgetter("schema"), records))
    if not all(type(value) is int and value <= LEDGER_SCHEMA for value in set(schemas)):
        raise ValueError("unsupported schema")
    block.numeric["schema"] = np.fromiter(schemas, dtype=np.int16, count=size)
    for name in _PLAIN_CATEGORICAL:
        block.categorical[name] = _categorical(list(map(itemgetter(name), records)))
    for name, dtype in _INTS.items():
        if name != "schema":
            block.numeric[name] = _ints(list(map(itemgetter(name), records)), dtype)
    for name in _FLOATS:
        block.numeric[name] = _floats(list(map(itemgetter(name), records)))
    for name in _BOOLS:
        block.numeric[name] = np.array(list(map(itemgetter(name), records)), dtype=bool).reshape(size)
    for name in _TIMES:
        block.numeric[name] = _timestamps(list(map(itemgetter(name), records)))
    tokens = [_NULL_TOKENS if value is None else _TOKEN_GETTER(value) for value in map(itemgetter("tokens"), records)]
    matrix = np.array(tokens, dtype=np.float64).reshape(size, len(TOKEN_CLASSES))
    for position, token_class in enumerate(TOKEN_CLASSES):
        block.numeric[f"tokens_{token_class}"] = np.ascontiguousarray(matrix[:, position])
    block.categorical["metrics"] = _categorical([metrics_key(value) for value in map(itemgetter("metrics"), records)])
    return block


def _categorical(values: list[Any]) -> tuple[npt.NDArray[np.int32], list[Any]]:
    categories = list(dict.fromkeys(values))
    for value in categories:
        if value is not None and type(value) is not str and type(value) is not tuple:
            raise TypeError(f"not a string: {value!r}")
    lookup = {value: code for code, value in enumerate(categories)}
    codes = np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))
    return codes, categories


def _ints(values: list[Any], dtype: type[np.integer[Any]]) -> npt.NDArray[Any]:
    if any(kind is not int for kind in set(map(type, values))):
        raise TypeError("not an integer")
    return np.fromiter(values, dtype=dtype, count=len(values))


def _floats(values: list[Any]) -> npt.NDArray[np.float64]:
    for value in set(map(type, values)):
        if value is not int and value is not float and value is not type(None):
            raise TypeError(f"not a number: {value!r}")
    return np.array(values, dtype=np.float64).reshape(len(values))


def _timestamps(values: list[Any]) -> npt.NDArray[np.datetime64]:
    """ISO 8601 UTC strings (``...Z``, as the plugin writes them) to ``datetime64[ms]``; others parsed one by one."""
    try:
        if all(value[-1] == "Z" for value in values):
            return np.array([value[:-1] for value in values], dtype="datetime64[ms]").reshape(len(values))
    except (TypeError, ValueError, IndexError):
        pass
    return np.array([_timestamp(value) for value in values], dtype="datetime64[ms]").reshape(len(values))


def _timestamp(value: object) -> np.datetime64:
    if not isinstance(value, str):
        return np.datetime64("NaT", "ms")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return np.datetime64("NaT", "ms")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return np.datetime64(parsed, "ms")


def _items_key(metrics: Mapping[str, Any]) -> Hashable:
    """Metrics dicts are interned by their items (a dict that holds a list makes the block take the safe path)."""
    return tuple(metrics.items())


def _safe_key(metrics: Mapping[str, Any]) -> Hashable:
    items = tuple(metrics.items())
    try:
        hash(items)
    except TypeError:
        return json.dumps(metrics, sort_keys=True, ensure_ascii=False, default=str)
    return items


def metrics_from_key(key: Hashable) -> dict[str, Any]:
    """The metrics dict a categorical key stands for (items tuple, or JSON text for unhashable values)."""
    if isinstance(key, str):
        value = json.loads(key)
        return value if isinstance(value, dict) else {}
    if isinstance(key, tuple):
        return dict(key)
    return {}


# ---------------------------------------------------------------------------------------------------------------
# The slow path: one record at a time
# ---------------------------------------------------------------------------------------------------------------


def _normalise(value: Any) -> dict[str, Any] | None:
    """A trial record in the plugin's exact shape, or ``None`` when ``value`` is not one (an unreadable line)."""
    if not is_trial_record(value):
        return None
    record: dict[str, Any] = {**_DEFAULTS, **value}
    try:
        for name in ("trial", "seq", "seed", "attempts"):
            record[name] = int(record[name])
        record["schema"] = int(record["schema"])
    except (TypeError, ValueError, OverflowError):
        return None
    for name in _PLAIN_CATEGORICAL:
        record[name] = _text(record[name])
    for name in _FLOATS:
        record[name] = _number(record[name])
    for name in _BOOLS:
        record[name] = bool(record[name])
    record["tokens"] = _token_counts(record["tokens"])
    if not isinstance(record["metrics"], dict):
        record["metrics"] = {}
    return record


def _text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, dict | list) else str(value)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _token_counts(value: object) -> dict[str, int] | None:
    if not isinstance(value, dict):
        return None
    counts: dict[str, int] = {}
    for token_class in TOKEN_CLASSES:
        number = _number(value.get(token_class, 0))
        counts[token_class] = int(number) if number is not None else 0
    return counts
