"""JUnit XML carries per-trial success, tokens and cost as properties, with and without xdist."""

from __future__ import annotations

import json
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


REPORTED_PROPERTIES = """
import json

ROLE = {}

def pytest_configure(config):
    ROLE["worker"] = hasattr(config, "workerinput")

def pytest_runtest_logreport(report):
    if report.when == "teardown" and not ROLE["worker"]:  # the reports the controller got
        with open("properties.jsonl", "a") as handle:
            handle.write(json.dumps([name for name, _ in report.user_properties]) + "\\n")
"""


@pytest.mark.parametrize("junit", [[], ["--junitxml=junit.xml"]], ids=["no-junit", "junit"])
def test_trial_properties_are_added_only_for_junit_xml(agent_suite: pytest.Pytester, junit: list[str]) -> None:
    agent_suite.makeconftest(REPORTED_PROPERTIES)
    result = agent_suite.runpytest("--agent-config=configs/improved.json", "--agent-trials=1", "-n", "2", *junit)
    assert result.ret == pytest.ExitCode.OK
    lines = (agent_suite.path / "properties.jsonl").read_text().splitlines()
    assert len(lines) == 6 * 2
    expected = {"agentopt.arm", "agentopt.outcome", "agentopt.cost_usd"} if junit else set()
    assert all(expected <= set(json.loads(line)) for line in lines)
    assert all(bool(json.loads(line)) == bool(junit) for line in lines)
