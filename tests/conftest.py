"""Shared test set-up for the plugin's own tests."""

from __future__ import annotations

# In-process pytester runs drop the modules they imported when they end; numpy's C extension cannot be
# imported twice in one process, so import the plugin's lazily imported dependencies here, once.
import genai_prices  # noqa: F401
import numpy  # noqa: F401
import pytest
import tabulate  # noqa: F401


@pytest.fixture(autouse=True)
def _no_github_step_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside GitHub Actions, runs made by the tests must not append to the real job summary."""
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
