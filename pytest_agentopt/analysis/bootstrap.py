"""Bootstrap over trials of one config: the joint distribution of (success rate, cost per task).

A resample draws the config's ``n`` scored trials with replacement; its success rate is the share of successes,
its cost per task the mean cost of the drawn trials whose cost is known. The two figures come from the same
draws, so their dependence (failures that run into the turn limit cost more) is kept, which the Pareto front's
probability of domination needs.

Up to :data:`EXACT_LIMIT` trials the resamples are drawn literally (``n`` indices per resample, vectorised).
Above it, drawing ``resamples x n`` indices would dominate the run time (a million trials, a thousand resamples),
so a resample is built in two exact steps and one limit: how many draws fall in each class (success or not, cost
known or not) is multinomial, exactly as with literal draws; the sum of the costs of ``k`` draws from a class is
drawn literally when ``k`` < :data:`SMALL_CLASS`, and from its normal limit (mean ``k * m``, variance
``k * v``, with the class's mean ``m`` and population variance ``v``) otherwise. At more than 5,000 trials per
config the difference from literal draws is far below the Monte Carlo error of the percentiles.

Each config's generator is seeded from ``(seed, crc32(config_hash))``, so a config's draws do not depend on which
other configs are in the table: ``config_table`` and ``pareto_front`` report the same cost interval.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXACT_LIMIT",
    "SMALL_CLASS",
    "BootstrapDraws",
    "bootstrap_config",
    "bootstrap_method",
    "config_generator",
    "percentile_interval",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

EXACT_LIMIT = 5000
SMALL_CLASS = 50
_CELLS_PER_BLOCK = 4_000_000


@dataclass(frozen=True)
class BootstrapDraws:
    rates: FloatArray
    """Success rate of each resample."""
    costs: FloatArray
    """Cost per task of each resample (NaN when no drawn trial had a known cost)."""


def config_generator(seed: int, config_hash: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(config_hash.encode("utf-8"))])


def bootstrap_method(resamples: int, seed: int) -> str:
    return (
        f"cost per task: 95% percentile bootstrap over the config's scored trials ({resamples} resamples, seed "
        f"{seed}; above {EXACT_LIMIT:,} trials the outcome mix is resampled exactly and cost sums of "
        f"{SMALL_CLASS}+ draws use their normal limit)"
    )


def bootstrap_config(
    success: BoolArray, cost: FloatArray, *, resamples: int, generator: np.random.Generator
) -> BootstrapDraws:
    """``resamples`` joint draws of (success rate, cost per task) for one config's scored trials."""
    success = np.asarray(success, dtype=bool)
    cost = np.asarray(cost, dtype=np.float64)
    if success.size == 0 or resamples <= 0:
        return BootstrapDraws(np.zeros(0), np.zeros(0))
    if success.size <= EXACT_LIMIT:
        return _literal(success, cost, resamples, generator)
    return _by_class(success, cost, resamples, generator)


def _literal(success: BoolArray, cost: FloatArray, resamples: int, generator: np.random.Generator) -> BootstrapDraws:
    n = success.size
    known = ~np.isnan(cost)
    known_cost = np.where(known, cost, 0.0)
    rates = np.empty(resamples)
    costs = np.empty(resamples)
    rows = max(1, _CELLS_PER_BLOCK // n)
    for start in range(0, resamples, rows):
        stop = min(resamples, start + rows)
        index = generator.integers(0, n, size=(stop - start, n))
        rates[start:stop] = success[index].sum(axis=1) / n
        counts = known[index].sum(axis=1)
        totals = known_cost[index].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            costs[start:stop] = np.where(counts > 0, totals / np.maximum(counts, 1), np.nan)
    return BootstrapDraws(rates, costs)


def _by_class(success: BoolArray, cost: FloatArray, resamples: int, generator: np.random.Generator) -> BootstrapDraws:
    n = success.size
    known = ~np.isnan(cost)
    classes = (success & known, ~success & known, success & ~known, ~success & ~known)
    probabilities = np.array([mask.sum() for mask in classes], dtype=np.float64) / n
    counts = generator.multinomial(n, probabilities, size=resamples)
    rates = (counts[:, 0] + counts[:, 2]) / n
    totals = np.zeros(resamples)
    for column in (0, 1):
        totals += _class_sums(cost[classes[column]], counts[:, column], generator)
    drawn_with_cost = counts[:, 0] + counts[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        costs = np.where(drawn_with_cost > 0, totals / np.maximum(drawn_with_cost, 1), np.nan)
    return BootstrapDraws(rates.astype(np.float64), costs)


def _class_sums(values: FloatArray, draws: npt.NDArray[np.int64], generator: np.random.Generator) -> FloatArray:
    """Per resample, the sum of ``draws[r]`` values drawn with replacement from ``values``."""
    sums = np.zeros(draws.size)
    if values.size == 0:
        return sums
    small = draws < SMALL_CLASS
    if small.any():
        picks = values[generator.integers(0, values.size, size=(int(small.sum()), SMALL_CLASS))]
        taken = np.arange(SMALL_CLASS)[None, :] < draws[small][:, None]
        sums[small] = np.where(taken, picks, 0.0).sum(axis=1)
    large = ~small
    if large.any():
        k = draws[large].astype(np.float64)
        mean, variance = float(values.mean()), float(values.var())
        sums[large] = generator.normal(k * mean, np.sqrt(k * variance))
    return sums


def percentile_interval(values: FloatArray, confidence: float = 0.95) -> list[float] | None:
    """The percentile interval of the finite draws (None when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    tail = 100.0 * (1.0 - confidence) / 2.0
    lower, upper = np.percentile(finite, [tail, 100.0 - tail])
    return [float(lower), float(upper)]
