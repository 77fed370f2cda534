"""The terminal report says what the Markdown and HTML reports say, and ``-v`` shows what each agent got wrong."""

from __future__ import annotations

from typing import Any

from pytest_agentopt.report.render.markdown import render_markdown
from pytest_agentopt.report.terminal import render_summary
from pytest_agentopt.storage.summary_schema import RunSummary
from tests.render import gfm
from tests.render.samples import ab_summary, arm

DETAIL = {
    "error_type": "AssertionError",
    "message": "wrong coupon on order 7:\n  used TECH25, expected BAGS15",
    "location": "test_store.py:9",
    "traceback": (
        "def test_store_task(agent):\n>       assert agent.run() == 'ok'\nE       AssertionError: wrong coupon"
    ),
}


def terminal(summary: RunSummary, verbosity: int = 0, details: Any = None) -> list[str]:
    return render_summary(summary, verbosity=verbosity, width=120, details=details or {})


def single_summary() -> RunSummary:
    summary = ab_summary()
    summary.update(
        {"mode": "single", "verdict": None, "verdict_reason": None, "decided_by": None, "pairs": None, "effect": None}
    )
    summary.update({"cost_ratio": None, "mcnemar_p": None, "llr": None, "gate": {"passed": True, "reason": None}})
    summary["arms"] = {"test": arm("exp_042", 31, 49, 3e-05)}
    return summary


def test_minus_v_shows_one_line_per_failure_with_its_message_and_location() -> None:
    details = {("test_store[gpu_race]", "test", 3): DETAIL}
    lines = terminal(ab_summary(), verbosity=1, details=details)
    start = lines.index("agent failures (-vv for the tracebacks):")
    assert lines[start + 1] == (
        "  test_store[gpu_race] [test 3] AssertionError: wrong coupon on order 7: used TECH25, "
        "expected BAGS15 (test_store.py:9)"
    )
    assert not any("assert agent.run()" in line for line in lines)


def test_a_long_message_gives_way_to_the_location_within_the_width() -> None:
    # The samples are hand-made summaries with the fields the renderer reads.
    lines = render_summary(ab_summary(), verbosity=1, width=80, details={("t", "test", 0): DETAIL})
    line = lines[lines.index("agent failures (-vv for the tracebacks):") + 1]
    assert len(line) == 80
    assert line.startswith("  t [test 0] AssertionError: wrong coupon on order 7: used")
    assert line.endswith("... (test_store.py:9)")


def test_minus_vv_adds_the_whole_traceback() -> None:
    details = {("t[a]", "control", 0): DETAIL, ("t[b]", "test", 1): {**DETAIL, "location": None, "traceback": None}}
    lines = terminal(ab_summary(), verbosity=2, details=details)
    start = lines.index("agent failures:")
    assert lines[start + 1].startswith("  t[a] [control 0] AssertionError: wrong coupon on order 7")
    assert lines[start + 2 : start + 5] == ["    " + line for line in DETAIL["traceback"].splitlines()]
    assert lines[start + 5] == ("  t[b] [test 1] AssertionError: wrong coupon on order 7: used TECH25, expected BAGS15")


def test_a_failure_without_a_message_still_names_its_error() -> None:
    details = {("t", "test", 0): {"error_type": "TimeoutError", "message": None, "location": "a.py:1"}}
    assert "  t [test 0] TimeoutError (a.py:1)" in terminal(ab_summary(), verbosity=1, details=details)


def test_pytests_text_report_from_an_older_controller_still_renders() -> None:
    text = "def test():\n    ...\nE   AssertionError: wrong coupon\n\nsuite.py:9: AssertionError\n"
    lines = terminal(ab_summary(), verbosity=1, details={("t", "test", 0): text})
    start = lines.index("agent failures (last lines; -vv for the whole traceback):")
    assert lines[start + 1 : start + 5] == [
        "  t [test 0]",
        "        ...",
        "    E   AssertionError: wrong coupon",
        "    suite.py:9: AssertionError",
    ]


def test_the_terminal_and_the_markdown_print_the_same_figures() -> None:
    summary = ab_summary()
    summary["arms"]["test"]["cost_per_trial_usd"] = 3e-05
    summary["budget"] = {"limit_usd": 0.5, "spent_usd": 0.000123, "exhausted": False, "unpriced_trials": 0}
    lines = terminal(summary)
    markdown = render_markdown({"summary": summary})
    test_row = next(line for line in lines if line.startswith("test "))
    assert "$0.000030" in test_row.split()
    assert "$0.000030" in markdown
    assert "budget   $0.5000, estimated spend $0.00012 (not reached)" in lines
    assert "- **budget**: $0.5000, estimated spend $0.00012 (not reached)" in [
        gfm.unescape(x) for x in markdown.splitlines()
    ]
    assert (
        "cost     test / control = 0.94x [0.68x, 1.33x] (median of 49 paired cost ratios, time-uniform 95% "
        "confidence sequence); ratio of mean costs 0.95x"
    ) in lines
    assert "0.94x [0.68x, 1.33x]" in gfm.unescape(markdown)


def test_a_run_without_a_comparison_says_so_in_the_same_words_everywhere() -> None:
    summary = single_summary()
    sentence = "test 63.3% success (no comparison: a single config without --agent-target)"
    assert terminal(summary)[-1] == "agentopt: " + sentence
    assert terminal(summary, verbosity=-1) == [
        "agentopt: warning: estimated cost unknown for model 'local'",  # warnings show under -q too
        "agentopt: " + sentence,
    ]
    assert sentence in gfm.unescape(render_markdown({"summary": summary}))
