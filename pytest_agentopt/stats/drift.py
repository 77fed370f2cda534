"""Behaviour drift: which paired features moved between control and test, family-wise adjusted.

Input: one row per pair, one column per feature, holding the paired difference ``test - control`` (NaN where
either half lacks the feature). Output: per feature a Hodges-Lehmann shift with its adjusted interval and adjusted
p-value, and one omnibus p-value for "nothing moved".

The test is a **paired sign-flip permutation test with the max statistic** (Westfall & Young 1993, single step):

* per feature f, the statistic is Pratt's signed-rank sum ``U_f = sum_i sign(d_i) * midrank(|d_i|)`` over the
  pairs that have it (zeros rank, then drop out through their sign). It equals ``#{Walsh averages > 0} -
  #{Walsh averages < 0}`` over the averages ``(d_i + d_j) / 2, i <= j``, so it is robust to heavy tails and
  discrete (tied) values, and its inverse over a shift is exact and monotone;
* ``U_f`` is scaled by ``sigma_f = sqrt(n_f (n_f + 1) (2 n_f + 1) / 6)``, a constant of the feature's pair count,
  so features with missing values share one scale; the max over features ``M = max_f |U_f| / sigma_f`` is the
  omnibus statistic;
* under "no change" the two halves of every pair are exchangeable, so flipping the sign of a whole pair (every
  feature at once) leaves the joint law unchanged, whatever the features' distributions and their dependence.
  The reference distribution is ``M`` over every sign-flip vector (exact, when there are at most
  :data:`EXACT_LIMIT` pairs) or over ``permutations`` seeded random ones (then p = (1 + #{M_b >= m}) / (1 + B),
  a valid p-value for any B);
* the omnibus p-value is ``P(M >= M_obs)``; a feature's adjusted p-value is ``P(M >= |U_f| / sigma_f)``: it
  controls the family-wise error rate over the features (strongly, under subset pivotality);
* a feature's interval is the set of shifts ``delta`` whose ``|U_f(d - delta)| / sigma_f`` stays within the same
  critical value: it excludes 0 exactly when the adjusted p-value is at most alpha, and ``estimate`` (the
  Hodges-Lehmann median of the Walsh averages) always lies inside it.

Pure: numbers in, numbers out (numpy for the flips).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

WALSH_LIMIT = 1000
"""Up to this many pairs a feature's estimate and interval come from its sorted Walsh averages (half a million at
most); beyond, from bisection on the same statistic computed from ranks (O(n log n) per step, no n**2 memory)."""
CHUNK = 250
"""Random sign-flip vectors are drawn and applied this many at a time (bounded memory with many pairs)."""
EXACT_LIMIT = 12
"""Up to this many pairs every one of the 2**n sign-flip vectors is enumerated (4,096 at most)."""
DEFAULT_PERMUTATIONS = 2000
"""Random sign-flip vectors beyond :data:`EXACT_LIMIT` pairs: the p-value's Monte Carlo standard error at 0.05 is
sqrt(0.05 * 0.95 / 2000) = 0.005, and the p-value stays valid (never below its level) for any count."""

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class FeatureShift:
    """One feature's paired shift (test - control)."""

    pairs: int
    """Pairs where both halves have the feature."""
    estimate: float
    """Hodges-Lehmann estimate of the shift: the median of the Walsh averages of the differences."""
    lower: float | None
    """The adjusted interval's lower end (``None``: unbounded, too few pairs to bound it)."""
    upper: float | None
    statistic: float
    """``|U_f| / sigma_f`` of the observed differences."""
    adjusted_p: float


@dataclass(frozen=True)
class DriftTest:
    """The omnibus test and the per-feature shifts, in the order of the columns."""

    pairs: int
    omnibus_p: float
    critical_value: float | None
    """Reject a feature when its statistic is above this (``None``: no feature can be rejected at alpha)."""
    exact: bool
    """Whether every sign-flip vector was enumerated (else ``permutations`` random ones)."""
    permutations: int
    features: tuple[FeatureShift, ...]


def least_pairs(alpha: float) -> int:
    """The fewest pairs from which a single feature can be found to move at family-wise level ``alpha``.

    With n pairs the most extreme outcome has probability 2 / 2**n under the sign flips (all positive or all
    negative), so a p-value at most alpha needs 2**(1 - n) <= alpha.
    """
    return 1 + math.ceil(math.log2(1 / alpha))


