"""Several candidates against one control, end to end: per-candidate tests, early skips, verdicts, the gate."""

from __future__ import annotations

import csv
import json
import math
import re
from typing import Any
from xml.etree import ElementTree

import pytest

from pytest_agentopt.analysis.hypotheses import hypothesis_registry
from pytest_agentopt.cli.main import main
from pytest_agentopt.report.watch import WatchState, render_frame
from pytest_agentopt.stats.design import calibrated_design
from pytest_agentopt.storage.ledger import RunPaths
from tests.plugin.helpers import only_run, read_trials

# The arms share the trial seed, so one uniform draw decides every arm of a pair: ``equal`` has exactly the
# control's outcomes (only ties), ``better`` solves whatever the control solves and more, ``worse`` less.
SUITE = """
import random
import pytest

RATES = {"better": 0.99, "equal": 0.6, "worse": 0.1}

@pytest.mark.parametrize("task", [f"t{i}" for i in range(10)])
def test_task(task, agent_config, agent_trial):
    draw = random.Random(agent_trial.seed).random()
    rate = RATES.get(agent_config.guidelines[0], 0.6) if agent_config.guidelines else 0.6
    assert draw < rate
"""


def write_candidates(pytester: pytest.Pytester, names: tuple[str, ...] = ("better", "equal", "worse")) -> None:
    folder = pytester.path / "configs"
    folder.mkdir(exist_ok=True)
    (folder / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "gpt-4o-mini"}))
    for name in names:
        config = {"experiment_id": name, "parent": "base", "guidelines+": [name]}
        (folder / f"{name}.json").write_text(json.dumps(config))
    pytester.makepyfile(test_suite=SUITE)


def candidates_by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {candidate["experiment_id"]: candidate for candidate in summary["candidates"]}


