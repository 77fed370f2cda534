"""``experiment_history`` and ``guideline_impact`` on constructed histories."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest

from pytest_agentopt.analysis import experiment_history, guideline_impact, load_runs, load_trials
from pytest_agentopt.analysis.history import lineage
from pytest_agentopt.configs.model import load_config, text_hash
from pytest_agentopt.run.pairing import paired_outcomes
from pytest_agentopt.stats.confseq import mean_with_confidence_sequence
from pytest_agentopt.stats.paired import cost_ratio
from pytest_agentopt.storage.trial_record import TrialRecord
from tests.analysis.ledger_factory import arm_entry, candidate_result, run_summary, trial, write_run

A = arm_entry("exp_a", "ha", parent="baseline", guidelines=["g1"])
B = arm_entry("exp_b", "hb", parent="exp_a", guidelines=["g1", "Check coupon limits first"])
C = arm_entry("exp_c", "hc", parent="exp_b.json", guidelines=["Check coupon limits first"], model="other")
# (control, test) outcomes of six pairs: D = test - control is [+1, +1, 0, -1, 0, +1]
PAIRS = [("failure", "success"), ("failure", "success"), ("success", "success"), ("success", "failure")]
PAIRS += [("failure", "failure"), ("failure", "success")]


def paired_records(run_id: str, control: dict[str, Any], test: dict[str, Any], *, swap: bool = False) -> list[Any]:
    records: list[dict[str, Any]] = []
    for index, (control_outcome, test_outcome) in enumerate(PAIRS):
        for arm, entry, outcome, cost in (
            ("control", control, control_outcome, 0.01),
            ("test", test, test_outcome, 0.02),
        ):
            if swap:
                outcome = test_outcome if arm == "control" else control_outcome
            records.append(
                trial(run_id=run_id, arm=arm, experiment_id=entry["experiment_id"], config_hash=entry["config_hash"],
                      task=f"t{index % 3}", trial_index=index // 3, seq=len(records), outcome=outcome, cost=cost)
            )  # fmt: skip
    return records


def single_records(run_id: str, entry: dict[str, Any], outcomes: list[str]) -> list[Any]:
    return [
        trial(run_id=run_id, experiment_id=entry["experiment_id"], config_hash=entry["config_hash"], seq=i, outcome=o)
        for i, o in enumerate(outcomes)
    ]


@pytest.fixture
def agent_dir(tmp_path: Path) -> Path:
    write_run(
        tmp_path,
        "r1",
        single_records("r1", A, ["success", "failure"]),
        arms={"test": A},
        created_at="2026-11-01T09:00:00.000Z",
        summary=run_summary(verdict=None),
    )
    write_run(
        tmp_path,
        "r2",
        paired_records("r2", A, B),
        arms={"control": A, "test": B},
        created_at="2026-11-02T09:00:00.000Z",
        summary=run_summary(verdict="better", verdict_reason="r2 reason"),
    )
    write_run(
        tmp_path,
        "r3",
        paired_records("r3", A, B),
        arms={"control": A, "test": B},
        created_at="2026-11-03T09:00:00.000Z",
        summary=run_summary(verdict="no_difference", verdict_reason="r3"),
    )
    write_run(tmp_path, "r4", single_records("r4", C, ["success"] * 3 + ["failure"]), arms={"test": C},
              created_at="2026-11-04T09:00:00.000Z")  # fmt: skip
    return tmp_path


def test_history_lists_each_experiment_with_lineage_verdict_and_date(agent_dir: Path) -> None:
    rows = experiment_history(load_runs(agent_dir), load_trials(agent_dir))
    json.dumps(rows, allow_nan=False)
    by_id = {row["experiment_id"]: row for row in rows}
    assert [row["experiment_id"] for row in rows] == ["exp_a", "exp_b", "exp_c"]
    assert by_id["exp_c"]["lineage"] == ["exp_c", "exp_b", "exp_a", "baseline"]
    assert by_id["exp_b"]["verdict"] == "no_difference"  # the latest run wins
    assert by_id["exp_b"]["verdict_reason"] == "r3"
    assert by_id["exp_b"]["verdict_control"] == "exp_a"
    assert by_id["exp_b"]["runs"] == ["r2", "r3"]
    assert (by_id["exp_b"]["last_run"], by_id["exp_b"]["date"]) == ("r3", "2026-11-03")
    assert by_id["exp_a"]["runs"] == ["r1", "r2", "r3"]
    assert by_id["exp_a"]["verdict"] is None
    # exp_a: 1 of 2 in r1, and 2 of 6 as control in r2 and in r3
    assert (by_id["exp_a"]["trials"], by_id["exp_a"]["successes"]) == (14, 5)
    assert by_id["exp_c"]["success_rate"] == 0.75


def test_lineage_stops_at_unknown_parents_and_cycles() -> None:
    assert lineage("x", {"x": "y", "y": "x"}) == ["x", "y"]
    assert lineage("x", {"x": None}) == ["x"]
    assert lineage("x", {}) == ["x"]


def test_a_guideline_added_in_a_paired_run_gets_the_paired_effect(agent_dir: Path) -> None:
    rows = guideline_impact(load_runs(agent_dir), load_trials(agent_dir))
    json.dumps(rows, allow_nan=False)
    added = next(row for row in rows if row["child"] == "exp_b")
    assert added["guideline"] == "Check coupon limits first"
    assert added["md5"] == text_hash("Check coupon limits first")
    assert (added["change"], added["parent"], added["relation"]) == ("added", "exp_a", "parent/child")
    assert (added["paired"], added["pairs"], added["runs"]) == (True, 12, ["r2", "r3"])
    differences = [1.0, 1.0, 0.0, -1.0, 0.0, 1.0] * 2
    sequence = mean_with_confidence_sequence(differences, -1.0, 1.0, 0.05)
    assert added["effect"]["estimate"] == pytest.approx(1 / 3)
    assert (added["effect"]["lower"], added["effect"]["upper"]) == (sequence["lower"], sequence["upper"])
    records = cast(list[TrialRecord], load_trials(agent_dir / "runs" / "r2").records())
    expected_ratio = cost_ratio(paired_outcomes(records) * 2, 0.05)
    assert expected_ratio is not None
    assert added["cost_ratio"]["estimate"] == pytest.approx(2.0)
    assert added["cost_ratio"]["lower"] == expected_ratio["lower"]
    assert added["other_changes"] == []
    assert added["changed_with"] == []


def test_a_pair_without_a_common_run_is_marked_unpaired(agent_dir: Path) -> None:
    rows = guideline_impact(load_runs(agent_dir), load_trials(agent_dir), bootstrap=400)
    removed = next(row for row in rows if row["child"] == "exp_c")
    assert (removed["guideline"], removed["change"], removed["parent"]) == ("g1", "removed", "exp_b")
    assert (removed["paired"], removed["pairs"]) == (False, 0)
    assert removed["effect"]["estimate"] == pytest.approx(0.75 - 8 / 12)  # exp_c 3/4, exp_b 4/6 in r2 and in r3
    assert removed["effect"]["method"].startswith("unpaired")
    assert removed["effect"]["lower"] < removed["effect"]["estimate"] < removed["effect"]["upper"]
    assert removed["cost_ratio"]["estimate"] == pytest.approx(0.01 / 0.02)
    assert removed["other_changes"] == ['model_id: "m" -> "other"']
    assert set(removed["runs"]) == {"r2", "r3", "r4"}


def test_the_effect_is_oriented_child_minus_parent_when_the_control_is_the_child(tmp_path: Path) -> None:
    # The run tests removing the guideline: exp_b (the child) is the control, exp_a the test arm.
    write_run(tmp_path, "r1", paired_records("r1", B, A, swap=True), arms={"control": B, "test": A})
    (row,) = guideline_impact(load_runs(tmp_path), load_trials(tmp_path))
    assert (row["parent"], row["child"], row["change"]) == ("exp_a", "exp_b", "added")
    assert row["effect"]["estimate"] == pytest.approx(1 / 3)
    assert row["cost_ratio"]["estimate"] == pytest.approx(0.01 / 0.02)


def resolved_arm(path: Path) -> dict[str, Any]:
    """A manifest arm entry as the plugin writes it: the resolved config with its lineage."""
    resolved = load_config(path)
    entry = arm_entry(resolved.experiment_id, resolved.hash, guidelines=resolved.config.guidelines)
    return {**entry, "config": resolved.config.model_dump(mode="json"), "lineage": list(resolved.lineage)}


def test_the_lineage_names_a_parent_by_its_experiment_id_not_its_file_name(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "v1.json").write_text(json.dumps({"experiment_id": "baseline", "model_id": "m", "guidelines": ["g1"]}))
    (configs / "v2.json").write_text(
        json.dumps({"experiment_id": "exp_new", "parent": "v1.json", "guidelines+": ["Check coupon limits first"]})
    )
    parent, child = resolved_arm(configs / "v1.json"), resolved_arm(configs / "v2.json")
    assert child["lineage"] == ["exp_new", "baseline"]
    assert child["config"]["parent"] == "v1.json"  # the file name: not an experiment id
    write_run(tmp_path, "r1", paired_records("r1", parent, child), arms={"control": parent, "test": child})
    runs = load_runs(tmp_path)
    assert runs[0].arms["test"].parent == "baseline"
    assert runs[0].as_dict()["arms"]["test"]["lineage"] == ["exp_new", "baseline"]
    rows = {row["experiment_id"]: row for row in experiment_history(runs, load_trials(tmp_path))}
    assert rows["exp_new"]["lineage"] == ["exp_new", "baseline"]
    assert rows["baseline"]["lineage"] == ["baseline"]
    impact = guideline_impact(runs, load_trials(tmp_path))
    assert [(row["parent"], row["child"], row["relation"]) for row in impact] == [
        ("baseline", "exp_new", "parent/child")
    ]


def test_a_recorded_lineage_extends_one_inferred_from_parents() -> None:
    parents: dict[str, str | None] = {"exp_c": "exp_b", "exp_b": "exp_a"}
    recorded = {"exp_b": ("exp_b", "exp_a", "root")}
    assert lineage("exp_c", parents, recorded) == ["exp_c", "exp_b", "exp_a", "root"]
    assert lineage("exp_c", parents) == ["exp_c", "exp_b", "exp_a"]
    assert lineage("x", {}, {"x": ("x", "y", "x")}) == ["x", "y"]  # a cycle in a recorded lineage stops it


def test_calls_are_made_on_holm_adjusted_p_values_over_the_config_pairs(agent_dir: Path) -> None:
    from pytest_agentopt.analysis.multiplicity import holm
    from pytest_agentopt.stats.confseq import hedged_capital

    rows = guideline_impact(load_runs(agent_dir), load_trials(agent_dir), bootstrap=400)
    added = next(row for row in rows if row["child"] == "exp_b")
    removed = next(row for row in rows if row["child"] == "exp_c")
    assert added["family"] == removed["family"] == 2  # the two config pairs, exp_a -> exp_b and exp_b -> exp_c
    capital = hedged_capital([1.0, 1.0, 0.0, -1.0, 0.0, 1.0] * 2, 0.0, -1.0, 1.0, 0.05)
    assert added["p_value"] == pytest.approx(min(1.0, 1.0 / max(capital)))
    assert [added["p_holm"], removed["p_holm"]] == pytest.approx(holm([added["p_value"], removed["p_value"]]))
    assert added["p_holm"] >= added["p_value"]
    assert (added["call"], removed["call"]) == ("unclear", "unclear")  # both intervals include 0


@pytest.mark.parametrize("wins", range(0, 40, 3))
def test_the_paired_p_value_is_at_most_alpha_exactly_when_the_interval_excludes_zero(wins: int) -> None:
    from pytest_agentopt.stats.confseq import hedged_capital

    differences = [1.0] * wins + [0.0] * 25 + [-1.0] * 4
    p_value = min(1.0, 1.0 / max(hedged_capital(differences, 0.0, -1.0, 1.0, 0.05)))
    sequence = mean_with_confidence_sequence(differences, -1.0, 1.0, 0.05)
    assert (p_value <= 0.05) is (sequence["lower"] > 0.0 or sequence["upper"] < 0.0)


def test_each_candidate_of_a_run_with_several_is_compared_with_the_control(tmp_path: Path) -> None:
    """A run with two candidates (arms ``test`` and ``test2``): the history gives each its own verdict against the
    control, and the guideline impact pairs each with the control."""
    records = paired_records("r1", A, B)
    for record in paired_records("r1", A, C):
        if record["arm"] == "test":
            records.append({**record, "arm": "test2", "seq": len(records)})
    candidates = [
        candidate_result("test", "exp_b", "better", "b is better"),
        candidate_result("test2", "exp_c", "no_difference", "c is not"),
    ]
    write_run(
        tmp_path, "r1", records, arms={"control": A, "test": B, "test2": C},
        summary=run_summary(verdict="better", candidates=candidates),
    )  # fmt: skip
    runs, table = load_runs(tmp_path), load_trials(tmp_path)
    history = {row["experiment_id"]: row for row in experiment_history(runs, table)}
    assert (history["exp_b"]["verdict"], history["exp_b"]["verdict_control"]) == ("better", "exp_a")
    assert (history["exp_c"]["verdict"], history["exp_c"]["verdict_reason"]) == ("no_difference", "c is not")
    assert history["exp_c"]["verdict_control"] == "exp_a"
    impact = guideline_impact(runs, table)
    pairs = {(row["parent"], row["child"]): row for row in impact}
    candidate_c = next(row for (parent, child), row in pairs.items() if {parent, child} == {"exp_a", "exp_c"})
    assert candidate_c["paired"] is True
    assert candidate_c["pairs"] == len(PAIRS)
