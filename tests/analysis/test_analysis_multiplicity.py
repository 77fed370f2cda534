"""Holm and Benjamini-Hochberg against their definitions on hand-checked values."""

from __future__ import annotations

import pytest

from pytest_agentopt.analysis.multiplicity import benjamini_hochberg, holm


def test_holm_steps_down_and_keeps_the_input_order() -> None:
    # sorted 0.01, 0.02, 0.04, 0.30 with m = 4: 0.04, 0.06, 0.08, 0.30 (monotone), back in input order.
    assert holm([0.04, 0.01, 0.30, 0.02]) == pytest.approx([0.08, 0.04, 0.30, 0.06])
    assert holm([0.5, 0.5]) == [1.0, 1.0]
    assert holm([]) == []


def test_benjamini_hochberg_steps_up() -> None:
    # sorted 0.01, 0.02, 0.04, 0.30: m p / rank = 0.04, 0.04, 0.0533, 0.30, then the running minimum from the top.
    assert benjamini_hochberg([0.04, 0.01, 0.30, 0.02]) == pytest.approx([0.16 / 3, 0.04, 0.30, 0.04])
    assert benjamini_hochberg([]) == []


def test_holm_is_never_below_the_raw_p_and_bh_never_above_holm() -> None:
    p = [0.001, 0.2, 0.03, 0.049, 0.5, 0.012]
    for raw, family_wise, discovery in zip(p, holm(p), benjamini_hochberg(p), strict=True):
        assert raw <= discovery <= family_wise
