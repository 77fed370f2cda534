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


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_a_failed_trial_says_what_went_wrong_where_junit_viewers_look(
    agent_suite: pytest.Pytester, workers: list[str]
) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/improved.json",
        "--agent-trials=2",
        "--junitxml=junit.xml",
        "-p",
        "no:randomly",
        *workers,
    )
    assert result.ret == pytest.ExitCode.OK
    root = ET.parse(agent_suite.path / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "0"  # agent failures stay data: no <failure>, no <skipped>
    failed = 0
    for case in root.iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert case.find("failure") is None
        assert case.find("skipped") is None
        outs = [node.text for node in case.iter("system-out")]
        if properties["agentopt.outcome"] == "success":
            assert "agentopt.error_type" not in properties
            assert outs == []
            continue
        failed += 1
        task = str(case.get("name")).split("[")[1].split("-")[0]
        assert properties["agentopt.error_type"] == "AssertionError"
        assert str(properties["agentopt.message"]).startswith(f"{task} failed")
        arm, trial = properties["agentopt.arm"], properties["agentopt.trial"]
        assert outs == [
            f"agentopt: agent_failed ({arm} arm, trial {trial}): AssertionError: {properties['agentopt.message']}"
        ]
    assert failed > 0
