"""The reports of real runs: written by the plugin and by ``agentopt report``, and recomputable from the CSV."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

import pytest

from pytest_agentopt.cli.main import main
from pytest_agentopt.stats.intervals import exact_mcnemar_one_sided_p, wilson_interval
from tests.render import gfm
from tests.render.e2e_suite import run_suite, runs, summary, write_suite

SCORED = {"success", "failure", "error"}


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_suite(pytester)
    return pytester


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def ledger_lines(run_dir: Path) -> int:
    return sum(1 for line in (run_dir / "trials.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())


def test_a_run_writes_the_markdown_html_and_csv_it_was_asked_for(suite: pytest.Pytester) -> None:
    result = run_suite(
        suite,
        "improved",
        "--agent-trials=8",
        "--agent-seed=3",
        "--sprt",
        "--agent-md=out/report.md",
        "--agent-html=out/report.html",
        "--agent-csv=out/trials.csv",
    )
    assert result.ret == pytest.ExitCode.OK
    out = suite.path / "out"
    result.stdout.fnmatch_lines(
        [
            f"note: wrote CSV of * trials to {out / 'trials.csv'}",
            f"note: wrote Markdown report to {out / 'report.md'}",
            f"note: wrote HTML report to {out / 'report.html'}",
        ]
    )
    (run_dir,) = runs(suite)
    figures = summary(run_dir)

    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert markdown.startswith(r"# agentopt: improved vs base (run ")
    arm_table = next(table for table in gfm.tables(markdown) if table[0][:2] == ["arm", "experiment"])
    solved = {row[0]: row[3] for row in arm_table[1:]}
    for arm in ("control", "test"):
        assert solved[arm] == f"{figures['arms'][arm]['successes']}/{figures['arms'][arm]['trials']}"

    html = (out / "report.html").read_text(encoding="utf-8")
    charts = {chart.get("class"): chart for chart in map(ET.fromstring, re.findall(r"<svg\b.*?</svg>", html, re.S))}
    assert set(charts) == {"chart llr-chart", "chart pareto-chart"}
    drawn = {
        group.get("data-experiment") for group in charts["chart pareto-chart"].iter("g") if group.get("data-experiment")
    }
    assert drawn == {"base", "improved"}
    assert "&lt;b&gt;the cheap one&lt;/b&gt;" in html  # the failure message, escaped, in the failure clusters

    assert len(read_csv(out / "trials.csv")) == ledger_lines(run_dir)


def test_the_github_step_summary_gets_the_markdown_appended(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    step_summary = suite.path / "step_summary.md"
    step_summary.write_text("## an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = run_suite(suite, "improved", "--agent-trials=4", "--agent-seed=3")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines([f"note: appended the Markdown summary to $GITHUB_STEP_SUMMARY ({step_summary})"])
    text = step_summary.read_text(encoding="utf-8")
    assert text.startswith("## an earlier step\n\n# agentopt: improved vs base")
    assert any(table[0][:2] == ["arm", "experiment"] for table in gfm.tables(text))
    assert [path.name for path in suite.path.glob("*.md")] == ["step_summary.md"]  # nothing else was written


def test_every_summary_figure_can_be_recomputed_from_the_csv(suite: pytest.Pytester) -> None:
    result = run_suite(suite, "improved", "--agent-trials=10", "--agent-seed=11", "--agent-csv=trials.csv")
    assert result.ret == pytest.ExitCode.OK
    (run_dir,) = runs(suite)
    expected = summary(run_dir)
    rows = read_csv(suite.path / "trials.csv")
    assert len(rows) == expected["trials_started"]

    for arm in ("control", "test"):
        scored = [row for row in rows if row["arm"] == arm and row["outcome"] in SCORED]
        successes = sum(row["outcome"] == "success" for row in scored)
        with_tokens = [row for row in scored if row["tokens_input"] != ""]
        with_cost = [row for row in scored if row["cost_usd"] != ""]
        cost = sum(float(row["cost_usd"]) for row in with_cost)
        cost_per_trial = cost / len(with_cost)
        figures = expected["arms"][arm]
        assert figures["trials"] == len(scored)
        assert figures["successes"] == successes
        assert figures["errors"] == sum(row["outcome"] == "error" for row in scored)
        assert figures["success_rate"] == successes / len(scored)
        assert figures["success_ci"] == list(wilson_interval(successes, len(scored)))
        assert figures["trials_with_usage"] == len(with_tokens) < len(scored)  # some trials recorded no usage
        assert figures["mean_tokens"] == {
            cls: sum(int(row[f"tokens_{cls}"]) for row in with_tokens) / len(with_tokens) for cls in ("input", "output")
        }
        assert figures["tokens"]["cache_read"] == sum(int(row["tokens_cache_read"]) for row in with_tokens)
        assert figures["cost_usd"] == cost
        assert figures["cost_per_trial_usd"] == cost_per_trial
        assert figures["cost_per_success_usd"] == cost_per_trial * len(scored) / successes
        assert figures["mean_latency_s"] == sum(float(row["latency_s"]) for row in scored) / len(scored)
        assert figures["mean_steps"] == sum(int(row["steps"]) for row in scored) / len(scored)

    halves: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    for row in rows:
        if row["outcome"] in SCORED:
            halves[(row["task_id"], row["trial"])][row["arm"]] = row["outcome"] == "success"
    counts = {"both": 0, "test_only": 0, "control_only": 0, "neither": 0}
    for pair in halves.values():
        if len(pair) == 2:
            control, test = pair["control"], pair["test"]
            counts[
                "both" if control and test else "test_only" if test else "control_only" if control else "neither"
            ] += 1
    assert expected["pairs"] == counts
    # A fixed-sample run: the one-sided exact McNemar p-value in the direction of the observed difference.
    wins, losses = counts["test_only"], counts["control_only"]
    assert expected["mcnemar_p"] == (
        exact_mcnemar_one_sided_p(wins, losses) if wins >= losses else exact_mcnemar_one_sided_p(losses, wins)
    )

    per_task = {task["task_id"]: task for task in expected["tasks"]}
    assert {task_id for task_id, _ in halves} <= set(per_task)  # every task of the CSV is in the per-task table
    for task_id, task in per_task.items():
        for arm, figures in task["arms"].items():
            mine = [r for r in rows if r["task_id"] == task_id and r["arm"] == arm and r["outcome"] in SCORED]
            assert figures["trials"] == len(mine)
            assert figures["successes"] == sum(r["outcome"] == "success" for r in mine)


def test_agentopt_report_renders_one_run_and_compares_several(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_suite(suite, "improved", "--agent-trials=4", "--agent-seed=1").ret == pytest.ExitCode.OK
    assert run_suite(suite, "pricey_improved", "--agent-trials=4", "--agent-seed=2").ret == pytest.ExitCode.OK
    first, second = runs(suite)
    agent_dir = str(suite.path / ".agentopt")
    capsys.readouterr()

    assert main(["report", first.name, "--agent-dir", agent_dir]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith(f"# agentopt: improved vs base (run {first.name.replace('_', chr(92) + '_')})")
    assert "## History: Pareto front of the configs tried so far" in markdown

    html = suite.path / "comparison.html"
    assert (
        main(["report", first.name, str(second), "--html", str(html), "--csv", "all.csv", "--agent-dir", agent_dir])
        == 0
    )
    assert f"wrote HTML report to {html}" in capsys.readouterr().out
    text = html.read_text(encoding="utf-8")
    assert first.name in text
    assert second.name in text
    assert 'id="runs"' in text
    assert 'id="history"' in text
    assert len(read_csv(Path("all.csv"))) == ledger_lines(first) + ledger_lines(second)

    assert main(["report", "no-such-run", "--agent-dir", agent_dir]) == 2
    assert "no-such-run: no run with that id or path" in capsys.readouterr().err

    (second / "summary.json").unlink()  # as after a crash: the report says so and shows what the ledger has
    assert main(["report", str(second)]) == 0
    markdown = capsys.readouterr().out
    assert "summary.json: missing (the run did not finish)" in markdown
    assert "## History: Pareto front of the configs tried so far" in markdown

    blocker = suite.path / "a-file"
    blocker.write_text("")
    assert main(["report", first.name, "--md", str(blocker / "x.md"), "--agent-dir", agent_dir]) == 1
    assert f"could not write {blocker / 'x.md'}" in capsys.readouterr().err


def test_agentopt_pareto_and_the_html_report_show_the_same_front(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_suite(suite, "improved", "--agent-trials=6", "--agent-seed=5").ret == pytest.ExitCode.OK
    result = run_suite(suite, "pricey_improved", "--agent-trials=6", "--agent-seed=6", "--agent-html=report.html")
    assert result.ret == pytest.ExitCode.OK
    capsys.readouterr()
    assert main(["pareto", "--agent-dir", str(suite.path / ".agentopt"), "--json"]) == 0
    front = json.loads(capsys.readouterr().out)
    expected = {point["experiment_id"] for point in front["points"] if point["on_front"]}
    assert len(front["points"]) == 4  # four configs: base, improved, pricey, pricey_improved

    html = (suite.path / "report.html").read_text(encoding="utf-8")
    svg = re.search(r'<svg class="chart pareto-chart".*?</svg>', html, re.S)
    assert svg is not None
    chart = ET.fromstring(svg.group(0))
    drawn_front = {g.get("data-experiment") for g in chart.iter("g") if g.get("class") == "point front"}
    assert drawn_front == expected
    section = re.search(r'<section id="history-pareto">.*?</section>', html, re.S)
    assert section is not None
    rows = re.findall(r"<tr><td>([^<]*)</td>(?:<td[^>]*>[^<]*</td>){5}<td>(yes|no)</td>", section.group(0))
    assert len(rows) == 4
    assert {name for name, on_front in rows if on_front == "yes"} == expected
    assert "log scale" in html  # gpt-4o costs more than ten times gpt-4o-mini here


def test_the_csv_gives_back_the_ledger_exactly_so_every_report_figure_can_be_recomputed(
    suite: pytest.Pytester,
) -> None:
    from pytest_agentopt.report.render.csv import read_trials_csv
    from pytest_agentopt.storage.ledger import read_ledger

    result = run_suite(suite, "improved", "--agent-trials=6", "--agent-seed=5", "--sprt", "--agent-csv=trials.csv")
    assert result.ret == pytest.ExitCode.OK
    (run_dir,) = runs(suite)
    ledger = read_ledger(run_dir / "trials.jsonl").records
    # Every report figure is a function of the ledger records (summary, Pareto front, trajectory metrics, LLR
    # path, clusters), so records that come back identical from the CSV recompute every one of them.
    assert read_trials_csv(suite.path / "trials.csv") == ledger


def test_a_runs_report_describes_that_run_and_does_not_drift(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_suite(suite, "improved", "--agent-trials=4", "--agent-seed=1").ret == pytest.ExitCode.OK
    (first,) = runs(suite)
    agent_dir = str(suite.path / ".agentopt")

    def report_of_first() -> str:
        capsys.readouterr()
        assert main(["report", first.name, "--agent-dir", agent_dir]) == 0
        lines = capsys.readouterr().out.splitlines()
        return "\n".join(line for line in lines if not line.startswith("<sub>generated "))

    before = report_of_first()
    assert run_suite(suite, "pricey_improved", "--agent-trials=4", "--agent-seed=2").ret == pytest.ExitCode.OK
    assert report_of_first() == before  # a later run changes nothing in an earlier run's report

    history = before.split("## History: Pareto front of the configs tried so far", 1)[1]
    assert f"History, not this run alone: every config of the 1 run under {agent_dir} created up to" in (
        gfm.unescape(history)
    )
    clusters = [table for table in gfm.tables(before) if table[0][:3] == ["task", "declared category", "cluster"]]
    assert len(clusters) == 1
    assert {row[3] for row in clusters[0][1:]} == {"2"}  # the run's own two configs, not the history's
    capsys.readouterr()
    assert main(["report", str(runs(suite)[1]), "--agent-dir", agent_dir]) == 0  # the later run sees both
    assert "every config of the 2 runs under" in gfm.unescape(capsys.readouterr().out)


def test_a_run_repeated_with_the_same_seed_says_so_and_the_history_counts_it_once(
    suite: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_suite(suite, "improved", "--agent-trials=3", "--agent-seed=7").ret == pytest.ExitCode.OK
    again = run_suite(suite, "improved", "--agent-trials=3", "--agent-seed=7", "-q")
    assert again.ret == pytest.ExitCode.OK
    first, second = runs(suite)
    warning = f"agentopt: warning: --agent-seed=7 repeats run {first.name} with the same config*counts each config*"
    again.stdout.fnmatch_lines([warning])  # said under -q too
    assert summary(second)["arms"]["test"]["trials"] == summary(first)["arms"]["test"]["trials"]  # its own figures

    capsys.readouterr()
    assert main(["experiments", "--agent-dir", str(suite.path / ".agentopt"), "--json"]) == 0
    captured = capsys.readouterr()
    rows = {row["experiment_id"]: row for row in json.loads(captured.out)}
    assert rows["improved"]["trials"] == summary(first)["arms"]["test"]["trials"]  # not twice as many
    assert "trials replay earlier ones (same config, task and seed" in captured.err
