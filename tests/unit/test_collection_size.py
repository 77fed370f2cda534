"""The start-up sentence about what a large collection costs in every process."""

from __future__ import annotations

from pytest_agentopt.shell.collection_size import BYTES_PER_ITEM, LARGE_COLLECTION, large_collection_warning


def test_a_collection_below_the_threshold_says_nothing() -> None:
    assert large_collection_warning(items=LARGE_COLLECTION - 1, tasks=10, required_pairs=868) is None


def test_a_large_collection_says_its_memory_and_the_cap_that_delivers_the_error_rates() -> None:
    text = large_collection_warning(items=200_000, tasks=10, required_pairs=868)
    assert text is not None
    assert "plans 200,000 trials" in text
    assert f"about {200_000 * BYTES_PER_ITEM / 1e6:,.0f} MB each" in text
    assert "868 pairs (87 trials per task here): leave --agent-trials out" in text


def test_without_a_calibrated_cap_it_suggests_none() -> None:
    text = large_collection_warning(items=200_000, tasks=10, required_pairs=None)
    assert text is not None
    assert "leave --agent-trials out" not in text


def test_trials_made_on_demand_say_what_each_planned_trial_still_costs() -> None:
    from pytest_agentopt.shell.collection_size import BYTES_PER_PLANNED_TRIAL, WORKER_BYTES_PER_PLANNED_TRIAL

    text = large_collection_warning(items=400_000, tasks=20, required_pairs=868, made_on_demand=True)
    assert text is not None
    assert "plans 400,000 trials: each becomes a pytest item only when it runs" in text
    assert f"an entry in the plan of each process (about {400_000 * BYTES_PER_PLANNED_TRIAL / 1e6:,.0f} MB)" in text
    assert f"at start-up (about {400_000 * WORKER_BYTES_PER_PLANNED_TRIAL / 1e6:,.0f} MB at a worker's peak)" in text
    assert "skipped" not in text  # never-run trials cost no report each any more
    assert "868 pairs (44 trials per task here): leave --agent-trials out" in text
    assert (
        large_collection_warning(items=LARGE_COLLECTION - 1, tasks=20, required_pairs=868, made_on_demand=True) is None
    )
