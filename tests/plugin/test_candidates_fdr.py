"""Several candidates under ``--agent-family-error fdr``: e-BH's claims end to end, and bad values."""

from __future__ import annotations

import json

import pytest

from pytest_agentopt.report.watch import WatchState, render_frame
from pytest_agentopt.storage.ledger import RunPaths
from tests.plugin.helpers import only_run
from tests.plugin.test_candidates_run import candidates_by_id, write_candidates

THREE = ("--agent-config=configs/better.json", "--agent-config=configs/equal.json", "--agent-config=configs/worse.json")
TWO = ("--agent-config=configs/better.json", "--agent-config=configs/worse.json")
SEQUENTIAL = ("--sprt", "--agent-trials=10", "--agent-seed=3", "--agent-json=out.json")


@pytest.mark.parametrize("workers", [["-n", "2"], []], ids=["xdist", "single-process"])
def test_three_candidates_under_the_false_discovery_rate(pytester: pytest.Pytester, workers: list[str]) -> None:
    write_candidates(pytester)
    result = pytester.runpytest(
        *THREE,
        "--agent-family-error=fdr",
        "--sprt",
        "--agent-trials=10",
        "--agent-seed=3",
        "--agent-json=out.json",
        "--agent-md=out.md",
        "--agent-html=out.html",
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
        assert candidate["multiplicity"] == "e-bh"
        assert candidate["alpha"] == pytest.approx(0.05 / 3)  # the acceptance side: the GSPRT at alpha / K
        assert set(candidate["e_values"]) == {"better", "worse"}
    # Each claim's e-value reached K / (alpha k): one 'better' and one 'worse' claim among three candidates.
    assert candidates["better"]["e_values"]["better"] >= 3 / 0.05
    assert candidates["better"]["claim_threshold"] == pytest.approx(3 / 0.05)
    assert candidates["worse"]["e_values"]["worse"] >= 3 / 0.05
    assert candidates["equal"]["claim_threshold"] is None
    assert candidates["equal"]["e_values"] == {"better": 1.0, "worse": 1.0}  # only ties: no evidence either way
    assert "e-BH" in candidates["better"]["verdict_reason"]
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the default gate: a candidate proven worse
    decisions = json.loads((only_run(pytester) / "decision.json").read_text())["candidates"]
    assert {d["experiment_id"]: d["verdict"] for d in decisions.values()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    result.stdout.fnmatch_lines(["*false discovery rate <= 0.05 (e-BH)*"])  # the header
    result.stdout.fnmatch_lines(
        [
            "agentopt: candidates: false discovery rate <= 0.05 (e-BH over the 3 candidates' e-values)*",
            "agentopt: candidate better: verdict BETTER (sprt): e-BH: *",
            "agentopt: candidate equal: verdict NO DIFFERENCE (sprt):*",
            "agentopt: candidate worse: verdict WORSE (sprt): e-BH: *",
        ]
    )
    assert "family-wise" not in result.stdout.str()
    # The LLR's upper bound makes no claim here: the lines say the e-value did.
    lower = f"{candidates['better']['bounds'][0]:+.2f}"  # the acceptance bound at the observed discordance
    result.stdout.fnmatch_lines(
        [f"*LLR better * (its e-value reached K / alpha)*; lower bound {lower} (claims by e-value*"]
    )
    assert "reached the upper bound" not in result.stdout.str()
    markdown = (pytester.path / "out.md").read_text()
    html = (pytester.path / "out.html").read_text()
    assert "Across the candidates: false discovery rate \\<= 0.05 (e-BH" in markdown
    assert "false discovery rate &lt;= 0.05 (e-BH" in html
    assert "e-values at stop" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| worse "))
    assert f"lower {candidates['worse']['bounds'][0]:+.2f}" in row  # the upper bound claims nothing: not shown
    # agentopt watch rebuilds the e-value tests from the ledger: the same e-values as the summary.
    watch = WatchState.open(RunPaths(only_run(pytester)))
    watch.refresh()
    frame = "\n".join(render_frame(watch))
    worse = candidates["worse"]
    assert (
        f"e-values better {worse['e_values']['better']:.4g}, worse {worse['e_values']['worse']:.4g} (claim at 60)"
        in frame
    )


def test_the_default_is_the_family_wise_error_and_says_so(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("better", "worse"))
    result = pytester.runpytest(*TWO, *SEQUENTIAL, "-q")
    summary = json.loads((pytester.path / "out.json").read_text())
    assert [c["multiplicity"] for c in summary["candidates"]] == ["bonferroni", "bonferroni"]
    assert [c["e_values"] for c in summary["candidates"]] == [None, None]
    result.stdout.fnmatch_lines(["agentopt: candidates: family-wise error rate controlled by Bonferroni*0.05/2"])


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--agent-family-error=holm"], "", "*--agent-family-error=holm: must be one of fwer, fdr*"),
        ([], "[pytest]\nagent_family_error = FDR\n", "*agent_family_error = FDR*must be one of fwer, fdr*"),
    ],
    ids=["command-line", "ini"],
)
def test_a_bad_family_error_is_a_usage_error(
    pytester: pytest.Pytester, args: list[str], ini: str, message: str
) -> None:
    write_candidates(pytester, ("better", "worse"))
    if ini:
        pytester.makefile(".ini", pytest=ini)
    result = pytester.runpytest(*TWO, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / ".agentopt" / "runs").exists()


def test_the_ini_key_selects_the_false_discovery_rate(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("better", "worse"))
    pytester.makefile(".ini", pytest="[pytest]\nagent_family_error = fdr\n")
    pytester.runpytest(*TWO, *SEQUENTIAL)
    summary = json.loads((pytester.path / "out.json").read_text())
    assert [c["multiplicity"] for c in summary["candidates"]] == ["e-bh", "e-bh"]
    manifest = json.loads((only_run(pytester) / "manifest.json").read_text())
    assert manifest["run"]["family_error"] == "fdr"


def test_a_resumed_run_keeps_its_family_error(pytester: pytest.Pytester) -> None:
    write_candidates(pytester, ("better", "worse"))
    pytester.runpytest(*TWO, "--sprt", "--agent-trials=1", "--agent-seed=3", "--agent-family-error=fdr")
    run_dir = only_run(pytester)
    before = (run_dir / "trials.jsonl").read_bytes()
    refused = pytester.runpytest(f"--agent-resume={run_dir.name}", "--agent-family-error=fwer")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(["*--agent-family-error=fwer conflicts with the resumed run * (family_error = fdr)*"])
    assert (run_dir / "trials.jsonl").read_bytes() == before
