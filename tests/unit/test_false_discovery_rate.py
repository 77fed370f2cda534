"""False discovery rate over several candidates: the e-process (exact expectations over the lattice), e-BH
(closed-form examples), the e-value test each candidate runs, and the claims at the end of a run."""

from __future__ import annotations

import itertools
import math
from typing import cast

import pytest

from pytest_agentopt.report.summary import apply_false_discovery_claim
from pytest_agentopt.run.candidates import candidate_feeders, false_discovery_claims
from pytest_agentopt.stats.design import wald_design
from pytest_agentopt.stats.e_process import THETA_MAX, DiscordantEProcess, EDirection, bet
from pytest_agentopt.stats.ebh import e_bh
from pytest_agentopt.stats.evidence_paired import EvidencePairedTest
from pytest_agentopt.stats.wald import Direction
from pytest_agentopt.storage.summary_schema import CandidateResult

DIFFERENCES = (-1, 0, 1)


def _probability(path: tuple[int, ...], p_loss: float, p_win: float) -> float:
    by_difference = {-1: p_loss, 0: 1.0 - p_loss - p_win, 1: p_win}
    return math.prod(by_difference[d] for d in path)


def _expected_e_at_cap(direction: EDirection, cap: int, p_loss: float, p_win: float) -> float:
    """E[e-process after ``cap`` pairs], summing over every path of the lattice."""
    total = 0.0
    for path in itertools.product(DIFFERENCES, repeat=cap):
        process = DiscordantEProcess(direction, 0.15)
        for difference in path:
            process.add(difference)
        total += _probability(path, p_loss, p_win) * process.value
    return total


def _expected_e_at_stop(direction: Direction, cap: int, p_loss: float, p_win: float) -> tuple[float, set[int]]:
    """E[e-value at the test's own stop] (a claim, an acceptance, or the cap), exactly over the lattice; and the
    numbers of pairs at which the test stopped (to show the stopping rule does stop at different times)."""
    design = wald_design(0.2, 0.3, 0.3, direction)
    total = 0.0
    stops: set[int] = set()
    name = "worse" if direction == "worse" else "better"
    for path in itertools.product(DIFFERENCES, repeat=cap):
        test = EvidencePairedTest(design, claim_threshold=2.0)
        for difference in path:
            test.add_pair(control_success=difference < 0, test_success=difference > 0)
        stops.add(test.pairs)
        value = test.e_values[name]
        assert value is not None
        total += _probability(path, p_loss, p_win) * value
    return total, stops


@pytest.mark.parametrize("direction", ["better", "worse"])
def test_the_e_process_is_a_martingale_when_a_discordant_pair_is_a_fair_coin(direction: EDirection) -> None:
    assert _expected_e_at_cap(direction, 8, 0.2, 0.2) == pytest.approx(1.0, abs=1e-12)
    assert _expected_e_at_cap(direction, 8, 0.45, 0.45) == pytest.approx(1.0, abs=1e-12)


def test_the_e_process_is_a_supermartingale_under_the_one_sided_null() -> None:
    # Not better: the candidate wins fewer discordant pairs than it loses; mirrored for not worse.
    assert _expected_e_at_cap("better", 8, 0.3, 0.1) < 1.0
    assert _expected_e_at_cap("worse", 8, 0.1, 0.3) < 1.0
    # ...and it grows under the alternative (the check can fail).
    assert _expected_e_at_cap("better", 8, 0.1, 0.3) > 1.2


@pytest.mark.parametrize("direction", ["better", "worse", "both"])
def test_the_e_value_at_the_candidates_own_stop_has_expectation_at_most_one(direction: Direction) -> None:
    mean, stops = _expected_e_at_stop(direction, 8, 0.25, 0.25)
    assert mean == pytest.approx(1.0, abs=1e-12)  # a martingale stopped at a bounded stopping time
    assert len(stops) >= 3  # claims, acceptances and the cap all occur
    null_side = (0.35, 0.15) if direction != "worse" else (0.15, 0.35)
    assert _expected_e_at_stop(direction, 8, *null_side)[0] < 1.0


def test_the_bet_targets_the_effect_at_the_estimated_discordance() -> None:
    assert bet(0, 0, 0.15) == pytest.approx(0.5 + 0.15 / (2 * 0.5))
    assert bet(43, 98, 0.15) == pytest.approx(0.5 + 0.15 / (2 * 0.44))
    assert bet(0, 100, 0.15) == THETA_MAX  # a discordance below the effect: the largest bet
    assert bet(100, 100, 0.15) >= 0.5


def test_e_bh_closed_form_examples() -> None:
    # K = 3, alpha 0.05: thresholds 60 (k = 1), 30 (k = 2), 20 (k = 3).
    assert e_bh([40.0, 1.0, 0.5], 0.05).rejected == frozenset()
    assert e_bh([40.0, 1.0, 0.5], 0.05).threshold == math.inf
    two = e_bh([70.0, 1.0, 35.0], 0.05)
    assert two.rejected == frozenset({0, 2})
    assert two.threshold == pytest.approx(30.0)
    # None reaches K / alpha = 60 alone, all three reach K / (3 alpha) = 20 together.
    three = e_bh([25.0, 21.0, 20.0], 0.05)
    assert three.rejected == frozenset({0, 1, 2})
    assert three.threshold == pytest.approx(20.0)
    assert e_bh([25.0, 21.0, 19.9], 0.05).rejected == frozenset()
    assert e_bh([], 0.05).rejected == frozenset()
    with pytest.raises(ValueError, match="non-negative"):
        e_bh([1.0, -0.5], 0.05)
    with pytest.raises(ValueError, match="alpha"):
        e_bh([1.0], 1.0)


