"""Hooks that exist only on an xdist controller (registered only there: xdist's hook specs must exist)."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentopt.run.dispatch import Lookahead
from pytest_agentopt.run.lookahead import FixedLookahead, lookahead_for
from pytest_agentopt.shell.crash import PlanPositions, crash_record, parse_trial_nodeid, task_fields_of
from pytest_agentopt.shell.remote_workers import (
    is_remote,
    refuse_unreachable_remote_workers,
    tolerate_lost_remote_workers,
)
from pytest_agentopt.shell.worker import PLAN_SIZE_KEY, REPORT_ATTR, USAGE_ERROR_KEY
from pytest_agentopt.shell.xdist_scheduler import SequentialScheduling
from pytest_agentopt.storage.run_context import RunContext

if TYPE_CHECKING:
    from xdist.workermanage import WorkerController

    from pytest_agentopt.shell.controller import ControllerPlugin
    from pytest_agentopt.shell.crash import PlanPositions
    from pytest_agentopt.shell.xdist_scheduler import SequentialScheduling

EXIT_STATUS_WAIT_S = 2.0


@dataclass
class _InFlight:
    """An item a worker has started (its ``logstart`` arrived) and not finished."""

    started: float
    reported: bool = False
    """Its trial's record (or skip) has arrived: a crash after that loses nothing."""


