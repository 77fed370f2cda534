"""What an agent trial that did not succeed shows in pytest's JUnit XML (``--junitxml``), on the controller.

An agent failure is data, not a broken test: its test case stays ``passed`` (a ``<failure>`` would fail CI checks
built on the XML, and ``<skipped>`` would say the trial did not run and hide it from the passed/failed counts).
What went wrong is carried where JUnit viewers look for it besides ``<failure>``:

* ``<properties>`` of the test case (added on the worker, see ``items._junit_properties``):
  ``agentopt.outcome``, ``agentopt.error_type``, ``agentopt.message``, next to tokens and cost - for scripts and
  viewers that read properties (Jenkins' JUnit plugin shows them on the test's page);
* one ``<system-out>`` line, ``agentopt: agent_failed (test arm, trial 3): AssertionError: wrong coupon``: Jenkins
  shows a test case's standard output on its page whether it passed or not; GitLab shows ``system-out`` only for
  failed tests and ignores properties, GitHub's JUnit actions read ``<failure>`` messages only, so in those the
  per-trial detail stays in the XML (and in the run's ledger, CSV and reports) rather than on screen.

The run's verdict goes into the test suite's ``<properties>`` (``agentopt.verdict``, ``agentopt.run_id``) and, in
a run with several candidates, one group per candidate: ``agentopt.candidate.<experiment_id>.verdict``,
``.pairs_used``, ``.decided_by`` and ``.effect`` (test minus control, with its interval) - the per-candidate rows
of the other reports, where CI tools that read JUnit XML look for run-level figures (pytest's own
``record_testsuite_property``).

pytest has no public API to add ``system-out`` to a passed test case (``junit_logging`` only copies captured
output), so this uses the junitxml plugin's node reporter; if a pytest version changes it, the line is left out
and the properties remain.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

import pytest
from _pytest.junitxml import bin_xml_escape, xml_key

from pytest_agentopt.storage.trial_record import TrialRecord

__all__ = ["OUTCOME_WORDS", "JunitTrialOutput", "summary_properties", "trial_line"]

OUTCOME_WORDS = {
    "failure": "agent_failed",
    "error": "agent_error",
    "timeout": "agent_timeout",
    "infra_error": "infra_error",
}


def trial_line(record: TrialRecord) -> str:
    """``agentopt: agent_failed (test arm, trial 3): AssertionError: wrong coupon`` for a trial that failed."""
    word = OUTCOME_WORDS.get(record["outcome"], record["outcome"])
    what = ": ".join(str(part) for part in (record["error_type"], record["message"]) if part)
    return f"agentopt: {word} ({record['arm']} arm, trial {record['trial']})" + (f": {what}" if what else "")


def summary_properties(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(name, value)`` of the run's verdict and of each candidate's (missing figures: ``-``)."""
    from pytest_agentopt.number_format import interval, signed

    properties = [
        ("agentopt.run_id", str(summary.get("run_id") or "-")),
        ("agentopt.verdict", str(summary.get("verdict") or "-")),
    ]
    for candidate in summary.get("candidates") or []:
        if not isinstance(candidate, Mapping):
            continue
        prefix = f"agentopt.candidate.{candidate.get('experiment_id')}"
        raw_effect = candidate.get("effect")
        effect: Mapping[str, Any] = raw_effect if isinstance(raw_effect, Mapping) else {}
        estimate = effect.get("estimate")
        shown = (
            f"{signed(estimate, 3)} {interval([effect.get('lower'), effect.get('upper')], lambda v: signed(v, 3))}"
            if isinstance(estimate, int | float)
            else "-"
        )
        pairs = candidate.get("pairs_used")
        properties += [
            (f"{prefix}.verdict", str(candidate.get("verdict") or "inconclusive")),
            (f"{prefix}.pairs_used", str(pairs) if pairs is not None else "-"),
            (f"{prefix}.decided_by", str(candidate.get("decided_by") or "-")),
            (f"{prefix}.effect", shown),
        ]
    return properties


class JunitTrialOutput:
    """Adds the ``system-out`` line of each trial that did not succeed to pytest's JUnit XML, if it is written."""

    def __init__(self, config: pytest.Config) -> None:
        self._xml: Any = None
        self._escape: Any = str
        if config.getoption("xmlpath", None):
            try:
                self._xml = config.stash.get(xml_key, None)
                self._escape = bin_xml_escape  # what pytest does to any text it puts in the XML
            except ImportError:  # another pytest: properties only
                self._xml = None

    def add_summary(self, summary: Mapping[str, Any]) -> None:
        """The run's verdict and each candidate's, as test-suite properties (see the module docstring)."""
        if self._xml is None:
            return
        try:
            for name, value in summary_properties(summary):
                self._xml.add_global_property(name, value)
        except Exception:  # a changed junitxml internal: leave them out, never fail the run for it
            self._xml = None

    def add(self, report: pytest.TestReport, record: TrialRecord) -> None:
        if self._xml is None or record["outcome"] == "success" or report.when != "call":
            return
        try:
            node = ET.Element("system-out")
            node.text = str(self._escape(trial_line(record)))
            self._xml.node_reporter(report).append(node)
        except Exception:  # a changed junitxml internal: leave the line out, never fail the run for it
            self._xml = None