def signed_rank_sums(differences: Floats) -> Floats:
    """Per column, the ranks ``sign(d_i) * midrank(|d_i|)`` (Pratt: zeros rank, missing values weigh 0)."""
    weights = np.zeros_like(differences)
    for column in range(differences.shape[1]):
        values = differences[:, column]
        present = ~np.isnan(values)
        magnitudes = np.abs(values[present])
        weights[present, column] = np.sign(values[present]) * _midranks(magnitudes)
    return weights


def _midranks(values: Floats) -> Floats:
    """Ranks 1..n of ``values``, ties sharing the mean of their ranks."""
    order = np.argsort(values, kind="mergesort")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return ranks


def rank_scale(pairs: int) -> float:
    """``sigma_f``: the standard deviation of the signed-rank sum of ``pairs`` untied, non-zero differences."""
    return math.sqrt(pairs * (pairs + 1) * (2 * pairs + 1) / 6) if pairs else 1.0


def flip_chunks(pairs: int, permutations: int, seed: int) -> tuple[Iterator[npt.NDArray[np.float64]], bool]:
    """The sign-flip vectors as rows, in chunks: all ``2**pairs`` of them (exact), or ``permutations`` seeded random
    ones (the same for the same seed), drawn one chunk at a time as the chunks are read: the test holds one chunk
    (``CHUNK`` x ``pairs``), not every vector (2,000 x 8 bytes per pair, 800 MB for a resumed run's 50,000 pairs)."""
    if pairs <= EXACT_LIMIT:
        codes = np.arange(2**pairs, dtype=np.int64)[:, None] >> np.arange(pairs, dtype=np.int64)[None, :]
        return iter([(1 - 2 * (codes & 1)).astype(np.float64)]), True
    return _random_flips(pairs, permutations, seed), False


