"""The verdict sentences claim a bound only where the exact rates are known."""

from __future__ import annotations

import pytest

from pytest_agentopt.report.verdict_text import paired_sequential_reason

VERDICTS = ("better", "worse", "not_worse", "not_better", "no_difference")


@pytest.mark.parametrize("verdict", VERDICTS)
def test_calibrated_rates_are_bounds(verdict: str) -> None:
    text = paired_sequential_reason(
        verdict, units=120, effect=0.15, alpha=0.05, beta=0.1, calibrated=True, at_cap=False
    )
    assert "at most" in text
    assert "nominally" not in text
    assert "Wald" not in text


@pytest.mark.parametrize("verdict", VERDICTS)
def test_wald_rates_are_nominal_never_about(verdict: str) -> None:
    text = paired_sequential_reason(
        verdict, units=120, effect=0.15, alpha=0.0125, beta=0.1, calibrated=False, at_cap=False
    )
    assert "about" not in text
    assert "at most" not in text
    assert "nominally" in text
    assert "Wald's bounds, exact rate not computed" in text
