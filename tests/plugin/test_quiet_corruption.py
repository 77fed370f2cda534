"""Nothing is lost or changed quietly: a damaged hash map is kept aside and rebuilt, files honour the umask."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator

import pytest

from pytest_agentopt.configs.model import text_hash
from tests.plugin.helpers import write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=1", "-p", "no:randomly", "-p", "no:cacheprovider"]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    return pytester


def test_a_damaged_hash_map_is_kept_aside_rebuilt_from_the_manifests_and_reported(suite: pytest.Pytester) -> None:
    earlier = {"guidelines": [f"Earlier guideline {i}" for i in range(12)]}
    (suite.path / "configs" / "many.json").write_text(
        json.dumps({"experiment_id": "many", "parent": "base", **earlier})
    )
    assert suite.runpytest("--agent-config=configs/many.json", *ARGS[1:]).ret == pytest.ExitCode.OK
    hashes = suite.path / ".agentopt" / "hashes.json"
    assert len(json.loads(hashes.read_text())) == 12
    hashes.write_text('{"d41d8cd98f00b204e9800998ecf8427e": "x", ')  # damaged (a disk error, a bad merge)
    result = suite.runpytest(*ARGS, "-q")
    assert result.ret == pytest.ExitCode.OK
    (aside,) = hashes.parent.glob("hashes.json.damaged-*")
    assert aside.read_text() == '{"d41d8cd98f00b204e9800998ecf8427e": "x", '  # kept as it was
    where = hashes.relative_to(suite.path)
    result.stdout.fnmatch_lines(
        [f"agentopt: warning: {where} could not be read (invalid JSON *): kept as {aside.name}; rebuilt from the "
         "manifests of 2 runs (13 prompt components)"]
    )  # fmt: skip
    rebuilt = json.loads(hashes.read_text())
    assert len(rebuilt) == 13  # the 12 of the earlier run, and this run's guideline
    assert rebuilt[text_hash("Check coupon limits first")] == "Check coupon limits first"


@pytest.fixture
def umask() -> Iterator[int]:
    previous = os.umask(0o002)  # a group-shared directory
    try:
        yield 0o002
    finally:
        os.umask(previous)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_every_file_of_a_run_gets_the_mode_the_umask_asks_for(suite: pytest.Pytester, umask: int) -> None:
    result = suite.runpytest(*ARGS, "--agent-csv=trials.csv", "--agent-json=summary.json")
    assert result.ret == pytest.ExitCode.OK
    agent_dir = suite.path / ".agentopt"
    (run,) = (agent_dir / "runs").iterdir()
    files = [agent_dir / "hashes.json", *(run / name for name in ("manifest.json", "trials.jsonl", "summary.json"))]
    files += [suite.path / "trials.csv", suite.path / "summary.json"]
    modes = {
        path.name if path.parent != suite.path else f"--{path.name}": stat.S_IMODE(path.stat().st_mode)
        for path in files
    }
    assert modes == dict.fromkeys(modes, 0o666 & ~umask)
