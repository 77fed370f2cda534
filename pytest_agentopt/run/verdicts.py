"""The verdicts a run can end with, and how reports spell them."""

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
}
