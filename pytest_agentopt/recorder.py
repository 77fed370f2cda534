"""Deprecated: the import path the first documentation gave; use ``from pytest_agentopt import AgentTrial``.

Kept so that tasks written against it keep working; it warns once and will be removed in a later release.
"""

from __future__ import annotations

import warnings

from pytest_agentopt.recording.agent_trial import AgentTrial

warnings.warn(
    "pytest_agentopt.recorder is deprecated: import AgentTrial from pytest_agentopt",
    DeprecationWarning,
    stacklevel=2,
)

TrialRecorder = AgentTrial
"""The old name of :class:`~pytest_agentopt.AgentTrial`."""

__all__ = ["AgentTrial", "TrialRecorder"]
