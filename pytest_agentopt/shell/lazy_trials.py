"""Agent trials as a sequence whose items are made when they run: memory proportional to what runs.

A ``--sprt`` run plans trials up to its cap (``--agent-trials 10000`` on 20 tasks is 400,000 items), and usually
decides after a few dozen pairs. Collected as pytest items, every planned trial cost each collecting process about
3 KB and a fraction of a millisecond before the first trial ran. So only one item per task and arm is collected
(trial 0, the *template*), and ``session.items`` becomes a :class:`LazyTrialItems`: ``len`` is the planned count,
``items[i]`` clones the template into trial ``i``'s item (what pytest's parametrization would have made, see
``trial_expansion.clone_for_trial``) and keeps only the last few made, and node ids are computed from (task, arm,
trial) without any item. What stays per planned trial is its entry in the plan.

The consumers of ``session.items`` and what they get:

* pytest's run loop (``for i, item in enumerate(items)``, ``items[i + 1]`` as ``nextitem``): the iterator and
  ``items[i + 1]`` hand out the same object (the recent items are cached); once the stop flag holds for every arm,
  the iterator ends, and the controller reports the trials it never reached as deselected, in one call (as it
  does for trials an xdist scheduler never handed out; ``never_run``).
* an xdist worker: ``items[index]`` for the index the controller sent (and the next one), and at
  ``pytest_collection_finish`` a node id per item (``ids``): during that hook ``session.items`` is a
  :class:`NodeIdView`, whose elements carry the computed node id and make the real item only if anything else is
  asked of them.
* ``-k``, ``--deselect``, ``--lf``, ``--sw`` and ``--collect-only`` can select or list single trials by their id,
  so with any of them every planned trial is collected as an item, as before (:func:`lazy_allowed`); ``-m`` selects
  on markers, which every trial of a task shares with its template.
* ``pytest_deselected`` for the finished trials of a resumed run and the other tasks of a shard gets
  :class:`UnmadeTrial` stand-ins (a node id and a location): the terminal reporter counts them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

import pytest

from pytest_agentopt.run.trial_order import Arm, PlannedTrial, TrialSlot
from pytest_agentopt.shell.never_run import NodeIdsFrom

RECENT_ITEMS = 4
"""Made items kept for reuse: the one running, its ``nextitem``, and what xdist asks again while they run."""

EAGER_OPTIONS = (
    ("keyword", "-k"),
    ("deselect", "--deselect"),
    ("lf", "--lf"),
    ("stepwise", "--sw"),
    ("stepwise_skip", "--sw-skip"),
    ("collectonly", "--collect-only"),
)
"""Options that can select or list single trials: with any of them every planned trial is a collected item."""


def lazy_allowed(config: pytest.Config) -> bool:
    """Whether this session may make trial items on demand (no option selects or lists single trials)."""
    return not any(config.getoption(name, None) for name, _ in EAGER_OPTIONS)


@dataclass(frozen=True, slots=True)
class TrialTemplate:
    """The collected trial-0 item of one task and arm, and how its trials' node ids read."""

    item: pytest.Item
    nodeid_prefix: str
    """The node id up to the trial id (``<arm>-<trial>``), which comes last in the parameter ids."""
    nodeid_suffix: str

    @classmethod
    def of(cls, item: pytest.Item, slot: TrialSlot) -> TrialTemplate:
        nodeid = item.nodeid
        suffix = "]"
        if not nodeid.endswith(slot.id + suffix):
            raise pytest.UsageError(
                f"{nodeid}: cannot find the trial id {slot.id!r} at the end of the test id; another plugin "
                "rewrote the ids"
            )
        return cls(item, nodeid[: -len(slot.id + suffix)], suffix)

    def nodeid(self, arm: Arm, trial: int) -> str:
        return f"{self.nodeid_prefix}{arm}-{trial}{self.nodeid_suffix}"


@dataclass(frozen=True, slots=True)
class UnmadeTrial:
    """A planned trial that no item was made for (deselected: finished in a resumed run, or in another shard).

    ``pytest_deselected`` receives these: the terminal reporter counts them, and nothing here needs more.
    """

    nodeid: str
    location: tuple[str, int | None, str]


class LazyTrialItems(Sequence[pytest.Item]):
    """``session.items`` of a run whose agent trials are made on demand (see the module doc).

    ``plain`` (ordinary tests) come first, then ``planned`` (the trials still to run, in planned order);
    ``make(entry)`` makes the item of a planned trial, ``stopped()`` says whether no agent item may run any more.
    """

    def __init__(
        self,
        plain: Sequence[pytest.Item],
        planned: Sequence[PlannedTrial],
        templates: dict[tuple[str, Arm], TrialTemplate],
        *,
        make: Callable[[PlannedTrial], pytest.Item],
        stopped: Callable[[], bool],
    ) -> None:
        self.plain = list(plain)
        self.planned = planned
        self.templates = templates
        self._make = make
        self._stopped = stopped
        self._recent: OrderedDict[int, pytest.Item] = OrderedDict()
        self.made = 0
        """Items made so far (each planned trial that runs is made once, or again if it fell out of the cache)."""
        self.never_reached: int | None = None
        """Where iteration ended because the run stopped (an index into this sequence), ``None`` if it did not."""

    def __len__(self) -> int:
        return len(self.plain) + len(self.planned)

    @overload
    def __getitem__(self, index: int) -> pytest.Item: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[pytest.Item]: ...

    def __getitem__(self, index: int | slice) -> pytest.Item | Sequence[pytest.Item]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        if position < len(self.plain):
            return self.plain[position]
        item = self._recent.get(position)
        if item is None:
            item = self._make(self.planned[position - len(self.plain)])
            self.made += 1
            self._recent[position] = item
            if len(self._recent) > RECENT_ITEMS:
                self._recent.popitem(last=False)
        else:
            self._recent.move_to_end(position)
        return item

    def __iter__(self) -> Iterator[pytest.Item]:
        for position in range(len(self)):
            if position >= len(self.plain) and self._stopped():
                self.never_reached = position
                return
            yield self[position]

    def nodeid(self, position: int) -> str:
        """The node id of the item at ``position``, without making it."""
        if position < len(self.plain):
            return self.plain[position].nodeid
        entry = self.planned[position - len(self.plain)]
        return self.templates[(entry.task_id, entry.arm)].nodeid(entry.arm, entry.trial)

    def never_reached_nodeids(self) -> Sequence[str]:
        """The node ids of the trials the run loop never reached because the run stopped (computed when read)."""
        if self.never_reached is None:
            return ()
        return NodeIdsFrom(self, self.never_reached)


class NodeIdView(Sequence[Any]):
    """``session.items`` while an xdist worker sends its collection: elements whose node id needs no item."""

    def __init__(self, items: LazyTrialItems) -> None:
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        if position < len(self.items.plain):
            return self.items.plain[position]
        return _ItemReference(self.items, position)


class _ItemReference:
    """A node id, and the real item for anything else (made on first use).

    The node id is computed when read, not kept: a plugin that holds every element at once while the collection
    is announced (anyio's ``pytest_collection_finish`` lists ``enumerate(session.items)``) then holds two
    references per planned trial, not a node id more.
    """

    __slots__ = ("_items", "_position")

    def __init__(self, items: LazyTrialItems, position: int) -> None:
        self._items = items
        self._position = position

    @property
    def nodeid(self) -> str:
        return self._items.nodeid(self._position)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._items[self._position], name)
