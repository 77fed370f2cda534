"""``docs/summary.md`` and the typed summary (``storage.summary_schema``) list the same fields.

The page has four tables whose first column names fields: the top level, the ``design`` and ``extension``
sections and the per-arm figures. Those must equal the typed fields exactly. Smaller nested sections are described
in the meaning column of their row (``settings``, ``cost_ratio``, ``budget``...): every typed field of them must be
named there.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_agentopt.run.extension_advice import ExtensionAdvice
from pytest_agentopt.storage.summary_schema import (
    ArmSummary,
    BudgetState,
    CapDesign,
    ConfigChange,
    CostRatio,
    DriftFeature,
    DriftReport,
    EffectInterval,
    GateResult,
    MetricCounts,
    MetricSection,
    OneSidedStates,
    PairCounts,
    RunSummary,
    SequentialLlr,
    Settings,
    Spend,
    TaskArmFigures,
    TaskRow,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "summary.md"
NAME = re.compile(r"`([a-z_][a-z0-9_.]*)`")
QUOTED_KEY = re.compile(r'"([a-z_][a-z0-9_]*)"')  # a key in a JSON example: `{"key", "control"}`


def tables(text: str) -> list[list[tuple[str, str]]]:
    """Each Markdown table of ``text`` as ``(first cell, last cell)`` rows, header and rule left out."""
    found: list[list[tuple[str, str]]] = []
    rows: list[tuple[str, str]] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            rows = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if rows is None:
            rows = []
            found.append(rows)
            continue  # the header
        if set(cells[0]) <= {"-", ":"}:
            continue  # the rule under the header
        rows.append((cells[0], cells[-1]))
    return found


def field_names(cell: str) -> set[str]:
    """The fields a first cell names: ``arms.control`` names the top-level ``arms``."""
    return {name.split(".")[0] for name in NAME.findall(cell)}


@pytest.fixture(scope="module")
def documented() -> list[list[tuple[str, str]]]:
    top, design, extension, per_arm = tables(DOC.read_text(encoding="utf-8"))[:4]
    return [top, design, extension, per_arm]


def keys(typed: type) -> set[str]:
    return set(typed.__annotations__)


@pytest.mark.parametrize(("index", "typed"), [(0, RunSummary), (1, CapDesign), (2, ExtensionAdvice), (3, ArmSummary)])
def test_every_documented_field_is_typed_and_every_typed_field_documented(
    documented: list[list[tuple[str, str]]], index: int, typed: type
) -> None:
    names = set().union(*(field_names(first) for first, _ in documented[index]))
    assert names == keys(typed), f"only in docs/summary.md: {names - keys(typed)}; only typed: {keys(typed) - names}"


@pytest.mark.parametrize(
    ("field", "typed"),
    [
        ("settings", Settings),
        ("config_diff", ConfigChange),
        ("llr", SequentialLlr),
        ("tests", OneSidedStates),
        ("pairs", PairCounts),
        ("effect", EffectInterval),
        ("cost_ratio", CostRatio),
        ("drift", DriftReport),
        ("drift", DriftFeature),
        ("budget", BudgetState),
        ("spend", Spend),
        ("gate", GateResult),
        ("tasks", TaskRow),
        ("tasks", TaskArmFigures),
        ("metric", MetricSection),
        ("metric", MetricCounts),
    ],
)
def test_every_field_of_a_nested_section_is_named_in_its_row(
    documented: list[list[tuple[str, str]]], field: str, typed: type
) -> None:
    (meaning,) = [meaning for first, meaning in documented[0] if field in field_names(first)]
    named = set(NAME.findall(meaning)) | set(QUOTED_KEY.findall(meaning))
    assert keys(typed) <= named, f"{field}: not documented: {keys(typed) - named}"


def test_it_finds_a_field_missing_from_the_page() -> None:
    rows = [("`schema`", "1"), ("`run_id`, `experiment_id`", "the run")]
    assert set().union(*(field_names(first) for first, _ in rows)) == {"schema", "run_id", "experiment_id"}
    assert field_names("`arms.control`, `arms.test`") == {"arms"}
    assert tables("| a | b |\n|---|---|\n| `x` | y |\n\ntext\n| c | d |\n|---|---|\n| `z` | w |") == [
        [("`x`", "y")],
        [("`z`", "w")],
    ]


def test_every_field_of_a_target_runs_design_is_named_in_its_paragraph() -> None:
    from pytest_agentopt.storage.summary_schema import TargetCapDesign

    text = DOC.read_text(encoding="utf-8")
    paragraph = text[text.index("For a run against `--agent-target` the section has") :].split("\n\n", 1)[0]
    missing = {name for name in keys(TargetCapDesign) if f"`{name}`" not in paragraph}
    assert not missing, f"docs/summary.md does not name: {missing}"


def test_every_field_of_a_candidate_is_documented_and_typed() -> None:
    from pytest_agentopt.storage.summary_schema import CandidateResult

    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Several candidates (`candidates`)") :]
    (rows,) = tables(section)[:1]
    names = set().union(*(field_names(first) for first, _ in rows))
    typed = keys(CandidateResult)
    assert names == typed, f"only in docs/summary.md: {names - typed}; only typed: {typed - names}"
