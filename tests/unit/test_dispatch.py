"""The dispatcher: planned order, two items per node, the window on the held item, an immediate stop."""

from __future__ import annotations

import random

from pytest_agentopt.run.dispatch import TrialDispatcher, default_window


def test_each_node_gets_two_items_in_planned_order() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=10, window=None)
    for node in ("a", "b"):
        dispatcher.add_node(node)
    assert dispatcher.assign() == {"a": [0, 1], "b": [2, 3]}
    assert dispatcher.assign() == {}
    dispatcher.finish("a", 0)
    assert dispatcher.assign(["a"]) == {"a": [4]}


def test_the_window_is_checked_on_the_item_the_node_would_start() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=20, window=4)
    for node in ("a", "b"):
        dispatcher.add_node(node)
    assert dispatcher.assign() == {"a": [0, 1], "b": [2, 3]}
    # b finishes 2: it holds 3 (< 0 + 4), so it may get 4, which starts 3.
    dispatcher.finish("b", 2)
    assert dispatcher.assign(["b"]) == {"b": [4]}
    # b finishes 3 and holds 4: 4 is outside the window while 0 is unfinished, so 4 must not start yet.
    dispatcher.finish("b", 3)
    assert dispatcher.assign(["b"]) == {}
    dispatcher.finish("a", 0)  # the prefix moves: 4 < 1 + 4 may start, and so may a's held 1
    assert dispatcher.assign(["b", "a"]) == {"b": [5], "a": [6]}


def test_a_stop_hands_out_nothing_more_and_returns_the_rest() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=6, window=None)
    dispatcher.add_node("a")
    dispatcher.assign()
    assert dispatcher.stop() == [2, 3, 4, 5]
    assert dispatcher.exhausted
    dispatcher.finish("a", 0)
    assert dispatcher.assign() == {}


def test_a_removed_node_finishes_its_running_item_and_gives_the_held_one_back() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=6, window=2)
    dispatcher.add_node("a")
    assert dispatcher.assign() == {"a": [0, 1]}
    # a crashed running 0: 0 is recorded as crashed (finished), 1 runs elsewhere, and the window moves on.
    assert dispatcher.remove_node("a") == [0, 1]
    assert dispatcher.lowest_unfinished == 1
    dispatcher.add_node("b")
    assert dispatcher.assign() == {"b": [1, 2]}


def test_a_crashed_node_that_never_started_its_item_can_requeue_it() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=6, window=2)
    for node in ("a", "b"):
        dispatcher.add_node(node)
    assert dispatcher.assign() == {"a": [0, 1]}
    dispatcher.finish("a", 0)
    dispatcher.finish("a", 1)
    assert dispatcher.assign(["a", "b"]) == {"a": [2, 3]}
    assert dispatcher.remove_node("a") == [2, 3]
    assert dispatcher.lowest_unfinished == 3
    dispatcher.requeue(2)  # it had not started: it runs again, and the prefix waits for it
    assert dispatcher.lowest_unfinished == 2
    assert dispatcher.assign(["b"]) == {"b": [2, 3]}
    dispatcher.finish("b", 2)
    assert dispatcher.lowest_unfinished == 3


def test_a_node_removed_after_the_stop_gives_nothing_back() -> None:
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=6, window=None)
    dispatcher.add_node("a")
    dispatcher.assign()
    assert dispatcher.stop() == [2, 3, 4, 5]
    assert dispatcher.remove_node("a") == [0, 1]
    assert not dispatcher.pending


def simulate(workers: int, total: int, window: int | None, seed: int) -> tuple[int, int]:
    """Run ``total`` items of random length on ``workers`` nodes with xdist's start rule.

    Returns the most items ever started beyond the lowest unfinished one while items were left to hand out (once
    the plan is handed out, xdist shuts the nodes down and they run what they hold), and how many finished.
    """
    rng = random.Random(seed)
    dispatcher: TrialDispatcher[int] = TrialDispatcher(total, window)
    running: dict[int, tuple[float, int]] = {}
    for node in range(workers):
        dispatcher.add_node(node)
    now, finished, worst = 0.0, 0, 0
    while finished < total:
        dispatcher.assign()
        for node, items in dispatcher.node_items.items():
            # A node starts its first item when it holds a second one, or when nothing is left to hand out.
            if node not in running and items and (len(items) == 2 or dispatcher.exhausted):
                running[node] = (now + rng.expovariate(1.0) * rng.choice([1, 3]), items[0])
        if not dispatcher.exhausted:
            started_ahead = max((index for _, index in running.values()), default=0) - dispatcher.lowest_unfinished
            worst = max(worst, started_ahead)
        node, (now, index) = min(running.items(), key=lambda entry: entry[1][0])
        del running[node]
        dispatcher.finish(node, index)
        finished += 1
    return worst, finished


def test_it_never_deadlocks_and_never_starts_beyond_the_window() -> None:
    for seed in range(30):
        workers = 1 + seed % 8
        window = default_window(workers)
        worst, finished = simulate(workers, total=200, window=window, seed=seed)
        assert finished == 200
        assert worst < window


def test_a_dropped_arm_is_never_handed_out_and_counts_as_finished_for_the_window() -> None:
    # Three arms per group (control, test, test2): test2 is at 2, 5, 8, 11.
    dispatcher: TrialDispatcher[str] = TrialDispatcher(total=12, window=4)
    for node in ("a", "b"):
        dispatcher.add_node(node)
    assert dispatcher.assign() == {"a": [0, 1], "b": [2, 3]}
    # test2 decided: its queued items go (2 is held by b: it cannot be taken back), in planned order.
    assert dispatcher.drop([2, 5, 8, 11]) == [5, 8, 11]
    assert list(dispatcher.pending) == [4, 6, 7, 9, 10]
    assert dispatcher.drop([5, 8]) == []  # dropped already: nothing more
    for node, index in (("a", 0), ("a", 1), ("b", 2), ("b", 3)):
        dispatcher.finish(node, index)
    assert dispatcher.assign(["a", "b"]) == {"a": [4, 6], "b": [7, 9]}
    dispatcher.finish("a", 4)
    # 5 will never run: the lowest unfinished item moves past it, so the window does not wait for it.
    assert dispatcher.lowest_unfinished == 6
    dispatcher.finish("a", 6)
    dispatcher.finish("b", 7)
    assert dispatcher.lowest_unfinished == 9  # past the dropped 8 too
    assert dispatcher.assign(["a", "b"]) == {"a": [10]}
    assert dispatcher.exhausted
