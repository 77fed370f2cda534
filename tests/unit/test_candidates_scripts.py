"""The several-candidates scripts' new parts: the least share of sessions any dispatcher can reach, and the
pairs each candidate's real test needs in planned order.

The full runs are not part of the suite; their output is in docs/candidates-validation.md.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import replace

import numpy as np
import pytest

from scripts.candidates_error_rates import pairs_to_decision
from scripts.validate_candidates import Config, Tally, simulate_after_decision


def test_with_equal_pairs_to_decision_the_least_share_is_one_half_plus_one_over_two_k() -> None:
    # Every candidate decides after the same pairs: the control runs as long as one of them (1/2 + 1/(2K)).
    tally = Tally(pair_sums=[400, 400, 400], pair_maxima=[100, 100, 100])
    share, error = tally.least_share()
    assert share == pytest.approx(0.625)
    assert error == pytest.approx(0.0)


def test_the_least_share_is_the_ratio_of_means_with_its_delta_method_error() -> None:
    sums = [300, 500, 400, 600]
    maxima = [150, 200, 120, 300]
    share, error = Tally(pair_sums=sums, pair_maxima=maxima).least_share()
    ratio = sum(maxima) / sum(sums)
    assert share == pytest.approx(0.5 + ratio / 2)
    residual = np.asarray(maxima) - ratio * np.asarray(sums)
    expected = residual.std(ddof=1) / (np.mean(sums) * math.sqrt(4)) / 2
    assert error == pytest.approx(expected)
    assert math.isnan(Tally(pair_sums=[400], pair_maxima=[100]).least_share()[1])  # one run: no error


def test_each_candidates_pairs_to_decision_lie_within_the_cap_and_are_seeded() -> None:
    args = argparse.Namespace(alpha=0.05, beta=0.10, effect=0.15, direction="both", rate=0.6, tasks=10)
    rng = np.random.default_rng(5)
    runs = [pairs_to_decision(("better", "equal", "equal", "worse"), 1.0, 30, args, rng) for _ in range(5)]
    for pairs in runs:
        assert len(pairs) == 4
        assert all(1 <= n <= 300 for n in pairs)
    # Seeded: the same draws give the same pairs.
    again = [pairs_to_decision(("better", "equal", "equal", "worse"), 1.0, 30, args, np.random.default_rng(5))]
    assert again[0] == runs[0]


def test_a_decided_candidate_starts_at_most_the_bound_after_its_decision_on_any_worker() -> None:
    """The real dispatcher, look-ahead and tests on simulated workers with heavy-tailed durations: once the
    scheduler drops a decided candidate, it starts at most ceil(2w / (K + 1)) + w trials beyond its decision
    (docs/candidates-validation.md); before, remote workers (no stop flag) ran on well past it."""
    workers, k = 4, 3
    config = Config(
        runs=1,
        tasks=6,
        trials=30,
        workers=workers,
        sigma=1.0,
        slowdown=3.0,
        alpha=0.05,
        beta=0.1,
        effect=0.15,
        seed=0,
        null_families=False,
    )
    rates = {"control": 0.6, "test": 0.9, "test2": 0.6, "test3": 0.3}
    bound = math.ceil(2 * workers / (k + 1)) + workers
    before_remote = []
    for seed in range(6):
        for flags in (True, False):
            after = simulate_after_decision(
                rates,
                replace(config, seed=seed),
                np.random.default_rng(seed),
                dispatch="after",
                stop_flags=flags,
                latency_sigma=1.0,
            )
            assert after, seed  # some candidate decided
            assert max(after.values()) <= bound, (seed, flags, after)
        old = simulate_after_decision(
            rates,
            replace(config, seed=seed),
            np.random.default_rng(seed),
            dispatch="before",
            stop_flags=False,
            latency_sigma=1.0,
        )
        before_remote.append(max(old.values()))
    assert max(before_remote) > bound
