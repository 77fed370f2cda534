"""Which items to hand to which worker: planned order, bounded look-ahead, immediate stop.

Results enter the sequential test only as the completed prefix of the planned order, so a trial started far
beyond that prefix cannot inform the decision in time and is mostly wasted money once the test stops. This
dispatcher keeps the items *started* within ``window`` positions of the lowest unfinished one: a fixed number, or
a :class:`~pytest_agentopt.run.lookahead.Lookahead` read at every dispatch (``--agent-lookahead``: the adaptive
default widens it while the test is far from its boundaries).

xdist semantics shape the rule: a worker starts the item it holds only once it holds the next one too (pytest's
``nextitem`` teardown), or has been told to shut down. So handing a worker its next item is what starts the item it
holds, and the window is checked on that held ("head") item, never on the new one. This never deadlocks: the
lowest unfinished item is always running, or the head of some worker (inside the window), or the next one to
hand out (inside the window).

A candidate that has decided (several candidates against one control) is dropped: :meth:`TrialDispatcher.drop`
takes its items out of the queue, so they are never handed out, and counts them as finished, so the window moves
past them. An item a worker already holds cannot be taken back (xdist's ``steal`` removes only items still queued
on the worker, and a worker takes its running item and the one it holds off its queue at once): the worker skips
it by the candidate's stop flag, or, with no flag to read (a remote worker), runs it.

Both the xdist scheduler and the validation simulation drive this class, so the simulation measures the code that
runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable
from typing import Generic, Protocol, TypeVar

Node = TypeVar("Node", bound=Hashable)


class Lookahead(Protocol):
    """A look-ahead that may change while the run goes (``run.lookahead``)."""

    @property
    def items(self) -> int: ...


def default_window(workers: int) -> int:
    """Two positions per worker: one item running and the one xdist must hold before it starts it."""
    return max(2, 2 * workers)


class TrialDispatcher(Generic[Node]):
    """Hands out item indices ``0 .. total-1`` (planned order) to nodes, two at most per node."""

    per_node = 2

    def __init__(self, total: int, window: int | Lookahead | None) -> None:
        if isinstance(window, int) and window < 1:
            raise ValueError("the dispatch window must hold at least one item")
        self.window = window
        self.pending: deque[int] = deque(range(total))
        self.node_items: dict[Node, list[int]] = {}
        self.lowest_unfinished = 0
        self._finished_ahead: set[int] = set()
        self.stopped = False

    # -- nodes ----------------------------------------------------------------------------------------------

    def add_node(self, node: Node) -> None:
        self.node_items.setdefault(node, [])

    def remove_node(self, node: Node) -> list[int]:
        """Forget a node (a crashed worker) and return the items it held, the running one first.

        The running item is finished (its trial is recorded as crashed, or requeued); the others go back to the
        front of the queue, unless the dispatcher has stopped (then they will never run).
        """
        items = self.node_items.pop(node, [])
        if not items:
            return items
        self.finish(node, items[0])
        if not self.stopped:
            for index in sorted(items[1:], reverse=True):
                self.pending.appendleft(index)
        return items

    # -- progress -------------------------------------------------------------------------------------------

    def finish(self, node: Node, index: int) -> None:
        items = self.node_items.get(node)
        if items is not None and index in items:
            items.remove(index)
        self._count_finished(index)

    def drop(self, indices: Iterable[int]) -> list[int]:
        """Never hand out ``indices`` (a candidate that has decided); return those still queued, in order.

        They count as finished: the lowest unfinished item must not wait for items that will never run. Indices
        already handed out (or not queued) are left alone.
        """
        unwanted = set(indices)
        dropped = [index for index in self.pending if index in unwanted]
        if dropped:
            self.pending = deque(index for index in self.pending if index not in unwanted)
            for index in dropped:
                self._count_finished(index)
        return dropped

    def _count_finished(self, index: int) -> None:
        if index >= self.lowest_unfinished:
            self._finished_ahead.add(index)
            while self.lowest_unfinished in self._finished_ahead:
                self._finished_ahead.remove(self.lowest_unfinished)
                self.lowest_unfinished += 1

    def requeue(self, index: int) -> None:
        """Run ``index`` again (xdist's ``mark_test_pending``: a crashed worker had not started it)."""
        if index < self.lowest_unfinished:
            # It counted as finished: everything from it up to the old lowest unfinished item was finished.
            self._finished_ahead.update(range(index + 1, self.lowest_unfinished))
            self.lowest_unfinished = index
        self._finished_ahead.discard(index)
        if not self.stopped:
            self.pending.appendleft(index)

    def _allows(self, head: int) -> bool:
        if self.window is None:
            return True
        window = self.window if isinstance(self.window, int) else max(1, self.window.items)
        return head < self.lowest_unfinished + window

    def assign(self, order: list[Node] | None = None) -> dict[Node, list[int]]:
        """New items for the nodes that can take them now (``order``: who to serve first)."""
        sent: dict[Node, list[int]] = {}
        if self.stopped:
            return sent
        for node in order if order is not None else list(self.node_items):
            items = self.node_items.get(node)
            if items is None:
                continue
            while len(items) < self.per_node and self.pending:
                head = items[0] if items else self.pending[0]
                if not self._allows(head):
                    break
                index = self.pending.popleft()
                items.append(index)
                sent.setdefault(node, []).append(index)
        return sent

    def stop(self) -> list[int]:
        """Hand out nothing more; return the indices never handed out."""
        self.stopped = True
        never = list(self.pending)
        self.pending.clear()
        return never

    @property
    def exhausted(self) -> bool:
        """Nothing is left to hand out (time to tell the nodes to shut down)."""
        return self.stopped or not self.pending
