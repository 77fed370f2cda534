"""The summary's drift section from hand-made trial records: which pairs and features enter, the gate, the text."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.report.drift import amount_text, drift_report, drift_text, feature_text, shift_interval_text
from pytest_agentopt.report.gate import evaluate_gate
from pytest_agentopt.report.render.markdown import render_markdown
from pytest_agentopt.report.summary import build_summary
from pytest_agentopt.report.terminal import render_summary
from pytest_agentopt.run.options import RunOptions, validate
from pytest_agentopt.storage.summary_schema import DriftFeature, RunSummary
from pytest_agentopt.storage.trial_record import TrialRecord
from tests.unit.test_summary import context, record


def trial(seq: int, arm: str, task: int, index: int, outcome: str = "success", **fields: Any) -> TrialRecord:
    made = record(seq, arm, task, index, outcome)
    made.update(fields)  # type: ignore[typeddict-item]
    return made


def run_records(
    pairs: int, *, step_factor: float = 1.0, seed: int = 0, outcome: str = "success", latency: bool = True
) -> list[TrialRecord]:
    """``pairs`` pairs over 5 tasks; steps Poisson-like around 10 (x ``step_factor`` in the test arm)."""
    rng = random.Random(seed)
    records: list[TrialRecord] = []
    for index in range(pairs):
        task, round_ = index % 5, index // 5
        for offset, arm in enumerate(("control", "test")):
            base = 6 + task + rng.randint(0, 8)
            steps = round(base * (step_factor if arm == "test" else 1.0))
            records.append(
                trial(
                    2 * index + offset,
                    arm,
                    task,
                    round_,
                    outcome,
                    steps=steps,
                    tool_calls=steps // 2,
                    latency_s=rng.lognormvariate(0, 1) if latency else 1.0,
                    metrics={"score": rng.random(), "label": "x", "flag": True},
                )
            )
    return records


def test_a_planted_step_increase_is_found_and_named() -> None:
    report = drift_report(run_records(60, step_factor=1.3), alpha=0.05, seed=1)
    assert report["status"] == "drift"
    assert "steps" in report["moved"]
    assert "latency_s" not in report["moved"]
    steps = next(feature for feature in report["features"] if feature["name"] == "steps")
    assert steps["lower"] is not None
    assert steps["lower"] > 0
    assert steps["relative"] == pytest.approx(steps["effect"] / steps["control_median"])
    assert report["omnibus_p"] is not None
    assert report["omnibus_p"] <= 0.05


def test_the_family_is_the_recorded_numbers_that_vary() -> None:
    report = drift_report(run_records(30), alpha=0.05, seed=1)
    # Numbers only: a label and a flag are not features; constant features (cost 0.002, tokens absent) are out.
    assert report["family"] == ["steps", "tool_calls", "latency_s", "metrics.score"]
    assert report["pairs"] == 30


def test_only_same_outcome_pairs_before_the_decision_enter() -> None:
    records = run_records(20)
    # Two pairs where one arm failed, and two pairs completed after the decision.
    records += [trial(100, "control", 0, 50, "failure", steps=99), trial(101, "test", 0, 50, "success", steps=1)]
    records += [trial(102, "control", 1, 50, "success", steps=3), trial(103, "test", 1, 50, "failure", steps=99)]
    late = [
        trial(104 + i, arm, 2, 60, after_decision=True, steps=1 if arm == "test" else 50)
        for i, arm in enumerate(("control", "test"))
    ]
    report = drift_report(records + late, alpha=0.05, seed=1)
    assert report["pairs"] == 20
    assert report["pairs_complete"] == 22
    assert report["pairs_other_outcome"] == 2
    assert report["pairs_after_decision"] == 1
    steps = next(feature for feature in report["features"] if feature["name"] == "steps")
    assert steps["pairs"] == 20


def test_too_few_pairs_say_the_report_is_missing() -> None:
    report = drift_report(run_records(5), alpha=0.05, seed=1)
    assert report["status"] == "missing"
    assert report["reason"] == "only 5 complete pairs with the same outcome in both arms (6 needed at alpha 0.05)"
    assert drift_text(report).startswith("drift not tested: only 5 complete pairs")


def test_features_with_one_value_everywhere_did_not_move() -> None:
    records = [trial(i, arm, i // 2, 0, steps=3, latency_s=1.0) for i, arm in enumerate(["control", "test"] * 8)]
    report = drift_report(records, alpha=0.05, seed=1)
    assert report["status"] == "no_drift"
    assert report["family"] == []
    assert report["reason"] is not None
    assert "steps" in report["reason"]


def test_permutations_are_seeded_by_the_run() -> None:
    records = run_records(40, step_factor=1.05)
    assert drift_report(records, alpha=0.05, seed=3) == drift_report(records, alpha=0.05, seed=3)


def summarize(records: list[TrialRecord], **options: Any) -> RunSummary:
    summary = build_summary(
        records=records,
        context=context(),
        feeder=None,
        plan_size=len(records),
        skipped_by_stop=0,
        interrupted=False,
        notes=[],
        **options,
    )
    return summary


def test_the_gate_fails_on_drift_only_when_asked() -> None:
    summary = summarize(run_records(60, step_factor=1.3))
    assert summary["drift"] is not None
    assert summary["drift"]["status"] == "drift"
    assert not evaluate_gate(summary, RunOptions()).failed
    gate = evaluate_gate(summary, RunOptions(drift_gate=True))
    assert gate.failed
    assert gate.reason is not None
    assert gate.reason.startswith("behaviour drift at equal outcome: steps +")
    assert gate.reason.endswith("(--agent-drift-gate)")
    unchanged = summarize(run_records(60, step_factor=1.0, seed=4))
    assert unchanged["drift"] is not None
    assert unchanged["drift"]["status"] == "no_drift"
    assert not evaluate_gate(unchanged, RunOptions(drift_gate=True)).failed


def test_the_drift_alpha_is_the_reports_level() -> None:
    summary = summarize(run_records(60, step_factor=1.3), drift_alpha=0.01)
    assert summary["drift"] is not None
    assert summary["drift"]["alpha"] == 0.01
    assert "at alpha 0.01" in summary["drift"]["method"]


def test_the_terminal_prints_one_line_and_quiet_mode_keeps_it_when_something_moved() -> None:
    moved = summarize(run_records(60, step_factor=1.3))
    lines = render_summary(moved, verbosity=0, width=None, details={})
    drift_lines = [line for line in lines if line.startswith("drift    ")]
    assert len(drift_lines) == 1
    assert drift_lines[0].startswith("drift    behaviour drift at equal outcome: steps +")
    quiet = render_summary(moved, verbosity=-1, width=None, details={})
    assert [line for line in quiet if "drift" in line] == ["agentopt: " + drift_lines[0].removeprefix("drift    ")]
    unchanged = summarize(run_records(60, seed=4))
    assert not [line for line in render_summary(unchanged, verbosity=-1, width=None, details={}) if "drift" in line]
    assert [line for line in render_summary(unchanged, verbosity=0, width=None, details={}) if "drift" in line] == [
        line
        for line in render_summary(unchanged, verbosity=0, width=None, details={})
        if line.startswith("drift    no")
    ]
    missing = summarize(run_records(4))
    assert [line for line in render_summary(missing, verbosity=-1, width=None, details={}) if "drift" in line] == [
        "agentopt: drift not tested: only 4 complete pairs with the same outcome in both arms (6 needed at alpha 0.05)"
    ]


def test_the_markdown_report_has_the_drift_table() -> None:
    summary = summarize(run_records(60, step_factor=1.3))
    text = render_markdown({"summary": summary})
    assert "## Behaviour drift" in text
    assert "| steps |" in text.replace("  ", " ")


def feature(lower: float | None, upper: float | None, moved: bool, **figures: Any) -> DriftFeature:
    """A feature of the drift family with the given interval; its other figures do not enter the interval's text."""
    base: DriftFeature = {
        "name": "steps",
        "pairs": 40,
        "control_median": 10.0,
        "test_median": 12.0,
        "effect": 2.0,
        "lower": lower,
        "upper": upper,
        "relative": None,
        "adjusted_p": 0.5,
        "moved": moved,
    }
    return cast(DriftFeature, {**base, **figures})


