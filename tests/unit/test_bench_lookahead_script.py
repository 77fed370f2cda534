"""Smoke test of scripts/bench_lookahead.py: its event loop drives the real schedulers and its figures add up."""

from __future__ import annotations

import xml.dom.minidom

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
