"""Sentences the terminal report and the Markdown/HTML reports share, so they say the same thing the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from . import format as fmt

BUDGET_EXHAUSTED = "exhausted: no new trials were started"
BUDGET_NOT_REACHED = "not reached"
NO_COMPARISON = "no comparison: a single config without --agent-target"


def budget_text(budget: Mapping[str, Any]) -> str:
    """``$0.50, estimated spend $0.4210 (not reached)`` from the summary's ``budget`` object."""
    state = BUDGET_EXHAUSTED if budget.get("exhausted") else BUDGET_NOT_REACHED
    return f"{fmt.usd(budget.get('limit_usd'))}, estimated spend {fmt.usd(budget.get('spent_usd'))} ({state})"


def single_config_text(arms: Mapping[str, Any]) -> str:
    """What a run without a verdict (one config, no target) says instead: each arm's success rate."""
    parts = [
        f"{arm} {fmt.pct(figures.get('success_rate') if isinstance(figures, Mapping) else None)} success"
        for arm, figures in arms.items()
    ]
    return ", ".join(parts) + f" ({NO_COMPARISON})"


def spent_text(usd: object, unpriced: object) -> str:
    """What a run (or an arm) spent: ``$1.2480``; ``>= $1.2480`` when some trials have no known cost (the sum is a
    lower bound); ``unknown`` when none has one."""
    if usd is None:
        return fmt.UNKNOWN
    return (">= " if isinstance(unpriced, int) and unpriced > 0 else "") + fmt.usd(usd)


def also_changed(row: Mapping[str, Any]) -> str | None:
    """What else changed between the two configs of a guideline-impact row, which its effect includes: the other
    guidelines added or removed with it and every other setting (``None``: nothing else changed)."""
    also = [f"guideline {json.dumps(text, ensure_ascii=False)}" for text in row.get("changed_with") or []]
    other = row.get("other_changes")
    also += [str(change) for change in other] if isinstance(other, list) else ["other settings unknown"]
    return "; ".join(also) or None


def cost_ratio_text(ratio: Mapping[str, Any]) -> str:
    """The summary's ``cost_ratio`` in one line: the median paired ratio, its interval, what it is, the mean ratio.

    ``21.3x [18.2x, 25.0x] (median of 104 paired cost ratios, time-uniform 95% confidence sequence); ratio of
    mean costs 21.4x``. The estimand is named every time: the median ratio and the ratio of the arms' mean costs
    differ when a few trials cost far more than the rest.
    """
    pairs, complete = ratio.get("pairs"), ratio.get("pairs_complete")
    counted = f"{fmt.number(pairs)} paired cost ratios"
    if fmt.is_number(complete) and fmt.is_number(pairs) and complete > pairs:
        counted += f" (of {fmt.number(complete)} pairs; the others lack a known cost)"
    level = ratio.get("level")
    level_text = f"{100 * float(level):g}% " if fmt.is_number(level) else ""
    lower, upper = ratio.get("lower"), ratio.get("upper")
    if lower is None and upper is None:
        spread = f"[no bound before {fmt.number(ratio.get('pairs_for_bounds'))} pairs]"
    else:
        spread = f"[{fmt.ratio(lower)}, {fmt.ratio(upper) if upper is not None else 'unbounded'}]"
    text = (
        f"{fmt.ratio(ratio.get('estimate')) if ratio.get('estimate') is not None else 'unbounded'} {spread} "
        f"(median of {counted}, time-uniform {level_text}confidence sequence)"
    )
    if "mean_ratio" in ratio:
        mean = ratio.get("mean_ratio")
        text += f"; ratio of mean costs {fmt.ratio(mean) if mean is not None else 'unbounded (control cost 0)'}"
    return text
