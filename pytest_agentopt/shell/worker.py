"""Where agent items live (each xdist worker, or the single process): expansion, ordering, running, recording.

* Expansion: every test that uses ``agent_config`` / ``agent_trial`` or carries ``@pytest.mark.agent_task``
  gets one item per arm x trial (a parametrization with ids such as ``gpu_race-control-3``). Only trial 0 is
  collected, and the other trials' items are made when they are about to run (``lazy_trials``), unless an option
  can select or list single trials.
* Ordering: after every other plugin (pytest-randomly included) and after ``-k``/``-m`` deselection, the agent
  items are put in the planned order (``trial_order``) behind the other tests, finished trials of a resumed run are
  deselected, and each item learns its planned sequence number.
* Running: an agent item is skipped once the stop flag is up; its call phase is classified (success, failure,
  error, infra error) and the trial record travels on the report to the controller.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentopt.recording.agent_trial import AgentTrial
from pytest_agentopt.recording.otel_capture import UsageCapture, install_span_processor
from pytest_agentopt.recording.pricing import estimate_costs
from pytest_agentopt.recording.pydantic_ai_spans import watch_pydantic_ai_import
from pytest_agentopt.run.outcomes import Classified, InfraMatcher, TrialTimeout, classify, short_message, type_name
from pytest_agentopt.run.stop import StopSignal
from pytest_agentopt.run.trial_order import PlannedTrial, TrialSlot, build_plan, slots, trial_seed
from pytest_agentopt.shell.lazy_trials import (
    LazyTrialItems,
    NodeIdView,
    TrialTemplate,
    UnmadeTrial,
    lazy_allowed,
)
from pytest_agentopt.shell.stash import ITEMS_PLUGIN_KEY
from pytest_agentopt.shell.timeouts import TIMEOUT_EXIT_CODE, Watchdog
from pytest_agentopt.shell.trial_expansion import clone_for_trial, expand, trials_for
from pytest_agentopt.storage.ledger import iso_timestamp
from pytest_agentopt.storage.run_context import RunContext
from pytest_agentopt.storage.trial_record import LEDGER_SCHEMA, TrialRecord

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig
    from pytest_agentopt.run.shards import ShardInfo

SLOT_ARG = "_agentopt_slot"
AGENT_FIXTURES = frozenset({"agent_config", "agent_trial"})
REPORT_ATTR = "agentopt"
USAGE_ERROR_KEY = "agentopt_usage_error"
PLAN_SIZE_KEY = "agentopt_plan_size"

RECORDER_KEY = pytest.StashKey[AgentTrial]()
ATTEMPTS_KEY = pytest.StashKey[int]()
MAX_BACKOFF_S = 60.0


def split_trials(
    items: Sequence[pytest.Item],
) -> tuple[list[pytest.Item], list[tuple[str, TrialSlot, pytest.Item]]]:
    """The plain tests, and the agent trials as (task id, slot, item) in collection order: one task id string per
    task, not one per item."""
    plain: list[pytest.Item] = []
    trials: list[tuple[str, TrialSlot, pytest.Item]] = []
    interned: dict[str, str] = {}
    for item in items:
        slot = slot_of(item)
        if slot is None:
            plain.append(item)
            continue
        task_id = task_id_of(item, slot)
        trials.append((interned.setdefault(task_id, task_id), slot, item))
    return plain, trials


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """What every trial of one task shares, worked out once per task at collection (read only)."""

    task_id: str
    fields: dict[str, Any]
    """The marker's fields as they go into the record: ``task_code``, ``category``, ``optimal_steps``,
    ``impossible``."""
    timeout_s: float | None
    """The trials' timeout: the marker's ``timeout``, else ``--agent-timeout``; ``None``: no timeout."""


@dataclass(frozen=True, slots=True)
class AgentItem:
    """What an agent item is, worked out once at collection (the per-trial hooks only read it).

    One per item - alive for the whole session when every planned trial is collected (``-k``, ``--deselect``...,
    see ``lazy_trials``), most of which never run under ``--sprt`` - so it holds only what differs between items
    (three references); the rest is shared (:class:`TaskInfo`, the parametrize value) or worked out when the trial
    runs (its seed).
    """

    slot: TrialSlot
    task: TaskInfo
    seq: int

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def task_fields(self) -> dict[str, Any]:
        return self.task.fields

    @property
    def timeout_s(self) -> float | None:
        return self.task.timeout_s


AGENT_ITEM_KEY = pytest.StashKey[AgentItem]()


def agent_item(item: pytest.Item) -> AgentItem | None:
    """The item's agent trial, or ``None`` for an ordinary test (or one deselected at collection)."""
    return item.stash.get(AGENT_ITEM_KEY, None)


def slot_of(item: pytest.Item) -> TrialSlot | None:
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    slot = callspec.params.get(SLOT_ARG)
    return slot if isinstance(slot, TrialSlot) else None


