"""The xdist scheduler used under ``--sprt``: planned order, bounded look-ahead, stop on the decision.

The look-ahead (``--agent-lookahead``, ``run/lookahead.py``) is read at every dispatch, so the adaptive default
widens and narrows as the test moves away from and towards its boundaries.

It replaces xdist's ``load`` and ``worksteal`` schedulers (``loadscope``, ``loadfile``, ``loadgroup`` and ``each``
are refused, see ``xdist_hooks``). The decisions are made by
:class:`~pytest_agentopt.run.dispatch.TrialDispatcher`; this class adapts it to xdist's ``Scheduling``
protocol. Only imported on an xdist controller.

With several candidates, a candidate that has decided is dropped (:meth:`SequentialScheduling.drop_arm`): its
items still queued are never handed out, on any worker, local or remote; the controller feeds them to the other
candidates' tests as skipped (``on_drop``) and reports them skipped with the candidate's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest
from xdist.report import report_collection_diff
from xdist.workermanage import WorkerController, parse_tx_spec_config

from pytest_agentopt.run.dispatch import Lookahead, TrialDispatcher
from pytest_agentopt.shell.crash import parse_trial_nodeid


class SequentialScheduling:
    def __init__(
        self, config: pytest.Config, log: Any, window: int | Lookahead | None, arms: Sequence[str] = ()
    ) -> None:
        self.config = config
        self.log = log
        self.numnodes = len(parse_tx_spec_config(config))
        self.window = window
        self.node2collection: dict[WorkerController, Sequence[str]] = {}
        """Every node's collection: the first one as received, the others the same list once found equal (one copy
        of up to one node id per planned trial, however many workers)."""
        self.collection: Sequence[str] | None = None
        self._mismatch: tuple[WorkerController, str] | None = None
        """The first node whose collection differs from the first node's, and the difference."""
        self._positions: dict[str, int] | None = None
        """Node id to index, made the first time a node id must be looked up (a crashed worker's items)."""
        self._nodes: list[WorkerController] = []
        self._dispatcher: TrialDispatcher[WorkerController] | None = None
        self.never_dispatched: list[str] = []
        self.on_drop: Callable[[Sequence[str]], None] | None = None
        """Told the node ids of a dropped candidate's items as they are dropped (the controller feeds them)."""
        self._arms = set(arms)
        self._dropped_arms: dict[str, str] = {}
        self._arm_of: list[str | None] | None = None

    # -- Scheduling protocol --------------------------------------------------------------------------------

    @property
    def nodes(self) -> list[WorkerController]:
        return list(self._nodes)

    @property
    def collection_is_completed(self) -> bool:
        return len(self.node2collection) >= self.numnodes

    @property
    def tests_finished(self) -> bool:
        if not self.collection_is_completed or self._dispatcher is None:
            return False
        if self._dispatcher.pending:
            return False
        return all(len(items) < 2 for items in self._dispatcher.node_items.values())

    @property
    def has_pending(self) -> bool:
        if self._dispatcher is None:
            return False
        return bool(self._dispatcher.pending) or any(self._dispatcher.node_items.values())

    def add_node(self, node: WorkerController) -> None:
        self._nodes.append(node)
        if self._dispatcher is not None:
            self._dispatcher.add_node(node)

    def add_node_collection(self, node: WorkerController, collection: Sequence[str]) -> None:
        """Keep the first node's collection; a later one is compared with it and then dropped."""
        if not self.node2collection:
            self.node2collection[node] = collection
            return
        first_node, first = next(iter(self.node2collection.items()))
        if len(collection) != len(first) or any(mine != theirs for mine, theirs in zip(collection, first, strict=True)):
            message = report_collection_diff(first, collection, first_node.gateway.id, node.gateway.id)
            if self.collection is not None:  # a replacement worker: it gets no items
                self.log(message)
                return
            if self._mismatch is None:
                self._mismatch = (node, message)
        self.node2collection[node] = first

    def mark_test_complete(self, node: WorkerController, item_index: int, duration: float = 0) -> None:
        assert self._dispatcher is not None
        self._dispatcher.finish(node, item_index)
        self._send(first=node)

    def mark_test_pending(self, item: str) -> None:
        assert self._dispatcher is not None
        assert self.collection is not None
        index = self._position_of(item)
        if self._dispatcher.stopped:
            self.never_dispatched.append(item)
        self._dispatcher.requeue(index)
        self._drop_decided()
        self._send()

    def remove_pending_tests_from_node(self, node: WorkerController, indices: Sequence[int]) -> None:
        raise NotImplementedError("the sequential scheduler never steals items")

    def remove_node(self, node: WorkerController) -> str | None:
        if node in self._nodes:
            self._nodes.remove(node)
        if self._dispatcher is None:
            return None
        stopped = self._dispatcher.stopped
        items = self._dispatcher.remove_node(node)
        if not items:
            return None
        assert self.collection is not None
        # The item that was running is reported as crashed by xdist (and recorded by the controller); the rest
        # run elsewhere, or never once the run has stopped.
        if stopped:
            self.never_dispatched.extend(self.collection[index] for index in items[1:])
        self._drop_decided()
        self._send()
        return self.collection[items[0]]

    def schedule(self) -> None:
        assert self.collection_is_completed
        if self.collection is not None:
            self._send()
            return
        if self._mismatch is not None:
            node, message = self._mismatch
            self.log(message)
            self.config.hook.pytest_collectreport(
                report=pytest.CollectReport(nodeid=node.gateway.id, outcome="failed", longrepr=message, result=[])
            )
            return
        first = next(iter(self.node2collection.values()))
        self.collection = first
        self._dispatcher = TrialDispatcher(len(first), self.window)
        for node in self._nodes:
            self._dispatcher.add_node(node)
        self._drop_decided()  # candidates a resumed run's ledger has decided already
        self._send()

    # -- stopping -------------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Dispatch nothing more; nodes finish (and skip, by the stop flag) what they already hold."""
        if self._dispatcher is None or self.collection is None:
            return
        never = self._dispatcher.stop()
        self.never_dispatched.extend(self.collection[index] for index in never)
        self._shutdown_nodes()

    def drop_arm(self, arm: str, reason: str) -> list[str]:
        """Hand out no more items of ``arm`` (a candidate that has decided); return the node ids dropped now.

        Items a worker already holds stay with it (they cannot be taken back, see ``run/dispatch.py``). Items of
        ``arm`` that come back later (a crashed worker held them) are dropped as they come back.
        """
        if arm in self._dropped_arms:
            return []
        self._dropped_arms[arm] = reason
        dropped = self._drop_decided()
        if self._dispatcher is not None and not self._dispatcher.stopped:
            self._send()  # the window may have moved past the dropped items
        return dropped

    def _drop_decided(self) -> list[str]:
        if not self._dropped_arms or self._dispatcher is None or self.collection is None:
            return []
        arm_of = self._arms_by_index(self.collection)
        indices = [index for index in self._dispatcher.pending if arm_of[index] in self._dropped_arms]
        dropped = [self.collection[index] for index in self._dispatcher.drop(indices)]
        self.never_dispatched.extend(dropped)
        if dropped and self.on_drop is not None:
            self.on_drop(dropped)
        return dropped

    @property
    def dropped_any(self) -> bool:
        """Whether some candidate has been dropped (:meth:`drop_arm`)."""
        return bool(self._dropped_arms)

    def drop_reason(self, nodeid: str) -> str | None:
        """The decision of the dropped candidate whose item ``nodeid`` is (``None``: not such an item). Every
        never-dispatched item of a dropped candidate was dropped by it: its queued items go at once, those that come
        back later as they come back."""
        key = parse_trial_nodeid(nodeid)
        return self._dropped_arms.get(key[1]) if key is not None else None

    def _arms_by_index(self, collection: Sequence[str]) -> list[str | None]:
        """The arm of each collected item (``None``: not an agent trial), worked out once."""
        if self._arm_of is None:
            keys = map(parse_trial_nodeid, collection)
            self._arm_of = [key[1] if key is not None and key[1] in self._arms else None for key in keys]
        return self._arm_of

    # -- internals ------------------------------------------------------------------------------------------

    def _position_of(self, nodeid: str) -> int:
        """The index of ``nodeid`` in the collection (a map made on first use, not a scan per look-up)."""
        assert self.collection is not None
        if self._positions is None:
            self._positions = {value: index for index, value in enumerate(self.collection)}
        return self._positions[nodeid]

    def _send(self, first: WorkerController | None = None) -> None:
        assert self._dispatcher is not None
        order = [node for node in self._nodes if not node.shutting_down]
        if first is not None and first in order:
            order.remove(first)
            order.insert(0, first)
        for node, indices in self._dispatcher.assign(order).items():
            node.send_runtest_some(indices)
        if self._dispatcher.exhausted:
            self._shutdown_nodes()

    def _shutdown_nodes(self) -> None:
        for node in self._nodes:
            node.shutdown()  # swallows OSError from a closed channel, as xdist's own shutdown does
