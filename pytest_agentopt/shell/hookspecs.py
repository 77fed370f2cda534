"""Hooks that pytest-agentopt calls, for conftest files and other plugins (documented in ``docs/hooks.md``).

Both run on the controller (the xdist controller, or the single process), after the plugin's own work, with
plain JSON data: they are for forwarding results (dashboards, chat notifications, extra files), not for
changing them. An exception raised by an implementation is reported as a warning and never changes the run's
outcome or exit status.

``pytest.hookspec`` is pluggy's ``HookspecMarker("pytest")``: the specifications belong to pytest's hook namespace,
so a conftest file implements them as it implements any pytest hook (a function of that name, or
``pytest.hookimpl``), and pytest checks their arguments. A marker of the plugin's own project name would need a
plugin manager of its own for no gain.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec
def pytest_agentopt_trial_recorded(record: dict[str, Any], config: pytest.Config) -> None:
    """A finished trial's ledger record, right after it was written to the ledger."""


@pytest.hookspec
def pytest_agentopt_run_finished(summary: dict[str, Any], config: pytest.Config) -> None:
    """The run's summary (the ``--agent-json`` document, gate included), after every output was written."""
