"""Sentences the terminal report and the Markdown/HTML reports share, so they say the same thing the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pytest_agentopt import number_format as fmt

if TYPE_CHECKING:
    from pytest_agentopt.storage.summary_schema import (
        ArmSummary,
        BudgetState,
        CapDesign,
        CostRatio,
        RunSummary,
        Settings,
        TargetCapDesign,
    )

BUDGET_EXHAUSTED = "exhausted: no new trials were started"
BUDGET_NOT_REACHED = "not reached"
NO_COMPARISON = "no comparison: a single config without --agent-target"


def budget_text(budget: BudgetState) -> str:
    """``$0.50, estimated spend $0.4210 (not reached)`` from the summary's ``budget`` object."""
    state = BUDGET_EXHAUSTED if budget["exhausted"] else BUDGET_NOT_REACHED
    return f"{fmt.usd(budget['limit_usd'])}, estimated spend {fmt.usd(budget['spent_usd'])} ({state})"


def single_config_text(arms: Mapping[str, ArmSummary]) -> str:
    """What a run without a verdict (one config, no target) says instead: each arm's success rate."""
    parts = [f"{arm} {fmt.pct(figures['success_rate'])} success" for arm, figures in arms.items()]
    return ", ".join(parts) + f" ({NO_COMPARISON})"


def success_interval_header(summary: RunSummary) -> str:
    """The per-arm success column's header: its interval is a confidence sequence after a sequential run."""
    methods = [figures["success_ci_method"] or "" for figures in summary["arms"].values()]
    if any("confidence sequence" in method for method in methods):
        return "success [95% conf. seq.]"
    return "success [95% Wilson]"


def mcnemar_text(summary: RunSummary) -> str | None:
    """``one-sided exact McNemar p = 0.016 (test better)``: fixed-sample runs only (no fixed-n p-value is valid
    after a sequential stop, so the summary has none)."""
    p_value = summary["mcnemar_p"]
    if p_value is None:
        return None
    direction = summary["mcnemar_direction"]
    side = f" (test {direction})" if direction else ""
    return f"one-sided exact McNemar p = {fmt.p_value(p_value)}{side}"


_STATE_WORDS = {
    "accepted_h1": "reached the upper bound",
    "accepted_h0": "reached the lower bound",
}


def sequential_test_text(summary: RunSummary) -> str | None:
    """Where each one-sided test stands: ``LLR better +2.94 (reached the upper bound), worse -2.28 (reached the
    lower bound); bounds [-2.19, +2.90] at the observed discordance`` - never "between bounds" for a test that
    crossed one; a decision at the cap names the last look's thresholds."""
    llr = summary["llr"]
    if summary["decided_by"] != "sprt" or llr is None:
        return None
    tests: Mapping[str, object] = summary["tests"] or {}
    look = summary["last_look"]
    e_bh = summary.get("multiplicity") == "e-bh"
    parts = []
    for name, value in llr.items():
        if value is None:
            continue
        state = tests.get(name)
        if look is not None and state in ("accepted_h1", "accepted_h0") and summary["decided_at_cap"]:
            accept_h0, accept_h1 = look
            threshold = (
                f"at or above {fmt.signed(accept_h1, 2)}"
                if state == "accepted_h1"
                else f"at or below {fmt.signed(accept_h0, 2)}"
            )
            word = f"last look at the cap: {threshold}"
        elif state == "accepted_h1" and e_bh:
            word = "its e-value reached K / alpha"
        else:
            word = _STATE_WORDS.get(str(state), "")
        parts.append(f"{name} {fmt.signed(value, 2)}" + (f" ({word})" if word else ""))
    bounds = summary["bounds"]
    design = summary["design"]
    where = " at the observed discordance" if design is not None and design["boundaries"] == "calibrated" else ""
    text = "LLR " + ", ".join(parts)
    if bounds is not None and len(bounds) == 2 and e_bh:
        # Under e-BH the LLR only accepts (lower bound); claims are made by the e-values, never the upper bound.
        text += f"; lower bound {fmt.signed(bounds[0], 2)}{where} (claims by e-value, not by the LLR)"
    elif bounds is not None and len(bounds) == 2:
        text += f"; bounds {fmt.interval(bounds, lambda v: fmt.signed(v, 2))}{where}"
    return text


def cap_text(design: CapDesign | TargetCapDesign, settings: Settings) -> str:
    """``260 pairs (26 tasks x 10 trials): worst-case alpha 0.0496, power 0.903 at an effect of 0.15``."""
    power = design["power_at_cap"]
    alpha = design["alpha_at_cap"]
    effect = settings["effect"]
    plan = f"({design['tasks']} tasks x {design['trials_per_task']} trials)"
    if "cap_trials" in design:  # a run against a target (its ``direction`` is ``target``)
        text = (
            f"{design['cap_trials']} trials {plan}: alpha {fmt.number(alpha, 4)}, power "
            f"{fmt.number(power, 3)} at the target {design['target']:g}, last look included"
        )
    else:
        text = (
            f"{design['cap_pairs']} pairs {plan}: at the least favourable discordance alpha "
            f"{fmt.number(alpha, 4)}, power {fmt.number(power, 3)} at an effect of {effect:g}"
        )
    needed = design["trials_needed"]
    beta = settings["beta"]
    if power is not None and 1.0 - power > beta and needed:
        text += f" (--agent-trials={needed} for power {1.0 - beta:g})"
    return text


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


def cost_ratio_text(ratio: CostRatio) -> str:
    """The summary's ``cost_ratio`` in one line: the median paired ratio, its interval, what it is, the mean ratio.

    ``21.3x [18.2x, 25.0x] (median of 104 paired cost ratios, time-uniform 95% confidence sequence); ratio of
    mean costs 21.4x``. The estimand is named every time: the median ratio and the ratio of the arms' mean costs
    differ when a few trials cost far more than the rest.
    """
    pairs, complete = ratio["pairs"], ratio["pairs_complete"]
    counted = f"{fmt.number(pairs)} paired cost ratios"
    if complete > pairs:
        counted += f" (of {fmt.number(complete)} pairs; the others lack a known cost)"
    level_text = f"{100 * float(ratio['level']):g}% "
    lower, upper = ratio["lower"], ratio["upper"]
    if lower is None and upper is None:
        spread = f"[no bound before {fmt.number(ratio['pairs_for_bounds'])} pairs]"
    else:
        spread = f"[{fmt.ratio(lower)}, {fmt.ratio(upper) if upper is not None else 'unbounded'}]"
    text = (
        f"{fmt.ratio(ratio['estimate']) if ratio['estimate'] is not None else 'unbounded'} {spread} "
        f"(median of {counted}, time-uniform {level_text}confidence sequence)"
    )
    if "mean_ratio" in ratio:
        mean = ratio["mean_ratio"]
        text += f"; ratio of mean costs {fmt.ratio(mean) if mean is not None else 'unbounded (control cost 0)'}"
    return text
