"""Where the plugin keeps its per-session objects on pytest's ``config.stash`` (read by the entry point's
fixture and by the controller, set at activation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_agentopt.shell.worker import ItemsPlugin

ITEMS_PLUGIN_KEY: pytest.StashKey[ItemsPlugin] = pytest.StashKey()
"""The process's :class:`~pytest_agentopt.shell.worker.ItemsPlugin`, where agent items live."""
