"""Filters over a :class:`TrialTable`, composed left to right by :class:`FilterChain`.

Two kinds:

* **index filters** select by position in ledger order: ``Last(100)``, ``First(10)``, ``Slice(5, 20)``;
* **row filters** select by value: ``Field("model") == "gpt-5"``, ``Field("cost_usd") <= 0.01``,
  ``Field("task_code").isin(["gpu_race", "coupon"])``, and the shorthands ``TaskCode("gpu_race")``,
  ``Experiment("exp_042")``, ``Model("gpt-5")``, ``Run("2026...")``, ``Since(datetime(2026, 11, 1))``.

A chain applies its filters in order, each to the result of the previous one, so order matters for index
filters: ``FilterChain(Model("gpt-5"), Last(100))`` is the last 100 trials of gpt-5, while
``FilterChain(Last(100), Model("gpt-5"))`` is the gpt-5 trials among the last 100 of all. Comparisons with null
(``None``, NaN) are false except ``== None`` / ``!= None``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pytest_agentopt.analysis.table import CATEGORICAL_COLUMNS, TrialTable

__all__ = [
    "Experiment",
    "Field",
    "FieldFilter",
    "Filter",
    "FilterChain",
    "First",
    "Last",
    "Model",
    "Run",
    "Since",
    "Slice",
    "TaskCode",
]


class Filter(Protocol):
    """Anything that turns a table into a (smaller) table."""

    def apply(self, table: TrialTable) -> TrialTable: ...


@dataclass(frozen=True)
class FilterChain:
    """Filters applied left to right; the chain is itself a filter."""

    filters: tuple[Filter, ...]

    def __init__(self, *filters: Filter) -> None:
        object.__setattr__(self, "filters", tuple(filters))

    def apply(self, table: TrialTable) -> TrialTable:
        for item in self.filters:
            table = item.apply(table)
        return table

    def __call__(self, table: TrialTable) -> TrialTable:
        return self.apply(table)

    def then(self, *filters: Filter) -> FilterChain:
        return FilterChain(*self.filters, *filters)


# -- index filters ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slice:
    """Trials ``start:stop`` in ledger order (Python slice semantics)."""

    start: int | None
    stop: int | None

    def apply(self, table: TrialTable) -> TrialTable:
        return table.slice(self.start, self.stop)


@dataclass(frozen=True)
class Last:
    """The last ``n`` trials."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"Last(n) needs n >= 0, got {self.n}")

    def apply(self, table: TrialTable) -> TrialTable:
        return table.slice(max(0, len(table) - self.n), None)


@dataclass(frozen=True)
class First:
    """The first ``n`` trials."""

    n: int

    def __post_init__(self) -> None:
        if self.n < 0:
            raise ValueError(f"First(n) needs n >= 0, got {self.n}")

    def apply(self, table: TrialTable) -> TrialTable:
        return table.slice(0, self.n)


# -- row filters --------------------------------------------------------------------------------------------------

Comparison = Callable[[Any, Any], Any]


@dataclass(frozen=True)
class FieldFilter:
    """``column <op> value`` (or ``column in values``), evaluated column-wise."""

    name: str
    op: str
    value: Any

    def mask(self, table: TrialTable) -> npt.NDArray[np.bool_]:
        if self.name in CATEGORICAL_COLUMNS:
            categorical = table.categorical(self.name)
            return categorical.lookup([self._test_one(category) for category in categorical.categories])
        column = table.array(self.name)
        if self.op == "isin":
            return np.isin(column, np.asarray(list(self.value), dtype=column.dtype))
        value = _coerce(self.value, column)
        if value is None:
            nulls = _nulls(column)
            return nulls if self.op == "==" else ~nulls
        with np.errstate(invalid="ignore"):
            result: npt.NDArray[np.bool_] = np.asarray(_OPERATORS[self.op](column, value), dtype=bool)
        return result

    def _test_one(self, category: object) -> bool:
        if self.op == "isin":
            return category in set(self.value)
        if self.value is None or category is None:
            equal = category is self.value
            return equal if self.op == "==" else (not equal if self.op == "!=" else False)
        try:
            return bool(_OPERATORS[self.op](category, self.value))
        except TypeError:
            return False

    def apply(self, table: TrialTable) -> TrialTable:
        return table.where(self.mask(table))


_OPERATORS: dict[str, Comparison] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _nulls(column: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    nulls: npt.NDArray[np.bool_]
    if column.dtype.kind in "mM":
        nulls = np.isnat(column)
    elif column.dtype.kind == "f":
        nulls = np.isnan(column)
    else:
        nulls = np.zeros(column.shape, dtype=bool)
    return nulls


def _coerce(value: Any, column: npt.NDArray[Any]) -> Any:
    """Datetimes and dates compare with timestamp columns (naive values are taken as UTC)."""
    if column.dtype.kind == "M" and isinstance(value, date | datetime | str):
        return np.datetime64(_utc_naive(value), "ms")
    return value


def _utc_naive(value: date | datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


class Field:
    """A column to compare: ``Field("model") == "gpt-5"`` is a filter (see the module docstring)."""

    __hash__ = None  # type: ignore[assignment]

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Field({self.name!r})"

    def __eq__(self, value: object) -> FieldFilter:  # type: ignore[override]
        return FieldFilter(self.name, "==", value)

    def __ne__(self, value: object) -> FieldFilter:  # type: ignore[override]
        return FieldFilter(self.name, "!=", value)

    def __lt__(self, value: object) -> FieldFilter:
        return FieldFilter(self.name, "<", value)

    def __le__(self, value: object) -> FieldFilter:
        return FieldFilter(self.name, "<=", value)

    def __gt__(self, value: object) -> FieldFilter:
        return FieldFilter(self.name, ">", value)

    def __ge__(self, value: object) -> FieldFilter:
        return FieldFilter(self.name, ">=", value)

    def isin(self, values: Iterable[Any]) -> FieldFilter:
        return FieldFilter(self.name, "isin", tuple(values))


def TaskCode(code: str) -> FieldFilter:  # noqa: N802 - reads as a filter class, like the others
    """Trials of the task with this ``code`` (``@pytest.mark.agent_task(code=...)``)."""
    return Field("task_code") == code


def Experiment(experiment_id: str) -> FieldFilter:  # noqa: N802
    """Trials of the arm whose config has this experiment id."""
    return Field("experiment_id") == experiment_id


def Model(model: str) -> FieldFilter:  # noqa: N802
    """Trials that used this model (the ledger's ``model``: the model that spent the tokens)."""
    return Field("model") == model


def Run(run_id: str) -> FieldFilter:  # noqa: N802
    """Trials of one run."""
    return Field("run_id") == run_id


def Since(moment: date | datetime | str) -> FieldFilter:  # noqa: N802
    """Trials that started at or after ``moment`` (a date means its midnight; naive times are UTC)."""
    return Field("started_at") >= moment
