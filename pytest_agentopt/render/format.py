"""How figures read in the Markdown and HTML reports: one place, so both outputs print the same numbers."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any, TypeGuard

from ..verdicts import VERDICT_WORDS

MISSING = "-"


def verdict_word(verdict: str | None) -> str:
    if verdict is None:
        return "NO VERDICT"
    return VERDICT_WORDS.get(verdict, verdict.upper().replace("_", " "))


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def pct(value: object, digits: int = 1) -> str:
    return f"{100 * float(value):.{digits}f}%" if is_number(value) else MISSING


def usd(value: object) -> str:
    """Estimated dollars: four decimals under a dollar (agent trials often cost fractions of a cent)."""
    if not is_number(value):
        return "unknown"
    amount = float(value)
    if amount != 0 and abs(amount) < 0.0001:
        return f"${amount:.2g}"
    return f"${amount:.4f}" if abs(amount) < 1 else f"${amount:,.2f}"


def number(value: object, digits: int = 2) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}" if is_number(value) else MISSING


def signed(value: object, digits: int = 3) -> str:
    return f"{float(value):+.{digits}f}" if is_number(value) else MISSING


def p_value(value: object) -> str:
    return f"{float(value):.3g}" if is_number(value) else MISSING


def interval(bounds: object, render: Any = pct) -> str:
    """``[lo, hi]`` with each end formatted like the estimate, or empty when there is no interval."""
    if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
        return ""
    lower, upper = bounds
    if not (is_number(lower) and is_number(upper)):
        return ""
    return f"[{render(lower)}, {render(upper)}]"


def with_interval(value: object, bounds: object, render: Any = pct) -> str:
    text = render(value)
    spread = interval(bounds, render)
    return f"{text} {spread}" if spread and text not in (MISSING, "unknown") else text


def ratio(value: object) -> str:
    return f"{float(value):.3f}x" if is_number(value) else MISSING


def plain(value: object) -> str:
    """Any JSON value as short text (config values in the diff, metric values)."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def short_method(method: object) -> str:
    """A method's name without its references (the JSON summary has the whole text)."""
    if not isinstance(method, str):
        return ""
    return method.split(" (")[0].split("; ")[-1]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
