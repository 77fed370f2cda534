"""Feeding a metric other than success to its paired sequential test, and counting what could not enter.

A pair enters when both its trials are scored (as for success: an infrastructure error, a set-up error, a crash
or a skipped half says nothing about the agents) **and** both carry a usable value of the metric. A missing value
is never scored as False or 0: the pair is left out and counted (``missing``), and so is a value of the wrong
type (``invalid``: a number for a binary metric, a flag, a negative number or a label for a numeric one). The
summary reports both counts, so a decision taken on part of the pairs says so.

For ``cheaper_same_quality`` the value is the pair's cost; success comes from the outcomes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from pytest_agentopt.run.metric_choice import CHEAPER_SAME_QUALITY, MetricChoice
from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.stats.cheaper_same_quality import CheaperSameQualityTest
from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.paired_ratio import PairedRatioTest
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings
from pytest_agentopt.stats.wald import Direction

MISSING = object()
"""The value of a trial that did not record the metric (distinct from a recorded ``None``, which is missing too)."""


def usable_value(choice: MetricChoice, value: object) -> bool | float | None:
    """The value as the test takes it (a flag, or a non-negative number), or ``None`` when it cannot be used."""
    if choice.kind == "binary":
        return value if isinstance(value, bool) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


@dataclass
class MetricPairs:
    """The test of a :class:`MetricChoice` and the counts of pairs it could not take."""

    choice: MetricChoice
    test: Any
    """``PairedSequentialTest`` (binary), ``PairedRatioTest`` (numeric) or ``CheaperSameQualityTest``."""
    missing: int = 0
    """Scored pairs left out because a trial did not record the metric."""
    invalid: int = 0
    """Scored pairs left out because a trial recorded a value of the wrong type or sign."""
    examples: list[str] = field(default_factory=list)
    """Up to three recorded values that could not be used, for the note that reports them."""
    differences: list[float] = field(default_factory=list)
    """Binary metric: test minus control per pair that entered, in planned order (for the effect's interval)."""

    def add_results(self, control: tuple[str, object], test: tuple[str, object]) -> bool:
        """Feed one pair of ``(outcome, metric value)``; ``True`` when it entered the test."""
        (control_outcome, control_raw), (test_outcome, test_raw) = control, test
        if control_outcome not in SCORED_OUTCOMES or test_outcome not in SCORED_OUTCOMES:
            return False
        if control_raw is MISSING or test_raw is MISSING or control_raw is None or test_raw is None:
            self.missing += 1
            return False
        control_value, test_value = usable_value(self.choice, control_raw), usable_value(self.choice, test_raw)
        if control_value is None or test_value is None:
            self.invalid += 1
            if len(self.examples) < 3:
                self.examples.append(repr(control_raw if control_value is None else test_raw))
            return False
        if self.choice.kind == "binary":
            self.test.add_pair(bool(control_value), bool(test_value))
            self.differences.append(float(bool(test_value)) - float(bool(control_value)))
        elif self.choice.kind == "numeric":
            self.test.add_pair(float(control_value), float(test_value))
        else:
            self.test.add_pair(
                control_outcome == "success", test_outcome == "success", float(control_value), float(test_value)
            )
        return True

    def conclude(self) -> str | None:
        verdict: str | None = self.test.conclude()
        return verdict

    @property
    def verdict(self) -> str | None:
        verdict: str | None = self.test.verdict
        return verdict


def metric_pairs(
    choice: MetricChoice, settings: SequentialSettings, direction: Direction, design: PairedDesign | None
) -> MetricPairs:
    """The test for ``choice``: a binary metric uses ``design`` (the success test's calibrated design)."""
    if choice.kind == "binary":
        return MetricPairs(choice, PairedSequentialTest(settings, direction, design))
    assert choice.effect_ratio is not None
    if choice.kind == CHEAPER_SAME_QUALITY:
        return MetricPairs(choice, CheaperSameQualityTest(settings, cost_ratio=choice.effect_ratio, design=design))
    return MetricPairs(
        choice,
        PairedRatioTest(
            alpha=settings.alpha, beta=settings.beta, effect_ratio=choice.effect_ratio, direction=direction
        ),
    )
