"""What a CI log shows: warnings under -q, failure messages uncut outside a terminal."""

from __future__ import annotations

import pytest

from tests.plugin.helpers import write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=1", "-p", "no:randomly"]


def test_minus_q_still_shows_every_warning(pytester: pytest.Pytester) -> None:
    write_configs(pytester, model_id="mystery-model-9")  # genai-prices has no price for it: cost unknown
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    result = pytester.runpytest(*ARGS, "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "agentopt: warning: estimated cost unknown for model 'mystery-model-9'*",
            "agentopt: verdict *",
        ]
    )


LONG = "the agent bought " + "a very long list of the wrong things, " * 8 + "and stopped"
SUITE = f"""
import pytest

@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task, agent_config, agent_trial):
    assert False, {LONG!r}
"""


def test_minus_v_outside_a_terminal_keeps_whole_failure_messages(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest(*ARGS, "-v")  # pytester's output is not a terminal, as in a CI log
    assert len(LONG) > 300
    lines = [line for line in result.stdout.lines if line.startswith("  test_suite.py::test_task[")]
    assert len(lines) == 4
    assert all(line.endswith(f"AssertionError: {LONG} (test_suite.py:5)") for line in lines), lines
