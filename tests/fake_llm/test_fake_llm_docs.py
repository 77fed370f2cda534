"""Every code block of ``docs/fake_llm.md`` runs as it is, against the real SDKs.

A block that defines a ``test_`` function is a test file: it runs under pytest (with the plugin, so the
``fake_llm`` fixture is there, and with ``--agent-config`` when it is an agent task); any other block is a script
and is executed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "fake_llm.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_page_documents_every_scripting_and_inspection_name() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("FakeUsage", "reply_json", "reply_tool_call", "fail(", "delay(", "anthropic_base_url", "requests"):
        assert f"`{name}" in text, name
    assert len(BLOCKS) >= 10


@pytest.mark.parametrize("index", [i for i, block in enumerate(BLOCKS) if "def test_" not in block])
def test_each_script_example_runs(index: int) -> None:
    code = compile(BLOCKS[index], f"{DOC.name} example {index + 1}", "exec")
    exec(code, {"__name__": f"fake_llm_doc_example_{index + 1}"})


@pytest.mark.parametrize("index", [i for i, block in enumerate(BLOCKS) if "def test_" in block])
def test_each_test_file_example_passes(index: int, pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_example=BLOCKS[index])
    args: list[str] = ["-p", "no:randomly", "-p", "no:cacheprovider"]
    if "agent_config" in BLOCKS[index]:
        (pytester.path / "exp.json").write_text(json.dumps({"experiment_id": "exp", "model_id": "gpt-4.1-mini"}))
        args += ["--agent-config=exp.json", "--agent-control=none", "--agent-trials=2", "--agent-json=summary.json"]
    result = pytester.runpytest(*args)
    assert result.ret == 0, result.stdout.str()
    if "agent_config" in BLOCKS[index]:
        summary = json.loads((pytester.path / "summary.json").read_text())
        test = summary["arms"]["test"]
        assert test["successes"] == test["trials"] == 2
        assert test["cost_usd"] is not None
        assert test["cost_usd"] > 0
    else:
        result.assert_outcomes(passed=1)
