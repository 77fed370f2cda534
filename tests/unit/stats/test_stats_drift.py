"""The drift test (stats/drift.py) against brute force: every sign flip enumerated, Walsh averages by definition."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from pytest_agentopt.stats import drift
from pytest_agentopt.stats.drift import (
    EXACT_LIMIT,
    drift_test,
    least_pairs,
    rank_scale,
    signed_rank_sums,
    walsh_statistic,
)

NAN = math.nan


def _sign(value: float) -> int:
    return 1 if value > 0 else -1 if value < 0 else 0


def walsh_u(values: list[float]) -> int:
    """U by its definition: the Walsh averages above 0 minus those below it."""
    return sum(_sign(values[i] + values[j]) for i in range(len(values)) for j in range(i, len(values)))


def brute_force(rows: list[list[float]]) -> tuple[Fraction, list[Fraction]]:
    """Omnibus and adjusted p-values by enumerating every sign-flip vector (exact fractions)."""
    columns = len(rows[0])

    def statistics(signs: tuple[int, ...]) -> list[float]:
        out = []
        for column in range(columns):
            values = [sign * row[column] for sign, row in zip(signs, rows, strict=True) if not math.isnan(row[column])]
            out.append(abs(walsh_u(values)) / rank_scale(len(values)))
        return out

    observed = statistics(tuple(1 for _ in rows))
    maxima = [max(statistics(signs)) for signs in itertools.product((1, -1), repeat=len(rows))]
    total = len(maxima)
    adjusted = [Fraction(sum(m >= value - 1e-12 for m in maxima), total) for value in observed]
    return min(adjusted), adjusted


ROWS_WITH_TIES_AND_GAPS = [
    [3.0, 0.5, 120.0],
    [1.0, -1.0, NAN],
    [2.0, 0.5, 3.0],
    [0.0, 0.0, -7.0],
    [4.0, 2.0, 88.0],
    [1.0, -0.5, 1.0],
    [-1.0, 1.0, 40.0],
    [2.0, 0.0, NAN],
    [5.0, -2.0, 15.0],
]


@pytest.mark.parametrize(
    "rows",
    [
        ROWS_WITH_TIES_AND_GAPS,
        [[1.0], [2.0], [3.0], [4.0], [5.0], [6.0]],
        [[1.0, -1.0], [2.0, -2.0], [3.0, 0.0], [-1.0, 5.0], [2.0, 2.0], [1.0, 1.0], [2.5, -0.5]],
    ],
)
def test_p_values_equal_the_enumeration_of_every_sign_flip(rows: list[list[float]]) -> None:
    result = drift_test(rows, alpha=0.05)
    omnibus, adjusted = brute_force(rows)
    assert result.exact
    assert result.permutations == 2 ** len(rows)
    assert result.omnibus_p == pytest.approx(float(omnibus), abs=1e-15)
    assert [feature.adjusted_p for feature in result.features] == pytest.approx([float(p) for p in adjusted])


def test_signed_rank_sums_equal_the_walsh_count_with_ties_zeros_and_gaps() -> None:
    matrix = np.array(ROWS_WITH_TIES_AND_GAPS)
    sums = signed_rank_sums(matrix).sum(axis=0)
    for column in range(matrix.shape[1]):
        values = [v for v in matrix[:, column] if not math.isnan(v)]
        assert sums[column] == walsh_u(values)


def test_all_positive_differences_give_the_closed_form_two_over_two_to_the_n() -> None:
    for n in range(3, 10):
        result = drift_test([[float(i + 1)] for i in range(n)], alpha=0.05)
        assert result.omnibus_p == 2 / 2**n


def test_least_pairs_is_the_first_count_that_can_reject() -> None:
    alpha = 0.05
    n = least_pairs(alpha)
    assert n == 6  # 2 / 2**5 = 0.0625 > 0.05 >= 2 / 2**6
    too_few = drift_test([[1.0 + i] for i in range(n - 1)], alpha=alpha)
    enough = drift_test([[1.0 + i] for i in range(n)], alpha=alpha)
    assert too_few.features[0].lower is None
    assert too_few.features[0].upper is None
    assert enough.features[0].adjusted_p <= alpha < too_few.features[0].adjusted_p


def test_the_interval_is_exactly_the_set_of_shifts_the_test_keeps() -> None:
    rows = ROWS_WITH_TIES_AND_GAPS
    result = drift_test(rows, alpha=0.2)
    assert result.critical_value is not None
    for column, feature in enumerate(result.features):
        values = np.array([row[column] for row in rows if not math.isnan(row[column])])
        walsh = np.sort([(values[i] + values[j]) / 2 for i in range(len(values)) for j in range(i, len(values))])
        grid = np.unique(np.concatenate([walsh, (walsh[1:] + walsh[:-1]) / 2, walsh - 0.01, walsh + 0.01]))
        scale = rank_scale(len(values))
        kept = {x for x in grid if abs(walsh_statistic(walsh, x)) / scale <= result.critical_value}
        assert feature.lower is not None
        assert feature.upper is not None
        # The interval is the closure of the kept shifts: every point strictly inside is kept, none outside.
        assert feature.lower in walsh
        assert feature.upper in walsh
        assert {x for x in grid if feature.lower < x < feature.upper} <= kept
        assert all(feature.lower <= x <= feature.upper for x in kept)
        assert feature.lower + 0.01 in kept or feature.lower == feature.upper
        assert feature.lower <= feature.estimate <= feature.upper
        assert feature.estimate == float(np.median(walsh))


def test_a_feature_moves_exactly_when_its_interval_excludes_zero() -> None:
    rng = np.random.default_rng(5)
    for trial in range(40):
        shift = rng.choice([0.0, 0.3, 1.0])
        matrix = np.c_[rng.normal(shift, 1, 30), rng.standard_cauchy(30), rng.poisson(2, 30) - 2.0]
        result = drift_test(matrix, alpha=0.05, seed=trial)
        for feature in result.features:
            assert feature.lower is not None
            assert feature.upper is not None
            moved = feature.adjusted_p <= 0.05
            inside = feature.lower < 0 < feature.upper
            if moved:
                assert not inside  # 0 may be an end of the closure, never strictly inside
            elif not (feature.lower == 0 or feature.upper == 0):
                assert feature.lower <= 0 <= feature.upper


def test_random_flips_are_seeded_and_give_a_valid_p_value() -> None:
    rows = np.arange(1.0, EXACT_LIMIT + 10)[:, None]
    first = drift_test(rows, alpha=0.05, permutations=500, seed=1)
    again = drift_test(rows, alpha=0.05, permutations=500, seed=1)
    assert not first.exact
    assert first.permutations == 500
    assert first == again
    assert first.omnibus_p >= 1 / 501  # the observed data counts once: never 0


def test_random_flips_are_the_seeded_draws_of_every_chunk_in_order() -> None:
    pairs, permutations, seed = EXACT_LIMIT + 5, 2 * drift.CHUNK + 7, 3
    chunks, exact = drift.flip_chunks(pairs, permutations, seed)
    rng = np.random.default_rng(seed)
    expected = [
        (1 - 2 * rng.integers(0, 2, size=(size, pairs), dtype=np.int8)).astype(np.float64)
        for size in (drift.CHUNK, drift.CHUNK, 7)
    ]
    drawn = list(chunks)
    assert not exact
    assert len(drawn) == len(expected)
    for got, want in zip(drawn, expected, strict=True):
        assert np.array_equal(got, want)


def test_the_test_holds_one_chunk_of_flips_at_a_time_not_every_one() -> None:
    """Memory per pair is bounded by the chunk, not the permutations (2,000 x 8 bytes per pair held at once
    was 800 MB for a resumed run's 50,000 same-outcome pairs). tracemalloc sees numpy's buffers."""
    import random
    import tracemalloc

    rng = random.Random(1)
    pairs = 4000
    rows = [[rng.choice([0.0, 1.0, -1.0, 2.5]), rng.random()] for _ in range(pairs)]
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = drift_test(rows, alpha=0.05, seed=1)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert result.permutations == drift.DEFAULT_PERMUTATIONS
    # one float64 chunk is CHUNK x 8 = 2,000 bytes per pair; every chunk at once was 16,000 (measured 16.5 KB)
    assert peak / pairs < 8 * drift.CHUNK * 3, peak / pairs


def test_false_alarm_rate_under_no_change_is_at_most_alpha_with_heavy_tails_and_dependence() -> None:
    """Seeded: 600 null data sets of 20 pairs, three dependent features (Cauchy, lognormal, Poisson).

    The test is exact, so the rate is at most 0.05; the bound 0.05 + 2.6 standard errors (0.023) fails on a real
    excess with high probability while a correct test passes it 99.5 % of the time."""
    rng = np.random.default_rng(11)
    alarms = 0
    runs = 600
    for run in range(runs):
        common = rng.standard_cauchy((20, 1))
        control = np.c_[common[:, 0], rng.lognormal(0, 1, 20), rng.poisson(5, 20)]
        test = np.c_[common[:, 0] + rng.standard_cauchy(20), rng.lognormal(0, 1, 20), rng.poisson(5, 20)]
        noise = np.c_[rng.standard_cauchy(20), np.zeros(20), np.zeros(20)]
        alarms += drift_test(test - control - noise, alpha=0.05, permutations=400, seed=run).omnibus_p <= 0.05
    assert alarms / runs <= 0.05 + 2.6 * math.sqrt(0.05 * 0.95 / runs)


def test_a_planted_shift_is_found_and_only_its_feature_moves() -> None:
    rng = np.random.default_rng(2)
    control = rng.poisson(10, 60).astype(float)
    test = rng.poisson(13, 60).astype(float)
    latency = rng.lognormal(0, 1, 60) - rng.lognormal(0, 1, 60)
    result = drift_test(np.c_[test - control, latency], alpha=0.05, seed=2)
    steps, latency_shift = result.features
    assert result.omnibus_p <= 0.05
    assert steps.adjusted_p <= 0.05
    assert steps.lower is not None
    assert steps.lower > 0
    assert latency_shift.adjusted_p > 0.05


def test_a_matrix_is_required() -> None:
    with pytest.raises(ValueError, match="matrix"):
        drift_test(np.array([1.0, 2.0]), alpha=0.05)


def test_many_pairs_give_the_same_estimate_and_interval_without_the_n_squared_averages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Beyond WALSH_LIMIT pairs the ends are found by bisection on the rank statistic: the same Walsh averages."""
    rng = np.random.default_rng(4)
    matrix = np.c_[rng.poisson(3, 80) - rng.poisson(3, 80) + 1.0, rng.lognormal(0, 1, 80) - 0.8, np.zeros(80)]
    matrix[:5, 1] = np.nan
    exact = drift_test(matrix, alpha=0.05, seed=9)
    monkeypatch.setattr(drift, "WALSH_LIMIT", 10)
    bisected = drift_test(matrix, alpha=0.05, seed=9)
    for walsh, bisection in zip(exact.features, bisected.features, strict=True):
        assert bisection.estimate == pytest.approx(walsh.estimate, rel=1e-12, abs=1e-12)
        assert bisection.lower == pytest.approx(walsh.lower, rel=1e-12, abs=1e-12)
        assert bisection.upper == pytest.approx(walsh.upper, rel=1e-12, abs=1e-12)
        assert bisection.adjusted_p == walsh.adjusted_p


def test_thousands_of_pairs_take_the_bisection_path() -> None:
    rng = np.random.default_rng(8)
    matrix = rng.normal(0.1, 1, (3 * drift.WALSH_LIMIT, 4))
    result = drift_test(matrix, alpha=0.05, seed=1)
    assert result.permutations == 2000
    assert all(feature.lower is not None and feature.lower < feature.estimate for feature in result.features)
