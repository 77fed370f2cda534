"""Plain JSON values for the aggregators' output: no numpy scalars, no NaN."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["json_interval", "json_number"]


def json_number(value: Any) -> float | None:
    """A plain float (numpy scalars converted); NaN, infinities and None become None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def json_interval(bounds: Sequence[Any] | None) -> list[float | None] | None:
    """``[lower, upper]`` as plain floats, or None."""
    if bounds is None:
        return None
    return [json_number(bound) for bound in bounds]
