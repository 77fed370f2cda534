"""Per-candidate rows outside the Markdown/HTML tables: the candidates CSV, the JUnit properties, the LLR chart."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pytest_agentopt.report.render.candidates_csv import candidates_csv_path, write_candidates_csv
from pytest_agentopt.report.render.svg import llr_chart_svg
from pytest_agentopt.shell.junit_output import summary_properties

CANDIDATES: list[Any] = [
    {
        "arm": "test",
        "experiment_id": "better",
        "verdict": "better",
        "decided_by": "sprt",
        "pairs_used": 31,
        "llr": {"better": 4.5, "worse": -1.25},
        "bounds": [-2.2, 4.3],
        "effect": {"estimate": 0.3, "lower": 0.1, "upper": 0.5},
        "verdict_reason": "=cmd|' /C calc'!A0",
    },
    {"arm": "test2", "experiment_id": "undecided", "verdict": None, "pairs_used": None, "effect": None},
    "damaged",
]


def test_the_candidates_csv_has_one_row_per_candidate_beside_the_trials_csv(tmp_path: Path) -> None:
    path = candidates_csv_path(tmp_path / "out.csv")
    assert path == tmp_path / "out.candidates.csv"
    assert write_candidates_csv(CANDIDATES, path) == 2  # a damaged entry is no row
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["experiment_id"] for row in rows] == ["better", "undecided"]
    assert rows[0]["llr_better"] == "4.5"
    assert (rows[0]["bound_lower"], rows[0]["bound_upper"]) == ("-2.2", "4.3")
    assert rows[0]["effect_lower"] == "0.1"
    assert rows[0]["verdict_reason"].startswith("'=")  # a formula is neutralised, as in the trials CSV
    assert rows[1]["verdict"] == rows[1]["pairs_used"] == rows[1]["effect_estimate"] == ""  # unknown, not 0


def test_junit_properties_carry_the_run_verdict_and_each_candidates() -> None:
    properties = dict(summary_properties({"run_id": "r1", "verdict": "worse", "candidates": CANDIDATES}))
    assert properties["agentopt.run_id"] == "r1"
    assert properties["agentopt.verdict"] == "worse"
    assert properties["agentopt.candidate.better.verdict"] == "better"
    assert properties["agentopt.candidate.better.pairs_used"] == "31"
    assert properties["agentopt.candidate.better.effect"] == "+0.300 [+0.100, +0.500]"
    assert properties["agentopt.candidate.undecided.verdict"] == "inconclusive"
    assert properties["agentopt.candidate.undecided.pairs_used"] == "-"
    assert dict(summary_properties({"verdict": None})) == {"agentopt.run_id": "-", "agentopt.verdict": "-"}


def test_the_llr_chart_draws_every_candidates_paths_together() -> None:
    path = {
        "points": [
            {"pairs": 0, "test.better": 0.0, "test.worse": 0.0},
            {"pairs": 0, "test2.better": 0.0, "test2.worse": 0.0},
            {"pairs": 1, "test.better": 0.4, "test.worse": -0.3},
            {"pairs": 1, "test2.better": -0.2, "test2.worse": 0.1},
        ],
        "bounds": [-2.0, 4.0],
        "decided_at": None,
        "series": [
            ["test.better", "a: improvement test"],
            ["test.worse", "a: regression test"],
            ["test2.better", "b: improvement test"],
            ["test2.worse", "b: regression test"],
        ],
        "legend": ["a", "b"],
    }
    svg = llr_chart_svg(path)
    for key in ("test.better", "test.worse", "test2.better", "test2.worse"):
        assert f'class="llr llr-{key}"' in svg
    assert svg.count('stroke-dasharray="6 3"') == 2  # each regression test dashed
    assert "solid: improvement test, dashed: regression test" in svg
