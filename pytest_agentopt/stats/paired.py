"""Paired statistics of an A/B run: the effect on the success rate, the pair counts and the cost ratio, over pairs
``(seq, control record, test record)`` in planned order (:func:`pytest_agentopt.run.pairing.paired_outcomes`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NotRequired, TypedDict

if TYPE_CHECKING:
    from pytest_agentopt.stats.cost_ratio import CostRatio

from pytest_agentopt.stats.cost_ratio import paired_cost_ratio


class PairCounts(TypedDict):
    """Complete pairs by who solved the task (``pairs``)."""

    both: int
    test_only: int
    control_only: int
    neither: int


class EffectInterval(TypedDict):
    """Success rate of test minus control with its interval (``effect``)."""

    estimate: float
    lower: float
    upper: float
    method: str
    n: NotRequired[int]


def paired_effect(pairs: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]], alpha: float) -> EffectInterval:
    """Success rate of test minus control over pairs in planned order, with its time-uniform confidence sequence."""
    # Here, not at the top: the controller imports this module at start-up, and the confidence sequence's numpy
    # costs about 0.08 s (scripts/bench_overhead.py).
    from pytest_agentopt.stats.confseq import mean_with_confidence_sequence

    differences = [float((t["outcome"] == "success") - (c["outcome"] == "success")) for _, c, t in pairs]
    sequence = mean_with_confidence_sequence(differences, -1.0, 1.0, alpha)
    return EffectInterval(
        estimate=sequence["estimate"],
        lower=sequence["lower"],
        upper=sequence["upper"],
        n=sequence["n"],
        method=sequence["method"],
    )


def pair_counts(pairs: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]]) -> PairCounts:
    counts = PairCounts(both=0, test_only=0, control_only=0, neither=0)
    for _, control, test in pairs:
        c, t = control["outcome"] == "success", test["outcome"] == "success"
        key: Literal["both", "test_only", "control_only", "neither"] = (
            "both" if c and t else "test_only" if t else "control_only" if c else "neither"
        )
        counts[key] += 1
    return counts


def cost_ratio(pairs: Sequence[tuple[int, Mapping[str, Any], Mapping[str, Any]]], alpha: float) -> CostRatio | None:
    """The test arm's cost relative to the control's, pair by pair (see :mod:`pytest_agentopt.stats.cost_ratio`)."""
    return paired_cost_ratio([(control["cost_usd"], test["cost_usd"]) for _, control, test in pairs], alpha)