@pytest.mark.parametrize("workers", [["-n", "4"], []], ids=["xdist", "single-process"])
def test_three_candidates_are_each_decided_and_skipped_once_decided(
    pytester: pytest.Pytester, workers: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    write_candidates(pytester)
    for name in ("better", "worse"):  # a hypothesis beside two of the candidates
        hypothesis = {"id": f"h_{name}", "description": f"the {name} guideline", "metric": "success"}
        (pytester.path / "configs" / f"{name}.hypothesis.json").write_text(json.dumps(hypothesis))
    result = pytester.runpytest(
        "--agent-config=configs/better.json",
        "--agent-config=configs/equal.json",
        "--agent-config=configs/worse.json",
        "--sprt",
        "--agent-trials=10",
        "--agent-seed=3",
        "--agent-json=out.json",
        "--agent-md=out.md",
        "--agent-html=out.html",
        "--agent-csv=out.csv",
        "--junitxml=out.xml",
        "-rs",
        *workers,
    )
    summary = json.loads((pytester.path / "out.json").read_text())
    candidates = candidates_by_id(summary)
    assert {name: c["verdict"] for name, c in candidates.items()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    for candidate in candidates.values():
        assert candidate["decided_by"] == "sprt"
        assert candidate["alpha"] == pytest.approx(0.05 / 3)
        assert set(candidate["llr"]) == {"better", "worse"}
        lower, upper = candidate["bounds"]
        assert lower < 0 < upper
        assert 0 < candidate["pairs_used"] <= candidate["trials_started"] < 100
        assert candidate["effect"] is not None
    assert candidates["better"]["llr"]["better"] >= candidates["better"]["bounds"][1]
    assert candidates["worse"]["llr"]["worse"] >= candidates["worse"]["bounds"][1]
    # The default gate: a candidate proven worse fails the run.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary["gate"]["passed"] is False
    assert "worse" in summary["gate"]["reason"]
    records = read_trials(only_run(pytester))
    by_arm: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_arm.setdefault(record["experiment_id"], []).append(record)
    # Each candidate stopped at its own decision: it started fewer trials than the control, which ran on until
    # the last candidate decided.
    control = len(by_arm["base"])
    assert control < 100
    decided_first = min(candidates.values(), key=lambda c: c["pairs_used"])
    assert len(by_arm[decided_first["experiment_id"]]) < control
    for name, candidate in candidates.items():
        assert len(by_arm[name]) == candidate["trials_started"]
        # Without xdist nothing runs past a decision. Under xdist how many do depends on the machine's timing,
        # within ceil(2w / (K + 1)) + w for w workers (docs/candidates-validation.md); none of them enters the
        # test, and every trial the ledger flags is counted.
        flagged = [record for record in by_arm[name] if record.get("after_decision")]
        assert len(flagged) <= candidate["trials_after_decision"]
        assert candidate["pairs_used"] + candidate["trials_after_decision"] <= candidate["trials_started"]
        if not workers:
            assert candidate["trials_after_decision"] == 0
        else:
            assert candidate["trials_after_decision"] <= math.ceil(2 * 4 / (3 + 1)) + 4
    decisions = json.loads((only_run(pytester) / "decision.json").read_text())["candidates"]
    assert {d["experiment_id"]: d["verdict"] for d in decisions.values()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    # One row per candidate in the Markdown and HTML reports; the CSV has one row per trial, with its arm.
    markdown = (pytester.path / "out.md").read_text()
    html = (pytester.path / "out.html").read_text()
    for name, verdict in (("better", "BETTER"), ("equal", "NO DIFFERENCE"), ("worse", "WORSE")):
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {name} "))
        assert verdict in row
        assert f"<td>{name}</td>" in html
    csv_arms = {line.split(",")[0] for line in (pytester.path / "out.csv").read_text().splitlines()[1:]}
    assert len((pytester.path / "out.csv").read_text().splitlines()) == len(records) + 1, csv_arms
    # ... and one row per candidate beside it, with its verdict and test.
    with (pytester.path / "out.candidates.csv").open(newline="") as handle:
        csv_rows = {row["experiment_id"]: row for row in csv.DictReader(handle)}
    for name, candidate in candidates.items():
        assert csv_rows[name]["verdict"] == candidate["verdict"]
        assert csv_rows[name]["arm"] == candidate["arm"]
        assert int(csv_rows[name]["pairs_used"]) == candidate["pairs_used"]
        assert float(csv_rows[name]["llr_better"]) == candidate["llr"]["better"]
        assert float(csv_rows[name]["effect_estimate"]) == candidate["effect"]["estimate"]
    # JUnit XML: the run's and each candidate's verdict as test-suite properties.
    suite = ElementTree.parse(pytester.path / "out.xml").getroot().find("testsuite")
    assert suite is not None
    properties = {
        p.get("name"): p.get("value")
        for p in suite.iter("property")
        if p.get("name", "").startswith("agentopt.candidate.")
    }
    for name, candidate in candidates.items():
        assert properties[f"agentopt.candidate.{name}.verdict"] == candidate["verdict"]
        assert properties[f"agentopt.candidate.{name}.pairs_used"] == str(candidate["pairs_used"])
    # The HTML report draws every candidate's LLR paths in one chart.
    for candidate in summary["candidates"]:
        assert f'class="llr llr-{candidate["arm"]}.better"' in html
        assert f'class="llr llr-{candidate["arm"]}.worse"' in html
    # agentopt replay of the run's ledger decides each candidate as the run did, after the same pairs.
    capsys.readouterr()  # the run's own output
    assert main(["replay", str(only_run(pytester) / "trials.jsonl"), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)["candidates"]
    for candidate in summary["candidates"]:
        assert replayed[candidate["arm"]]["verdict"] == candidate["verdict"]
        assert replayed[candidate["arm"]]["pairs_used"] == candidate["pairs_used"]
    # agentopt experiments gives each candidate its own verdict against the control.
    assert main(["experiments", "--agent-dir", str(pytester.path / ".agentopt"), "--json"]) == 0
    history = {row["experiment_id"]: row for row in json.loads(capsys.readouterr().out)}
    for name, candidate in candidates.items():
        assert history[name]["verdict"] == candidate["verdict"]
        assert history[name]["verdict_control"] == "base"
    # A decided candidate's trials are skipped with its reason where a worker held one (every one without xdist),
    # and those never handed out are counted in the plugin's never-run line with the same reason (under xdist).
    assert re.search(
        r"(SKIPPED .* test_suite\.py:\d+: agentopt: |planned trials never ran \(pytest counts them as deselected\): )"
        r"candidate \w+ decided '\w+' after \d+ pairs",
        result.stdout.str(),
    ), result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "agentopt: candidate better: verdict BETTER (sprt):*",
            "agentopt: candidate equal: verdict NO DIFFERENCE (sprt):*",
            "agentopt: candidate worse: verdict WORSE (sprt):*",
        ]
    )
    # Each hypothesis is recorded against its own candidate, and the registry lists it with that outcome.
    assert summary["hypothesis"] is None
    assert candidates["better"]["hypothesis"]["id"] == "h_better"
    assert candidates["better"]["hypothesis"]["status"] == "accepted"
    assert candidates["worse"]["hypothesis"]["status"] == "rejected"
    assert candidates["equal"]["hypothesis"] is None
    assert main(["hypotheses", "--agent-dir", str(pytester.path / ".agentopt")]) == 0
    listing = capsys.readouterr().out
    for hypothesis_id, status in (("h_better", "accepted"), ("h_worse", "rejected")):
        line = next(line for line in listing.splitlines() if hypothesis_id in line)
        assert status in line
    rows, _ = hypothesis_registry(pytester.path / ".agentopt", [])
    listed = {row.id: row for row in rows}
    assert {hid: listed[hid].status for hid in listed} == {"h_better": "accepted", "h_worse": "rejected"}
    for name in ("better", "worse"):
        found = listed[f"h_{name}"]
        assert found.sessions == candidates[name]["trials_started"]
        assert found.effect is not None
        assert found.effect["estimate"] == candidates[name]["effect"]["estimate"]
        assert found.time_to_decision_s is not None
    # agentopt watch rebuilds every candidate's test from the ledger: the controller's LLRs and bounds.
    state = WatchState.open(RunPaths(only_run(pytester)))
    state.refresh()
    frame = "\n".join(render_frame(state))
    for candidate in summary["candidates"]:
        llr, (lower, upper) = candidate["llr"], candidate["bounds"]
        assert (
            f"{candidate['arm']} {candidate['experiment_id']} (alpha {candidate['alpha']:.4g}): "
            f"{candidate['pairs_used']} pairs in the test; LLR better {llr['better']:+.2f}, worse "
            f"{llr['worse']:+.2f}; bounds [{lower:+.2f}, {upper:+.2f}]; decided {candidate['verdict'].upper()}"
        ) in frame
    assert f"verdict  {summary['verdict'].upper()}: {summary['verdict_reason']}" in frame


# The same suite with one slow trial early in the plan (the control trial at planned position 40, in the second
# round, before any candidate can decide): while it runs, the other worker would run ahead of the test's prefix.
SLOW_SUITE = SUITE.replace("import random", "import random\nimport time").replace(
    "    draw = random.Random", "    if agent_trial.seq == 40:\n        time.sleep(1.5)\n    draw = random.Random"
)


def test_a_decided_candidate_starts_at_most_the_bound_after_its_decision_on_two_workers(
    pytester: pytest.Pytester,
) -> None:
    """Whatever the interleaving: a candidate starts at most ceil(2w / (K + 1)) + w trials beyond its decision
    point (w workers, K candidates; docs/candidates-validation.md). Before the scheduler dropped a decided
    candidate (no look-ahead bound with several candidates), the worker not held up by the slow trial ran on."""
    write_candidates(pytester)
    pytester.makepyfile(test_suite=SLOW_SUITE)
    result = pytester.runpytest(
        *(f"--agent-config=configs/{name}.json" for name in ("better", "equal", "worse")),
        "--sprt",
        "--agent-trials=10",
        "--agent-seed=3",
        "--agent-json=out.json",
        "-rs",
        "-n",
        "2",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()  # the gate: one is proven worse
    candidates = candidates_by_id(json.loads((pytester.path / "out.json").read_text()))
    assert {name: c["verdict"] for name, c in candidates.items()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    bound = math.ceil(2 * 2 / (3 + 1)) + 2
    records = read_trials(only_run(pytester))
    decisions = json.loads((only_run(pytester) / "decision.json").read_text())["candidates"]
    for name, candidate in candidates.items():
        decided_at = decisions[candidate["arm"]]["seq"]
        after = [r for r in records if r["experiment_id"] == name and r["seq"] > decided_at]
        assert len(after) == candidate["trials_after_decision"], name
        assert len(after) <= bound, (name, len(after))
    # Its items never handed out are counted with its own decision as the reason, not the run's.
    result.stdout.fnmatch_lines(
        [
            "agentopt: * planned trials never ran (pytest counts them as deselected): "
            "candidate equal decided 'no_difference' *"
        ]
    )


def test_a_glob_selects_the_candidates_and_the_common_parent_is_the_control(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("equal", "worse"))
    (pytester.path / "configs" / "candidates").mkdir()
    for name in ("equal", "worse"):
        (pytester.path / "configs" / f"{name}.json").rename(pytester.path / "configs" / "candidates" / f"{name}.json")
        path = pytester.path / "configs" / "candidates" / f"{name}.json"
        path.write_text(path.read_text().replace('"parent": "base"', '"parent": "../base.json"'))
    result = pytester.runpytest(
        "--agent-config=configs/candidates/*.json", "--agent-trials=2", "--agent-seed=1", "--agent-json=out.json"
    )
    summary = json.loads((pytester.path / "out.json").read_text())
    assert [c["experiment_id"] for c in summary["candidates"]] == ["equal", "worse"]
    assert summary["arms"]["control"]["experiment_id"] == "base"
    assert [c["decided_by"] for c in summary["candidates"]] == ["fixed", "fixed"]
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--agent-config=configs/better.json", "--agent-config=configs/orphan.json"],
            "*configs/orphan.json: no 'parent' field, so the candidates have no common parent*--agent-control*",
        ),
        (
            ["--agent-config=configs/better.json", "--agent-config=configs/other_child.json"],
            "*the candidates have no common parent (*); give --agent-control=PATH*",
        ),
        (["--agent-config=configs/nothing*.json"], "*--agent-config=configs/nothing*.json: the pattern matches no*"),
        (
            ["--agent-config=configs/better.json", "--agent-config=configs/worse.json", "--agent-control=none"],
            "*--agent-config given 2 times*--agent-control=none*",
        ),
        (
            ["--agent-config=configs/better.json", "--agent-config=configs/worse.json", "--agent-gate-rule=most"],
            "*--agent-gate-rule=most: must be one of any-worse, all-worse, none-better*",
        ),
    ],
    ids=["no-parent", "different-parents", "glob-matches-nothing", "single-config", "bad-gate-rule"],
)
def test_candidates_without_one_control_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    write_candidates(pytester, ("better", "worse"))
    folder = pytester.path / "configs"
    (folder / "orphan.json").write_text(json.dumps({"experiment_id": "orphan", "model_id": "m"}))
    (folder / "other.json").write_text(json.dumps({"experiment_id": "other", "model_id": "m"}))
    (folder / "other_child.json").write_text(json.dumps({"experiment_id": "other_child", "parent": "other"}))
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / ".agentopt" / "runs").exists() or not any(
        (pytester.path / ".agentopt" / "runs").iterdir()
    )


