"""Cheaper at the same quality: one decision from two sequential tests on the same pairs (intersection-union).

The cost optimiser's question is "is the candidate not worse on success by ``delta`` or more, AND cheaper?".
It is answered by two tests fed the same pairs in planned order:

* **quality**: the paired success GSPRT asking only ``worse`` (``stats.sprt``, with the calibrated design): its
  ``not_worse`` rejects "success drops by delta" (a false ``not_worse`` at a drop of delta: probability <= beta,
  by the calibration, at every discordance), its ``worse`` rejects "no change" (false: <= alpha);
* **cost**: the paired median-ratio test asking only ``better`` with the effect ratio r (``stats.paired_ratio``):
  its ``better`` rejects "not cheaper" (median cost ratio >= 1; false: <= alpha), its ``not_better`` rejects
  "cheaper by r or more" (false: <= beta).

Verdicts, the first reached being final:

* ``worse_quality``: the quality test decided ``worse``;
* ``not_cheaper``: the cost test ruled out a saving of r or more;
* ``cheaper_same_quality``: the quality test decided ``not_worse`` **and** the cost test decided ``better``;
* ``None`` while neither; at the cap the quality test takes its last look once, and a run that is still
  undecided is inconclusive.

**Why the claim's error is controlled (intersection-union).** "Cheaper at the same quality" is claimed only when
both component claims are made. Its null hypothesis is the union "quality drops by delta OR not cheaper": whenever
it holds, at least one component null holds, and the claim needs that component to be wrong, so
``P(false cheaper_same_quality) <= max(P(false not_worse), P(false cost better)) <= max(beta, alpha)``. No
multiplicity correction is needed (Berger 1982): each test runs at its own level, and each is valid at any stop
(the GSPRT's first crossing is final; the confidence sequences hold at every time), so it does not matter that the
run stops when the other test decides. With the defaults (alpha 0.05, beta 0.10) the bound is 0.10: the quality
half's level is the regression test's beta, the rate the shipped calibration holds at every discordance.

The other errors: ``worse_quality`` with no change in success: <= alpha; ``not_cheaper`` at a true cost ratio of r
or lower: <= beta. A candidate that is truly as good and cheaper by r is missed (a wrong verdict or none) with a
probability that depends on the cap, at most alpha + beta plus the chance of reaching the cap undecided.
"""

from __future__ import annotations

from typing import Any, Literal

from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.paired_ratio import PairedRatioTest
from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

__all__ = ["CSQ_VERDICTS", "CheaperSameQualityTest", "CheaperVerdict"]

CheaperVerdict = Literal["cheaper_same_quality", "not_cheaper", "worse_quality"]
CSQ_VERDICTS: tuple[str, ...] = ("cheaper_same_quality", "not_cheaper", "worse_quality", "inconclusive")


class CheaperSameQualityTest:
    """Feed pairs with :meth:`add_pair` in planned order; :attr:`verdict` as in the module docstring."""

    def __init__(self, settings: SequentialSettings, *, cost_ratio: float, design: PairedDesign | None = None) -> None:
        if not 0 < cost_ratio < 1:
            raise ValueError(f"cost_ratio must be in (0, 1) (a saving), got {cost_ratio!r}")
        self.quality = PairedSequentialTest(settings, "worse", design)
        self.cost = PairedRatioTest(
            alpha=settings.alpha, beta=settings.beta, effect_ratio=cost_ratio, direction="better"
        )
        self._verdict: CheaperVerdict | None = None

    def add_pair(self, control_success: bool, test_success: bool, control_cost: float, test_cost: float) -> None:
        if self._verdict is not None:
            return
        if self.quality.verdict is None:
            self.quality.add_pair(control_success, test_success)
        if self.cost.verdict is None:
            self.cost.add_pair(control_cost, test_cost)
        self._verdict = self._combine()

    def _combine(self) -> CheaperVerdict | None:
        if self.quality.verdict == "worse":
            return "worse_quality"
        if self.cost.verdict == "not_better":
            return "not_cheaper"
        if self.quality.verdict == "not_worse" and self.cost.verdict == "better":
            return "cheaper_same_quality"
        return None

    def conclude(self) -> CheaperVerdict | None:
        """At the cap: the quality test's last look (once), then the combined verdict as it stands."""
        if self._verdict is None:
            self.quality.conclude()
            self._verdict = self._combine()
        return self._verdict

    @property
    def verdict(self) -> CheaperVerdict | None:
        return self._verdict

    @property
    def pairs(self) -> int:
        return self.cost.pairs

    def components(self) -> dict[str, Any]:
        """Each component's state, for the summary."""
        return {
            "quality": {
                "question": "worse",
                "verdict": self.quality.verdict,
                "pairs": self.quality.pairs,
                "llr": dict(self.quality.llr),
                "bounds": list(self.quality.bounds),
            },
            "cost": {"question": "better", **self.cost.snapshot()},
        }
