"""Adjusting the many calls a history command prints at once: Holm for family-wise error, Benjamini-Hochberg
for discoveries.

A history command answers one question per row (does this task tell configs apart? did this guideline change
success?), and with many rows some raw calls at 5 % are wrong by chance alone: 20 tasks with no real difference
give on average one "discriminative" task. Each command therefore states its family and adjusts over it:

* **Holm** (step-down Bonferroni) when each call is acted on by itself (a guideline kept or dropped): the
  probability of *any* false call in the family stays at most alpha, under any dependence between the rows;
* **Benjamini-Hochberg** when the calls are a list of candidates (tasks worth keeping in a suite): the expected
  share of false calls among the calls made stays at most alpha (for independent or positively dependent
  p-values, PRDS; the tasks of a history are run independently).

The raw p-value stays next to the adjusted one, so a reader can see which calls the adjustment removed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import false_discovery_control

__all__ = ["benjamini_hochberg", "holm"]


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's adjusted p-values (reject where ``adjusted <= alpha``): ``max_{j <= i} min(1, (m - j) p_(j))``
    over the sorted p-values, returned in the input order."""
    m = len(p_values)
    if not m:
        return []
    order = np.argsort(np.asarray(p_values, dtype=np.float64), kind="stable")
    sorted_p = np.asarray(p_values, dtype=np.float64)[order]
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * sorted_p))
    adjusted = np.empty(m)
    adjusted[order] = stepped
    return [float(value) for value in adjusted]


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values; a discovery where ``q <= alpha``), in the input order."""
    if not len(p_values):
        return []
    return [float(value) for value in false_discovery_control(np.asarray(p_values, dtype=np.float64), method="bh")]
