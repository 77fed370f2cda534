"""The live progress line on the controller: trials, pairs used, LLR against both bounds, running cost.

On a terminal it is one line rewritten in place (agent items then print no progress letters); in a CI log, where
nothing can be rewritten, a line is printed every few seconds. Nothing with ``-q``; with ``-v`` pytest's own
per-item lines are kept and the progress line is off.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest

from pytest_agentopt.number_format import usd
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.storage.run_context import RunContext
from pytest_agentopt.storage.trial_record import TrialRecord

REWRITE_INTERVAL_S = 0.1
LOG_INTERVAL_S = 5.0


class ProgressLine:
    def __init__(self, config: pytest.Config, context: RunContext, *, resumed: Sequence[TrialRecord] = ()) -> None:
        self.context = context
        reporter: pytest.TerminalReporter | None = config.pluginmanager.getplugin("terminalreporter")
        self._reporter = reporter
        verbosity = config.get_verbosity()
        self.enabled = reporter is not None and verbosity == 0
        self.tty = bool(reporter is not None and getattr(reporter, "isatty", reporter.hasmarkup))
        self.replaces_letters = self.enabled
        # A resumed run counts its earlier trials and spend too (the plan size includes them).
        self._trials = len(resumed)
        known = [r["cost_usd"] for r in resumed if r["cost_usd"] is not None]
        self._cost = sum(known)
        self._cost_known = bool(known)
        self._started = time.monotonic()
        self._last = self._started
        self._written = False

    def update(self, record: TrialRecord, feeder: SequentialFeeder | None, plan_size: int | None) -> None:
        self._trials += 1
        if record["cost_usd"] is not None:
            self._cost += record["cost_usd"]
            self._cost_known = True
        if not self.enabled or self._reporter is None:
            return
        now = time.monotonic()
        decided = feeder is not None and feeder.decision is not None
        interval = REWRITE_INTERVAL_S if self.tty else LOG_INTERVAL_S
        if now - self._last < interval and not decided:
            return
        self._last = now
        line = self.text(feeder, now, plan_size)
        if self.tty:
            self._reporter.rewrite(line, erase=True)
        else:
            self._reporter.ensure_newline()
            self._reporter.write_line(line)
        self._written = True

    def text(self, feeder: SequentialFeeder | None, now: float, plan_size: int | None = None) -> str:
        planned = f"/{plan_size}" if plan_size else ""
        parts = [f"agentopt: {self._trials}{planned} trials"]
        if feeder is not None:
            unit = "pairs" if feeder.paired_test is not None else "scored trials"
            parts.append(f"{feeder.units} {unit} in the test")
            if feeder.paired_test is not None or feeder.target_test is not None:
                llr, (lower, upper) = feeder.llr_and_bounds(target_name="LLR")
                shown = " ".join(f"{name} {value:+.2f}" for name, value in llr.items() if value is not None)
                parts.append(f"LLR {shown} in [{lower:+.2f}, {upper:+.2f}]")
            if feeder.decision is not None:
                parts.append(f"decided: {feeder.decision.verdict}")
        parts.append(f"est. {usd(self._cost)}" if self._cost_known else "cost unknown")
        parts.append(f"{now - self._started:.0f}s")
        return " | ".join(parts)

    def close(self) -> None:
        if self.enabled and self.tty and self._written and self._reporter is not None:
            self._reporter.write_line("")
