"""Hypotheses: what a candidate config is meant to show, kept beside it in ``<config>.hypothesis.json``.

::

    {"id": "h_2024_01", "description": "Early termination rule", "guideline": "Check coupon limits first",
     "metric": "early_termination_rate", "method": "SPRT", "expected_improvement": 0.15}

The file sits beside the config (``configs/coupon.json`` -> ``configs/coupon.hypothesis.json``) rather than inside
it, so the config and its hash stay what the agent runs with, and a child config does not inherit its parent's
hypothesis. Running the config takes the decided metric and the effect from it (an option given on the command
line or in the ini file wins), and the run records the hypothesis in its manifest and its summary, with the
outcome (``agentopt hypotheses`` lists them).

Fields (``id`` required, every other optional; no other key):

* ``id``: a short identifier (letters, digits, ``_ . -``), the key the outcomes are recorded under;
* ``description``, ``guideline``: text for people;
* ``metric``: ``success`` (default), a binary metric the tasks record (``early_termination``; a name ending in
  ``_rate`` is the rate of the flag without the suffix), a numeric one (``cost``, ``tokens``, ``latency``,
  ``steps``, ``tool_calls`` or any recorded number), or ``cheaper_same_quality``;
* ``method``: ``SPRT`` (the paired GSPRT on a binary metric; the default except for the numeric built-ins),
  ``ratio_lower`` / ``ratio_higher`` (the median-ratio test, lower / higher is better; ``ratio_lower`` is the
  default of the numeric built-ins), ``cheaper_same_quality``;
* ``expected_improvement``: the improvement the run is sized to detect, a positive number: for ``SPRT`` the
  difference in rate (``0.15``: 15 points, becomes ``--agent-effect``); for the ratio methods and
  ``cheaper_same_quality`` the relative change (``0.2`` becomes ``--agent-effect-ratio`` 0.8 when lower is better,
  1.2 when higher is better).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentopt.errors import ConfigError
from pytest_agentopt.run.metric_choice import CHEAPER_SAME_QUALITY, NUMERIC_BUILT_INS, SUCCESS

SUFFIX = ".hypothesis.json"
FIELDS = ("id", "description", "guideline", "metric", "method", "expected_improvement")
METHODS = ("SPRT", "ratio_lower", "ratio_higher", CHEAPER_SAME_QUALITY)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


@dataclass(frozen=True)
class Hypothesis:
    id: str
    description: str | None = None
    guideline: str | None = None
    metric: str | None = None
    method: str | None = None
    expected_improvement: float | None = None
    source: str | None = None
    """The file it was read from."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "guideline": self.guideline,
            "metric": self.metric,
            "method": self.method,
            "expected_improvement": self.expected_improvement,
            "source": self.source,
        }

    @property
    def metric_name(self) -> str:
        """The metric the run decides on: ``early_termination_rate`` is the rate of the flag ``early_termination``."""
        if self.method == CHEAPER_SAME_QUALITY or self.metric == CHEAPER_SAME_QUALITY:
            return CHEAPER_SAME_QUALITY
        name = self.metric or SUCCESS
        if name == "success_rate":
            return SUCCESS
        if name.endswith("_rate") and name not in NUMERIC_BUILT_INS and len(name) > len("_rate"):
            return name.removesuffix("_rate")
        return name

    @property
    def resolved_method(self) -> str:
        if self.method is not None:
            return self.method
        if self.metric_name == CHEAPER_SAME_QUALITY:
            return CHEAPER_SAME_QUALITY
        return "ratio_lower" if self.metric_name in NUMERIC_BUILT_INS else "SPRT"

    def effect(self) -> float | None:
        """``--agent-effect`` from the hypothesis (``SPRT`` only)."""
        if self.expected_improvement is None or self.resolved_method != "SPRT":
            return None
        return self.expected_improvement

    def effect_ratio(self) -> float | None:
        """``--agent-effect-ratio`` from the hypothesis (the ratio methods and cheaper-same-quality)."""
        if self.expected_improvement is None or self.resolved_method == "SPRT":
            return None
        if self.resolved_method == "ratio_higher":
            return 1.0 + self.expected_improvement
        return 1.0 - self.expected_improvement


def hypothesis_path(config_path: Path) -> Path:
    """``configs/coupon.json`` -> ``configs/coupon.hypothesis.json``."""
    return config_path.with_name(config_path.name.removesuffix(".json") + SUFFIX)


def load_hypothesis_beside(config_path: Path) -> Hypothesis | None:
    """The hypothesis beside ``config_path``, ``None`` when there is none; :class:`ConfigError` when it is bad."""
    path = hypothesis_path(config_path)
    if not path.is_file():
        return None
    return read_hypothesis(path)


def read_hypothesis(path: Path) -> Hypothesis:
    """Read and check one hypothesis file; every problem names the file, the field and what would be valid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the hypothesis: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from None
    return parse_hypothesis(data, where=str(path))


def parse_hypothesis(data: Any, *, where: str) -> Hypothesis:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a hypothesis is a JSON object with the fields {', '.join(FIELDS)}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; a hypothesis has the fields {', '.join(FIELDS)}")
    identifier = data.get("id")
    if not isinstance(identifier, str) or not _ID.match(identifier):
        raise ConfigError(
            f"{where}: field 'id' must be a short identifier (letters, digits, '_', '.', '-'; up to 100), "
            f"got {identifier!r}"
        )
    for name in ("description", "guideline", "metric", "method"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise ConfigError(f"{where}: field {name!r} must be a string, got {type(data[name]).__name__}")
    method = data.get("method")
    if method is not None and method not in METHODS:
        raise ConfigError(f"{where}: field 'method' must be one of {', '.join(METHODS)}, got {method!r}")
    metric = data.get("metric")
    if metric is not None and not metric.isidentifier():
        raise ConfigError(f"{where}: field 'metric' must be a metric name (a Python identifier), got {metric!r}")
    improvement = data.get("expected_improvement")
    if improvement is not None:
        if isinstance(improvement, bool) or not isinstance(improvement, int | float) or not 0 < improvement < 1:
            raise ConfigError(
                f"{where}: field 'expected_improvement' must be a number between 0 and 1 (exclusive): the rate "
                f"difference for SPRT (0.15), the relative change for a ratio (0.2: 20 %), got {improvement!r}"
            )
        improvement = float(improvement)
    hypothesis = Hypothesis(
        id=identifier,
        description=data.get("description"),
        guideline=data.get("guideline"),
        metric=metric,
        method=method,
        expected_improvement=improvement,
        source=where,
    )
    if hypothesis.resolved_method in ("ratio_lower", "ratio_higher") and hypothesis.metric_name == SUCCESS:
        raise ConfigError(
            f"{where}: method {hypothesis.resolved_method!r} needs a numeric metric (cost, tokens, latency, steps, "
            "tool_calls or a recorded number) in field 'metric'"
        )
    if hypothesis.resolved_method == "SPRT" and hypothesis.metric_name in NUMERIC_BUILT_INS:
        raise ConfigError(
            f"{where}: metric {hypothesis.metric_name!r} is a number: its method is ratio_lower (or ratio_higher), "
            "not SPRT"
        )
    return hypothesis
