"""Deprecated: the import path the first documentation gave; use ``from pytest_agentopt import estimate_cost``.

Kept so that tasks written against it keep working; it warns once and will be removed in a later release.
"""

from __future__ import annotations

import warnings

from pytest_agentopt.recording.pricing import estimate_cost

warnings.warn(
    "pytest_agentopt.pricing is deprecated: import estimate_cost from pytest_agentopt",
    DeprecationWarning,
    stacklevel=2,
)
__all__ = ["estimate_cost"]
