"""Deprecated: the import path the first documentation gave; use
``from pytest_agentopt import TokenUsage, normalize_usage``.

Kept so that tasks written against it keep working; it warns once and will be removed in a later release.
"""

from __future__ import annotations

import warnings

from pytest_agentopt.recording.usage import TokenUsage, normalize_usage

warnings.warn(
    "pytest_agentopt.usage is deprecated: import TokenUsage, normalize_usage from pytest_agentopt",
    DeprecationWarning,
    stacklevel=2,
)
__all__ = ["TokenUsage", "normalize_usage"]
