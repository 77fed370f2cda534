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


@pytest.fixture(autouse=True, scope="session")
def _environment_of_a_developer_machine() -> Iterator[None]:
    """Runs made by the tests must not depend on where the suite itself runs.

    Inside GitHub Actions they must not append to the real job summary (``GITHUB_STEP_SUMMARY``), and in CI
    (``CI`` or ``BUILD_NUMBER`` set) the plugin asks only the gate's question. Session-scoped, so that the
    module-scoped fixtures that start runs in subprocesses inherit the cleaned environment too; tests of the CI
    behaviour set the variable themselves.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in ("GITHUB_STEP_SUMMARY", "CI", "BUILD_NUMBER"):
            patch.delenv(name, raising=False)
        yield


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
