"""Choosing the decided metric, feeding its pairs, and hypothesis files: pure code, no pytest machinery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentopt.configs.hypothesis import hypothesis_path, load_hypothesis_beside, parse_hypothesis
from pytest_agentopt.errors import AgentoptUsageError, ConfigError
from pytest_agentopt.recording.metric_values import metric_value
from pytest_agentopt.run.metric_choice import MetricChoice, choose_metric
from pytest_agentopt.run.metric_pairs import MISSING, metric_pairs
from pytest_agentopt.stats.sprt import SequentialSettings


def choose(name: str | None, ratio: float | None = None, *, sprt: bool = True, paired: bool = True) -> object:
    return choose_metric(
        name,
        ratio,
        name_given=f"--agent-metric={name}",
        ratio_given=f"--agent-effect-ratio={ratio}",
        sprt=sprt,
        paired=paired,
    )


def test_choices() -> None:
    assert choose(None) is None
    assert choose("success") is None
    assert choose("early_stop") == MetricChoice("early_stop", "binary")
    assert choose("cost", 0.8) == MetricChoice("cost", "numeric", 0.8)
    assert choose("score", 1.25) == MetricChoice("score", "numeric", 1.25)
    assert choose("cheaper_same_quality", 0.8) == MetricChoice("cheaper_same_quality", "cheaper_same_quality", 0.8)


@pytest.mark.parametrize(
    ("name", "ratio", "sprt", "paired", "message"),
    [
        ("cost", None, True, True, "needs --agent-effect-ratio"),
        (None, 0.8, True, True, "needs a numeric metric"),
        ("flag", None, False, True, "needs --sprt"),
        ("flag", None, True, False, "needs --sprt and a control config"),
        ("a-b", None, True, True, "a Python identifier"),
        ("cost", 1.0, True, True, "other than 1"),
        ("cheaper_same_quality", None, True, True, "below 1"),
    ],
)
def test_bad_choices(name: str | None, ratio: float | None, sprt: bool, paired: bool, message: str) -> None:
    with pytest.raises(AgentoptUsageError, match=message):
        choose(name, ratio, sprt=sprt, paired=paired)


def test_values_of_records() -> None:
    record = {
        "cost_usd": 0.01,
        "tokens": {"input": 10, "output": 5},
        "latency_s": 1.5,
        "steps": None,
        "metrics": {"flag": True},
    }
    assert metric_value(record, MetricChoice("cost", "numeric", 0.8)) == 0.01
    assert metric_value(record, MetricChoice("tokens", "numeric", 0.8)) == 15
    assert metric_value(record, MetricChoice("latency", "numeric", 0.8)) == 1.5
    assert metric_value(record, MetricChoice("steps", "numeric", 0.8)) is MISSING
    assert metric_value(record, MetricChoice("flag", "binary")) is True
    assert metric_value(record, MetricChoice("other", "binary")) is MISSING
    assert metric_value({**record, "cost_usd": None}, MetricChoice("cost", "numeric", 0.8)) is MISSING


def test_missing_and_invalid_values_are_counted_not_scored() -> None:
    pairs = metric_pairs(MetricChoice("flag", "binary"), SequentialSettings(), "both", None)
    assert not pairs.add_results(("success", MISSING), ("success", True))
    assert not pairs.add_results(("failure", 1), ("success", True))
    assert not pairs.add_results(("infra_error", True), ("success", True))  # not scored: not counted either
    assert pairs.add_results(("failure", False), ("success", True))
    assert (pairs.missing, pairs.invalid, pairs.test.pairs) == (1, 1, 1)
    assert pairs.examples == ["1"]
    numeric = metric_pairs(MetricChoice("cost", "numeric", 0.8), SequentialSettings(), "both", None)
    assert not numeric.add_results(("success", -1.0), ("success", 1.0))
    assert not numeric.add_results(("success", True), ("success", 1.0))
    assert numeric.add_results(("success", 0), ("success", 1.0))
    assert (numeric.missing, numeric.invalid, numeric.test.pairs) == (0, 2, 1)


def test_hypothesis_fields() -> None:
    hypothesis = parse_hypothesis(
        {"id": "h_2024_01", "metric": "early_termination_rate", "method": "SPRT", "expected_improvement": 0.15},
        where="h.json",
    )
    assert hypothesis.metric_name == "early_termination"
    assert hypothesis.effect() == 0.15
    assert hypothesis.effect_ratio() is None
    cost = parse_hypothesis({"id": "h2", "metric": "cost", "expected_improvement": 0.2}, where="h.json")
    assert cost.resolved_method == "ratio_lower"
    assert cost.effect_ratio() == pytest.approx(0.8)
    score = parse_hypothesis(
        {"id": "h3", "metric": "score", "method": "ratio_higher", "expected_improvement": 0.25}, where="h.json"
    )
    assert score.effect_ratio() == pytest.approx(1.25)
    csq = parse_hypothesis({"id": "h4", "method": "cheaper_same_quality", "expected_improvement": 0.2}, where="h.json")
    assert csq.metric_name == "cheaper_same_quality"
    assert csq.effect_ratio() == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a JSON object"),
        ({"id": "x", "colour": 1}, "unknown field 'colour'"),
        ({"id": "has space"}, "field 'id'"),
        ({"id": "x", "method": "t-test"}, "field 'method' must be one of"),
        ({"id": "x", "expected_improvement": 1.5}, "field 'expected_improvement'"),
        ({"id": "x", "expected_improvement": True}, "field 'expected_improvement'"),
        ({"id": "x", "metric": "cost", "method": "SPRT"}, "is a number"),
        ({"id": "x", "method": "ratio_lower"}, "needs a numeric metric"),
    ],
)
def test_bad_hypotheses(data: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_hypothesis(data, where="h.json")


def test_the_hypothesis_file_sits_beside_the_config(tmp_path: Path) -> None:
    config = tmp_path / "coupon.json"
    assert hypothesis_path(config) == tmp_path / "coupon.hypothesis.json"
    assert load_hypothesis_beside(config) is None
    hypothesis_path(config).write_text(json.dumps({"id": "h1"}))
    loaded = load_hypothesis_beside(config)
    assert loaded is not None
    assert loaded.id == "h1"
    hypothesis_path(config).write_text("{not json")
    with pytest.raises(ConfigError, match=r"coupon\.hypothesis\.json: not valid JSON"):
        load_hypothesis_beside(config)


@pytest.mark.parametrize(
    "entry",
    [[], {"kind": "binary"}, {"name": "x", "kind": "ratio"}, {"name": "cost", "kind": "numeric", "effect_ratio": None}],
)
def test_a_damaged_metric_in_a_manifest_cannot_be_resumed(entry: object, tmp_path: Path) -> None:
    from pytest_agentopt.errors import LedgerError
    from pytest_agentopt.storage.run_context import _resumed_metric

    with pytest.raises(LedgerError, match=r"field 'run\.metric'"):
        _resumed_metric(entry, tmp_path / "manifest.json")
    assert _resumed_metric(None, tmp_path / "manifest.json") is None
    good = {"name": "cost", "kind": "numeric", "effect_ratio": 0.8}
    assert _resumed_metric(good, tmp_path / "manifest.json") == MetricChoice("cost", "numeric", 0.8)
