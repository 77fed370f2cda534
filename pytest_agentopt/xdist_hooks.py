"""Hooks that exist only on an xdist controller (registered only there: xdist's hook specs must exist)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pytest

from .context import RunContext
from .dispatch import default_window
from .items import PLAN_SIZE_KEY, USAGE_ERROR_KEY

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

    from .controller import ControllerPlugin
    from .xdist_scheduler import SequentialScheduling


class XdistControllerHooks:
    def __init__(self, context: RunContext, controller: ControllerPlugin) -> None:
        self.context = context
        self.controller = controller
        self._payload: dict[str, Any] | None = None

    @pytest.hookimpl
    def pytest_configure_node(self, node: WorkerController) -> None:
        """Send the run context to the worker: its collection depends only on what the controller sent."""
        if self._payload is None:
            self._payload = self.context.to_payload()
        node.workerinput["agentopt"] = self._payload

    @pytest.hookimpl
    def pytest_testnodedown(self, node: WorkerController, error: object | None) -> None:
        """A worker says on its way out what the controller cannot see: that it found the suite unusable (e.g. a
        resume that does not match), and how many agent trials its collection planned."""
        output = getattr(node, "workeroutput", {})
        message = output.get(USAGE_ERROR_KEY)
        if message:
            self.controller.usage_error = str(message)
        plan_size = output.get(PLAN_SIZE_KEY)
        if isinstance(plan_size, int) and self.controller.plan_size is None:
            self.controller.plan_size = plan_size

    @pytest.hookimpl
    def pytest_xdist_node_collection_finished(self, node: WorkerController, ids: Sequence[str]) -> None:
        """The plan, at start-up: the workers collected it; the first report confirms it."""
        # A resumed run's finished trials are not collected again: its ids do not show the whole plan.
        if self.controller.plan is None and not self.context.resumed:
            plan = plan_from_nodeids(ids, self.context.arms)
            if plan is not None:
                self.controller.learn_plan(plan)

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> SequentialScheduling | None:
        if not self.context.sprt and self.context.budget_usd is None:
            return None  # nothing can stop this run early: xdist's own scheduler is fine
        from .xdist_scheduler import SequentialScheduling

        window = default_window(self.controller.workers) if self.context.sprt else None
        scheduler = SequentialScheduling(config, log, window=window)
        self.controller.scheduler = scheduler
        return scheduler


def plan_from_nodeids(ids: Sequence[str], arms: Sequence[str]) -> dict[str, int] | None:
    """Tasks, trials per task and arm, and planned items, read from a worker's collected node ids.

    Agent items come last in the collection (``items.ItemsPlugin`` orders them behind the other tests) and their
    ids end with the trial id ``<arm>-<trial>``. Used only for the start-up figures; the first report carries
    the plan the worker computed.
    """
    pattern = re.compile(r"(\[|-)(" + "|".join(map(re.escape, arms)) + r")-(\d+)\]$")
    tasks: set[str] = set()
    trials = 0
    items = 0
    for nodeid in reversed(ids):
        match = pattern.search(nodeid)
        if match is None:
            break
        items += 1
        trials = max(trials, int(match.group(3)) + 1)
        tasks.add(nodeid[: match.start()] + ("]" if match.group(1) == "-" else ""))
    if not items:
        return None
    return {"tasks": len(tasks), "trials": trials, "items": items}
