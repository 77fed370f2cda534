"""The shipped calibration (stats/calibrated_paired.json) against a fresh computation by the exact DP."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import pytest

from pytest_agentopt.stats.calibration import (
    FINE_STEP,
    GAP,
    MARGIN,
    discordance_grid,
    error_profile,
    family_of,
    last_look_table,
)
from pytest_agentopt.stats.design import PairedDesign, calibrated_design, calibrated_settings
from pytest_agentopt.stats.gsprt_dp import RunningCells, bounds_on_lattice, lattice_dp, trinomial_grid
from pytest_agentopt.stats.paired_oc import lattice_llr
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.stats.wald import DIRECTIONS, Direction

ALPHA, BETA, DELTA = 0.05, 0.10, 0.15
SAMPLE_CAPS = 90
"""The first caps of the table are recomputed in the default suite (a few seconds); all of them with -m slow."""
SETTINGS = calibrated_settings("both")
"""Every setting the table holds: the defaults and alpha / K for several candidates."""
CANDIDATE_COUNTS = tuple(range(1, 9))
"""K whose alpha / K the table calibrates: every K from 1 to 8."""


def setting_id(setting: tuple[float, float, float]) -> str:
    return f"alpha={setting[0]:.4g}"


def shipped(direction: Direction, alpha: float = ALPHA) -> PairedDesign:
    design = calibrated_design(alpha, BETA, DELTA, direction)
    assert design is not None, f"no calibrated design for {direction} at alpha {alpha:g}"
    return design


def test_the_table_calibrates_the_default_alpha_over_k_for_every_calibrated_count_of_candidates() -> None:
    for direction in DIRECTIONS:
        assert {round(a, 12) for a, _, _ in calibrated_settings(direction)} >= {
            round(ALPHA / k, 12) for k in CANDIDATE_COUNTS
        }
    assert all((beta, delta) == (BETA, DELTA) for _, beta, delta in SETTINGS)


@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", ["worse", "both"])
def test_the_shipped_last_looks_equal_a_fresh_computation(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    alpha = setting[0]
    design = shipped(direction, alpha)
    fresh = last_look_table(
        design.bounds, alpha=alpha, beta=BETA, delta=DELTA, family=family_of(direction), max_pairs=SAMPLE_CAPS
    )
    for n, look in enumerate(fresh, start=1):
        figures = design.caps[n - 1]
        assert figures.accept_h0 == pytest.approx(look.accept_h0, abs=1e-8), n
        assert figures.accept_h1 == pytest.approx(look.accept_h1, abs=1e-8), n
        assert (figures.alpha, figures.beta, figures.miss) == pytest.approx(
            (look.alpha, look.beta, look.miss), abs=1e-6
        ), n


@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_no_cap_of_the_table_has_an_error_rate_above_nominal(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    alpha = setting[0]
    design = shipped(direction, alpha)
    assert design.max_pairs >= 1000
    assert max(figures.alpha for figures in design.caps) <= alpha
    assert max(figures.beta for figures in design.caps) <= BETA
    assert design.required_pairs is not None
    assert design.required_pairs < design.max_pairs
    # From the required cap on, every run ends with a claim and the power is at least 1 - beta.
    for figures in design.caps[design.required_pairs - 1 :]:
        assert not figures.undecided_zone
        assert figures.miss <= BETA
    # Beyond the table the figures are the (conservative) bounds of the boundaries alone.
    beyond = design.at_cap(design.max_pairs + 1)
    assert beyond is not None
    assert beyond.alpha <= alpha
    assert beyond.miss <= BETA
    assert design.last_look(design.max_pairs + 1) is None


@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_at_a_sample_cap_the_error_rates_hold_between_the_calibration_grid_points(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    # The calibration used a grid of step 0.01; this grid is offset from it (0.055, 0.065, ...), with the end
    # points, at a cap where the last look matters.
    alpha = setting[0]
    design = shipped(direction, alpha)
    cap = 60
    look = design.last_look(cap)
    sign = -1.0 if direction == "worse" else 1.0
    null_d = np.concatenate(([0.05], np.arange(0.055, 1.0, 0.01), [1.0]))
    alt_d = np.concatenate(([0.15], np.arange(0.155, 1.0, 0.01), [1.0]))
    results = lattice_dp(
        delta=DELTA,
        bounds=design.bounds,
        direction=direction,
        max_pairs=cap,
        last_look=look,
        grids={"null": trinomial_grid(null_d, 0.0), "alt": trinomial_grid(alt_d, sign * DELTA)},
    )
    null, alt = results["null"], results["alt"]
    claim_null = null.worse if direction == "worse" else null.better
    wrong_alt = alt.no_difference + (alt.worse if direction == "both" else 0.0)
    assert claim_null.max() <= alpha
    assert wrong_alt.max() <= BETA
    figures = design.at_cap(cap)
    assert figures is not None
    assert (1.0 - (alt.worse if direction == "worse" else alt.better)).max() <= figures.miss + 1e-3


@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", ["worse", "both"])
def test_no_lattice_point_lies_near_a_bound_or_a_last_look_threshold(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    # The live LLR (math.log) and the DP's (numpy, perhaps SIMD) differ by at most about 1e-12 at these counts
    # (test_stats_paired_oc checks the LLR itself): a margin of 1e-9 means both take every decision alike.
    # Bounds (bit-identical in both): every lattice point with n < 120.
    design = shipped(direction, setting[0])
    for n in range(1, 120):
        k, wins = np.array([(k, w) for k in range(n + 1) for w in range(k + 1)], dtype=float).T
        lower, upper = bounds_on_lattice(design.bounds, k, n)
        for mean in (DELTA, -DELTA):
            llr = lattice_llr(wins, k - wins, n - k, mean)
            assert np.abs(llr - lower).min() > 1e-9, n
            assert np.abs(llr - upper).min() > 1e-9, n
    # Last looks: every cell still running at each cap up to SAMPLE_CAPS keeps GAP from the thresholds.
    gaps: list[float] = []

    def observe(cells: RunningCells) -> None:
        look = design.last_look(cells.n)
        running = np.isfinite(cells.log_counts).any(axis=0)
        if look is None or not running.any():
            return
        values = np.concatenate((cells.improvement_llr[running], cells.regression_llr[running]))
        gaps.extend(float(np.abs(values - threshold).min()) for threshold in look if math.isfinite(threshold))

    lattice_dp(
        delta=DELTA,
        bounds=design.bounds,
        direction=direction,
        max_pairs=SAMPLE_CAPS,
        grids={"g": trinomial_grid([0.5], 0.0)},
        on_step=observe,
    )
    assert gaps
    assert min(gaps) >= GAP / 2


def test_the_live_test_takes_the_last_look_of_the_table() -> None:
    # Seeded runs at half the effect, capped at 100 pairs: those still running at the cap claim 'better' when the
    # improvement LLR reaches the table's accept_h1, 'not_better' at or below accept_h0, and stay undecided
    # between them. All three happen among these runs.
    design = shipped("better")
    look = design.last_look(100)
    assert look is not None
    seen: set[str | None] = set()
    for seed in range(60):
        rng = random.Random(seed)
        test = PairedSequentialTest(SequentialSettings(), "better", design)
        for outcome in rng.choices("WLT", weights=[0.2, 0.125, 0.675], k=100):
            test.add_pair(outcome == "L", outcome == "W")
            if test.verdict is not None:
                break
        if test.verdict is not None:
            continue
        llr = test.llr["better"]
        assert llr is not None
        expected = "better" if llr >= look[1] else "not_better" if llr <= look[0] else None
        assert test.conclude() == expected
        assert test.decided_at_last_look is (expected is not None)
        seen.add(expected)
    assert seen == {"better", "not_better", None}


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", ["worse", "both"])
def test_the_shipped_boundaries_hold_alpha_and_beta_at_every_discordance_up_to_the_largest_cap(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    # The calibration's own criterion, recomputed: the error rates of the boundaries alone at the table's largest
    # cap, counting the probability still running there as an error, on the fine grid (a few minutes).
    alpha = setting[0]
    design = shipped(direction, alpha)
    profile = error_profile(
        design.bounds, delta=DELTA, family=family_of(direction), max_pairs=design.max_pairs, step=FINE_STEP
    )
    assert profile.worst_alpha <= alpha - MARGIN
    assert profile.worst_beta <= BETA - MARGIN
    assert design.worst_alpha == pytest.approx(profile.worst_alpha, abs=1e-6)
    assert len(profile.null_discordances) == len(discordance_grid(DELTA, FINE_STEP, alternative=False))


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_documented_tables_at_a_cap_of_50_pairs_are_a_fresh_dp(direction: Direction) -> None:
    # docs/statistics.md holds `scripts/calibrate_paired.py tables`; its rows at 50 pairs are recomputed here.
    from scripts.calibrate_paired import direction_rates

    text = (Path(__file__).resolve().parents[3] / "docs" / "statistics.md").read_text(encoding="utf-8")
    alphas, betas, fine_alpha, fine_beta, _ = direction_rates(shipped(direction), 50)
    alpha_row = "| 50    | " + " | ".join(f"{v:.4f}" for v in alphas) + f" | {fine_alpha:.4f}"
    beta_row = "| 50    | -      | -      | " + " | ".join(f"{v:.4f}" for v in betas) + f" | {fine_beta:.4f}"
    section = text.split(f"##### `{direction}`: alpha", 1)[1]
    alpha_table, beta_table = section.split(f"##### `{direction}`: beta", 1)
    assert alpha_row in alpha_table
    assert beta_row in beta_table.split("#####", 1)[0]


@pytest.mark.slow
@pytest.mark.parametrize("setting", SETTINGS, ids=setting_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_at_the_derived_cap_alpha_and_the_miss_hold_on_a_grid_finer_than_the_calibrations(
    direction: Direction, setting: tuple[float, float, float]
) -> None:
    # The cap a run uses when --agent-trials is not given (required_pairs; with K candidates that of alpha / K),
    # recomputed on a grid of step 0.005 offset from the calibration's: P(false claim) <= alpha and P(no claim of
    # a true difference) <= beta at every discordance (about ten seconds per setting and direction).
    alpha = setting[0]
    design = shipped(direction, alpha)
    cap = design.required_pairs
    assert cap is not None
    sign = -1.0 if direction == "worse" else 1.0
    null_d = np.concatenate(([0.05], np.arange(0.0525, 1.0, 0.005), [1.0]))
    alt_d = np.concatenate(([0.15], np.arange(0.1525, 1.0, 0.005), [1.0]))
    results = lattice_dp(
        delta=DELTA,
        bounds=design.bounds,
        direction=direction,
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"null": trinomial_grid(null_d, 0.0), "alt": trinomial_grid(alt_d, sign * DELTA)},
    )
    null, alt = results["null"], results["alt"]
    claim_null = null.worse if direction == "worse" else null.better
    claim_alt = alt.worse if direction == "worse" else alt.better
    assert claim_null.max() <= alpha
    assert (1.0 - claim_alt).max() <= BETA
