"""How figures read in every output: the terminal report, the history commands' tables, Markdown, HTML and SVG.

One place, so every output prints the same number the same way. Importing this module is cheap (the plugin's
terminal report imports it at the end of every run): it pulls in no renderer.

Missing figures read ``-``, except money: an unknown cost reads ``unknown`` (a cost is unknown when a trial's model
has no price, which is not the same as free).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import TypeGuard

from pytest_agentopt.run.verdicts import VERDICT_WORDS

MISSING = "-"
UNKNOWN = "unknown"
SIGNIFICANT_DIGITS = 2
"""Small amounts and ratios keep at least this many significant digits, so they never round to zero."""

Render = Callable[[object], str]


def verdict_word(verdict: str | None) -> str:
    if verdict is None:
        return "NO VERDICT"
    return VERDICT_WORDS.get(verdict, verdict.upper().replace("_", " "))


def is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _decimals(amount: float, at_least: int) -> int:
    """``at_least`` decimals, or as many as :data:`SIGNIFICANT_DIGITS` significant digits of ``amount`` need."""
    if amount == 0:
        return at_least
    return max(at_least, SIGNIFICANT_DIGITS - 1 - math.floor(math.log10(abs(amount))))


def pct(value: object, digits: int = 1) -> str:
    """A share as a percentage: ``0.8125`` -> ``81.2%``."""
    return f"{100 * float(value):.{digits}f}%" if is_number(value) else MISSING


def usd(value: object) -> str:
    """Estimated dollars: cents from a dollar up, four decimals below (``$0.0024``), more for tiny amounts.

    Agent trials often cost fractions of a cent and cheap models a few millionths of a dollar: those keep two
    significant digits (``$0.000030``), because ``$0.0000`` would read as free.
    """
    if not is_number(value):
        return UNKNOWN
    amount = float(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount >= 1:
        return f"{sign}${amount:,.2f}"
    return f"{sign}${amount:.{_decimals(amount, 4)}f}"


def ratio(value: object) -> str:
    """A ratio of costs: ``1.23x``; small ratios keep two significant digits (``0.045x``)."""
    if not is_number(value):
        return MISSING
    amount = float(value)
    return f"{amount:,.{_decimals(amount, 2)}f}x"


def number(value: object, digits: int = 2) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}" if is_number(value) else MISSING


def signed(value: object, digits: int = 3) -> str:
    """A difference with its sign: ``+0.250``."""
    return f"{float(value):+.{digits}f}" if is_number(value) else MISSING


def seconds(value: object) -> str:
    return f"{float(value):.2f} s" if is_number(value) else MISSING


def p_value(value: object) -> str:
    return f"{float(value):.3g}" if is_number(value) else MISSING


def interval(bounds: object, render: Render = pct) -> str:
    """``[lo, hi]`` with each end formatted like the estimate, or empty when there is no interval."""
    if not isinstance(bounds, Sequence) or isinstance(bounds, str) or len(bounds) != 2:
        return ""
    lower, upper = bounds
    if not (is_number(lower) and is_number(upper)):
        return ""
    return f"[{render(lower)}, {render(upper)}]"


def with_interval(value: object, bounds: object, render: Render = pct) -> str:
    """``81.2% [64.7%, 91.1%]``; the estimate alone when there is no interval."""
    text = render(value)
    spread = interval(bounds, render)
    return f"{text} {spread}" if spread and text not in (MISSING, UNKNOWN) else text


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
    """A method's name without its references (the JSON summary and docs/summary.md have the whole text)."""
    if not isinstance(method, str):
        return ""
    return method.split(" (")[0].split("; ")[-1]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
