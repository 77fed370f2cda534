"""JUnit XML carries per-trial success, tokens and cost as properties, with and without xdist."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_junit_xml_has_per_trial_properties(agent_suite: pytest.Pytester, workers: list[str]) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/improved.json", "--agent-trials=2", "--junitxml=junit.xml", *workers
    )
    assert result.ret == pytest.ExitCode.OK
    assert "PytestWarning" not in result.stdout.str()  # no record_property warning under xunit2
    cases = ET.parse(agent_suite.path / "junit.xml").getroot().iter("testcase")
    seen = 0
    for case in cases:
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        seen += 1
        assert properties["agentopt.arm"] in {"control", "test"}
        assert properties["agentopt.success"] in {"True", "False"}
        assert properties["agentopt.outcome"] in {"success", "failure"}
        assert (properties["agentopt.outcome"] == "success") == (properties["agentopt.success"] == "True")
        assert properties["agentopt.tokens_input"] == "1000"
        assert properties["agentopt.tokens_output"] == "200"
        assert float(properties["agentopt.cost_usd"] or "nan") == pytest.approx(262.5e-6)
    assert seen == 6 * 2 * 2
