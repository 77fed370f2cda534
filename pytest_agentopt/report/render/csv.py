"""One CSV row per trial with every ledger field, so every figure of every report can be recomputed from it.

Columns: the ledger fields in their documented order, ``tokens`` flattened to ``tokens_input``, ``tokens_output``,
``tokens_cache_read``, ``tokens_cache_write``, ``tokens_reasoning`` (all empty when the trial recorded no usage:
unknown, not zero), and one ``metric_<name>`` column per custom metric of any trial, sorted by name. Empty cell:
null. Booleans: ``true``/``false``. Numbers keep every digit (Python's shortest round-trip form), so sums over
the column reproduce the summary's to the last bit. Objects and lists inside metrics are JSON.

Formula injection (OWASP "CSV Injection"): a spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return as a formula, and an agent's error message or label can be any text (a web page,
a model's output). Every *text* cell that starts with one of those (or with NUL), or with a single quote, gets a
single quote in front (:func:`neutralise`): spreadsheets show the text and do not evaluate it.
:func:`read_trials_csv` removes that one quote again, so the read-back stays exact. Numbers are never quoted
(``-0.5`` stays a number).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from pytest_agentopt.storage.trial_record import TOKEN_CLASSES, TrialRecord

TOKEN_COLUMNS = tuple(f"tokens_{cls}" for cls in TOKEN_CLASSES)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
"""First characters that make a spreadsheet evaluate a cell (OWASP's list, and NUL as OWASP ASVS adds)."""
TEXT_MARK = "'"
"""What spreadsheets read as "the rest is text"; also put before text that starts with it, so reading is exact."""
METRIC_PREFIX = "metric_"


@runtime_checkable
class HasRecords(Protocol):
    """A trial table (``pytest_agentopt.analysis.TrialTable``) that can give its rows back as records."""

    def records(self, limit: int | None = None) -> list[dict[str, Any]]: ...


def ledger_columns() -> list[str]:
    """The fixed columns, in the ledger's documented order, ``tokens`` flattened in place, ``metrics`` dropped."""
    columns: list[str] = []
    for name in TrialRecord.__annotations__:
        if name == "tokens":
            columns += TOKEN_COLUMNS
        elif name != "metrics":
            columns.append(name)
    return columns


def trial_columns(records: Sequence[Mapping[str, Any]]) -> list[str]:
    metric_names = sorted({name for record in records for name in (record.get("metrics") or {})})
    return ledger_columns() + [METRIC_PREFIX + name for name in metric_names]


def cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, int | float):
        return str(value)  # str(float) is the shortest string that reads back as the same float
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def neutralise(text: str) -> str:
    """``text`` with a single quote in front when a spreadsheet would evaluate it (or when it starts with one)."""
    return TEXT_MARK + text if text.startswith((*FORMULA_TRIGGERS, TEXT_MARK)) else text


def _text(cell_text: str) -> str:
    """The text a :func:`neutralise`-d cell holds."""
    return cell_text[1:] if cell_text.startswith(TEXT_MARK) else cell_text


def trial_row(record: Mapping[str, Any], columns: Sequence[str]) -> list[str]:
    tokens = record.get("tokens")
    metrics = record.get("metrics") or {}
    row = []
    for column in columns:
        if column in TOKEN_COLUMNS:
            value = tokens.get(column.removeprefix("tokens_")) if isinstance(tokens, Mapping) else None
        elif column.startswith(METRIC_PREFIX):
            value = metrics.get(column.removeprefix(METRIC_PREFIX))
        else:
            value = record.get(column)
        row.append(cell(value))
    return row


def write_trials_csv(records_or_table: Iterable[Mapping[str, Any]] | HasRecords, path: Path) -> int:
    """Write the trials to ``path`` (UTF-8, CRLF line ends, header row first, ledger order); returns the rows."""
    records: Sequence[Mapping[str, Any]] = (
        records_or_table.records() if isinstance(records_or_table, HasRecords) else list(records_or_table)
    )
    columns = trial_columns(records)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        # RFC 4180's CRLF: Python's writer then quotes every field holding a CR or an LF (with "\n" alone it
        # leaves a CR unquoted, and the row breaks in two when read).
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(columns)
        for record in records:
            writer.writerow(trial_row(record, columns))
    return len(records)


_INT_FIELDS = frozenset({"schema", "trial", "seq", "seed", "optimal_steps", "steps", "tool_calls", "attempts"})
_FLOAT_FIELDS = frozenset({"cost_usd", "latency_s"})
_BOOL_FIELDS = frozenset({"impossible", "after_decision"})


def read_trials_csv(path: Path) -> list[TrialRecord]:
    """The trial records of a CSV written by :func:`write_trials_csv`, exactly as the ledger held them.

    Metric cells are read back as booleans (``true``/``false``), numbers, JSON objects or lists, else strings, so
    a string metric that looks like a number comes back as one (unless it starts with ``-`` or ``+``: those were
    neutralised, and come back as strings). The single quote :func:`neutralise` put in front of a text is removed.
    """
    records: list[TrialRecord] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            record: dict[str, Any] = {}
            tokens = {name.removeprefix("tokens_"): row.pop(name) for name in TOKEN_COLUMNS}
            record["tokens"] = (
                None
                if all(value == "" for value in tokens.values())
                else {name: int(value) for name, value in tokens.items()}
            )
            metrics: dict[str, Any] = {}
            for column, text in row.items():
                if column.startswith(METRIC_PREFIX):
                    if text != "":
                        metrics[column.removeprefix(METRIC_PREFIX)] = _metric(text)
                    continue
                record[column] = _field(column, text)
            record["metrics"] = metrics
            records.append(cast(TrialRecord, {name: record[name] for name in TrialRecord.__annotations__}))
    return records


def _field(name: str, text: str) -> Any:
    if text == "":
        return None
    if name in _INT_FIELDS:
        return int(text)
    if name in _FLOAT_FIELDS:
        return float(text)
    if name in _BOOL_FIELDS:
        return text == "true"
    return _text(text)


def _metric(text: str) -> Any:
    if text.startswith(TEXT_MARK):
        return text[1:]  # a text that was neutralised: a string, whatever it looks like
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text
