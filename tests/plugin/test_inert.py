"""Without --agent-config the plugin does nothing: no header, no files, no changed outcomes."""

from __future__ import annotations

import re

import pytest

PLAIN_SUITE = """
import pytest

def test_passes():
    assert True

def test_fails():
    assert 1 == 2

@pytest.mark.parametrize("x", [1, 2, 3])
def test_param(x):
    assert x != 2

@pytest.mark.skip(reason="nope")
def test_skipped():
    pass
"""


def normalised_lines(output: str) -> list[str]:
    """The output's lines, sorted, without what may differ between two runs of the same suite.

    That is pytest's ``plugins:`` line (it names the plugin whether it is active or not), durations (with the
    ``=`` padding of the final line, which is one character shorter when the duration is one digit longer), and
    the order of the progress letters under xdist. Comparing against a run with ``-p no:agentopt`` (rather than
    searching for the word "agentopt") keeps the test independent of where the checkout and the virtual
    environment live.
    """
    lines = []
    for line in output.splitlines():
        if line.startswith("plugins:"):
            continue
        line = re.sub(r"\d+(\.\d+)?s( \(\d+:\d\d:\d\d\))?", "Ns", line)
        line = line.strip("= ") if line.startswith("=") else line
        progress = re.fullmatch(r"([.FsExX]+)(\s+\[\s*\d+%\])", line)
        if progress:
            line = "".join(sorted(progress.group(1))) + progress.group(2)
        lines.append(line)
    return sorted(lines)


def test_the_comparison_ignores_durations_and_their_padding() -> None:
    # A loaded machine makes one run take 10.85 s and the other 9.95 s: pytest pads the shorter line with one "=".
    slow = "=================== 2 failed, 3 passed, 1 skipped in 10.85s ===================="
    fast = "==================== 2 failed, 3 passed, 1 skipped in 9.95s ===================="
    assert normalised_lines(slow) == normalised_lines(fast) == ["2 failed, 3 passed, 1 skipped in Ns"]
    assert normalised_lines("== 1 passed in 65.20s (0:01:05) ==") == ["1 passed in Ns"]
    assert normalised_lines("== 1 passed in 1s ==") != normalised_lines("== 1 failed in 1s ==")


def files_under(pytester: pytest.Pytester) -> set[str]:
    """The files a run left, without caches and what ``runpytest_subprocess`` itself writes."""
    ignored = {"__pycache__", ".pytest_cache", "stdout", "stderr"}

    def is_ignored(parts: tuple[str, ...]) -> bool:
        return bool(ignored.intersection(parts)) or parts[0].startswith("runpytest-")

    return {
        str(path.relative_to(pytester.path))
        for path in pytester.path.rglob("*")
        if not is_ignored(path.relative_to(pytester.path).parts)
    }


def test_it_changes_nothing_in_a_plain_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN_SUITE)
    before = files_under(pytester)
    # Fresh processes, as a user runs pytest: in-process, the outer pytest has already imported the plugin, and
    # the inner one warns that it cannot rewrite its asserts.
    with_plugin = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    without_plugin = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:agentopt")
    assert (
        with_plugin.parseoutcomes()
        == without_plugin.parseoutcomes()
        == {
            "passed": 3,
            "failed": 2,
            "skipped": 1,
        }
    )
    assert with_plugin.ret == without_plugin.ret == pytest.ExitCode.TESTS_FAILED
    assert normalised_lines(with_plugin.stdout.str()) == normalised_lines(without_plugin.stdout.str())
    assert files_under(pytester) == before  # no .agentopt/, no ledger, nothing


def test_it_keeps_plain_outcomes_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN_SUITE)
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2")
    without_plugin = pytester.runpytest("-p", "no:randomly", "-p", "no:cacheprovider", "-p", "no:agentopt", "-n", "2")
    result.assert_outcomes(passed=3, failed=2, skipped=1)
    assert normalised_lines(result.stdout.str()) == normalised_lines(without_plugin.stdout.str())
    assert not (pytester.path / ".agentopt").exists()


def test_agent_tasks_are_skipped_with_a_pointer_when_inactive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tasks="""
        import pytest

        def test_uses_fixture(agent_trial):
            pass

        @pytest.mark.agent_task(code="x")
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*test_tasks.py:*: agent task: run with --agent-config=CONFIG*"])
    assert not (pytester.path / ".agentopt").exists()


def test_the_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_tasks="""
        import pytest

        @pytest.mark.agent_task(code="x")
        def test_marked():
            pass
        """
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:randomly")
    result.assert_outcomes(skipped=1)


def test_workers_stay_import_light_for_tasks_that_need_nothing_heavy(pytester: pytest.Pytester) -> None:
    """The entry point runs in every worker: a task that asks for no config and records no usage costs no
    pydantic, numpy or genai-prices import there (each is a fifth of a second or more per process), and no worker
    imports what only the controller does at start-up (its activation, the run lock, the hash dictionary and
    their filelock)."""
    from tests.plugin.helpers import write_configs

    write_configs(pytester)
    pytester.makepyfile(
        test_light="""
        import os
        import sys
        import pytest

        @pytest.mark.agent_task(code="light")
        def test_light():
            heavy = {"pydantic", "numpy", "genai_prices", "scipy"} & set(sys.modules)
            assert not heavy, heavy
            controller_only = {
                "filelock",
                "pytest_agentopt.shell.activation",
                "pytest_agentopt.storage.run_lock",
                "pytest_agentopt.storage.hash_dictionary",
            }
            assert "PYTEST_XDIST_WORKER" in os.environ
            assert not controller_only & set(sys.modules), controller_only & set(sys.modules)
        """
    )
    # (pytest-randomly imports numpy itself to reseed it, so it is left out here)
    result = pytester.runpytest_subprocess(
        "--agent-config=configs/improved.json", "--agent-trials=2", "-n", "2", "-p", "no:randomly"
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*4 passed*"])
