"""Turning the plugin on in each process role (only imported when pytest-agentopt is asked for)."""

from __future__ import annotations

from typing import Any

import pytest

from .context import RunContext, build_context
from .errors import AgentoptUsageError
from .items import ItemsPlugin
from .options import RunOptions
from .output_paths import check_output_paths
from .plugin import ITEMS_PLUGIN_KEY
from .stop import StopSignal

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
    try:
        if not config.getoption("collectonly"):
            check_output_paths(options)  # before the first paid trial, not after the last
        # pytest's cache (absent with -p no:cacheprovider) remembers configs validated by earlier runs.
        context, notes = build_context(options, getattr(config, "cache", None))
    except AgentoptUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    distributed = is_xdist_controller(config)
    stop = StopSignal(context.stop_path, watch_file=False)
    workers = 0
    if distributed:
        _check_dist_mode(config, options)
        workers = _worker_count(config)
    from .controller import ControllerPlugin

    controller = ControllerPlugin(config, context, options, stop, notes=notes, workers=workers)
    config.pluginmanager.register(controller, "agentopt-controller")
    if distributed:
        from .xdist_hooks import XdistControllerHooks

        config.pluginmanager.register(XdistControllerHooks(context, controller), "agentopt-xdist")
    else:
        _register_items(config, context, stop, worker="main")


def activate_worker(config: pytest.Config, payload: dict[str, Any]) -> None:
    context = RunContext.from_payload(payload)
    worker = str(getattr(config, "workerinput", {}).get("workerid", "worker"))
    _register_items(config, context, StopSignal(context.stop_path), worker=worker)


def _register_items(config: pytest.Config, context: RunContext, stop: StopSignal, *, worker: str) -> None:
    plugin = ItemsPlugin(
        context,
        stop,
        worker,
        verbosity=config.get_verbosity(),
        rootpath=config.rootpath,
        # xdist gives workers the controller's options, so they know whether the controller writes JUnit XML.
        junit=bool(config.getoption("xmlpath", None)),
    )
    config.stash[ITEMS_PLUGIN_KEY] = plugin
    config.pluginmanager.register(plugin, "agentopt-items")


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


def _worker_count(config: pytest.Config) -> int:
    try:
        from xdist.workermanage import parse_tx_spec_config

        return len(parse_tx_spec_config(config))
    except Exception:  # an unusual --tx spec: the window falls back to a safe size
        return 1