def task_id_of(item: pytest.Item, slot: TrialSlot) -> str:
    """The item's node id without the arm x trial part: the task's identity across arms, trials and runs."""
    nodeid = item.nodeid
    for suffix, replacement in ((f"-{slot.id}]", "]"), (f"[{slot.id}]", "")):
        if nodeid.endswith(suffix):
            return nodeid[: -len(suffix)] + replacement
    raise pytest.UsageError(
        f"{nodeid}: cannot find the trial id {slot.id!r} in the test id; another plugin rewrote the ids"
    )


def task_marker_fields(item: pytest.Item) -> dict[str, Any]:
    kwargs = _marker_kwargs(item)
    code = kwargs.get("code")
    category = kwargs.get("category")
    optimal = kwargs.get("optimal_steps")
    return {
        "task_code": str(code) if code is not None else None,
        "category": str(category) if category is not None else None,
        "optimal_steps": int(optimal) if isinstance(optimal, int | float) and not isinstance(optimal, bool) else None,
        "impossible": bool(kwargs.get("impossible", False)),
    }


def _marker_kwargs(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("agent_task")
    return dict(marker.kwargs) if marker is not None else {}


def task_timeout(item: pytest.Item, task_id: str, default: float | None) -> float | None:
    """The marker's ``timeout`` (seconds), else ``default`` (``--agent-timeout``); a bad value is a usage error."""
    kwargs = _marker_kwargs(item)
    if "timeout" not in kwargs:
        return default
    value = kwargs["timeout"]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise pytest.UsageError(
            f"{task_id}: @pytest.mark.agent_task(timeout={value!r}): the timeout must be a positive number of "
            "seconds (or None for no timeout)"
        )
    return float(value)


class ItemsPlugin:
    def __init__(
        self,
        context: RunContext,
        stop: StopSignal,
        worker: str,
        *,
        verbosity: int = 0,
        rootpath: Path = Path(),
        junit: bool = False,
        on_abandon: Callable[[], object] | None = None,
        keep_output: bool = False,
        lazy: bool = False,
    ) -> None:
        self.context = context
        self.lazy = lazy
        """Whether agent trials are made on demand (``lazy_trials``) rather than collected as items."""
        self.lazy_items: LazyTrialItems | None = None
        self._not_reached: list[str] = []
        """With every planned trial collected, in a single process: the trials left once the whole run stopped."""
        self._deselected_templates: list[tuple[pytest.Item, TrialSlot]] = []
        # Whether pytest will show or write the captured output of passed items (-rP, -rA, JUnit logging).
        self.keep_output = keep_output
        self.on_abandon = on_abandon if on_abandon is not None else _exit_worker
        self.verbosity = verbosity
        self.junit = junit
        self.rootpath = rootpath
        self.stop = stop
        self.worker = worker
        self.infra = InfraMatcher(context.infra_exceptions)
        self.plan_size: int | None = None
        """Agent trials planned by this process's collection (``None`` until it is done, 0 when it found none)."""
        self.tasks = 0
        self.trials = context.trials
        """Trials per task and arm: ``--agent-trials``, or derived from the cap in pairs at collection."""
        self._plan_sent = False
        self._otel = False
        self._pydantic_ai_watched = False
        self._retry_wrappers: dict[Callable[..., object], Callable[..., object]] = {}
        self._current: pytest.Item | None = None
        self._watchdog: Watchdog | None = None
        self._slot_values: list[TrialSlot] | None = None
        self.shard_plan: ShardInfo | None = None
        """Under ``--agent-shard``: the shard, its tasks, every task's count and the plan's fingerprint."""

    # -- expansion and order ----------------------------------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        uses_fixture = bool(AGENT_FIXTURES.intersection(metafunc.fixturenames))
        if not uses_fixture and metafunc.definition.get_closest_marker("agent_task") is None:
            return
        if SLOT_ARG not in metafunc.fixturenames:
            # A direct parametrization needs the name in the closure; the test function never receives it.
            metafunc.fixturenames.append(SLOT_ARG)
        if self._slot_values is None:  # one list of values for every task: no object per item
            # Only trial 0 here when trials are made on demand (lazy_trials), or with a cap in pairs (the other
            # trials are cloned once the tasks are counted).
            trials = 1 if self.lazy or self.context.cap_pairs is not None else self.context.trials
            self._slot_values = slots(self.context.arms, trials)
        values = self._slot_values
        metafunc.parametrize(SLOT_ARG, values, ids=[value.id for value in values])

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        if self.lazy:
            self._make_lazy(session, config, items)
            return
        if self.context.cap_pairs is not None:
            items[:], self.trials = expand(
                items,
                slot_of=slot_of,
                task_of=task_id_of,
                slot_arg=SLOT_ARG,
                arms=self.context.arms,
                cap_pairs=self.context.cap_pairs,
            )
        plain, trials = split_trials(items)
        by_key = {(task_id, slot.arm, slot.trial): (item, slot) for task_id, slot, item in trials}
        workeroutput = getattr(config, "workeroutput", None)
        if not by_key:
            self._publish_plan_size(workeroutput, 0)
            return
        task_ids = {key[0] for key in by_key}
        if self.context.shard is not None:
            task_ids = self._take_shard(task_ids, by_key, config)
            if not by_key:
                self._publish_plan_size(workeroutput, 0)
                items[:] = plain
                return
        self.tasks = len(task_ids)
        full_plan = build_plan(task_ids, self.context.arms, self.trials, self.context.seed)
        # -k / -m may have removed some trials of a task: plan what is left, in the same relative order.
        planned = [entry for entry in full_plan if entry.key in by_key]
        self._publish_plan_size(workeroutput, len(planned))
        try:
            finished = self._check_resumed(planned)
            per_task = self._task_settings(by_key, finished)
        except pytest.UsageError as exc:
            if workeroutput is None:
                raise
            # A worker cannot end the session cleanly: run nothing and let the controller report it (exit 4).
            workeroutput[USAGE_ERROR_KEY] = str(exc)
            config.hook.pytest_deselected(items=[item for item, _ in by_key.values()])
            items[:] = plain
            return
        ordered: list[pytest.Item] = []
        deselected: list[pytest.Item] = []
        for seq, entry in enumerate(planned):
            item, slot = by_key[entry.key]
            if entry.key in finished:
                deselected.append(item)
                continue
            # The parametrize value itself and the task's shared info: no new object per item but this one.
            item.stash[AGENT_ITEM_KEY] = AgentItem(slot=slot, task=per_task[entry.task_id], seq=seq)
            ordered.append(item)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = plain + ordered

    def _make_lazy(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        """What the expansion and ordering below do, with trials made on demand: ``session.items`` becomes a
        :class:`~pytest_agentopt.shell.lazy_trials.LazyTrialItems` over the collected trial-0 items."""
        plain, trials = split_trials(items)
        templates = {(task_id, slot.arm): TrialTemplate.of(item, slot) for task_id, slot, item in trials}
        workeroutput = getattr(config, "workeroutput", None)
        task_ids = {task_id for task_id, _ in templates}
        if self.context.cap_pairs is not None:
            self.trials = trials_for(self.context.cap_pairs, len(task_ids))
        # What collecting every trial would have collected and deselected (-m): the other trials of each task.
        self._count_collected(config, (len(templates) + len(self._deselected_templates)) * (self.trials - 1))
        unmade = [
            UnmadeTrial(template.nodeid(slot.arm, trial), template.item.location)
            for template, slot in ((TrialTemplate.of(item, slot), slot) for item, slot in self._deselected_templates)
            for trial in range(1, self.trials)
        ]
        if self.context.shard is not None and templates:
            task_ids = self._take_lazy_shard(task_ids, templates, unmade)
        if not templates:
            self._publish_plan_size(workeroutput, 0)
            self._deselect(config, unmade)
            items[:] = plain
            return
        self.tasks = len(task_ids)
        full_plan = build_plan(task_ids, self.context.arms, self.trials, self.context.seed)
        planned = [entry for entry in full_plan if (entry.task_id, entry.arm) in templates]
        if len(planned) != len(full_plan):  # an arm's item deselected: plan what is left, in the same order
            planned = [PlannedTrial(seq, entry.task_id, entry.arm, entry.trial) for seq, entry in enumerate(planned)]
        self._publish_plan_size(workeroutput, len(planned))
        try:
            finished = self._check_resumed(planned)
            to_run = [entry for entry in planned if entry.key not in finished] if finished else planned
            per_task: dict[str, TaskInfo] = {}
            for entry in to_run:
                if entry.task_id not in per_task:
                    template = templates[(entry.task_id, entry.arm)].item
                    timeout_s = task_timeout(template, entry.task_id, self.context.timeout_s)
                    per_task[entry.task_id] = TaskInfo(entry.task_id, task_marker_fields(template), timeout_s)
        except pytest.UsageError as exc:
            if workeroutput is None:
                raise
            # A worker cannot end the session cleanly: run nothing and let the controller report it (exit 4).
            workeroutput[USAGE_ERROR_KEY] = str(exc)
            self._deselect(config, unmade + [self._unmade(templates, entry) for entry in planned])
            items[:] = plain
            return
        unmade.extend(self._unmade(templates, entry) for entry in planned if entry.key in finished)
        self._deselect(config, unmade)
        arm_index = {arm: index for index, arm in enumerate(self.context.arms)}

        def make(entry: PlannedTrial) -> pytest.Item:
            slot = TrialSlot(entry.arm, entry.trial)
            template = templates[(entry.task_id, entry.arm)].item
            item = clone_for_trial(template, SLOT_ARG, slot, entry.trial * len(arm_index) + arm_index[entry.arm])
            item.stash[AGENT_ITEM_KEY] = AgentItem(slot=slot, task=per_task[entry.task_id], seq=entry.seq)
            return item

        self.lazy_items = LazyTrialItems(plain, to_run, templates, make=make, stopped=self._every_arm_stopped)
        session.items = self.lazy_items  # type: ignore[assignment]
        # pytest counts this list as the collected tests (``testscollected``, set again in pytest_collection).
        items[:] = plain + ([template.item for template in templates.values()] if to_run else [])

    @staticmethod
    def _unmade(templates: dict[tuple[str, str], TrialTemplate], entry: PlannedTrial) -> UnmadeTrial:
        template = templates[(entry.task_id, entry.arm)]
        return UnmadeTrial(template.nodeid(entry.arm, entry.trial), template.item.location)

    @staticmethod
    def _deselect(config: pytest.Config, unmade: list[UnmadeTrial]) -> None:
        if unmade:
            config.hook.pytest_deselected(items=unmade)

    @staticmethod
    def _count_collected(config: pytest.Config, extra: int) -> None:
        """Make the terminal's "collected N items" count the trials made on demand, as if each were collected.

        pytest counts collected items from the collectors' reports (``TerminalReporter._numcollected``, no public
        way to add to it); without this the header would count only the trial-0 items.
        """
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        count = getattr(reporter, "_numcollected", None)
        if extra and isinstance(count, int):
            reporter._numcollected = count + extra  # type: ignore[union-attr]

    def _take_lazy_shard(
        self, task_ids: set[str], templates: dict[tuple[str, str], TrialTemplate], unmade: list[UnmadeTrial]
    ) -> set[str]:
        """``_take_shard`` for trials made on demand: the other tasks' trials become deselected stand-ins."""
        mine = self._shard_tasks(task_ids)
        for key in [key for key in templates if key[0] not in mine]:
            template = templates.pop(key)
            unmade.extend(
                UnmadeTrial(template.nodeid(key[1], trial), template.item.location) for trial in range(self.trials)
            )
        return mine

    def never_reached_nodeids(self) -> list[Sequence[str]]:
        """The node ids of the trials this process never ran because the whole run stopped (see ``never_run``):
        the ones its run loop never reached (trials made on demand), and the ones it passed over."""
        reached = self.lazy_items.never_reached_nodeids() if self.lazy_items is not None else ()
        return [nodeids for nodeids in (reached, self._not_reached) if nodeids]

    def _every_arm_stopped(self) -> bool:
        return all(self.stop.reason_for(arm) is not None for arm in self.context.arms)

    @pytest.hookimpl
    def pytest_deselected(self, items: Sequence[pytest.Item]) -> None:
        """Trial-0 items another plugin deselected (``-m``) before the trials are made on demand."""
        if not self.lazy or self.lazy_items is not None:
            return
        for item in items:
            slot = slot_of(item)
            if slot is not None and slot.trial == 0:
                self._deselected_templates.append((item, slot))

    @pytest.hookimpl(wrapper=True)
    def pytest_collection(self, session: pytest.Session) -> Generator[None, object, object]:
        result = yield
        if self.lazy_items is not None:
            session.testscollected = len(self.lazy_items)  # what pytest's progress counts to
        return result

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection_finish(self, session: pytest.Session) -> Generator[None, object, object]:
        """While the collection is announced (xdist sends every node id to the controller), the items are a view
        whose node ids need no item."""
        lazy = self.lazy_items
        if lazy is None:
            return (yield)
        session.items = NodeIdView(lazy)  # type: ignore[assignment]
        try:
            return (yield)
        finally:
            session.items = lazy  # type: ignore[assignment]

    def _take_shard(
        self,
        task_ids: set[str],
        by_key: dict[tuple[str, str, int], tuple[pytest.Item, TrialSlot]],
        config: pytest.Config,
    ) -> set[str]:
        """Keep this shard's tasks in ``by_key`` (whole tasks: pairs stay together), deselect the others, and
        remember what the merge checks: the shard, its tasks and a fingerprint of the unsharded plan."""
        mine = self._shard_tasks(task_ids)
        others = [key for key in by_key if key[0] not in mine]
        if others:
            config.hook.pytest_deselected(items=[by_key.pop(key)[0] for key in others])
        return mine

    def _shard_tasks(self, task_ids: set[str]) -> set[str]:
        """This shard's tasks among ``task_ids``, with what the merge checks remembered (``shard_plan``)."""
        from pytest_agentopt.run.shards import plan_digest

        shard = self.context.shard
        assert shard is not None
        mine = shard.tasks(task_ids)
        self.shard_plan = {
            "shard": str(shard),
            "tasks": sorted(mine),
            "tasks_total": len(task_ids),
            "plan_digest": plan_digest(task_ids, self.trials),
        }
        return mine

    def _publish_plan_size(self, workeroutput: dict[str, Any] | None, size: int) -> None:
        """Remember the plan's size; an xdist worker also tells the controller, which may see no trial at all
        (``-x`` on an ordinary test stops the session before any agent item ran)."""
        self.plan_size = size
        if workeroutput is not None:
            workeroutput[PLAN_SIZE_KEY] = size

    def _task_settings(
        self, by_key: dict[tuple[str, str, int], tuple[pytest.Item, TrialSlot]], finished: set[tuple[str, str, int]]
    ) -> dict[str, TaskInfo]:
        """The marker's fields and the timeout of each task, worked out once per task from one of its items."""
        per_task: dict[str, TaskInfo] = {}
        for key, (item, _) in by_key.items():
            if key[0] not in per_task and key not in finished:
                timeout_s = task_timeout(item, key[0], self.context.timeout_s)
                per_task[key[0]] = TaskInfo(key[0], task_marker_fields(item), timeout_s)
        return per_task

    def _check_resumed(self, planned: list[PlannedTrial]) -> set[tuple[str, str, int]]:
        """The finished trials of a resumed run, each checked to be at the position the plan gives it now."""
        finished: set[tuple[str, str, int]] = set()
        if not self.context.has_finished_trials:
            return finished
        seq_by_key = {entry.key: seq for seq, entry in enumerate(planned)}
        for key, seq in self.context.finished_positions():
            if seq_by_key.get(key) != seq:
                raise pytest.UsageError(
                    f"cannot resume run {self.context.run_id}: its trial {key[0]} ({key[1]}, trial {key[2]}) "
                    f"was planned at position {seq}, but the suite collected now plans it at "
                    f"{seq_by_key.get(key, 'no position (not collected)')}; resume with the same tests and "
                    "the same -k/-m selection as the interrupted run"
                )
            finished.add(key)
        return finished

    # -- the fixtures' objects ------------------------------------------------------------------------------

    def recorder_for(self, item: pytest.Item) -> AgentTrial:
        recorder = item.stash.get(RECORDER_KEY, None)
        if recorder is None:
            info = item.stash[AGENT_ITEM_KEY]
            configs = self.context.configs
            recorder = AgentTrial(
                arm=info.slot.arm,
                index=info.slot.trial,
                seed=self.seed_of(info),
                task_id=info.task_id,
                task_code=info.task_fields["task_code"],
                seq=info.seq,
                configs=configs,
                model_id=configs.raw(info.slot.arm)["model_id"],
            )
            item.stash[RECORDER_KEY] = recorder
        return recorder

    def seed_of(self, info: AgentItem) -> int:
        """The trial's seed, the same for both arms of a pair (worked out when the trial runs, not per item)."""
        return trial_seed(self.context.seed, info.task_id, info.slot.trial)

    def config_for(self, item: pytest.Item) -> AgentConfig:
        return self.context.configs[item.stash[AGENT_ITEM_KEY].slot.arm]

    # -- running --------------------------------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        """Around the task: retries of infrastructure errors, and usage captured from OpenTelemetry spans."""
        info = item.stash.get(AGENT_ITEM_KEY, None)
        if info is None:
            return (yield)
        if info.timeout_s is None:
            return (yield from self._run_trial(item))
        watchdog = self._watchdog if self._watchdog is not None else Watchdog()
        self._watchdog = watchdog
        started, started_perf = time.time(), time.perf_counter()
        watchdog.arm(info.timeout_s, functools.partial(self._give_up, item, info, started, started_perf))
        try:
            return (yield from self._run_trial(item))
        finally:
            watchdog.disarm()

    def _run_trial(self, item: pytest.Item) -> Generator[None, object, object]:
        function = getattr(item, "obj", None)
        retrying = self._retrying(function) if function is not None else None
        if retrying is not None:
            item.obj = retrying  # type: ignore[attr-defined]
            self._current = item
        capture = self._capture()
        try:
            with capture:
                try:
                    return (yield)
                finally:
                    self.recorder_for(item).adopt_captured_usage(capture.usage_by_model())
        finally:
            if retrying is not None:
                item.obj = function  # type: ignore[attr-defined]
                self._current = None

    def _retrying(self, function: Callable[..., object]) -> Callable[..., object] | None:
        """The test function made to retry infrastructure errors (one wrapper per function, made once)."""
        if self.context.infra_retries == 0:
            return None
        if function not in self._retry_wrappers:
            self._retry_wrappers[function] = self._make_retrying(function)
        return self._retry_wrappers[function]

    def _make_retrying(self, function: Callable[..., Any]) -> Callable[..., object]:
        retries, backoff, infra = self.context.infra_retries, self.context.infra_backoff, self.infra

        def next_wait(attempt: int, exc: Exception) -> float | None:
            """Seconds to wait before attempt ``attempt + 1``, or None to give up and let ``exc`` through."""
            if attempt > retries or not infra.matches(exc):
                return None
            return min(backoff * 2.0 ** (attempt - 1), MAX_BACKOFF_S)

        def count(attempt: int) -> None:
            if self._current is not None:
                self._current.stash[ATTEMPTS_KEY] = attempt

        if inspect.iscoroutinefunction(function):
            # An async task stays a coroutine function (functools.wraps keeps that visible to anyio and
            # pytest-asyncio), and waits with asyncio.sleep. Imported here: asyncio costs every xdist worker
            # about 0.06 s, and only async tasks need it.
            import asyncio

            @functools.wraps(function)
            async def retrying_async(*args: object, **kwargs: object) -> object:
                attempt = 1
                while True:
                    count(attempt)
                    try:
                        return await function(*args, **kwargs)
                    except Exception as exc:
                        wait = next_wait(attempt, exc)
                        if wait is None:
                            raise
                    await asyncio.sleep(wait)
                    attempt += 1

            return retrying_async

        @functools.wraps(function)
        def retrying(*args: object, **kwargs: object) -> object:
            attempt = 1
            while True:
                count(attempt)
                try:
                    return function(*args, **kwargs)
                except Exception as exc:
                    wait = next_wait(attempt, exc)
                    if wait is None:
                        raise
                time.sleep(wait)
                attempt += 1

        return retrying

    def _capture(self) -> Any:
        """A usage capture for this trial: open for every trial, so spans count whatever the import order.

        The span processor is installed once the tasks' code has imported OpenTelemetry (directly, or through
        pydantic-ai or an instrumentation): without it no span can carry usage, and the plugin leaves tracing
        alone. That is checked before every trial until then (a dict lookup), and pydantic-ai is instrumented the
        moment it is imported, also when a task imports it in the middle of a trial (``pydantic_ai_spans``).
        """
        if not self._pydantic_ai_watched:
            self._pydantic_ai_watched = watch_pydantic_ai_import()
        if not self._otel and "opentelemetry" in sys.modules:
            self._otel = install_span_processor()
        return UsageCapture(install=False)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
        """Once the run is stopped, report each remaining agent item as skipped without running its protocol.

        The report is the one a skip mark would give (pointing at the test, with the stop's reason), made
        directly: a stopped ``--sprt`` run may have almost all of its cap left, and a set-up and tear-down per
        never-run trial cost more than the trials that ran. Fixtures the last trial left set up are torn down at
        the end of the session, as usual.
        """
        info = item.stash.get(AGENT_ITEM_KEY, None)
        if info is None:
            return None
        reason = self.stop.reason_for(info.slot.arm)
        if reason is None:
            return None
        if self.worker == "main" and self._every_arm_stopped():
            # The whole run stopped and nothing here runs any more: the controller tells pytest about these
            # trials once, as deselected (``never_run``). An xdist worker reports the few items it already held.
            self._not_reached.append(item.nodeid)
            return True
        ihook = item.ihook
        ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        path, lineno, _ = item.reportinfo()
        # What pytest reports for a skip marker: the test's own location, "Skipped: <reason>".
        setup = pytest.TestReport(
            nodeid=item.nodeid,
            location=item.location,
            keywords={},
            outcome="skipped",
            longrepr=(str(path), (lineno or 0) + 1, f"Skipped: {reason}"),
            when="setup",
        )
        self._attach_skip(info, setup)
        ihook.pytest_runtest_logreport(report=setup)
        teardown = pytest.TestReport(
            nodeid=item.nodeid, location=item.location, keywords={}, outcome="passed", longrepr=None, when="teardown"
        )
        ihook.pytest_runtest_logreport(report=teardown)
        ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        info = item.stash.get(AGENT_ITEM_KEY, None)
        if info is None:
            return report
        if call.when == "teardown":
            if not self.keep_output:
                _drop_captured_output(item, report)
            return report
        if call.when == "call" and self._watchdog is not None:
            self._watchdog.disarm()  # already done by the call wrapper, unless the alarm interrupted its clean-up
        if call.when == "setup" and report.failed:
            exc = call.excinfo.value if call.excinfo is not None else None
            error_type, message = (type_name(exc), short_message(exc)) if exc is not None else (None, None)
            self._attach(item, info, report, call, Classified("setup_error", error_type, message))
        elif call.when == "setup" and report.skipped:
            self._attach_skip(info, report)
        elif call.when == "call":
            exc = call.excinfo.value if call.excinfo is not None else None
            if isinstance(exc, pytest.skip.Exception):
                self._attach_skip(info, report)
                return report
            classified = classify(exc, self.infra)
            details = self._details(call, report, classified) if report.failed and self.verbosity > 0 else None
            if report.failed:
                # The trial's failure is data: the pytest session must not fail because the agent did.
                report.outcome = "passed"
                report.longrepr = None
            self._attach(item, info, report, call, classified, details=details)
            if not self.keep_output:
                _drop_captured_output(item, report)
        return report

    def _details(
        self, call: pytest.CallInfo[None], report: pytest.TestReport, classified: Classified
    ) -> dict[str, str | None]:
        """What ``-v`` shows of a failed trial (built only when asked for: it is shipped to the controller)."""
        location = None
        if call.excinfo is not None and len(call.excinfo.traceback):
            entry = call.excinfo.traceback[-1]
            location = f"{_relative(entry.path, self.rootpath)}:{entry.lineno + 1}"
        traceback = str(report.longrepr) if self.verbosity > 1 and report.longrepr is not None else None
        return {
            "error_type": classified.error_type,
            "message": classified.message,
            "location": location,
            "traceback": traceback,
        }

    def _attach(
        self,
        item: pytest.Item,
        info: AgentItem,
        report: pytest.TestReport,
        call: pytest.CallInfo[None],
        classified: Classified,
        *,
        details: dict[str, str | None] | None = None,
    ) -> None:
        record, notes = self.build_record(item, info, call.start, call.stop, call.duration, classified)
        setattr(report, REPORT_ATTR, self._payload(item, record, notes, details))
        if RECORDER_KEY in item.stash:  # the record has all of it; the item lives to the end of the session
            del item.stash[RECORDER_KEY]
        if self.junit:
            # On the item: pytest copies them into the teardown report, which junitxml reads (also under xdist).
            # Only for --junitxml: eight more objects per trial were the largest single cost per trivial trial
            # (they tipped the garbage collector into an extra full collection; scripts/bench_overhead.py).
            item.user_properties.extend(_junit_properties(record))

    def _give_up(self, item: pytest.Item, info: AgentItem, started: float, started_perf: float) -> None:
        """The watchdog's step 2 (in its thread): record the stuck trial as timed out, then end this process.

        The report goes where every report goes (to the controller through xdist, or to the controller plugin of
        this process), so the ledger gets the trial before the process ends.
        """
        duration = time.perf_counter() - started_perf
        timeout_s = info.timeout_s or 0.0
        classified = Classified(
            "timeout",
            type_name(TrialTimeout(timeout_s)),
            f"the trial ran longer than its timeout of {timeout_s:g} s and could not be interrupted; "
            f"its process ({self.worker}) was ended",
        )
        record, notes = self.build_record(item, info, started, time.time(), duration, classified)
        report = pytest.TestReport(
            nodeid=item.nodeid,
            location=item.location,
            keywords={},
            outcome="passed",
            longrepr=None,
            when="call",
            duration=duration,
            start=started,
            stop=time.time(),
        )
        setattr(report, REPORT_ATTR, self._payload(item, record, notes, None))
        capture = item.config.pluginmanager.getplugin("capturemanager")
        if capture is not None and self.worker == "main":
            capture.suspend_global_capture(in_=True)  # the stuck trial's capture: the report must reach the terminal
        try:
            item.config.hook.pytest_runtest_logreport(report=report)
        finally:
            self.on_abandon()

    def _payload(
        self, item: pytest.Item, record: TrialRecord, notes: list[str], details: dict[str, str | None] | None
    ) -> dict[str, Any]:
        """What travels to the controller on the report: the record, and the trial's warnings and pricing notes
        (the controller prints or keeps each one once per run)."""
        payload: dict[str, Any] = {
            "record": record,
            "plan_size": self.plan_size,
            "plan": self._plan_once(),
            "details": details,
        }
        self._add_shard_plan(payload)
        recorder = item.stash.get(RECORDER_KEY, None)
        if recorder is not None and recorder.warnings:
            payload["warnings"] = recorder.warnings
        if notes:
            payload["notes"] = notes
        return payload

    def _attach_skip(self, info: AgentItem, report: pytest.TestReport) -> None:
        """A skipped agent item still moves the planned prefix on (it has no record)."""
        skipped = {"seq": info.seq, "task_id": info.task_id, "arm": info.slot.arm, "trial": info.slot.trial}
        payload = {"record": None, "plan_size": self.plan_size, "plan": self._plan_once(), "skipped": skipped}
        self._add_shard_plan(payload)
        setattr(report, REPORT_ATTR, payload)

    def _add_shard_plan(self, payload: dict[str, Any]) -> None:
        """With the plan (on this process's first report), the shard's plan for the controller's summary."""
        if payload["plan"] is not None and self.shard_plan is not None:
            payload["shard_plan"] = self.shard_plan

    def plan_info(self) -> dict[str, int]:
        """The collected plan: tasks, trials per task and arm, planned items (for the controller's reports)."""
        return {"tasks": self.tasks, "trials": self.trials, "items": self.plan_size or 0}

    def _plan_once(self) -> dict[str, int] | None:
        """The plan, on this process's first report only (the controller needs it once)."""
        if self._plan_sent:
            return None
        self._plan_sent = True
        return self.plan_info()

    def build_record(
        self,
        item: pytest.Item,
        info: AgentItem,
        start: float,
        stop: float,
        duration: float,
        classified: Classified,
    ) -> tuple[TrialRecord, list[str]]:
        """The trial's ledger record, and notes on how it was priced (the controller keeps each once)."""
        recorder = item.stash.get(RECORDER_KEY, None)  # absent when the task never asked for agent_trial
        arm = info.slot.arm
        raw = self.context.configs.raw(arm)
        usage_by_model = recorder.usage_by_model if recorder is not None else {}
        usage = recorder.usage if recorder is not None else None
        cost_usd: float | None = None
        price_source: str | None = None
        notes: list[str] = []
        if usage_by_model:
            # Validating the config (pydantic) is needed only for its price overrides.
            overrides = self.context.configs[arm].prices if raw.get("prices") else None
            estimate = estimate_costs(usage_by_model, overrides=overrides, provider_id=raw.get("provider"))
            cost_usd, price_source, notes = estimate.usd, estimate.source, list(estimate.notes)
        metrics = recorder.metrics if recorder is not None else {}
        steps = metrics.pop("steps", None)
        tool_calls = metrics.pop("tool_calls", None)
        models = sorted(usage_by_model)
        record: TrialRecord = {
            "schema": LEDGER_SCHEMA,
            "run_id": self.context.run_id,
            "experiment_id": raw["experiment_id"],
            "arm": arm,
            "config_hash": self.context.hashes[arm],
            "task_id": info.task_id,
            **info.task_fields,  # type: ignore[typeddict-item]
            "trial": info.slot.trial,
            "seq": info.seq,
            "seed": self.seed_of(info),
            "outcome": classified.outcome,
            "error_type": classified.error_type,
            "message": classified.message,
            "tokens": usage.counts() if usage is not None else None,
            "model": models[0] if len(models) == 1 else (",".join(models) if models else raw["model_id"]),
            "cost_usd": cost_usd,
            "price_source": price_source,
            "latency_s": round(duration, 6),
            "steps": _as_int(steps),
            "tool_calls": _as_int(tool_calls),
            "metrics": metrics,
            "attempts": item.stash.get(ATTEMPTS_KEY, 1),
            "worker": self.worker,
            "started_at": _iso_timestamp(start),
            "finished_at": _iso_timestamp(stop),
            "after_decision": False,
        }
        return record, notes


def activate_worker(config: pytest.Config, payload: dict[str, Any]) -> None:
    """Turn an xdist worker on: its run context is what the controller sent (``workerinput``), nothing else."""
    context = RunContext.from_payload(payload)
    worker = str(getattr(config, "workerinput", {}).get("workerid", "worker"))
    register_items(config, context, StopSignal(context.stop_path, arm_flags=context.several_candidates), worker=worker)


def register_items(
    config: pytest.Config,
    context: RunContext,
    stop: StopSignal,
    *,
    worker: str,
    on_abandon: Callable[[], object] | None = None,
) -> None:
    """Register the items plugin (where agent items live) in this process, worker or single process."""
    plugin = ItemsPlugin(
        context,
        stop,
        worker,
        verbosity=config.get_verbosity(),
        rootpath=config.rootpath,
        # xdist gives workers the controller's options, so they know whether the controller writes JUnit XML.
        junit=bool(config.getoption("xmlpath", None)),
        on_abandon=on_abandon,
        keep_output=shows_passed_output(config),
        lazy=lazy_allowed(config),
    )
    config.stash[ITEMS_PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "agentopt-items")


def shows_passed_output(config: pytest.Config) -> bool:
    """Whether pytest will print (``-rP``, ``-rA``) or write (JUnit XML with ``junit_logging``) passed items' output.

    xdist gives workers the controller's options, so a worker answers as its controller would.
    """
    chars = str(config.getoption("reportchars", "") or "")
    if "P" in chars or "A" in chars:
        return True
    if config.getoption("xmlpath", None):
        try:
            return str(config.getini("junit_logging")) != "no"
        except ValueError:
            return False
    return False


def _drop_captured_output(item: pytest.Item, report: pytest.TestReport) -> None:
    """Forget a trial's captured output once nothing will show it: memory must not grow with the agent's output.

    pytest keeps every report until the end of the session (the terminal reporter's statistics) and copies the
    output captured so far into each of an item's reports, so 4,000 trials printing 100 KB each held 800 MB in
    the controller. pytest shows the output of passed items only with ``-rP``/``-rA`` and writes it to JUnit XML
    only with ``junit_logging`` (then it is kept), and an agent's failure is a passed item. A report that failed
    (a broken fixture) keeps its output for pytest's failure section.
    """
    if report.outcome != "failed" and report.sections:
        report.sections = [section for section in report.sections if not section[0].startswith("Captured ")]
    if report.when == "teardown":
        sections = getattr(item, "_report_sections", None)  # pytest's own list: the output of every phase
        if isinstance(sections, list):
            sections.clear()


def _iso_timestamp(timestamp: float) -> str:

    return iso_timestamp(timestamp)


def _exit_worker() -> None:
    """How an xdist worker gives up on a stuck trial (already recorded): exit, and let xdist replace it."""
    os._exit(TIMEOUT_EXIT_CODE)


def _as_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _relative(path: object, root: Path) -> str:
    try:
        return str(Path(str(path)).relative_to(root))
    except ValueError:
        return str(path)


def _junit_properties(record: TrialRecord) -> list[tuple[str, object]]:
    """Flat per-trial figures for JUnit XML (``--junitxml``); they reach the controller under xdist too."""
    tokens = record["tokens"]
    properties: list[tuple[str, object]] = [
        ("agentopt.arm", record["arm"]),
        ("agentopt.trial", record["trial"]),
        ("agentopt.outcome", record["outcome"]),
        ("agentopt.success", record["outcome"] == "success"),
        ("agentopt.tokens_input", tokens["input"] if tokens else None),
        ("agentopt.tokens_output", tokens["output"] if tokens else None),
        ("agentopt.cost_usd", record["cost_usd"]),
        ("agentopt.latency_s", record["latency_s"]),
    ]
    if record["outcome"] != "success":  # what went wrong (the controller adds it as a system-out line too)
        properties += [("agentopt.error_type", record["error_type"]), ("agentopt.message", record["message"])]
    return properties
