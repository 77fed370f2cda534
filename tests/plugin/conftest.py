"""Fixtures for the end-to-end tests of the pytest shell."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import write_configs, write_suite


@pytest.fixture
def agent_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A suite where the test arm is much better (0.9 vs 0.3) and the two configs."""
    write_configs(pytester)
    write_suite(pytester, p_control=0.3, p_test=0.9)
    return pytester
