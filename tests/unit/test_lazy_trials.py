"""``LazyTrialItems``: a sequence of items made on demand, on stand-in items (no pytest session)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_agentopt.run.trial_order import PlannedTrial, TrialSlot
from pytest_agentopt.shell.lazy_trials import RECENT_ITEMS, LazyTrialItems, NodeIdView, TrialTemplate


@dataclass
class FakeItem:
    nodeid: str
    made_for: PlannedTrial | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def make_sequence(
    *, plain: int = 1, tasks: int = 2, trials: int = 3, stopped_after: int | None = None
) -> tuple[LazyTrialItems, list[PlannedTrial]]:
    planned = [
        PlannedTrial(index, f"t.py::test[t{task}]", arm, trial)
        for index, (trial, task, arm) in enumerate(
            (trial, task, arm) for trial in range(trials) for task in range(tasks) for arm in ("control", "test")
        )
    ]
    templates = {
        (f"t.py::test[t{task}]", arm): TrialTemplate(
            FakeItem(f"t.py::test[t{task}-{arm}-0]"),  # type: ignore[arg-type]
            f"t.py::test[t{task}-",
            "]",
        )
        for task in range(tasks)
        for arm in ("control", "test")
    }
    calls = {"stopped": 0}

    def make(entry: PlannedTrial) -> Any:
        return FakeItem(templates[(entry.task_id, entry.arm)].nodeid(entry.arm, entry.trial), made_for=entry)

    def stopped() -> bool:
        calls["stopped"] += 1
        return stopped_after is not None and calls["stopped"] > stopped_after

    items = LazyTrialItems(
        [FakeItem(f"t.py::test_plain{index}") for index in range(plain)],  # type: ignore[misc]
        planned,
        templates,
        make=make,
        stopped=stopped,
    )
    return items, planned


def test_its_length_is_the_planned_count_and_node_ids_need_no_item() -> None:
    items, planned = make_sequence()
    assert len(items) == 1 + len(planned) == 13
    assert [items.nodeid(position) for position in range(3)] == [
        "t.py::test_plain0",
        "t.py::test[t0-control-0]",
        "t.py::test[t0-test-0]",
    ]
    assert items.nodeid(12) == "t.py::test[t1-test-2]"
    assert items.made == 0


def test_an_item_is_made_once_while_recent_and_forgotten_after() -> None:
    items, planned = make_sequence()
    first = items[1]
    assert items[1] is first  # pytest's loop asks for items[i + 1] as nextitem, then iterates onto it
    assert first.made_for == planned[0]  # type: ignore[attr-defined]
    assert items[-1].nodeid == "t.py::test[t1-test-2]"
    assert items.made == 2
    for position in range(2, 2 + RECENT_ITEMS):
        items[position]
    assert items[1] is not first  # fell out of the recent items: made again
    assert items.made == 2 + RECENT_ITEMS + 1
    assert [item.nodeid for item in items[0:3]] == [items.nodeid(position) for position in range(3)]
    with pytest.raises(IndexError):
        items[13]


def test_iteration_ends_when_the_run_stops_and_names_what_it_never_reached() -> None:
    items, _ = make_sequence(stopped_after=4)
    seen = [item.nodeid for item in items]
    assert len(seen) == 1 + 4  # the plain test, then four agent trials before the stop
    assert items.never_reached == 5
    assert list(items.never_reached_nodeids()) == [items.nodeid(position) for position in range(5, 13)]
    assert items.made == 4


def test_a_run_that_never_stops_reaches_every_item() -> None:
    items, _ = make_sequence()
    assert [item.nodeid for item in items] == [items.nodeid(position) for position in range(len(items))]
    assert items.never_reached is None
    assert list(items.never_reached_nodeids()) == []


def test_the_node_id_view_makes_an_item_only_when_more_than_its_id_is_asked() -> None:
    items, _ = make_sequence()
    view = NodeIdView(items)
    assert [element.nodeid for element in view] == [items.nodeid(position) for position in range(len(items))]
    assert items.made == 0
    assert view[3].made_for.trial == 0  # anything else comes from the real item
    assert items.made == 1


def test_a_template_s_trial_ids_come_last_in_its_node_id() -> None:
    template = TrialTemplate.of(FakeItem("t.py::test[case-a-control-0]"), TrialSlot("control", 0))  # type: ignore[arg-type]
    assert template.nodeid("test", 41) == "t.py::test[case-a-test-41]"
    with pytest.raises(pytest.UsageError, match="another plugin rewrote the ids"):
        TrialTemplate.of(FakeItem("t.py::test[control-0-x]"), TrialSlot("control", 0))  # type: ignore[arg-type]
