"""Decoding a block of ledger lines into columns (the hot path of loading a million trials).

A block is a run of whole lines (``bytes``). It is decoded in batches of :data:`BATCH_LINES` lines:

1. **Parse.** A batch is parsed in one call as a JSON array (the lines joined by commas): the standard library's
   decoder then shares one string object per key across the batch, which halves its cost against one call per
   line. The result is kept only when it has exactly one value per line; otherwise (a torn or unreadable line)
   the batch is parsed line by line and bad lines are reported as ``read_ledger`` does. ``orjson`` is used
   instead of the standard library when it is installed (about 2.5x faster again; same values).
2. **Columns.** The wanted fields are pulled out with C-level loops (``operator.itemgetter`` with several keys
   per pass, ``dict.fromkeys``, ``numpy.array``) while the batch's dicts are still in the processor's cache.
   Strings become categorical codes local to the block, merged into the table's categories by
   :mod:`pytest_agentopt.analysis.loading`.

Records that are trial records but not in the exact shape the plugin writes (a missing optional field, a number
written as a string...) take a slower path that normalises them one by one.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from pytest_agentopt.analysis.table import ALL_COLUMNS, REQUIRED_COLUMNS
from pytest_agentopt.storage.trial_record import (
    IDENTITY_FIELDS,
    LEDGER_SCHEMA,
    TOKEN_CLASSES,
    known_arm,
    normalise_record,
    without_surrogates,
)

__all__ = [
    "BATCH_LINES",
    "CategoryMerger",
    "ColumnBlock",
    "concat_blocks",
    "decode_block",
    "decode_records",
    "json_decoder_name",
    "metrics_from_key",
]

Loads = Callable[[bytes], Any]

BATCH_LINES = 256
# Categorical fields read in one pass: those fixed per run and arm, per task, per outcome; the message alone.
_CATEGORICAL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("run_id", "experiment_id", "arm", "config_hash", "model", "price_source", "worker"),
    ("task_id", "task_code", "category"),
    ("outcome", "error_type"),
    ("message",),
)
# Numbers read in one pass as float64 (exact for integers below 2**53; the 64-bit seed is read on its own).
_NUMBERS = (
    "schema",
    "optimal_steps",
    "impossible",
    "trial",
    "seq",
    "cost_usd",
    "latency_s",
    "steps",
    "tool_calls",
    "attempts",
    "after_decision",
)
_INTS: dict[str, type[np.integer[Any]]] = {"schema": np.int16, "trial": np.int32, "seq": np.int64, "attempts": np.int32}
_BOOLS = ("impossible", "after_decision")
_TIMES = ("started_at", "finished_at")
_TOKEN_COLUMNS = tuple(f"tokens_{token_class}" for token_class in TOKEN_CLASSES)
_NULL_TOKENS = (None,) * len(TOKEN_CLASSES)
_TOKEN_GETTER = itemgetter(*TOKEN_CLASSES)
# The fields ``is_trial_record`` requires (beyond ``schema``, which is always checked).
_RECORD_KEYS = frozenset({"run_id", "arm", "task_id", "trial", "seq", "outcome"})
_SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, IndexError)


def _fast_loads() -> tuple[Loads, str]:
    """``orjson.loads`` when installed, else ``json.loads`` (the same values either way)."""
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return json.loads, "json (standard library)"
    loads: Loads = orjson.loads
    return loads, f"orjson {getattr(orjson, '__version__', '')}".strip()


_LOADS, _DECODER_NAME = _fast_loads()


def json_decoder_name() -> str:
    """Which JSON decoder loading uses (reported by the benchmark)."""
    return _DECODER_NAME


# ---------------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------------


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


class CategoryMerger:
    """Merges local categorical columns into one set of categories, remapping their codes."""

    def __init__(self) -> None:
        self.lookup: dict[Any, int] = {}

    def add(self, codes: npt.NDArray[np.int32], categories: list[Any]) -> npt.NDArray[np.int32]:
        lookup = self.lookup
        remap = np.array([lookup.setdefault(value, len(lookup)) for value in categories], dtype=np.int32)
        remapped: npt.NDArray[np.int32] = remap[codes] if codes.size else np.zeros(0, dtype=np.int32)
        return remapped

    @property
    def categories(self) -> list[Any]:
        return list(self.lookup)


def concat_blocks(blocks: list[ColumnBlock]) -> ColumnBlock:
    """One block from consecutive blocks (line indices of ``bad_lines`` must already be block-wide)."""
    filled = [block for block in blocks if block.size]
    merged = ColumnBlock(size=sum(block.size for block in filled), lines=sum(block.lines for block in blocks))
    merged.bad_lines = [bad for block in blocks for bad in block.bad_lines]
    if not filled:
        return merged
    for name in filled[0].numeric:
        merged.numeric[name] = np.concatenate([block.numeric[name] for block in filled])
    for name in filled[0].categorical:
        merger = CategoryMerger()
        codes = [merger.add(*block.categorical[name]) for block in filled]
        merged.categorical[name] = (np.concatenate(codes), merger.categories)
    return merged


def decode_block(data: bytes, columns: Collection[str] = ALL_COLUMNS) -> ColumnBlock:
    """Decode whole lines (``data`` ends with a newline unless it is the end of the file) into ``columns``."""
    wanted = frozenset(columns)
    lines = data.split(b"\n")
    last = len(lines) - 1
    batches = [
        _decode_batch(lines, range(start, min(len(lines), start + BATCH_LINES)), wanted)
        for start in range(0, len(lines), BATCH_LINES)
    ]
    block = concat_blocks(batches)
    block.lines = last + (1 if lines[last] else 0)
    return block


def decode_records(records: Sequence[Any], columns: Collection[str] = ALL_COLUMNS) -> ColumnBlock:
    """Trial records already in memory (the plugin's own) into ``columns``, as :func:`decode_block` decodes lines.

    Records not in the plugin's exact shape are normalised one by one; a value that is no trial record is skipped
    and listed in ``bad_lines`` by its index.
    """
    wanted = frozenset(columns)
    batch = list(records)
    try:
        block = _columns(batch, wanted, _items_key)
    except _SHAPE_ERRORS:
        normalised: list[dict[str, Any]] = []
        bad: list[tuple[int, int, bool]] = []
        for index, value in enumerate(batch):
            record = _normalise(value)
            if record is None:
                bad.append((index, 0, False))
            else:
                normalised.append(record)
        block = _columns(normalised, wanted, _safe_key)
        block.bad_lines = bad
    block.lines = len(batch)
    return block


def _decode_batch(lines: list[bytes], positions: range, wanted: frozenset[str]) -> ColumnBlock:
    indices = [index for index in positions if lines[index]]
    if not indices:
        return ColumnBlock(size=0, lines=0)
    together = _parse_together(lines, indices)
    if together is not None:
        try:
            return _columns(together, wanted, _items_key)
        except _SHAPE_ERRORS:
            pass
    last = len(lines) - 1
    records: list[Any] = []
    kept: list[int] = []
    bad: list[tuple[int, int, bool]] = []
    for index in indices:
        value = _parse_one(lines[index])
        if value is _BLANK:
            continue
        if value is _UNREADABLE:
            bad.append((index, len(lines[index]), index == last))
            continue
        records.append(value)
        kept.append(index)
    try:
        block = _columns(records, wanted, _items_key)
    except _SHAPE_ERRORS:
        normalised: list[dict[str, Any]] = []
        for index, value in zip(kept, records, strict=True):
            record = _normalise(value)
            if record is None:
                bad.append((index, len(lines[index]), index == last))
            else:
                normalised.append(record)
        block = _columns(normalised, wanted, _safe_key)
        bad.sort()
    block.bad_lines = bad
    return block


def _parse_together(lines: list[bytes], indices: list[int]) -> list[Any] | None:
    """The batch parsed as one JSON array, or ``None`` unless that gives exactly one value per line."""
    try:
        values = _LOADS(b"[" + b",".join([lines[index] for index in indices]) + b"]")
    except (ValueError, RecursionError):  # RecursionError: a line nested too deeply
        return None
    return values if isinstance(values, list) and len(values) == len(indices) else None


_BLANK = object()
_UNREADABLE = object()


def _parse_one(line: bytes) -> Any:
    try:
        return _LOADS(line)
    except (ValueError, RecursionError):
        pass
    if not line.strip():
        return _BLANK
    try:
        return json.loads(line)  # what orjson refuses and the standard library reads (NaN, huge integers)
    except (ValueError, RecursionError):
        return _UNREADABLE


# ---------------------------------------------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------------------------------------------


def _columns(
    records: list[Any], wanted: frozenset[str], metrics_key: Callable[[Mapping[str, Any]], Hashable]
) -> ColumnBlock:
    """The wanted columns of records in the plugin's shape; raises on anything else (the caller normalises).

    Fields are read in groups, one pass over the records per group (``itemgetter`` with several keys returns a
    tuple per record), because each pass costs about as much as the work done on the values. Numbers are read
    leniently, as numpy converts them (a ``"3"`` is 3); integers must be whole; the identity fields that are read
    must be strings. The fields ``is_trial_record`` requires are always read, so a record without them fails here
    (the rule of :func:`~pytest_agentopt.storage.trial_record.normalise_record`, which the slow path applies).
    """
    size = len(records)
    block = ColumnBlock(size=size, lines=0)
    wanted = wanted | REQUIRED_COLUMNS
    unread = tuple(sorted(_RECORD_KEYS - wanted))
    if unread:  # a trial record has these fields even when they are not wanted: check they are there
        list(map(itemgetter(*unread), records))
    for group in _CATEGORICAL_GROUPS:
        names = tuple(name for name in group if name in wanted)
        if names:
            block.categorical.update(_categorical_group(records, names))
    for name in IDENTITY_FIELDS:  # strings, never null (``normalise_record``'s rule)
        if name in block.categorical and None in block.categorical[name][1]:
            raise ValueError(f"{name}: null")
    if "arm" in block.categorical and not all(known_arm(arm) for arm in block.categorical["arm"][1]):
        raise ValueError("arm: neither control, test nor a further candidate (test2, test3...)")
    _numbers(records, ("schema", *(name for name in _NUMBERS if name in wanted and name != "schema")), block)
    block.numeric = {name: array for name, array in block.numeric.items() if name in wanted}
    if "seed" in wanted:
        block.numeric["seed"] = np.fromiter(map(itemgetter("seed"), records), dtype=np.int64, count=size)
    for name in _TIMES:
        if name in wanted:
            block.numeric[name] = _timestamps(list(map(itemgetter(name), records)))
    if wanted.intersection(_TOKEN_COLUMNS):
        counts = [
            _NULL_TOKENS if value is None else _TOKEN_GETTER(value) for value in map(itemgetter("tokens"), records)
        ]
        matrix = np.array(counts, dtype=np.float64).reshape(size, len(TOKEN_CLASSES))
        for position, name in enumerate(_TOKEN_COLUMNS):
            block.numeric[name] = np.ascontiguousarray(matrix[:, position])
    if "metrics" in wanted:
        keys = [metrics_key(value) for value in map(itemgetter("metrics"), records)]
        block.categorical["metrics"] = _categorical(keys)
    return block


def _numbers(records: list[Any], names: tuple[str, ...], block: ColumnBlock) -> None:
    matrix = np.array(list(map(itemgetter(*names), records)), dtype=np.float64).reshape(len(records), len(names))
    for position, name in enumerate(names):
        column = matrix[:, position]
        if name in _INTS:
            if not np.array_equal(column, np.trunc(column)) or (name == "schema" and (column > LEDGER_SCHEMA).any()):
                raise ValueError(f"{name}: not an integer, or a schema this version cannot read")
            block.numeric[name] = column.astype(_INTS[name])
        elif name in _BOOLS:
            if np.isnan(column).any():
                raise ValueError(f"{name}: not a boolean")
            block.numeric[name] = column != 0.0
        else:
            block.numeric[name] = np.ascontiguousarray(column)


def _categorical_group(
    records: list[Any], names: tuple[str, ...]
) -> dict[str, tuple[npt.NDArray[np.int32], list[Any]]]:
    """Categorical columns of fields read together: codes of their combinations, then split per field."""
    combined, combinations = _categorical(list(map(itemgetter(*names), records)))
    if len(names) == 1:
        return {names[0]: (combined, combinations)}
    columns: dict[str, tuple[npt.NDArray[np.int32], list[Any]]] = {}
    for position, name in enumerate(names):
        codes, categories = _categorical([combination[position] for combination in combinations])
        columns[name] = (codes[combined] if combined.size else combined, categories)
    return columns


def _categorical(values: list[Any]) -> tuple[npt.NDArray[np.int32], list[Any]]:
    categories = list(dict.fromkeys(values))
    for value in categories:
        if value is not None and type(value) is not str and type(value) is not tuple:
            raise TypeError(f"not a string: {value!r}")
    lookup = {value: code for code, value in enumerate(categories)}
    codes = np.fromiter(map(lookup.__getitem__, values), dtype=np.int32, count=len(values))
    # A lone surrogate (an escaped one in a hand-written line) cannot be encoded: U+FFFD, as the plugin records it.
    return codes, [without_surrogates(value) for value in categories]


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
    """Metrics dicts are interned by their items (a dict that holds a list makes the batch take the safe path)."""
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
        return without_surrogates(value) if isinstance(value, dict) else {}
    if isinstance(key, tuple):
        return cast(dict[str, Any], without_surrogates(dict(key)))
    return {}


def _normalise(value: Any) -> dict[str, Any] | None:
    """The record in the plugin's exact shape, or ``None`` (the one rule: ``records.normalise_record``)."""
    return cast("dict[str, Any] | None", normalise_record(value))
