"""Which metric a paired sequential run decides on (``--agent-metric``), and the checks that make a bad choice a
usage error.

* ``success`` (the default): the task passed; the paired GSPRT on success, as always;
* a **binary** metric: any name the tasks record with ``agent_trial.record(NAME=True/False)``, tested by the same
  paired GSPRT (the calibrated design, ``--agent-effect`` as the difference in its rate);
* a **numeric** metric: the built-ins ``cost`` (estimated dollars), ``tokens`` (input + output), ``latency``
  (seconds), ``steps`` and ``tool_calls``, or any recorded number when ``--agent-effect-ratio`` is given; tested
  on the median per-pair ratio (``stats.paired_ratio``). The effect ratio says which way is better: below 1, lower
  is better (``0.8``: 20 % less); above 1, higher is better (``1.25``: 25 % more);
* ``cheaper_same_quality``: "not worse on success by ``--agent-effect`` AND cheaper, sized for a cost ratio of
  ``--agent-effect-ratio``" (``stats.cheaper_same_quality``).

A hypothesis (``configs.hypothesis``) may name the metric instead of the option; the option wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pytest_agentopt.errors import AgentoptUsageError

MetricKind = Literal["binary", "numeric", "cheaper_same_quality"]

SUCCESS = "success"
CHEAPER_SAME_QUALITY = "cheaper_same_quality"
NUMERIC_BUILT_INS: dict[str, str] = {
    "cost": "estimated cost in US dollars",
    "tokens": "input + output tokens",
    "latency": "wall time in seconds",
    "steps": "steps recorded with agent_trial.record(steps=...)",
    "tool_calls": "tool calls recorded with agent_trial.record(tool_calls=...)",
}
RESERVED = frozenset({SUCCESS, CHEAPER_SAME_QUALITY, *NUMERIC_BUILT_INS})


@dataclass(frozen=True)
class MetricChoice:
    """A metric other than success, as the run decides on it (``as_dict`` goes into the manifest's run section)."""

    name: str
    kind: MetricKind
    effect_ratio: float | None = None
    """Numeric and cheaper-same-quality: the minimal relative change (below 1: lower is better)."""

    @property
    def lower_is_better(self) -> bool | None:
        return None if self.effect_ratio is None else self.effect_ratio < 1

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "effect_ratio": self.effect_ratio}

    @classmethod
    def from_dict(cls, data: Any) -> MetricChoice | None:
        """From a manifest's run section (``None``: success)."""
        if not isinstance(data, dict):
            return None
        return cls(name=str(data["name"]), kind=data["kind"], effect_ratio=data.get("effect_ratio"))

    def describe(self) -> str:
        if self.kind == "binary":
            return f"binary metric {self.name!r}"
        if self.kind == CHEAPER_SAME_QUALITY:
            return f"cheaper at the same quality (cost ratio {self.effect_ratio:g})"
        better = "lower" if self.lower_is_better else "higher"
        return f"numeric metric {self.name!r} ({better} is better, effect ratio {self.effect_ratio:g})"


def choose_metric(
    name: str | None,
    effect_ratio: float | None,
    *,
    name_given: str,
    ratio_given: str,
    sprt: bool,
    paired: bool,
) -> MetricChoice | None:
    """The metric a run decides on, or ``None`` for success; ``*_given`` say how the user wrote each value."""
    name = (name or SUCCESS).strip()
    if name == SUCCESS:
        if effect_ratio is not None:
            raise AgentoptUsageError(
                f"{ratio_given} needs a numeric metric: add --agent-metric=cost (or tokens, latency, steps, "
                f"tool_calls, any recorded number) or --agent-metric={CHEAPER_SAME_QUALITY}"
            )
        return None
    if not name.isidentifier():
        raise AgentoptUsageError(
            f"{name_given}: must be success, {CHEAPER_SAME_QUALITY}, a built-in numeric metric "
            f"({', '.join(NUMERIC_BUILT_INS)}) or the name of a metric the tasks record with "
            "agent_trial.record(NAME=...) (a Python identifier)"
        )
    if not (sprt and paired):
        raise AgentoptUsageError(
            f"{name_given} needs --sprt and a control config: the metric is decided by the paired sequential test"
        )
    if effect_ratio is not None and not (0 < effect_ratio < 100 and effect_ratio != 1):
        raise AgentoptUsageError(
            f"{ratio_given}: must be a positive ratio other than 1: below 1 when lower is better (0.8: 20 % less), "
            "above 1 when higher is better (1.25: 25 % more)"
        )
    if name == CHEAPER_SAME_QUALITY:
        if effect_ratio is None or effect_ratio >= 1:
            raise AgentoptUsageError(
                f"{name_given} needs --agent-effect-ratio below 1: the cost saving to detect "
                "(0.8: the candidate costs 20 % less per pair)"
            )
        return MetricChoice(name, "cheaper_same_quality", effect_ratio)
    if name in NUMERIC_BUILT_INS or effect_ratio is not None:
        if effect_ratio is None:
            raise AgentoptUsageError(
                f"{name_given} is a numeric metric ({NUMERIC_BUILT_INS[name]}): it needs --agent-effect-ratio, "
                "the minimal relative change (0.8: 20 % lower is better; 1.25: 25 % higher is better)"
            )
        return MetricChoice(name, "numeric", effect_ratio)
    return MetricChoice(name, "binary")