def _random_flips(pairs: int, permutations: int, seed: int) -> Iterator[npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    for start in range(0, permutations, CHUNK):
        size = min(CHUNK, permutations - start)
        yield (1 - 2 * rng.integers(0, 2, size=(size, pairs), dtype=np.int8)).astype(np.float64)


def drift_test(
    differences: Sequence[Sequence[float]] | Floats,
    *,
    alpha: float,
    permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
) -> DriftTest:
    """The max-statistic sign-flip test over the columns of ``differences`` (rows: pairs; NaN: missing)."""
    matrix = np.asarray(differences, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError("differences must be a matrix: one row per pair, one column per feature")
    pairs, columns = matrix.shape
    weights = signed_rank_sums(matrix)
    counts = (~np.isnan(matrix)).sum(axis=0)
    scales = np.array([rank_scale(int(count)) for count in counts], dtype=np.float64)
    observed = np.abs(weights.sum(axis=0)) / scales
    chunks, exact = flip_chunks(pairs, permutations, seed)
    reference = np.concatenate(
        [(np.abs(flips @ weights) / scales).max(axis=1) if columns else np.zeros(len(flips)) for flips in chunks]
    )
    extra = 0 if exact else 1  # a random reference set counts the observed data once (a valid p-value)
    total = len(reference) + extra
    ranked = np.sort(reference)[::-1]

    def p_at(value: float) -> float:
        # Signed-rank sums are half-integers, summed exactly in floating point: no tolerance is needed.
        return (extra + int(np.count_nonzero(reference >= value))) / total

    rejectable = math.floor(alpha * total + 1e-12) - extra  # reference values at or above a rejected statistic
    critical = float(ranked[rejectable]) if 0 <= rejectable < len(ranked) else None
    features = tuple(
        _feature_shift(matrix[:, column], float(observed[column]), p_at(float(observed[column])), critical)
        for column in range(columns)
    )
    omnibus = min((feature.adjusted_p for feature in features), default=1.0)
    return DriftTest(
        pairs=pairs,
        omnibus_p=omnibus,
        critical_value=critical,
        exact=exact,
        permutations=len(reference),
        features=features,
    )


def _feature_shift(column: Floats, statistic: float, adjusted_p: float, critical: float | None) -> FeatureShift:
    values = column[~np.isnan(column)]
    n = len(values)
    if n == 0:
        return FeatureShift(0, math.nan, None, None, statistic, 1.0)
    if n <= WALSH_LIMIT:
        walsh = _walsh_averages(values)
        estimate = float(np.median(walsh))
        lower, upper = _accepted_shifts(walsh, rank_scale(n), critical)
    else:
        estimate, lower, upper = _shifts_by_bisection(values, rank_scale(n), critical)
    return FeatureShift(n, estimate, lower, upper, statistic, adjusted_p)


def rank_statistic(values: Floats, shift: float) -> float:
    """``U(d - shift)`` from ranks: ``sum sign(x_i) * midrank(|x_i|)`` with ``x = d - shift`` (O(n log n))."""
    shifted = values - shift
    return float(np.sum(np.sign(shifted) * _midranks(np.abs(shifted))))


def _first_shift_where(values: Floats, holds: Callable[[float], bool]) -> float:
    """The infimum of the shifts where ``holds`` (false below, true above it): a Walsh average, where the rank
    statistic steps. Bisection narrows it to a billionth of the data's range, then it is snapped to the nearest
    Walsh average (the exact jump)."""
    low, high = float(values.min()) - 1.0, float(values.max()) + 1.0
    tolerance = 1e-9 * (high - low)
    for _ in range(200):
        if high - low <= tolerance:
            break
        middle = (low + high) / 2
        if holds(middle):
            high = middle
        else:
            low = middle
    return _nearest_walsh_average(np.sort(values), (low + high) / 2)


def _nearest_walsh_average(ordered: Floats, target: float) -> float:
    """The Walsh average ``(d_i + d_j) / 2`` nearest to ``target`` (``ordered``: the differences, sorted)."""
    partner = np.searchsorted(ordered, 2 * target - ordered).clip(0, len(ordered) - 1)
    candidates = np.concatenate(
        [(ordered + ordered[partner]) / 2, (ordered + ordered[(partner - 1).clip(0, len(ordered) - 1)]) / 2]
    )
    return float(candidates[np.argmin(np.abs(candidates - target))])


def _shifts_by_bisection(
    values: Floats, scale: float, critical: float | None
) -> tuple[float, float | None, float | None]:
    """The Hodges-Lehmann estimate and the accepted shifts of :func:`_accepted_shifts`, without the n**2 averages.

    ``U`` is monotone in the shift, so each end is where it crosses a level; the ends found are the Walsh averages
    where it steps, to the last float.
    """
    estimate = (
        _first_shift_where(values, lambda shift: rank_statistic(values, shift) <= 0)
        + _first_shift_where(values, lambda shift: rank_statistic(values, shift) < 0)
    ) / 2
    total = len(values) * (len(values) + 1) / 2
    if critical is None or total / scale <= critical:
        return estimate, None, None
    lower = _first_shift_where(values, lambda shift: rank_statistic(values, shift) / scale <= critical)
    upper = _first_shift_where(values, lambda shift: rank_statistic(values, shift) / scale < -critical)
    return estimate, lower, upper


def _walsh_averages(values: Floats) -> Floats:
    """``(d_i + d_j) / 2`` for every ``i <= j`` (unsorted)."""
    first, second = np.triu_indices(len(values))
    return (values[first] + values[second]) / 2


def walsh_statistic(walsh: Floats, shift: float) -> int:
    """``U(d - shift)``: the Walsh averages (``walsh``, sorted) above ``shift`` minus those below it."""
    below = int(np.searchsorted(walsh, shift, side="left"))
    above = len(walsh) - int(np.searchsorted(walsh, shift, side="right"))
    return above - below


def _accepted_shifts(walsh: Floats, scale: float, critical: float | None) -> tuple[float | None, float | None]:
    """The smallest and largest shift ``delta`` with ``|U(d - delta)| / scale <= critical`` (``None``: unbounded).

    ``U`` falls as ``delta`` grows, stepping only at the Walsh averages, so the accepted shifts form one interval
    whose ends are Walsh averages (the ends themselves may be rejected: the interval is its closure). Just above
    a value w, ``U = total - 2 #{averages <= w}``; just below it, ``U = total - 2 #{averages < w}``. So the lower
    end is the a-th smallest average for the least count a with ``(total - 2 a) / scale <= critical``, and the
    upper end the (m + 1)-th for the largest m with ``(total - 2 m) / scale >= -critical``: two order statistics,
    found by partial sorting (``walsh`` need not be sorted).
    """
    total = len(walsh)
    if critical is None or total / scale <= critical:
        return None, None
    least = max(1, math.ceil((total - critical * scale) / 2))
    while least > 1 and (total - 2 * (least - 1)) / scale <= critical:
        least -= 1
    while (total - 2 * least) / scale > critical:
        least += 1
    most = min(total - 1, math.floor((total + critical * scale) / 2))
    while most < total - 1 and (total - 2 * (most + 1)) / scale >= -critical:
        most += 1
    while (total - 2 * most) / scale < -critical:
        most -= 1
    ends = np.partition(walsh, [least - 1, most])
    return float(ends[least - 1]), float(ends[most])
