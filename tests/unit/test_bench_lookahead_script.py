"""Smoke test of scripts/bench_lookahead.py: its event loop drives the real schedulers and its figures add up."""

from __future__ import annotations

import xml.dom.minidom
from pathlib import Path

import pytest

from scripts import bench_lookahead


def test_every_policy_reaches_the_same_verdict_and_auto_keeps_its_bound() -> None:
    figures, mismatches = bench_lookahead.run_simulation(runs=3, seed=7, workers=4)
    assert mismatches == 0
    assert list(figures) == bench_lookahead.policies()
    load = figures["load"].outcomes
    assert all(outcome.verdict == "load" for outcome in load)
    assert all(0.5 < outcome.busy_share <= 1.0 for outcome in load)
    plan_items = load[0].started
    for policy, found in figures.items():
        if policy == "load":
            continue
        for outcome in found.outcomes:
            assert outcome.decision_s is not None
            assert outcome.decision_s <= outcome.end_s
            assert 0.0 < outcome.busy_share <= 1.0
            assert outcome.started < plan_items  # stopped early
    assert max(outcome.after_decision for outcome in figures["auto"].outcomes) <= 2 * 4
    table, verdicts = bench_lookahead.simulation_table(figures, 4)
    assert "--agent-lookahead auto" in table
    assert len(verdicts) == len(figures) - 1


def test_the_chart_is_well_formed_svg_with_one_point_per_lookahead() -> None:
    figures, _ = bench_lookahead.run_simulation(runs=1, seed=3, workers=2)
    svg = bench_lookahead.chart_svg(figures, 2)
    document = xml.dom.minidom.parseString(svg)
    assert len(document.getElementsByTagName("circle")) == len(figures) - 1


def test_the_clairvoyant_bound_keeps_its_allowance_and_bounds_every_choice_within_the_budget() -> None:
    allowances = (2, 4, 64)
    figures, mismatches = bench_lookahead.run_simulation(runs=3, seed=11, workers=4, clairvoyant=allowances)
    assert mismatches == 0  # the clairvoyant dispatch reaches the same verdicts
    found = {allowance: figures[f"clairvoyant {allowance}"] for allowance in allowances}
    for allowance, figure in found.items():
        assert all(outcome.after_decision <= allowance for outcome in figure.outcomes)
    budget = 4.0
    bound = bench_lookahead.mean_budget_bound(found, "ratios", budget)
    # Any single allowance whose mean after the decision is within the budget is a choice the bound covers...
    for figure in found.values():
        if sum(outcome.after_decision for outcome in figure.outcomes) / len(figure.outcomes) <= budget:
            assert bound >= sum(figure.ratios) / len(figure.ratios) - 1e-12
    # ...and no choice beats taking the best allowance on every run.
    best = sum(max(figure.ratios[run] for figure in found.values()) for run in range(6)) / 6
    assert bound <= best + 1e-12
    lines = bench_lookahead.bound_lines(figures, 4)
    assert any("on every run: the clairvoyant dispatch reaches" in line for line in lines)


def test_writing_the_scheduling_section_keeps_the_start_up_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "lookahead.md"
    monkeypatch.setattr(bench_lookahead, "DOC_PATH", doc)
    monkeypatch.setattr(bench_lookahead, "CHART_PATH", tmp_path / "lookahead.svg")
    doc.write_text("# Look-ahead\n\nprose\n")
    bench_lookahead.write_docs({"scheduling": ["old scheduling"], "start-up": ["idle start-up"]}, "<svg/>")
    bench_lookahead.write_docs({"scheduling": ["new scheduling"]}, "<svg/>")  # --no-startup --write-docs
    text = doc.read_text()
    assert text.startswith("# Look-ahead\n\nprose\n")
    assert "new scheduling" in text
    assert "old scheduling" not in text
    assert "idle start-up" in text
    assert text.count("<!-- begin scheduling") == 1