def test_interval_ends_at_zero_of_a_moved_feature_are_open() -> None:
    assert shift_interval_text(feature(0.0, 2.0, True)) == "(0, +2]"
    assert shift_interval_text(feature(0.0, 2.0, False)) == "[0, +2]"
    assert shift_interval_text(feature(-1.5, 0.0, True)) == "[-1.5, 0)"
    assert shift_interval_text(feature(None, None, False)) == "[unbounded]"
    text = feature_text(
        feature(800.0, 2000.0, True, name="input_tokens", effect=1250.0, relative=0.31, adjusted_p=0.0005)
    )
    assert text == "input_tokens +1,250 [+800, +2,000] (+31%)"
    assert amount_text(0.00047) == "0.00047"  # a cost never reads as 0.000
    assert amount_text(-0.25, signed=True) == "-0.25"
    assert amount_text(None) == "-"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (RunOptions(drift_alpha=0.5), "--agent-drift-alpha=0.5: must be between 0 and 0.5"),
        (RunOptions(drift_alpha=0.0), "--agent-drift-alpha=0.0: must be between 0 and 0.5"),
        (RunOptions(control="none", drift_gate=True), "--agent-drift-gate=True needs a control config"),
    ],
)
def test_bad_drift_options_are_usage_errors(options: RunOptions, message: str) -> None:
    with pytest.raises(AgentoptUsageError, match=message.replace("(", r"\(")):
        validate(options)


def test_the_html_report_has_the_drift_table() -> None:
    from pytest_agentopt.report.render.html import render_html

    html = render_html({"summary": summarize(run_records(60, step_factor=1.3))})
    assert 'id="drift"' in html
    assert "Behaviour drift" in html
    assert "<td>steps</td>" in html
