"""Exact operating characteristic of the paired test (lattice DP) against the live test and the docs."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from pytest_agentopt.cli.main import build_parser
from pytest_agentopt.cli.plan_cmd import plan
from pytest_agentopt.stats.paired_oc import lattice_llr, paired_test_oc
from pytest_agentopt.stats.planning import paired_outcome_probabilities
from pytest_agentopt.stats.sprt import (
    DIRECTIONS,
    Direction,
    PairedSequentialTest,
    SequentialSettings,
    paired_llr,
)

STATISTICS_DOC = Path(__file__).resolve().parents[3] / "docs" / "statistics.md"


# --- the vectorised LLR ---------------------------------------------------------------------------------------


# numpy may evaluate ``log`` with SIMD code (AVX-512 on some CPUs) that differs from libm's ``math.log`` by one
# ulp. Each LLR is a sum of three terms ``count * (log p1 - log p0)`` with counts below 60 and log ratios below
# 40 in magnitude, so the two computations differ by at most a few ulp of 2,400 (about 1e-12). 1e-9 bounds that
# with room to spare, and the DP decides a crossing exactly where the live test does as long as no lattice point
# lies that close to a boundary, which the second test checks for the boundaries the DP tests below use.
LLR_TOLERANCE = 1e-9


def _lattice_points(max_pairs: int) -> list[tuple[int, int, int]]:
    return [(w, lost, n - w - lost) for n in range(max_pairs) for w in range(n + 1) for lost in range(n + 1 - w)]


@pytest.mark.parametrize("mean", [0.15, -0.15, 0.5, -0.5])
def test_the_lattice_llr_equals_the_live_llr_on_every_lattice_point(mean: float) -> None:
    # Every (w, l, t) with w + l + t = n < 60, empty cells and the empty run included.
    points = _lattice_points(60)
    wins, losses, ties = (np.array(column, dtype=float) for column in zip(*points, strict=True))
    vectorised = lattice_llr(wins, losses, ties, mean).tolist()
    live = [paired_llr(*point, 0.0, mean) for point in points]
    mismatches = [
        (point, a, b) for point, a, b in zip(points, vectorised, live, strict=True) if abs(a - b) > LLR_TOLERANCE
    ]
    assert mismatches == []
    assert len(points) == math.comb(62, 3)  # sum over n < 60 of (n + 1)(n + 2) / 2 = 37,820


@pytest.mark.parametrize("settings", [SequentialSettings(), SequentialSettings(alpha=0.3, beta=0.3, delta=0.5)])
def test_no_lattice_point_lies_within_the_llr_tolerance_of_a_boundary(settings: SequentialSettings) -> None:
    # With this margin a one-ulp difference in log cannot move a crossing, so the DP and the live test agree
    # on every decision whatever CPU numpy runs on.
    points = _lattice_points(60)
    closest = min(
        abs(paired_llr(*point, 0.0, mean) - bound)
        for point in points
        for mean in (settings.delta, -settings.delta)
        for bound in settings.bounds
    )
    assert closest > 1000 * LLR_TOLERANCE


# --- the DP against brute-force enumeration ----------------------------------------------------------------

# Loose error rates and a large effect make both bounds reachable within a few pairs, so nine pairs visit every
# path of the DP: crossings of either bound, one test freezing at H0 while the other continues, and the cap.
SHORT_RUN = SequentialSettings(alpha=0.3, beta=0.3, delta=0.5)
SHORT_RUN_CAP = 9
SHORT_RUN_PROBABILITIES = (0.2, 0.5, 0.3)  # (loss, tie, win)


def _enumerate(direction: Direction) -> tuple[dict[str | None, float], list[float], float]:
    """Every one of the 3^9 outcome sequences fed through the real PairedSequentialTest, weighted exactly.

    Returns the probability of each verdict (``None``: undecided at the cap), of stopping after exactly ``n``
    pairs, and of deciding ``better`` or ``worse`` after the other test had already frozen at H0.
    """
    verdicts: dict[str | None, float] = {}
    stopping = [0.0] * (SHORT_RUN_CAP + 1)
    decided_after_a_freeze = 0.0
    for sequence in itertools.product(range(3), repeat=SHORT_RUN_CAP):  # 0: loss, 1: tie, 2: win
        weight = math.prod(SHORT_RUN_PROBABILITIES[outcome] for outcome in sequence)
        test = PairedSequentialTest(SHORT_RUN, direction)
        for outcome in sequence:
            states = test.snapshot()["tests"]
            assert isinstance(states, dict)
            test.add_pair(outcome != 2, outcome != 0)
            if test.verdict is not None:
                if test.verdict in ("better", "worse") and "accepted_h0" in states.values():
                    decided_after_a_freeze += weight
                break
        verdicts[test.verdict] = verdicts.get(test.verdict, 0.0) + weight
        stopping[test.pairs] += weight
    return verdicts, stopping, decided_after_a_freeze


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_the_dp_equals_a_brute_force_enumeration_of_the_live_test(direction: Direction) -> None:
    verdicts, stopping, decided_after_a_freeze = _enumerate(direction)
    oc = paired_test_oc(
        SHORT_RUN_PROBABILITIES,
        alpha=SHORT_RUN.alpha,
        beta=SHORT_RUN.beta,
        delta=SHORT_RUN.delta,
        max_pairs=SHORT_RUN_CAP,
        direction=direction,
    )
    # The DP reports a one-sided run's H0 verdict (not_better / not_worse) as no_difference.
    accepted_h0 = {"both": "no_difference", "better": "not_better", "worse": "not_worse"}[direction]
    assert set(verdicts) <= {"better", "worse", accepted_h0, None}
    assert oc.better == pytest.approx(verdicts.get("better", 0.0), abs=1e-12)
    assert oc.worse == pytest.approx(verdicts.get("worse", 0.0), abs=1e-12)
    assert oc.no_difference == pytest.approx(verdicts.get(accepted_h0, 0.0), abs=1e-12)
    assert oc.undecided == pytest.approx(verdicts.get(None, 0.0), abs=1e-12)
    assert oc.max_pairs == SHORT_RUN_CAP
    assert oc.stopping_probabilities == pytest.approx(stopping, abs=1e-12)
    assert oc.asn == pytest.approx(sum(n * mass for n, mass in enumerate(stopping)), abs=1e-12)
    if direction == "both":
        # The freezing path is exercised: better or worse decided after the other test had accepted H0.
        assert decided_after_a_freeze > 0.01


def test_the_dp_gives_the_exact_figures_of_the_short_two_sided_run() -> None:
    # Every path has probability 0.2^a 0.5^b 0.3^c with a + b + c <= 9, so each figure is a finite decimal:
    # these are exact, and the DP must reproduce them to rounding.
    oc = paired_test_oc((0.2, 0.5, 0.3), alpha=0.3, beta=0.3, delta=0.5, max_pairs=9)
    assert oc.better == pytest.approx(0.26516745, abs=1e-12)
    assert oc.worse == pytest.approx(0.1100332, abs=1e-12)
    assert oc.no_difference == pytest.approx(0.6022589, abs=1e-12)
    assert oc.undecided == pytest.approx(0.02254045, abs=1e-12)
    assert oc.asn == pytest.approx(3.90269546, abs=1e-12)
    assert oc.better + oc.worse + oc.no_difference + oc.undecided == pytest.approx(1.0, abs=1e-12)


# --- the DP against the live test at the real settings -----------------------------------------------------


def test_the_live_test_agrees_with_the_dp_in_a_seeded_simulation_at_the_default_settings() -> None:
    # The brute force above covers nine pairs; this covers the default settings, where runs last ~100 pairs.
    # 500 seeded runs at no difference with task spread sigma = 2, capped at 4x the McNemar n (440). Tolerance
    # per verdict: 3 Monte Carlo SE sqrt(p (1 - p) / 500) from the exact p; for the mean number of pairs,
    # 3 sd(N) / sqrt(500) with sd(N) from the exact stopping distribution. Seeded, so deterministic.
    runs, cap = 500, 440
    probabilities = paired_outcome_probabilities(0.60, 0.60, spread_sigma=2.0)
    exact = paired_test_oc(probabilities, alpha=0.05, beta=0.10, delta=0.15, max_pairs=cap)
    rng = np.random.default_rng(11)
    counts: dict[str | None, int] = {"better": 0, "worse": 0, "no_difference": 0, None: 0}
    pairs = 0
    for _ in range(runs):
        test = PairedSequentialTest(SequentialSettings())
        for outcome in rng.choice(3, size=cap, p=probabilities).tolist():
            test.add_pair(outcome != 2, outcome != 0)  # 0: loss, 1: tie, 2: win
            if test.verdict is not None:
                break
        counts[test.verdict] += 1
        pairs += test.pairs
    for verdict, p in (("better", exact.better), ("worse", exact.worse), ("no_difference", exact.no_difference)):
        assert abs(counts[verdict] / runs - p) <= 3 * math.sqrt(p * (1 - p) / runs), verdict
    mean_square = sum(n * n * mass for n, mass in enumerate(exact.stopping_probabilities))
    sd = math.sqrt(mean_square - exact.asn**2)
    assert abs(pairs / runs - exact.asn) <= 3 * sd / math.sqrt(runs)


# --- the table of docs/statistics.md -----------------------------------------------------------------------

QUESTION_LABELS = {"both": "both (default outside CI)", "better": "better", "worse": "worse (H1: test at 0.45)"}


def _table_row(spread: str, direction: Direction) -> str:
    """The row of the "Exact operating characteristic" table, from what `agentopt plan --json` computes."""
    args = build_parser().parse_args(
        ["plan", "--p0", "0.6", "--effect", "0.15", "--spread", spread, "--direction", direction, "--json"]
    )
    result = plan(args)
    assert result["boundaries"] == "calibrated"
    assert result["cap"] == result["required_pairs"]  # the plugin's default cap
    cells = [
        spread,
        QUESTION_LABELS[direction],
        str(result["fixed_n"]),
        f"{result['asn_h0']:.1f} / {result['asn_h1']:.1f}",
        f"{result['p95_h0']} / {result['p95_h1']}",
        f"{result['alpha_exact']:.4f} / {result['beta_exact']:.4f}",
        f"{result['lower_bound_h0']:.1f} / {result['lower_bound_h1']:.1f}",
    ]
    return "| " + " | ".join(cells) + " |"


# The rows as docs/statistics.md prints them (the calibrated design at its default cap of 868 pairs). Computing
# all six takes about a minute, so only one row runs in the default suite; `-m slow` runs the rest.
DOC_ROWS = [
    pytest.param(
        "0",
        "both",
        "| 0 | both (default outside CI) | 168 | 133.5 / 99.5 | 277 / 232 | 0.0470 / 0.0993 | 85.2 / 93.2 |",
        id="spread0-both",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "0",
        "better",
        "| 0 | better | 168 | 87.6 / 97.7 | 228 / 232 | 0.0470 / 0.0993 | 85.2 / 93.2 |",
        id="spread0-better",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "0",
        "worse",
        "| 0 | worse (H1: test at 0.45) | 191 | 87.6 / 110.6 | 228 / 263 | 0.0470 / 0.0991 | 85.2 / 106.1 |",
        id="spread0-worse",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "2",
        "both",
        "| 2 | both (default outside CI) | 110 | 85.7 / 67.2 | 180 / 158 | 0.0459 / 0.0972 | 54.2 / 59.7 |",
        id="spread2-both",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        "2",
        "better",
        "| 2 | better | 110 | 57.2 / 66.3 | 148 / 158 | 0.0459 / 0.0972 | 54.2 / 59.7 |",
        id="spread2-better",
    ),
    pytest.param(
        "2",
        "worse",
        "| 2 | worse (H1: test at 0.45) | 120 | 57.2 / 72.1 | 148 / 171 | 0.0459 / 0.0985 | 54.2 / 66.1 |",
        id="spread2-worse",
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize(("spread", "direction", "row"), DOC_ROWS)
def test_the_documented_operating_characteristic_is_what_agentopt_plan_computes(
    spread: str, direction: Direction, row: str
) -> None:
    assert _table_row(spread, direction) == row
    assert row in STATISTICS_DOC.read_text(encoding="utf-8").splitlines()
