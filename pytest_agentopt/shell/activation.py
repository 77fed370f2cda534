"""Turning the plugin on in each process role (only imported when pytest-agentopt is asked for)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import pytest
from xdist.workermanage import parse_tx_spec_config

from pytest_agentopt.errors import AgentoptUsageError, LedgerError
from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.stop import StopSignal
from pytest_agentopt.shell.output_paths import check_output_paths
from pytest_agentopt.shell.worker import register_items
from pytest_agentopt.storage.ledger import create_run_directory, resolve_run, utc_now
from pytest_agentopt.storage.run_context import RunContext, build_context
from pytest_agentopt.storage.run_lock import RunLock, lock_run, took_over_note

if TYPE_CHECKING:
    from pytest_agentopt.run.options import RunOptions
    from pytest_agentopt.storage.run_lock import RunLock

# The controller's (and the single process's) activation. xdist workers never import this module: theirs is
# ``shell.worker.activate_worker``, so a worker's start-up imports neither the run lock nor ``filelock``.

REFUSED_DIST = {
    "each": "runs every item on every worker, so each trial would run once per worker",
}
SCOPE_DIST = ("loadscope", "loadfile", "loadgroup")


def is_xdist_controller(config: pytest.Config) -> bool:
    """Whether this process will hand items to xdist workers (decided before xdist's own configure ran)."""
    if not config.pluginmanager.hasplugin("xdist") or config.getoption("collectonly"):
        return False
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def activate_controller(config: pytest.Config, options: RunOptions) -> None:

    # Nothing is written and nothing locked to list the items: --collect-only only reads.
    writes = not config.getoption("collectonly")
    try:
        if writes:
            check_output_paths(options)  # before the first paid trial, not after the last
        lock = _lock_resumed_run(config, options) if options.resume is not None and writes else None
        context, notes = build_context(options)
    except AgentoptUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    distributed = is_xdist_controller(config)
    workers = 0
    if distributed:
        _check_dist_mode(config, options)
        workers = _worker_count(config)
        if writes:
            _check_remote_arguments(config)
    if options.resume is None and writes:
        context, lock = _create_run(config, context, options)
    if lock is not None and lock.took_over is not None:
        notes.append(took_over_note(context.run_id, lock.took_over))
    stop = StopSignal(context.stop_path, watch_file=False, arm_flags=context.several_candidates)
    # Not at the top: the workers import this module, and the controller's imports cost each of them ~0.3 s.
    from pytest_agentopt.shell.controller import ControllerPlugin

    controller = ControllerPlugin(config, context, options, stop, notes=notes, workers=workers)
    controller.run_lock = lock
    config.pluginmanager.register(controller, "agentopt-controller")
    if distributed:
        from pytest_agentopt.shell.xdist_hooks import XdistControllerHooks

        config.pluginmanager.register(XdistControllerHooks(context, controller), "agentopt-xdist")
    else:
        # A trial that cannot be interrupted after its timeout ends the whole process here (see timeouts.py).
        register_items(config, context, stop, worker="main", on_abandon=controller.abandon_run)


def _lock_resumed_run(config: pytest.Config, options: RunOptions) -> RunLock:
    """Own the resumed run for this session before its ledger is read (a second session is refused, exit 4)."""

    assert options.resume is not None
    paths = resolve_run(options.resume, options.agent_dir)
    try:
        lock = lock_run(paths.directory, run_id=paths.run_id, started_at=utc_now())
    except OSError as exc:
        raise LedgerError(
            f"{options.given('--agent-resume', options.resume)}: cannot lock the run directory {paths.directory}: "
            f"{exc.strerror or exc}; resuming needs write access to it"
        ) from None
    config.add_cleanup(lock.release)
    return lock


def _create_run(config: pytest.Config, context: RunContext, options: RunOptions) -> tuple[RunContext, RunLock]:
    """The new run's directory, created exclusively (run ids never collide) and owned by this session."""

    try:
        run_dir = create_run_directory(options.agent_dir, context.configs.raw("test")["experiment_id"])
        lock = lock_run(run_dir, run_id=run_dir.name, started_at=utc_now())
    except OSError as exc:
        raise pytest.UsageError(
            f"{options.given('--agent-dir', options.agent_dir)}: cannot write the run directory under "
            f"{options.agent_dir}: {exc.strerror or exc}; give a writable directory"
        ) from None
    except AgentoptUsageError as exc:  # another session took the brand-new directory: cannot happen, but say so
        raise pytest.UsageError(str(exc)) from None
    config.add_cleanup(lock.release)
    assert context.stop_path is not None  # the controller's context always has its flag
    moved = dataclasses.replace(
        context, run_id=run_dir.name, run_dir=run_dir, stop_path=run_dir / context.stop_path.name
    )
    return moved, lock


def _check_dist_mode(config: pytest.Config, options: RunOptions) -> None:
    dist = str(config.getoption("dist", "no"))
    if dist in REFUSED_DIST:
        raise pytest.UsageError(f"--dist {dist} cannot run agent trials: it {REFUSED_DIST[dist]}; use --dist load")
    if dist in SCOPE_DIST:
        message = (
            f"--dist {dist} puts all trials of one test on one worker, so trials of a task cannot run in "
            "parallel and the planned order is lost"
        )
        if options.sprt:
            raise pytest.UsageError(f"{message}; --sprt needs --dist load (the default) or worksteal")
        config.issue_config_time_warning(pytest.PytestWarning(message + "; prefer --dist load"), stacklevel=2)


def _check_remote_arguments(config: pytest.Config) -> None:
    """File arguments xdist cannot send to remote workers: refused before the run exists (exit 4, not 3)."""
    from execnet import XSpec

    from pytest_agentopt.shell.remote_workers import check_remote_arguments

    try:
        specs = [XSpec(spec) for spec in parse_tx_spec_config(config)]
    except Exception:  # an unusual --tx spec: xdist says what is wrong with it
        return
    check_remote_arguments(config, specs)


def _worker_count(config: pytest.Config) -> int:
    try:
        return len(parse_tx_spec_config(config))
    except Exception:  # an unusual --tx spec: the window falls back to a safe size
        return 1
