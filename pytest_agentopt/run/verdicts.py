"""The verdicts a run can end with, how reports spell them, and what they mean for a hypothesis of improvement."""

from __future__ import annotations

VERDICT_WORDS: dict[str, str] = {
    "better": "BETTER",
    "worse": "WORSE",
    "no_difference": "NO DIFFERENCE",
    "not_better": "NOT BETTER",
    "not_worse": "NOT WORSE",
    "inconclusive": "INCONCLUSIVE",
    "meets_target": "MEETS TARGET",
    "below_target": "BELOW TARGET",
    "cheaper_same_quality": "CHEAPER SAME QUALITY",
    "not_cheaper": "NOT CHEAPER",
    "worse_quality": "WORSE QUALITY",
}

HYPOTHESIS_ACCEPTED = frozenset({"better", "cheaper_same_quality"})
HYPOTHESIS_REJECTED = frozenset({"worse", "no_difference", "not_better", "not_cheaper", "worse_quality"})


def hypothesis_status(verdict: object) -> str:
    """A hypothesis of improvement: ``accepted`` (shown), ``rejected`` (ruled out, or worse), else ``inconclusive``.

    ``not_worse`` (the gate's question answered) neither shows nor rules out an improvement: inconclusive.
    """
    if verdict in HYPOTHESIS_ACCEPTED:
        return "accepted"
    if verdict in HYPOTHESIS_REJECTED:
        return "rejected"
    return "inconclusive"
