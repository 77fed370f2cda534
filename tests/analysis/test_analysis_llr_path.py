"""``llr_path`` replays the run's own sequential test: same path, same decision."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis import llr_path, run_llr_path
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings, TargetSequentialTest
from tests.analysis.ledger_factory import arm_entry, trial, write_run

SETTINGS = SequentialSettings(alpha=0.05, beta=0.10, delta=0.15)


def paired_run(
    seed: int, *, p_control: float, p_test: float, tasks: int = 10, trials: int = 30
) -> list[dict[str, Any]]:
    """Trial-major rounds, tasks shuffled per round, control then test of each pair (seq 2k and 2k+1)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for trial_index in range(trials):
        order = list(range(tasks))
        rng.shuffle(order)
        for task in order:
            for arm, p in (("control", p_control), ("test", p_test)):
                outcome = "success" if rng.random() < p else ("failure" if rng.random() < 0.9 else "error")
                records.append(
                    trial(arm=arm, task=f"t{task}", trial_index=trial_index, seq=len(records), outcome=outcome)
                )
    return records


def reference(
    records: list[dict[str, Any]], direction: str = "both"
) -> tuple[list[dict[str, Any]], int | None, str | None, list[float]]:
    """Feed complete pairs straight to the test (with the design the plugin uses), in seq order, until it decides."""
    from pytest_agentopt.run.sequential_design import design_for

    design = design_for(SETTINGS.alpha, SETTINGS.beta, SETTINGS.delta, direction)
    test = PairedSequentialTest(SETTINGS, direction, design)  # type: ignore[arg-type]
    by_seq = {record["seq"]: record for record in records}
    points = [{"pairs": 0, "better": test.llr["better"], "worse": test.llr["worse"]}]
    for seq in range(0, max(by_seq) + 1, 2):
        control, treated = by_seq.get(seq), by_seq.get(seq + 1)
        if control is None or treated is None or "infra_error" in (control["outcome"], treated["outcome"]):
            continue
        test.add_pair(control["outcome"] == "success", treated["outcome"] == "success")
        points.append({"pairs": test.pairs, "better": test.llr["better"], "worse": test.llr["worse"]})
        if test.verdict is not None:
            return points, test.pairs, test.verdict, list(test.bounds)
    return points, None, None, list(test.bounds)


@pytest.mark.parametrize("seed", range(6))
def test_the_path_is_the_paired_tests_own_path(seed: int) -> None:
    records = paired_run(seed, p_control=0.45, p_test=0.7 if seed % 2 else 0.45)
    expected, decided_at, verdict, bounds = reference(records)
    shuffled = records[:]
    random.Random(seed).shuffle(shuffled)  # completion order must not matter
    path = llr_path(shuffled, alpha=0.05, beta=0.10, effect=0.15)
    assert path["points"] == expected
    assert (path["decided_at"], path["verdict"]) == (decided_at, verdict)
    assert path["bounds"] == bounds  # calibrated: the bounds at the observed discordance of the last pair
    assert path["unit"] == "pairs"


def test_missing_trials_and_infrastructure_errors_leave_their_pair_out() -> None:
    records = paired_run(7, p_control=0.4, p_test=0.8)
    records[7]["outcome"] = "infra_error"
    kept = [record for record in records if record["seq"] not in (10, 21, 22)]  # skipped by a stop or a budget
    expected, decided_at, _, _ = reference(kept)
    path = llr_path(kept, alpha=0.05, beta=0.10, effect=0.15)
    assert path["points"] == expected
    assert path["decided_at"] == decided_at


def test_a_one_sided_run_has_no_path_for_the_other_test() -> None:
    records = paired_run(3, p_control=0.7, p_test=0.3)
    path = llr_path(records, alpha=0.05, beta=0.10, effect=0.15, direction="worse")
    expected, decided_at, verdict, _ = reference(records, "worse")
    assert path["points"] == expected
    assert all(point["better"] is None for point in path["points"])
    assert (path["decided_at"], path["verdict"]) == (decided_at, verdict)
    assert verdict == "worse"


def test_a_target_run_follows_the_binomial_sprt() -> None:
    rng = random.Random(5)
    outcomes = ["success" if rng.random() < 0.8 else "failure" for _ in range(200)]
    outcomes[3] = "infra_error"
    records = [trial(seq=i, trial_index=i, outcome=outcome) for i, outcome in enumerate(outcomes)]
    test = TargetSequentialTest(0.8, SETTINGS)
    expected = [{"trials": 0, "target": 0.0}]
    for outcome in outcomes:
        if outcome == "infra_error":
            continue
        test.add_trial(outcome == "success")
        expected.append({"trials": test.trials, "target": test.llr})
        if test.verdict is not None:
            break
    path = llr_path(records, alpha=0.05, beta=0.10, effect=0.15, target=0.8)
    assert path["points"] == expected
    assert (path["decided_at"], path["verdict"], path["unit"]) == (test.trials, test.verdict, "trials")


def test_run_llr_path_reads_the_settings_from_the_manifest(tmp_path: Path) -> None:
    records = paired_run(1, p_control=0.3, p_test=0.8)
    arms = {"control": arm_entry("exp_a", "ha"), "test": arm_entry("exp_b", "hb")}
    directory = write_run(tmp_path, "r1", records, arms=arms, settings={"sprt": True, "arms": ["control", "test"]})
    assert run_llr_path(directory) == llr_path(records, alpha=0.05, beta=0.10, effect=0.15)
    fixed = write_run(tmp_path, "r2", records, arms=arms, settings={"sprt": False})
    assert run_llr_path(fixed) is None


def test_a_run_that_reached_its_cap_ends_with_the_same_last_look() -> None:
    # Runs capped at 60 pairs (6 tasks x 10 trials): those the boundaries leave undecided end with the calibrated
    # last look; given the planned size, the recomputed path takes it too.
    from pytest_agentopt.run.sequential_design import design_for

    design = design_for(0.05, 0.10, 0.15, "better")
    found = 0
    for seed in range(40):
        records = paired_run(seed, p_control=0.40, p_test=0.55, tasks=6, trials=10)
        test = PairedSequentialTest(SETTINGS, "better", design)
        for seq in range(0, len(records), 2):
            control, treated = records[seq], records[seq + 1]
            test.add_pair(control["outcome"] == "success", treated["outcome"] == "success")
            if test.verdict is not None:
                break
        if test.verdict is not None or test.conclude() is None:
            continue
        found += 1
        path = llr_path(records, alpha=0.05, beta=0.10, effect=0.15, direction="better", plan_size=len(records))
        assert (path["decided_at"], path["verdict"]) == (60, test.verdict)
        without = llr_path(records, alpha=0.05, beta=0.10, effect=0.15, direction="better")
        assert without["verdict"] is None
    assert found >= 2
