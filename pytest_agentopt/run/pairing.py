"""Pairs of trials: the same task and trial run under the control and the test config, with the same seed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TypeVar

from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.stats.paired import PairedFields

Record = TypeVar("Record", bound=PairedFields)


def paired_outcomes(records: Iterable[Record], test_arm: str = "test") -> list[tuple[int, Record, Record]]:
    """Complete pairs ``(seq of the later trial, control, test)`` in planned order, scored outcomes only.

    ``test_arm``: the candidate paired with the control (``test2``, ``test3``... in a run with several)."""
    halves: dict[tuple[str, int], dict[str, Record]] = defaultdict(dict)
    for record in records:
        if record["outcome"] in SCORED_OUTCOMES:
            halves[(record["task_id"], record["trial"])][record["arm"]] = record
    pairs = [
        (max(h["control"]["seq"], h[test_arm]["seq"]), h["control"], h[test_arm])
        for h in halves.values()
        if "control" in h and test_arm in h
    ]
    pairs.sort(key=lambda pair: pair[0])
    return pairs
