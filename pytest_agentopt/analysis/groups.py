"""Group-by over a categorical column, vectorised (``numpy.bincount``), for the aggregators."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_agentopt.analysis.table import TrialTable

__all__ = ["Groups", "group_by", "group_by_pair"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Groups:
    """``index[i]`` is trial i's group (-1: not in any group); ``labels[g]`` is group g's value.

    Groups are numbered in order of their first trial in the table.
    """

    index: npt.NDArray[np.int64]
    labels: list[Any]

    def __len__(self) -> int:
        return len(self.labels)

    def count(self, mask: BoolArray | None = None) -> npt.NDArray[np.int64]:
        selected = self._selected(mask)
        counts: npt.NDArray[np.int64] = np.bincount(self.index[selected], minlength=len(self.labels))
        return counts

    def total(self, values: npt.NDArray[Any], mask: BoolArray | None = None) -> FloatArray:
        selected = self._selected(mask)
        weights = np.asarray(values, dtype=np.float64)[selected]
        totals = np.bincount(self.index[selected], weights=weights, minlength=len(self.labels))
        return totals.astype(np.float64, copy=False)

    def mean(self, values: npt.NDArray[Any], mask: BoolArray | None = None) -> list[float | None]:
        """Per group, the mean of ``values`` over the selected trials where it is not NaN (None if there are none)."""
        numbers = np.asarray(values, dtype=np.float64)
        known = ~np.isnan(numbers)
        if mask is not None:
            known &= mask
        counts = self.count(known)
        totals = self.total(np.where(known, numbers, 0.0), known)
        return [float(totals[g] / counts[g]) if counts[g] else None for g in range(len(self.labels))]

    def members(self, mask: BoolArray | None = None) -> list[npt.NDArray[np.int64]]:
        """Per group, the positions of its selected trials (ascending)."""
        selected = np.flatnonzero(self._selected(mask))
        order = np.argsort(self.index[selected], kind="stable")
        positions = selected[order]
        if not self.labels:
            return []
        bounds = np.cumsum(np.bincount(self.index[positions], minlength=len(self.labels)))
        return np.split(positions, bounds[:-1])

    def distinct(self, table: TrialTable, column: str, mask: BoolArray | None = None) -> list[list[Any]]:
        """Per group, the distinct values of a categorical column in order of first occurrence."""
        selected = np.flatnonzero(self._selected(mask))
        codes = table.codes(column).astype(np.int64)[selected]
        width = max(1, len(table.categories(column)))
        keys = self.index[selected] * width + codes
        unique, first = np.unique(keys, return_index=True)
        result: list[list[Any]] = [[] for _ in self.labels]
        categories = table.categories(column)
        for key in unique[np.argsort(first, kind="stable")].tolist():
            result[key // width].append(categories[key % width])
        return result

    def most_common(self, table: TrialTable, column: str, mask: BoolArray | None = None) -> list[Any]:
        """Per group, the most frequent non-null value of a categorical column (ties: the first seen)."""
        selected = np.flatnonzero(self._selected(mask))
        categories = table.categories(column)
        codes = table.codes(column).astype(np.int64)[selected]
        not_null = np.array([value is not None for value in categories], dtype=bool)
        if not_null.size:
            keep = not_null[codes]
            selected, codes = selected[keep], codes[keep]
        width = max(1, len(categories))
        keys = self.index[selected] * width + codes
        unique, first, counts = np.unique(keys, return_index=True, return_counts=True)
        best: dict[int, tuple[int, int, Any]] = {}
        for key, position, count in zip(unique.tolist(), first.tolist(), counts.tolist(), strict=True):
            group = key // width
            candidate = (-count, position, categories[key % width])
            if group not in best or candidate[:2] < best[group][:2]:
                best[group] = candidate
        return [best[g][2] if g in best else None for g in range(len(self.labels))]

    def _selected(self, mask: BoolArray | None) -> BoolArray:
        inside: BoolArray = self.index >= 0
        return inside & mask if mask is not None else inside


def group_by(table: TrialTable, column: str, mask: BoolArray | None = None) -> Groups:
    """Groups of the trials selected by ``mask`` (all trials by default) by a categorical column."""
    codes = table.codes(column)
    selected = np.ones(len(table), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    categories = table.categories(column)
    unique, first = np.unique(codes[selected], return_index=True)
    ordered = unique[np.argsort(first, kind="stable")]
    lookup = np.full(max(1, len(categories)), -1, dtype=np.int64)
    lookup[ordered] = np.arange(ordered.size, dtype=np.int64)
    index = lookup[codes] if codes.size else np.zeros(0, dtype=np.int64)
    index = np.where(selected, index, -1)
    return Groups(index=index, labels=[categories[int(code)] for code in ordered])


def group_by_pair(table: TrialTable, first: str, second: str, mask: BoolArray | None = None) -> Groups:
    """Groups by two categorical columns together; labels are ``(first value, second value)`` tuples."""
    selected = np.ones(len(table), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    width = max(1, len(table.categories(second)))
    keys = table.codes(first).astype(np.int64) * width + table.codes(second)
    unique, first_seen, inverse = np.unique(keys[selected], return_index=True, return_inverse=True)
    order = np.argsort(first_seen, kind="stable")
    rank = np.empty(unique.size, dtype=np.int64)
    rank[order] = np.arange(unique.size, dtype=np.int64)
    index = np.full(len(table), -1, dtype=np.int64)
    index[selected] = rank[inverse.reshape(-1)]
    first_values, second_values = table.categories(first), table.categories(second)
    labels = [(first_values[key // width], second_values[key % width]) for key in unique[order].tolist()]
    return Groups(index=index, labels=labels)