def test_the_e_value_test_claims_at_its_threshold_and_freezes() -> None:
    test = EvidencePairedTest(wald_design(0.025, 0.1, 0.15, "both"), claim_threshold=40.0)
    while test.verdict is None:
        test.add_pair(control_success=False, test_success=True)
    assert test.verdict == "better"
    better = test.e_values["better"]
    assert better is not None
    assert better >= 40.0
    test.add_pair(control_success=True, test_success=False)
    assert test.e_values["better"] == better
    assert test.states == {"better": "accepted_h1", "worse": "accepted_h0"}


def test_the_e_value_test_accepts_by_the_gsprts_lower_boundary_and_never_claims_at_the_cap() -> None:
    design = wald_design(0.025, 0.1, 0.15, "better")
    accepting = EvidencePairedTest(design, claim_threshold=40.0)
    while accepting.verdict is None:
        accepting.add_pair(control_success=True, test_success=True)
    assert accepting.verdict == "not_better"
    assert accepting.e_values == {"better": 1.0, "worse": None}  # ties never move the e-process
    # The GSPRT's LLR is far above its upper boundary here, but a claim needs the e-value.
    capped = EvidencePairedTest(design, claim_threshold=1e9)
    for _ in range(30):
        capped.add_pair(control_success=False, test_success=True)
    assert capped.llr["better"] is not None
    assert capped.llr["better"] > capped.bounds[1]
    assert capped.verdict is None
    assert capped.conclude() is None


def test_claims_at_the_end_run_e_bh_per_direction_over_every_candidate() -> None:
    claims = false_discovery_claims(
        {
            "test": {"better": 70.0, "worse": 0.01},
            "test2": {"better": 35.0, "worse": 0.2},  # below K / alpha = 60 alone, above 60 / 2 with test
            "test3": {"better": 0.1, "worse": 61.0},
        },
        0.05,
    )
    assert claims["test"].verdict == "better"
    assert claims["test"].threshold == pytest.approx(30.0)
    assert claims["test2"].verdict == "better"
    assert claims["test3"].verdict == "worse"
    assert claims["test3"].threshold == pytest.approx(60.0)
    none = false_discovery_claims(
        {"test": {"better": 39.0, "worse": None}, "test2": {"better": 1.0, "worse": None}}, 0.05
    )
    assert none["test"].verdict is None
    assert none["test"].threshold is None


def test_candidate_feeders_under_fdr_run_the_e_value_test_at_k_over_alpha() -> None:
    family = candidate_feeders(
        ("test", "test2"), alpha=0.05, beta=0.1, effect=0.15, direction="both", family_error="fdr"
    )
    test = family.feeders["test"].paired_test
    assert isinstance(test, EvidencePairedTest)
    assert test.claim_threshold == pytest.approx(40.0)
    assert test.design.alpha == pytest.approx(0.025)
    claims = family.false_discovery_claims()
    assert claims is not None
    assert all(claim.verdict is None for claim in claims.values())
    default = candidate_feeders(("test", "test2"), alpha=0.05, beta=0.1, effect=0.15, direction="both")
    assert default.family_error == "fwer"
    assert default.false_discovery_claims() is None


def _entry(arm: str, verdict: str) -> CandidateResult:
    return cast(
        CandidateResult,
        {
            "arm": arm,
            "verdict": verdict,
            "verdict_reason": "its own test's reason",
            "pairs_used": 120,
            "decided_at_cap": False,
            "multiplicity": "bonferroni",
            "e_values": None,
            "claim_threshold": None,
        },
    )


def test_e_bh_may_claim_a_candidate_its_own_test_did_not() -> None:
    # K = 3: 'test' reached K / alpha = 60 and stopped 'better'; 'test2' stopped at 'no_difference' with an
    # e-value of 35, which e-BH claims at K / (2 alpha) = 30; 'test3' has nothing and keeps its own verdict.
    claims = false_discovery_claims(
        {
            "test": {"better": 75.0, "worse": 0.01},
            "test2": {"better": 35.0, "worse": 0.3},
            "test3": {"better": 0.5, "worse": 2.0},
        },
        0.05,
    )
    entries = [_entry("test", "better"), _entry("test2", "no_difference"), _entry("test3", "no_difference")]
    for entry in entries:
        apply_false_discovery_claim(entry, claims, 0.05)
    assert [entry["verdict"] for entry in entries] == ["better", "better", "no_difference"]
    assert all(entry["multiplicity"] == "e-bh" for entry in entries)
    assert entries[1]["claim_threshold"] == pytest.approx(30.0)
    assert entries[1]["e_values"] == {"better": 35.0, "worse": 0.3}
    reason = str(entries[1]["verdict_reason"])
    assert "e-value 35 reached 30 = K / (alpha k) with 2 'better' claim(s) among 3 candidates" in reason
    assert "its own test had stopped at 'no_difference' after 120 pairs" in reason
    assert entries[2]["verdict_reason"] == "its own test's reason"
    assert entries[2]["claim_threshold"] is None
