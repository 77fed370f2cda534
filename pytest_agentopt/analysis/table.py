"""``TrialTable``: ledger lines held column by column.

A million ledger lines as a million dicts take several gigabytes; as columns they take about 160 bytes a trial.
Numbers are numpy arrays (nullable numbers are ``float64`` with NaN for null); strings that repeat (run ids,
experiment ids, task ids, outcomes, models, messages...) are *categorical*: one ``int32`` code per trial and a
list of the distinct values, so each distinct string is stored once. The custom ``metrics`` object is
categorical too (trials mostly record the same few combinations), and timestamps are ``datetime64[ms]``.

Columns are named after the ledger fields (``docs/ledger.md``); ``tokens`` is flattened into ``tokens_input``,
``tokens_output``, ``tokens_cache_read``, ``tokens_cache_write`` and ``tokens_reasoning`` (NaN when the trial
recorded no usage). Derived columns: ``success`` (outcome is ``success``), ``scored`` (the outcome enters the
statistics: success, failure or error), ``tokens_total`` (input + output) and ``claimed_done`` (the metric of
that name as 1.0 / 0.0, NaN when not recorded).
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.storage.trial_record import TOKEN_CLASSES, TrialRecord

__all__ = [
    "ALL_COLUMNS",
    "CATEGORICAL_COLUMNS",
    "NUMERIC_COLUMNS",
    "RECORD_ORDER",
    "REQUIRED_COLUMNS",
    "Categorical",
    "TrialTable",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int32]

CATEGORICAL_COLUMNS: tuple[str, ...] = (
    "run_id",
    "experiment_id",
    "arm",
    "config_hash",
    "task_id",
    "task_code",
    "category",
    "outcome",
    "error_type",
    "message",
    "model",
    "price_source",
    "worker",
    "metrics",
)

# name -> numpy dtype; "nullable" numbers are float64 with NaN for null.
NUMERIC_COLUMNS: dict[str, str] = {
    "schema": "int16",
    "optimal_steps": "float64",
    "impossible": "bool",
    "trial": "int32",
    "seq": "int64",
    "seed": "int64",
    **{f"tokens_{token_class}": "float64" for token_class in TOKEN_CLASSES},
    "cost_usd": "float64",
    "latency_s": "float64",
    "steps": "float64",
    "tool_calls": "float64",
    "attempts": "int32",
    "started_at": "datetime64[ms]",
    "finished_at": "datetime64[ms]",
    "after_decision": "bool",
}

ALL_COLUMNS: frozenset[str] = frozenset(NUMERIC_COLUMNS) | frozenset(CATEGORICAL_COLUMNS)
# Always loaded: which run (``runs``, ``Run``) and the outcome (``scored``, ``success``).
REQUIRED_COLUMNS: frozenset[str] = frozenset({"run_id", "outcome"})
_NULLABLE_INTS = ("optimal_steps", "steps", "tool_calls")
# The ledger's fields in the order the plugin writes them (the order of ``TrialRecord``).
RECORD_ORDER: tuple[str, ...] = tuple(TrialRecord.__annotations__)
DERIVED_COLUMNS = ("success", "scored", "tokens_total", "claimed_done")


@dataclass(frozen=True, eq=False)
class Categorical:
    """One code per trial into ``categories`` (which may hold values no remaining trial uses)."""

    codes: IntArray
    categories: tuple[Any, ...]

    def take(self, selector: npt.NDArray[Any] | slice) -> Categorical:
        return Categorical(self.codes[selector], self.categories)

    def lookup(self, predicate_values: Sequence[bool]) -> BoolArray:
        """Per trial, the predicate evaluated once per category."""
        table = np.asarray(predicate_values, dtype=bool)
        if table.size == 0:
            return np.zeros(self.codes.size, dtype=bool)
        result: BoolArray = table[self.codes]
        return result


class TrialTable:
    """Columnar trials in ledger order (runs oldest first, then line order). Immutable; filters make new tables."""

    def __init__(
        self,
        numeric: Mapping[str, npt.NDArray[Any]],
        categorical: Mapping[str, Categorical],
        problems: Sequence[str] = (),
        replays: int = 0,
    ) -> None:
        unknown = (set(numeric) - set(NUMERIC_COLUMNS)) | (set(categorical) - set(CATEGORICAL_COLUMNS))
        missing = REQUIRED_COLUMNS - set(numeric) - set(categorical)
        if unknown or missing:
            raise ValueError(f"unknown columns {sorted(unknown)} or missing required columns {sorted(missing)}")
        sizes = {array.size for array in numeric.values()} | {c.codes.size for c in categorical.values()}
        if len(sizes) > 1:
            raise ValueError(f"columns of different lengths: {sorted(sizes)}")
        self._numeric = dict(numeric)
        self._categorical = dict(categorical)
        self._size = sizes.pop() if sizes else 0
        self.problems: tuple[str, ...] = tuple(problems)
        """Lines that were skipped while loading (torn or unreadable), one message each."""
        self.replays = replays
        """Trials left out while loading because they replay an earlier one (``load_trials``)."""
        self.loaded: frozenset[str] = frozenset(self._numeric) | frozenset(self._categorical)
        """The ledger columns this table holds (all unless ``load_trials(columns=...)`` chose fewer)."""

    @classmethod
    def empty(cls, problems: Sequence[str] = (), columns: Collection[str] = ALL_COLUMNS) -> TrialTable:
        wanted = set(columns) | REQUIRED_COLUMNS
        numeric = {name: np.zeros(0, dtype=dtype) for name, dtype in NUMERIC_COLUMNS.items() if name in wanted}
        categorical = {
            name: Categorical(np.zeros(0, dtype=np.int32), ()) for name in CATEGORICAL_COLUMNS if name in wanted
        }
        return cls(numeric, categorical, problems)

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:
        return f"<TrialTable {self._size} trials, {len(self.runs)} runs>"

    @property
    def column_names(self) -> tuple[str, ...]:
        return (*NUMERIC_COLUMNS, *CATEGORICAL_COLUMNS, *DERIVED_COLUMNS)

    # -- columns ------------------------------------------------------------------------------------------------

    def column(self, name: str) -> npt.NDArray[Any] | list[Any]:
        """A numeric or derived column as a numpy array, a categorical one as a list of values (decoded)."""
        if name in self._categorical:
            categorical = self._categorical[name]
            categories = categorical.categories
            return [categories[code] for code in categorical.codes.tolist()]
        return self.array(name)

    def array(self, name: str) -> npt.NDArray[Any]:
        """A numeric or derived column (no copy: do not modify it)."""
        if name in self._numeric:
            return self._numeric[name]
        if name == "success":
            return self.categorical("outcome").lookup([value == "success" for value in self.categories("outcome")])
        if name == "scored":
            return self.categorical("outcome").lookup(
                [value in SCORED_OUTCOMES for value in self.categories("outcome")]
            )
        if name == "tokens_total":
            if "tokens_input" not in self._numeric:
                raise self._no_column("tokens_input")
            total: npt.NDArray[np.float64] = self._numeric["tokens_input"] + self._numeric["tokens_output"]
            return total
        if name == "claimed_done":
            if "metrics" not in self._categorical:
                raise self._no_column("metrics")
            metrics = self.categorical("metrics")
            flags = np.array([_claimed_done(value) for value in metrics.categories], dtype=np.float64)
            return flags[metrics.codes] if flags.size else np.zeros(0, dtype=np.float64)
        if name in self._categorical:
            raise KeyError(f"{name} is categorical: use column() or categorical()")
        raise self._no_column(name)

    def _no_column(self, name: str) -> KeyError:
        if name in ALL_COLUMNS:
            return KeyError(f"column {name!r} was not loaded: pass it in load_trials(..., columns=...)")
        return KeyError(f"unknown column {name!r}; columns: {', '.join(self.column_names)}")

    def categorical(self, name: str) -> Categorical:
        try:
            return self._categorical[name]
        except KeyError:
            if name in ALL_COLUMNS:
                raise self._no_column(name) from None
            raise KeyError(
                f"{name!r} is not a categorical column; those are: {', '.join(CATEGORICAL_COLUMNS)}"
            ) from None

    def categories(self, name: str) -> tuple[Any, ...]:
        return self.categorical(name).categories

    def codes(self, name: str) -> IntArray:
        return self.categorical(name).codes

    def present(self, name: str) -> list[Any]:
        """The distinct values of a categorical column that occur in this table, in order of first occurrence."""
        codes = self.codes(name)
        if codes.size == 0:
            return []
        unique, first = np.unique(codes, return_index=True)
        order = np.argsort(first, kind="stable")
        categories = self.categories(name)
        return [categories[int(code)] for code in unique[order]]

    @property
    def runs(self) -> list[str]:
        """Run ids present, in ledger order."""
        return [str(run) for run in self.present("run_id")]

    # -- selections ---------------------------------------------------------------------------------------------

    def where(self, mask: npt.NDArray[np.bool_] | Sequence[bool]) -> TrialTable:
        """The trials where ``mask`` is true (same order)."""
        selector = np.asarray(mask, dtype=bool)
        if selector.shape != (self._size,):
            raise ValueError(f"mask of shape {selector.shape} for a table of {self._size} trials")
        return self._take(selector)

    def slice(self, start: int | None, stop: int | None) -> TrialTable:
        """Trials ``start:stop`` in ledger order (Python slice semantics, negative indices count from the end)."""
        return self._take(slice(start, stop))

    def _take(self, selector: npt.NDArray[Any] | builtins.slice) -> TrialTable:
        numeric = {name: array[selector] for name, array in self._numeric.items()}
        categorical = {name: column.take(selector) for name, column in self._categorical.items()}
        return TrialTable(numeric, categorical, self.problems, self.replays)

    # -- back to records ----------------------------------------------------------------------------------------

    def records(self, limit: int | None = None, *, fields: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """TrialRecord-shaped dicts (ledger key order) of the first ``limit`` trials, for small tables.

        ``fields``: only these ledger fields (``tokens`` and ``metrics`` included as objects), which is much faster
        and works on a table loaded with fewer columns as long as it holds them.
        """
        names = list(RECORD_ORDER if fields is None else fields)
        unknown = [name for name in names if name not in RECORD_ORDER]
        if unknown:
            raise KeyError(f"unknown ledger fields {unknown}; fields: {', '.join(RECORD_ORDER)}")
        count = self._size if limit is None else max(0, min(limit, self._size))
        columns = [self._record_values(name, count) for name in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)] if names else []

    def _record_values(self, name: str, count: int) -> list[Any]:
        """One ledger field of the first ``count`` trials, as the ledger has it."""
        if name == "tokens":
            parts = [self._record_values(f"tokens_{token_class}", count) for token_class in TOKEN_CLASSES]
            return [
                None if row[0] is None else dict(zip(TOKEN_CLASSES, (value or 0 for value in row), strict=True))
                for row in zip(*parts, strict=True)
            ]
        if name in self._categorical:
            column = self._categorical[name]
            values = [column.categories[code] for code in column.codes[:count].tolist()]
            return [dict(value or {}) for value in values] if name == "metrics" else values
        if name not in self._numeric:
            raise self._no_column(name)
        head = self._numeric[name][:count]
        if name in ("started_at", "finished_at"):
            return [_iso(text) for text in np.datetime_as_string(head, unit="ms").tolist()]
        if name in _NULLABLE_INTS or name.startswith("tokens_"):
            return [None if np.isnan(x) else int(x) for x in head.tolist()]
        if name == "cost_usd":
            return [None if np.isnan(x) else x for x in head.tolist()]
        return list(head.tolist())


def _iso(text: str) -> str | None:
    return None if text == "NaT" else text + "Z"


def _claimed_done(metrics: object) -> float:
    if not isinstance(metrics, Mapping):
        return np.nan
    value = metrics.get("claimed_done")
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    return np.nan
