"""A trial record's value of the metric a run decides on (``--agent-metric``).

Built-ins read the record's own fields: ``cost`` (``cost_usd``: unknown when the trial recorded no usage or its
model has no price), ``tokens`` (input + output; unknown without usage), ``latency`` (``latency_s``), ``steps``
and ``tool_calls``; ``cheaper_same_quality`` reads the cost. Any other name is looked up in the metrics the task
recorded with ``agent_trial.record(NAME=...)``; a name it did not record is ``MISSING``, never False or 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_agentopt.run.metric_choice import CHEAPER_SAME_QUALITY, MetricChoice
from pytest_agentopt.run.metric_pairs import MISSING


def metric_value(record: Mapping[str, Any], choice: MetricChoice | None) -> object:
    """The value ``choice`` decides on in ``record`` (``MISSING`` when the trial has none; ``None``: success)."""
    if choice is None:
        return None
    name = choice.name
    if name in ("cost", CHEAPER_SAME_QUALITY):
        return MISSING if record.get("cost_usd") is None else record["cost_usd"]
    if name == "tokens":
        tokens = record.get("tokens")
        return MISSING if not isinstance(tokens, Mapping) else tokens.get("input", 0) + tokens.get("output", 0)
    if name == "latency":
        return MISSING if record.get("latency_s") is None else record["latency_s"]
    if name in ("steps", "tool_calls"):
        return MISSING if record.get(name) is None else record[name]
    metrics = record.get("metrics") or {}
    return metrics.get(name, MISSING)
