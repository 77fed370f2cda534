"""``cluster_tasks``: the rules at their thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.analysis import TrialTable, cluster_tasks, load_trials
from pytest_agentopt.stats.intervals import wilson_interval
from tests.analysis.ledger_factory import trial, write_run

# task -> {config: (successes, trials)}
TASKS = {
    "easy": {"A": (20, 20), "B": (20, 20)},
    "almost": {"A": (10, 10), "B": (10, 10)},
    "hard": {"A": (0, 20), "B": (2, 20)},
    "split": {"A": (0, 10), "B": (10, 10)},
    "overlap": {"A": (3, 10), "B": (6, 10)},
    "alone": {"A": (5, 10)},
}


def task_records(tasks: dict[str, dict[str, tuple[int, int]]]) -> list[dict[str, Any]]:
    """Trials of configs A (control) and B (test): per task and config, ``successes`` of ``trials`` succeed."""
    records: list[dict[str, Any]] = []
    for task, configs in tasks.items():
        for config, (successes, trials) in configs.items():
            for i in range(trials):
                records.append(
                    trial(
                        seq=len(records),
                        trial_index=i,
                        arm="control" if config == "A" else "test",  # one record per run, task, arm and trial
                        task=task,
                        category="declared",
                        config_hash=f"h{config}",
                        experiment_id=f"exp_{config}",
                        outcome="success" if i < successes else "failure",
                    )
                )
    return records


@pytest.fixture
def table(tmp_path: Path) -> TrialTable:
    records = task_records(TASKS)
    records.append(trial(seq=len(records), task="easy", config_hash="hA", outcome="infra_error"))
    write_run(tmp_path, "r1", records)
    return load_trials(tmp_path)


def test_the_wilson_bounds_sit_where_the_rules_expect() -> None:
    assert wilson_interval(20, 20)[0] >= 0.8 > wilson_interval(10, 10)[0]
    assert wilson_interval(2, 20)[1] <= 0.5 < wilson_interval(5, 10)[1]
    assert wilson_interval(0, 10)[1] < wilson_interval(10, 10)[0]
    assert wilson_interval(3, 10)[1] > wilson_interval(6, 10)[0]


def test_each_task_lands_in_the_cluster_its_intervals_give(table: TrialTable) -> None:
    rows = {row["code"]: row for row in cluster_tasks(table)}
    assert {code: row["cluster"] for code, row in rows.items()} == {
        "easy": "trivial",
        "almost": "undetermined",
        "hard": "challenging",
        "split": "discriminative",
        "overlap": "undetermined",
        "alone": "undetermined",
    }
    split = rows["split"]
    assert (split["configs"], split["min_rate"], split["max_rate"]) == (2, 0.0, 1.0)
    assert split["min_rate_ci"] == list(wilson_interval(0, 10))
    assert split["max_rate_ci"] == list(wilson_interval(10, 10))
    assert (split["min_rate_config"], split["max_rate_config"]) == ("exp_A", "exp_B")
    assert split["reason"].startswith("exp_A 0/10 [0.00, 0.28] and exp_B 10/10 [0.72, 1.00] do not overlap; p ")
    assert split["reason"].endswith("over the 5 tasks run by two or more configs")
    assert rows["easy"]["per_config"][0]["trials"] == 20  # the infrastructure error does not count
    assert rows["easy"]["declared_category"] == "declared"
    assert rows["alone"]["reason"].startswith("one config")
    assert rows["hard"]["reason"].startswith("every config's upper bound is <= 0.5")


def test_the_thresholds_can_be_moved(table: TrialTable) -> None:
    rows = {row["code"]: row["cluster"] for row in cluster_tasks(table, high=0.7, low=0.6)}
    assert rows["almost"] == "trivial"  # lower bound 0.72 >= 0.7
    assert rows["alone"] == "undetermined"  # upper bound 0.76 > 0.6


def test_discriminative_is_a_benjamini_hochberg_discovery_over_the_tasks(tmp_path: Path) -> None:
    # Thirty tasks where both configs solve 5 of 10, and one where they solve 0/6 and 5/6: the raw 95 % intervals
    # do not overlap (a raw "discriminative"), Fisher p = 0.015, but among 31 tasks that is no discovery.
    from scipy.stats import fisher_exact

    tasks: dict[str, dict[str, tuple[int, int]]] = {f"null{i}": {"A": (5, 10), "B": (5, 10)} for i in range(30)}
    tasks["edge"] = {"A": (0, 6), "B": (5, 6)}  # intervals [0, 0.39] and [0.44, 0.97]: a raw call
    records = task_records(tasks)
    write_run(tmp_path, "r1", records)
    rows = {row["code"]: row for row in cluster_tasks(load_trials(tmp_path))}
    edge = rows["edge"]
    p_edge = float(fisher_exact([[0, 6], [5, 1]]).pvalue)
    assert edge["p_value"] == pytest.approx(p_edge)
    assert edge["discriminative_raw"] is True
    # BH over 31 tasks: the smallest p is multiplied by 31 / 1
    assert edge["q_value"] == pytest.approx(min(1.0, 31 * p_edge))
    assert edge["cluster"] == ("discriminative" if 31 * p_edge <= 0.05 else "undetermined")
    assert edge["cluster"] == "undetermined"  # p = 0.015: a raw discovery, not one among 31 tasks
    assert "not a discovery once adjusted" in edge["reason"]
    assert all(row["q_value"] == 1.0 for code, row in rows.items() if code != "edge")