def test_with_an_explicit_control_the_candidates_need_no_common_parent(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("better",))
    folder = pytester.path / "configs"
    (folder / "orphan.json").write_text(json.dumps({"experiment_id": "orphan", "model_id": "m", "guidelines": ["x"]}))
    result = pytester.runpytest(
        "--agent-config=configs/better.json",
        "--agent-config=configs/orphan.json",
        "--agent-control=configs/base.json",
        "--agent-trials=1",
        "--agent-json=out.json",
    )
    summary = json.loads((pytester.path / "out.json").read_text())
    assert [c["experiment_id"] for c in summary["candidates"]] == ["better", "orphan"]
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)


def test_a_run_with_several_candidates_is_not_extended(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("equal", "worse"))
    common = ["--agent-config=configs/equal.json", "--agent-config=configs/worse.json", "--sprt", "--agent-seed=2"]
    first = pytester.runpytest(*common, "--agent-trials=1")
    assert first.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    run_dir = only_run(pytester)
    before = (run_dir / "trials.jsonl").read_bytes()
    refused = pytester.runpytest(f"--agent-resume={run_dir.name}", "--agent-trials=3")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--agent-trials=3: run * has several candidates and cannot be extended*"])
    assert (run_dir / "trials.jsonl").read_bytes() == before


