"""Shared test set-up for the plugin's own tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

# In-process pytester runs drop the modules they imported when they end; numpy's C extension cannot be
# imported twice in one process, so import the plugin's lazily imported dependencies here, once.
import genai_prices  # noqa: F401
import numpy  # noqa: F401
import pytest
import scipy.special  # noqa: F401
import tabulate  # noqa: F401


@pytest.fixture(autouse=True)
def _no_github_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside GitHub Actions, runs made by the tests must not append to the real job summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


@pytest.fixture(autouse=True)
def _not_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin asks only the gate's question in CI (``CI`` or ``BUILD_NUMBER`` set): runs made by the tests
    must not depend on whether the suite itself runs in CI. Tests of that behaviour set the variable."""
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)


@pytest.fixture
def owned_event_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A current event loop that is closed when the test ends.

    pydantic-ai's ``run_sync`` creates a loop, makes it current and never closes it; a later ``asyncio.run``
    drops it, and the garbage collector then warns about an unclosed loop and its socket pair in whichever test
    happens to be running (under ``-W error`` that test fails). Handing ``run_sync`` a loop we own avoids it.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()
