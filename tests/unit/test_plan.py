"""The planned order: trial-major rounds, seeded shuffles, adjacent pairs, seeds shared within a pair."""

from __future__ import annotations

from pytest_agentopt.run.trial_order import ARMS_AB, ARMS_SINGLE, build_plan, trial_seed

TASKS = [f"suite.py::test[t{i}]" for i in range(7)]


def test_it_runs_every_trial_of_every_task_once_in_trial_major_rounds() -> None:
    plan = build_plan(TASKS, ARMS_AB, trials=4, seed=11)
    assert [entry.seq for entry in plan] == list(range(4 * 7 * 2))
    assert len({entry.key for entry in plan}) == len(plan)
    rounds = [entry.trial for entry in plan]
    assert rounds == sorted(rounds)  # round k only after round k-1 is planned entirely
    for k in range(4):
        assert {e.task_id for e in plan if e.trial == k} == set(TASKS)


def test_both_arms_of_a_pair_are_adjacent_control_first() -> None:
    plan = build_plan(TASKS, ARMS_AB, trials=3, seed=5)
    for first, second in zip(plan[::2], plan[1::2], strict=True):
        assert (first.task_id, first.trial) == (second.task_id, second.trial)
        assert (first.arm, second.arm) == ("control", "test")


def test_the_shuffle_is_seeded_per_round_and_independent_of_the_input_order() -> None:
    plan = build_plan(TASKS, ARMS_SINGLE, trials=3, seed=5)
    again = build_plan(list(reversed(TASKS)), ARMS_SINGLE, trials=3, seed=5)
    other = build_plan(TASKS, ARMS_SINGLE, trials=3, seed=6)
    assert plan == again
    assert [e.task_id for e in plan] != [e.task_id for e in other]
    orders = [
        [e.task_id.removeprefix("suite.py::test[").removesuffix("]") for e in plan if e.trial == k] for k in range(3)
    ]
    # Seed 5: a different shuffle in each round (random.Random(sha256-derived seed).shuffle, stable across CPython).
    assert orders == [
        ["t1", "t0", "t5", "t3", "t6", "t4", "t2"],
        ["t5", "t0", "t3", "t2", "t6", "t1", "t4"],
        ["t1", "t5", "t0", "t4", "t2", "t3", "t6"],
    ]


def test_trial_seeds_are_shared_by_arms_and_differ_across_tasks_and_trials() -> None:
    seeds = {trial_seed(7, task, trial) for task in TASKS for trial in range(5)}
    assert len(seeds) == len(TASKS) * 5
    assert trial_seed(7, TASKS[0], 2) == trial_seed(7, TASKS[0], 2)
    assert trial_seed(7, TASKS[0], 2) != trial_seed(8, TASKS[0], 2)
    assert all(0 <= seed < 2**31 for seed in seeds)