class XdistControllerHooks:
    def __init__(self, context: RunContext, controller: ControllerPlugin) -> None:
        self.context = context
        self.controller = controller
        self._payloads: dict[bool, dict[str, Any]] = {}
        self._collection: Sequence[str] | None = None
        self._positions: PlanPositions | None = None
        self._in_flight: dict[str, _InFlight] = {}
        self._exit_status: dict[str, int | None] = {}

    @pytest.hookimpl
    def pytest_xdist_setupnodes(self, config: pytest.Config, specs: Sequence[Any]) -> None:
        """With remote workers, one that cannot be started is a usage error naming its spec, and a crashed one
        that cannot be replaced leaves the run to the others."""
        if any(is_remote(spec) for spec in specs):
            dsession = config.pluginmanager.getplugin("dsession")
            if dsession is not None:
                refuse_unreachable_remote_workers(getattr(dsession, "nodemanager", None))
                tolerate_lost_remote_workers(dsession, self.controller.warn_live)

    @pytest.hookimpl
    def pytest_configure_node(self, node: WorkerController) -> None:
        """Send the run context to the worker: its collection depends only on what the controller sent.

        A remote worker gets no stop flag path: it may not see the controller's files (nor should it read a file
        of its own machine that happens to have that name); the scheduler stops it.
        """
        local = not is_remote(node.gateway.spec)
        payload = self._payloads.get(local)
        if payload is None:
            payload = self._payloads[local] = self.context.to_payload(stop_flag=local)
        node.workerinput["agentopt"] = payload

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
        if error is not None:  # it died: xdist names the item it was running next (pytest_handlecrashitem)
            self._exit_status[node.gateway.id] = worker_exit_status(node)

    @pytest.hookimpl
    def pytest_xdist_node_collection_finished(self, node: WorkerController, ids: Sequence[str]) -> None:
        """The plan, at start-up: the workers collected it; the first report confirms it. The collection is kept
        to place a dead worker's trial in the plan (every worker collects the same items: xdist checks it)."""
        if self._collection is None:
            self._collection = ids
            if (
                is_remote(node.gateway.spec)
                and not self.context.resumed
                and parse_trial_nodeid(ids[-1] if ids else "") is None
            ):
                # Agent items come last: none there, none at all. A remote worker collects on its own machine.
                where = getattr(node, "workerinfo", {}).get("cwd", "its working directory")
                self.controller.warn_live(
                    f"agentopt: warning: the remote worker {node.gateway.id} collected no agent task in {where} on its "
                    "machine: the suite must be there, at the controller's commit (the spec's chdir=; see "
                    "docs/remote-workers.md)"
                )
        # A resumed run's finished trials are not collected again: its ids do not show the whole plan.
        if self.controller.plan is None and not self.context.resumed:
            plan = plan_from_nodeids(ids, self.context.arms)
            if plan is not None:
                self.controller.learn_plan(plan)

    @pytest.hookimpl(tryfirst=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> SequentialScheduling | None:
        if not self.context.sprt and self.context.budget_usd is None:
            return None  # nothing can stop this run early: xdist's own scheduler is fine

        feeder = self.controller.feeder or self.controller.candidates
        items = self.controller.options.lookahead
        window: int | Lookahead | None = None
        if self.context.sprt and feeder is not None:
            window = lookahead_for(
                items, workers=self.controller.workers, feeder=feeder, resumed=self.context.has_finished_trials
            )
        elif self.context.sprt and items is not None:
            window = FixedLookahead(items)
        scheduler = SequentialScheduling(config, log, window=window, arms=self.context.arms)
        scheduler.on_drop = self.controller.feed_dropped
        for arm, reason in self.controller.candidate_stops.items():  # decided before the interruption
            scheduler.drop_arm(arm, reason)
        self.controller.scheduler = scheduler
        return scheduler

    # -- knowing what each worker is running ------------------------------------------------------------------

    @pytest.hookimpl
    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self._in_flight[nodeid] = _InFlight(started=time.time())

    @pytest.hookimpl
    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self._in_flight.pop(nodeid, None)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, REPORT_ATTR, None)
        if payload is None or (payload.get("record") is None and payload.get("skipped") is None):
            return
        flight = self._in_flight.get(report.nodeid)
        if flight is not None:
            flight.reported = True

    # -- a worker died ----------------------------------------------------------------------------------------

    @pytest.hookimpl
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """Record the trial a dead worker was running (or run it elsewhere if it had not started).

        xdist reports the item as failed right after this hook; an agent trial's crash is data, so the report
        becomes the trial's record (the controller writes it to the ledger and feeds the sequential test).
        """
        key = parse_trial_nodeid(crashitem)
        if key is None or self._collection is None:
            return  # not an agent trial: xdist's own failure report stands
        if self._positions is None:
            self._positions = PlanPositions(self._collection, self.context)
        seq = self._positions.seq(key)
        if seq is None:
            return
        node = getattr(report, "node", None)
        worker = node.gateway.id if node is not None else "?"
        flight = self._in_flight.pop(crashitem, None)
        if flight is None:
            # The worker died before it started this item (it held it, waiting for the next one): run it again.
            try:
                sched.mark_test_pending(crashitem)
            except NotImplementedError:
                return  # --dist loadscope & co. cannot: the trial never ran, and the run ends resumable
            report.outcome, report.longrepr, report.when = "passed", None, "call"
            setattr(report, REPORT_ATTR, {"record": None, "requeued": True})
            return
        report.outcome, report.longrepr, report.when = "passed", None, "call"
        if flight.reported:
            # Its record arrived before the worker died (a trial that timed out and could not be interrupted
            # ends its worker after recording itself; or the worker died in the item's teardown).
            setattr(report, REPORT_ATTR, {"record": None, "already_recorded": True})
            return
        record = crash_record(
            context=self.context,
            key=key,
            seq=seq,
            worker=worker,
            returncode=self._exit_status.pop(worker, None),
            started=flight.started,
            detected=time.time(),
            task_fields=task_fields_of(key[0], self.controller.records),
        )
        setattr(report, REPORT_ATTR, {"record": record, "plan_size": self.controller.plan_size, "details": None})


def worker_exit_status(node: WorkerController) -> int | None:
    """The exit status of a local (popen) worker that died (negative: the signal), ``None`` when unknown.

    execnet keeps the worker's ``subprocess.Popen``; waiting on it reaps the process once and caches the status,
    which execnet's own clean-up then reads. Remote workers have no local process: unknown.
    """
    popen = getattr(getattr(node.gateway, "_io", None), "popen", None)
    if not isinstance(popen, subprocess.Popen):
        return None
    try:
        return popen.wait(timeout=EXIT_STATUS_WAIT_S)
    except subprocess.TimeoutExpired:
        return None


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
