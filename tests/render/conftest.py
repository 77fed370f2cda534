"""The reports' tests never write to a real GitHub job summary, even when they run inside GitHub Actions."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_job_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