def test_a_hypothesis_on_another_metric_beside_a_candidate_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("equal", "worse"))
    hypothesis = {"id": "h_cost", "metric": "cost", "expected_improvement": 0.2}
    (pytester.path / "configs" / "worse.hypothesis.json").write_text(json.dumps(hypothesis))
    result = pytester.runpytest("--agent-config=configs/equal.json", "--agent-config=configs/worse.json", "--sprt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*worse.hypothesis.json: field 'metric': 'cost' with --agent-config given 2 times*"])
    assert not (pytester.path / ".agentopt" / "runs").exists()


def test_without_trials_the_cap_comes_from_the_calibrated_design_of_alpha_over_k(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("better", "worse"))
    result = pytester.runpytest(
        "--agent-config=configs/better.json",
        "--agent-config=configs/worse.json",
        "--sprt",
        "--agent-seed=3",
        "--agent-json=out.json",
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # worse is proven worse
    summary = json.loads((pytester.path / "out.json").read_text())
    each = calibrated_design(0.025, 0.10, 0.15, "both")
    assert each is not None
    assert each.required_pairs is not None
    figures = each.at_cap(each.required_pairs)
    assert figures is not None
    assert summary["settings"]["cap_pairs"] == each.required_pairs
    assert summary["settings"]["trials_per_task_per_arm"] == -(-each.required_pairs // 10)
    design = summary["design"]
    assert design["boundaries"] == "calibrated"
    assert design["required_pairs"] == each.required_pairs
    cap_figures = each.at_cap(design["cap_pairs"])
    assert cap_figures is not None
    assert (design["alpha_at_cap"], design["beta_at_cap"], design["miss_at_cap"]) == (
        cap_figures.alpha,
        cap_figures.beta,
        cap_figures.miss,
    )
    assert design["alpha_at_cap"] <= 0.025
    assert design["miss_at_cap"] <= 0.10
    # Both rates hold by the exact DP: no start-up warning about Wald's bounds or the power.
    assert "Wald" not in result.stdout.str()
    assert "misses" not in result.stdout.str()
    assert {c["verdict"] for c in summary["candidates"]} == {"better", "worse"}


def test_a_count_of_candidates_without_a_calibration_keeps_walds_bounds_and_says_so(
    pytester: pytest.Pytester,
) -> None:
    names = ("better", "equal", "worse", "equal2", "equal3")
    write_candidates(pytester, names)
    result = pytester.runpytest(
        *(f"--agent-config=configs/{name}.json" for name in names),
        "--sprt",
        "--agent-alpha=0.04",
        "--agent-trials=2",
        "--agent-seed=3",
        "--agent-json=out.json",
    )
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    summary = json.loads((pytester.path / "out.json").read_text())
    assert summary["design"]["boundaries"] == "wald"
    result.stdout.fnmatch_lines(["*warning: *with alpha 0.008, beta 0.1, effect 0.15 it uses Wald's bounds*"])
