"""The paired test of one candidate when a run with several candidates controls the false discovery rate.

It answers the same questions as ``stats.sprt.PairedSequentialTest`` (``direction``) and gives the same verdicts,
but a claim (``better``/``worse``) is made by an e-value, not by the GSPRT's upper boundary: each direction runs
an e-process (``stats.e_process``) and claims once it reaches ``claim_threshold`` (``K / alpha`` for ``K``
candidates: the e-value with which e-BH rejects a hypothesis whatever the others' e-values). The GSPRT at
``alpha / K`` still runs beside it for the other way to stop: a direction accepts its null (``not_better`` /
``not_worse``; ``no_difference`` once both have) when the GSPRT's LLR reaches its lower boundary (or at the last
look at the cap, when the design has one); its upper boundary is never used. Each direction freezes when it
decides, its e-value with it; the test stops once the verdict is reached (or at the cap), so every e-value is
taken at a stopping time of the pairs and keeps its guarantee. The final claims are made by e-BH over every
candidate's e-values at the end of the run (``run.candidates.false_discovery_claims``), which may reject a
candidate whose e-value stayed below ``K / alpha`` (at ``K / (alpha k)`` with ``k`` rejections).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from pytest_agentopt.stats.e_process import DiscordantEProcess
from pytest_agentopt.stats.sprt import PairCounts, combine_states, paired_llr

if TYPE_CHECKING:
    from pytest_agentopt.stats.design import PairedDesign
    from pytest_agentopt.stats.sprt import OneSidedView, PairedVerdict, TestState
    from pytest_agentopt.stats.wald import Direction


class _OneDirection:
    """One direction: its e-process, the GSPRT's LLR for the acceptance, and its state (frozen once decided)."""

    def __init__(self, name: str, delta: float) -> None:
        self.e_process = DiscordantEProcess("better" if name == "better" else "worse", delta)
        self.alternative = delta if name == "better" else -delta
        self.llr = 0.0
        self.state: TestState = "running"

    def update(self, difference: int, counts: tuple[int, int, int], lower: float, threshold: float) -> None:
        if self.state != "running":
            return
        self.e_process.add(difference)
        self.llr = paired_llr(*counts, 0.0, self.alternative)
        if self.e_process.log_value >= math.log(threshold):
            self.state = "accepted_h1"
        elif self.llr <= lower:
            self.state = "accepted_h0"


class EvidencePairedTest(PairCounts):
    """A candidate's paired test under false discovery rate control (see the module doc).

    ``design`` is the GSPRT design at the candidate's ``alpha / K`` (its lower boundary and last look are used);
    ``claim_threshold`` is ``K / alpha``. It has the interface the feeder and the readers use
    (``run.feeding.PairedTest``) and the e-values (``e_values``) e-BH reads at the end.
    """

    def __init__(self, design: PairedDesign, claim_threshold: float) -> None:
        if not claim_threshold >= 1.0:
            raise ValueError(f"claim_threshold must be at least 1, got {claim_threshold!r}")
        self.design = design
        self.direction: Direction = design.direction
        self.claim_threshold = claim_threshold
        self._better = _OneDirection("better", design.delta)
        self._worse = _OneDirection("worse", design.delta)
        self._start_counts()

    def _one_sided(self) -> tuple[OneSidedView, OneSidedView]:
        return self._better, self._worse

    def _asked(self) -> list[_OneDirection]:
        return [
            test
            for test, asked in ((self._better, self.direction != "worse"), (self._worse, self.direction != "better"))
            if asked
        ]

    def add_pair(self, control_success: bool, test_success: bool) -> None:
        """Feed one pair. O(1). Ignored once decided."""
        if self._verdict is not None or self._concluded:
            return
        difference = self._count(control_success, test_success)
        counts = (self._wins, self._losses, self._ties)
        for test in self._asked():
            test.update(difference, counts, self._bounds[0], self.claim_threshold)
        self._verdict = combine_states(self._better.state, self._worse.state, self.direction)

    def conclude(self) -> PairedVerdict | None:
        """At the cap: the directions still running accept their null at the design's last look (if it has one
        and every running direction is at or below its ``accept_h0``); no claim is made here (e-BH makes them)."""
        if self._verdict is not None or self._concluded:
            return self._verdict
        self._concluded = True
        look = self.design.last_look(self.pairs)
        if look is None:
            return None
        self._last_look = look
        running = [test for test in self._asked() if test.state == "running"]
        if running and all(test.llr <= look[0] for test in running):
            for test in running:
                test.state = "accepted_h0"
        self._verdict = combine_states(self._better.state, self._worse.state, self.direction)
        return self._verdict

    @property
    def e_values(self) -> dict[str, float | None]:
        """Each asked direction's e-value (at its stop, or now while it runs); ``None`` for one not asked."""
        return {
            "better": None if self.direction == "worse" else self._better.e_process.value,
            "worse": None if self.direction == "better" else self._worse.e_process.value,
        }
