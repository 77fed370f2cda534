"""Seeded mutations of configs, ledgers and manifests through pytest itself: exit 4 naming the file, or a run
whose output notes every skipped line; never exit 3, never a traceback.

A fixed seed and a small budget in the default suite; more cases under ``-m slow``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from pytest_agentopt.storage.ledger import read_ledger
from scripts.fuzz_inputs import mutate
from tests.plugin.helpers import only_run, write_configs, write_suite

ARGS = ["-p", "no:randomly", "-p", "no:cacheprovider", "-q"]


@pytest.fixture
def interrupted_run(pytester: pytest.Pytester) -> tuple[pytest.Pytester, Path]:
    """A run of 3 tasks x 3 trials whose ledger lost its second half (so a resume has trials to run)."""
    write_configs(pytester)
    write_suite(pytester, p_control=0.4, p_test=0.6, tasks=3)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=3", "--agent-seed=9", *ARGS)
    assert result.ret == pytest.ExitCode.OK
    run = only_run(pytester)
    lines = (run / "trials.jsonl").read_bytes().split(b"\n")
    (run / "trials.jsonl").write_bytes(b"\n".join(lines[:9]) + b"\n")
    (run / "summary.json").unlink()
    template = pytester.path / "template"
    shutil.copytree(pytester.path / ".agentopt", template / ".agentopt")
    shutil.copytree(pytester.path / "configs", template / "configs")
    return pytester, template


def restore(pytester: pytest.Pytester, template: Path) -> Path:
    for name in (".agentopt", "configs"):
        shutil.rmtree(pytester.path / name, ignore_errors=True)
        shutil.copytree(template / name, pytester.path / name)
    return only_run(pytester)


def check(result: pytest.RunResult, what: str) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, what + "\n" + output
    assert "Traceback" not in output, what + "\n" + output
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.USAGE_ERROR), (
        what + "\n" + output
    )
    if result.ret == pytest.ExitCode.USAGE_ERROR:
        errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
        assert len(errors) == 1, what + "\n" + output


def fuzz(pytester: pytest.Pytester, template: Path, *, cases: int, seed: int) -> None:
    for case in range(cases):
        kind = ("config", "parent", "manifest", "ledger")[case % 4]
        rng = random.Random(f"{seed}:{case}")
        run = restore(pytester, template)
        target = {
            "config": pytester.path / "configs" / "improved.json",
            "parent": pytester.path / "configs" / "base.json",
            "manifest": run / "manifest.json",
            "ledger": run / "trials.jsonl",
        }[kind]
        target.write_bytes(mutate(target.read_bytes(), rng, lines=kind == "ledger"))
        what = f"case {case} ({kind}): {target.read_bytes()[:300]!r}"
        if kind in ("config", "parent"):
            result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=1", *ARGS)
            check(result, what)
            if result.ret == pytest.ExitCode.USAGE_ERROR:
                assert str(target.relative_to(pytester.path)) in result.stderr.str(), what
            continue
        skipped = read_ledger(run / "trials.jsonl").problems if kind == "ledger" else []
        result = pytester.runpytest(f"--agent-resume={run.name}", *ARGS)
        check(result, what)
        if kind == "ledger" and result.ret != pytest.ExitCode.USAGE_ERROR:
            for problem in skipped:  # every skipped line is said, also under -q
                assert f"agentopt: warning: {problem}".replace(str(pytester.path) + "/", "") in result.stdout.lines, (
                    what
                )


def test_mutated_inputs_give_exit_4_or_notes_never_exit_3(interrupted_run: tuple[pytest.Pytester, Path]) -> None:
    fuzz(*interrupted_run, cases=8, seed=20261123)


@pytest.mark.slow
def test_many_mutated_inputs_give_exit_4_or_notes_never_exit_3(interrupted_run: tuple[pytest.Pytester, Path]) -> None:
    fuzz(*interrupted_run, cases=240, seed=11)
