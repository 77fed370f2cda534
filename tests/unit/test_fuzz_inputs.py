"""Seeded mutations of configs, ledgers and manifests: a usage error naming the file, or notes; never a crash.

A fixed seed and budget in the default suite (a few seconds); a larger budget under ``-m slow``; any budget with
``python scripts/fuzz_inputs.py --cases N --seed S`` (see its docstring).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from scripts.fuzz_inputs import KINDS, Workspace, check_case, main, make_workspace, mutate, run_cases


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return make_workspace(tmp_path_factory.mktemp("fuzz") / "template")


def test_the_valid_files_are_read_without_a_note(template: Workspace) -> None:
    for kind in KINDS:
        outcome = check_case(template, kind)
        assert outcome.refused is None
        assert outcome.notes == ()


def test_mutations_are_seeded_and_change_the_file(template: Workspace) -> None:
    for kind in KINDS:
        original = template.target(kind).read_bytes()
        first = mutate(original, random.Random("s:1"), lines=kind == "ledger")
        assert first == mutate(original, random.Random("s:1"), lines=kind == "ledger")
        assert first != original or kind == "ledger"


def test_every_mutated_file_is_refused_naming_it_or_read_with_notes(template: Workspace, tmp_path: Path) -> None:
    counts, failures = run_cases(template, cases=40, seed=20261123, scratch=tmp_path)
    assert failures == []
    assert counts["refused"] > 0
    assert counts["read with notes"] > 0


def test_a_refusal_names_the_mutated_file(template: Workspace, tmp_path: Path) -> None:
    for case, kind in enumerate(("config", "parent", "manifest", "ledger") * 2):
        copy = Workspace(tmp_path / f"case-{case}")
        shutil.copytree(template.root, copy.root)
        target = copy.target(kind)
        target.write_bytes(b"\xff" + target.read_bytes())  # not UTF-8 any more (or a torn ledger line)
        outcome = check_case(copy, kind)
        if kind == "ledger":
            assert outcome.refused is None
            assert any(":1: skipped an unreadable line" in note for note in outcome.notes)
        else:
            assert outcome.refused is not None
            assert str(target) in outcome.refused


def test_the_script_reports_and_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--cases", "8", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("fuzz_inputs: 8 cases, seed 3,")
    assert "property broken: 0" in out


@pytest.mark.slow
def test_many_mutated_files_never_break_the_property(template: Workspace, tmp_path: Path) -> None:
    _, failures = run_cases(template, cases=2000, seed=7, scratch=tmp_path)
    assert failures == [], failures[:5]
