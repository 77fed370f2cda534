"""Smoke test of scripts/csq_quality_rates.py (the full grid is quoted in docs/statistics.md)."""

from __future__ import annotations

import pytest

from pytest_agentopt.stats.sprt import SequentialSettings
from scripts.csq_quality_rates import main, worst_rates


def test_the_worst_case_is_taken_over_the_grid() -> None:
    coarse = worst_rates(SequentialSettings(), cap=200, step=0.2)
    assert 0 < coarse["false_not_worse"] < 0.1
    assert 0 < coarse["false_worse"] < 0.1
    assert coarse["at_discordance"] in (0.15, 0.35, 0.55, 0.75, 0.95)


def test_the_script_prints_one_line_per_cap(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--caps", "50", "60", "--step", "0.3"]) == 0
    out = capsys.readouterr().out
    assert "calibrated boundaries" in out  # the shipped table holds the quality half's settings
    assert out.count("false not_worse at most") == 2
