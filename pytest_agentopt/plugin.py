"""pytest-agentopt's entry point (``pytest11``), imported by every pytest process, xdist workers included.

It stays import-light and inert (its imports are inside the hooks on purpose: an installed but unused plugin must
not cost every pytest run the controller's and workers' modules, about 0.3 s): without ``--agent-config`` (or
``agent_config`` in the ini file, or ``--agent-resume``) it registers its options, its marker and its fixtures, and
nothing else - no header, no files, no changed outcomes. When active, the roles are split by process:

* the controller (the xdist controller, or the single process) builds the run context, writes the ledger,
  feeds the sequential test, stops the run, reports and sets the exit status (``shell/controller.py``);
* where items live (each worker, or the single process), agent tests are expanded, ordered, run and recorded
  (``shell/worker.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_agentopt.shell.options import add_options
from pytest_agentopt.shell.stash import ITEMS_PLUGIN_KEY

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig
    from pytest_agentopt.fake_llm import FakeLLM
    from pytest_agentopt.recording.agent_trial import AgentTrial
    from pytest_agentopt.shell.worker import ItemsPlugin

MARKER_HELP = (
    "agent_task(code=None, category=None, optimal_steps=None, impossible=False, timeout=None): an agent benchmark "
    "task, run under the control and test configs for several trials by pytest-agentopt (--agent-config); "
    "timeout: seconds per trial (overrides --agent-timeout)"
)
INACTIVE_REASON = "agent task: run with --agent-config=CONFIG to run it under pytest-agentopt"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_agentopt.shell import hookspecs

    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None:
        payload = workerinput.get("agentopt")
        if payload is not None:
            from pytest_agentopt.shell.activation import activate_worker

            activate_worker(config, payload)
        return
    from pytest_agentopt.errors import AgentoptUsageError
    from pytest_agentopt.shell.options import read_options

    try:
        options = read_options(config)
    except AgentoptUsageError as exc:
        raise pytest.UsageError(str(exc)) from None
    if not options.active:
        return
    from pytest_agentopt.shell.activation import activate_controller

    activate_controller(config, options)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """When inactive, agent tasks cannot run (their fixtures need a config): skip them with a pointer."""
    if ITEMS_PLUGIN_KEY in config.stash:
        return
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "agent_config" in names or "agent_trial" in names or item.get_closest_marker("agent_task"):
            item.add_marker(pytest.mark.skip(reason=INACTIVE_REASON))


@pytest.fixture
def agent_trial(request: pytest.FixtureRequest) -> AgentTrial:
    """This trial: ``arm``, ``index``, ``seed``, ``task_id``, ``record_usage(...)``, ``record(**metrics)``."""
    return _items_plugin(request).recorder_for(request.node)


@pytest.fixture
def agent_config(request: pytest.FixtureRequest) -> AgentConfig:
    """The validated, fully resolved config of the arm this item runs under."""
    return _items_plugin(request).config_for(request.node)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """An OpenAI- and Anthropic-compatible server on 127.0.0.1, scriptable per test."""
    from pytest_agentopt.fake_llm.fixture import fake_llm_fixture

    yield from fake_llm_fixture()


def _items_plugin(request: pytest.FixtureRequest) -> ItemsPlugin:
    plugin = request.config.stash.get(ITEMS_PLUGIN_KEY, None)
    if plugin is None:
        pytest.skip(INACTIVE_REASON)
    from pytest_agentopt.shell.worker import agent_item

    if agent_item(request.node) is None:
        pytest.fail(
            f"{request.node.nodeid}: agent_config/agent_trial are only available to agent tasks "
            "(function-scoped fixtures of a test expanded by pytest-agentopt)",
            pytrace=False,
        )
    return plugin
