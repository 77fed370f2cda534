"""Hooks that exist only on an xdist controller (registered only there: xdist's hook specs must exist)."""

from __future__ import annotations

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

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> SequentialScheduling | None:
        if not self.context.sprt and self.context.budget_usd is None:
            return None  # nothing can stop this run early: xdist's own scheduler is fine
        from .xdist_scheduler import SequentialScheduling

        window = default_window(self.controller.workers) if self.context.sprt else None
        scheduler = SequentialScheduling(config, log, window=window)
        self.controller.scheduler = scheduler
        return scheduler
