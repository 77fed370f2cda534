"""Cheaper at the same quality: one decision from two sequential tests on the same pairs (intersection-union).

The cost optimiser's question is "is the candidate not worse on success by ``delta`` or more, AND cheaper?".
It is answered by two tests fed the same pairs in planned order, each at the levels that make the combined
decision keep **both** error rates of the run's settings (alpha, beta):

* **quality**: the paired success GSPRT asking only ``worse`` (``stats.sprt``) at the settings
  :func:`quality_settings` gives: design alpha ``beta / 2`` and design beta ``alpha``. Its ``not_worse`` rejects
  "success drops by delta" (false at a drop of delta: <= alpha), its ``worse`` rejects "no change" (false:
  <= beta / 2). Its boundaries are the calibrated design's when the shipped table
  (``stats/calibrated_paired.json``) holds those settings, else Wald's (the run says so at start-up and in
  ``design.boundaries``);
* **cost**: the paired median-ratio test asking only ``better`` with the effect ratio r (``stats.paired_ratio``)
  at alpha and ``beta / 2``: its ``better`` rejects "not cheaper" (median cost ratio >= 1; false: <= alpha), its
  ``not_better`` rejects "cheaper by r or more" (false: <= beta / 2).

Verdicts, the first reached being final:

* ``worse_quality``: the quality test decided ``worse``;
* ``not_cheaper``: the cost test ruled out a saving of r or more;
* ``cheaper_same_quality``: the quality test decided ``not_worse`` **and** the cost test decided ``better``;
* ``None`` while neither; at the cap the quality test takes its last look once (a calibrated design only), and a
  run that is still undecided is inconclusive.

**A false claim: at most alpha (intersection-union).** "Cheaper at the same quality" is claimed only when both
component claims are made. Its null hypothesis is the union "quality drops by delta OR not cheaper": whenever it
holds, at least one component null holds, and the claim needs that component to be wrong, so
``P(false cheaper_same_quality) <= max(P(false not_worse), P(false cost better)) <= max(alpha, alpha) = alpha``.
No multiplicity correction is needed (Berger 1982): each test runs at its own level, and each is valid at any stop
(the GSPRT's first crossing is final; the confidence sequences hold at every time), so it does not matter that the
run stops when the other test decides.

**A true saving missed: at most beta plus the undecided ends (union bound).** When success is equal and the median
cost ratio is r or lower, a wrong verdict is ``worse_quality`` (<= beta / 2) or ``not_cheaper`` (<= beta / 2), so
``P(worse_quality or not_cheaper) <= beta``; the claim is made with probability at least ``1 - beta`` minus the
chance of reaching the cap undecided, which the cap (``--agent-trials``) sets.

The rates of the quality half are exact (by the DP over the discordance) only with a calibrated design; with
Wald's bounds they can exceed the nominal ones at some discordances (``agentopt plan`` shows by how much).
"""

from __future__ import annotations

from typing import Literal, TypedDict

from pytest_agentopt.stats.design import PairedDesign, paired_design
from pytest_agentopt.stats.paired_ratio import PairedRatioTest, RatioSnapshot
from pytest_agentopt.stats.sprt import PairedSequentialTest, PairedVerdict, SequentialSettings

__all__ = [
    "CSQ_VERDICTS",
    "CheaperSameQualityTest",
    "CheaperVerdict",
    "cost_beta",
    "quality_design",
    "quality_settings",
]

CheaperVerdict = Literal["cheaper_same_quality", "not_cheaper", "worse_quality"]
CSQ_VERDICTS: tuple[str, ...] = ("cheaper_same_quality", "not_cheaper", "worse_quality", "inconclusive")


def quality_settings(settings: SequentialSettings) -> SequentialSettings:
    """The quality half's settings: a false ``not_worse`` (the claim's half) at most ``alpha``, a false ``worse``
    (half of the miss) at most ``beta / 2``; in the design's terms, alpha ``beta / 2`` and beta ``alpha``."""
    return SequentialSettings(alpha=settings.beta / 2.0, beta=settings.alpha, delta=settings.delta)


def quality_design(settings: SequentialSettings) -> PairedDesign:
    """The quality half's design: calibrated when the shipped table holds :func:`quality_settings`, else Wald's."""
    quality = quality_settings(settings)
    return paired_design(quality.alpha, quality.beta, quality.delta, "worse")


def cost_beta(settings: SequentialSettings) -> float:
    """The cost half's beta: a ruled-out saving of r (the other half of the miss) at most ``beta / 2``."""
    return settings.beta / 2.0


class QualityComponent(TypedDict):
    """The success test of ``cheaper_same_quality`` (asking ``worse``), as the summary shows it."""

    question: str
    verdict: PairedVerdict | None
    pairs: int
    llr: dict[str, float | None]
    bounds: list[float]


class CostComponent(RatioSnapshot):
    """The median cost-ratio test of ``cheaper_same_quality`` (asking ``better``), as the summary shows it."""

    question: str


class CheaperComponents(TypedDict):
    """Both components' state (the summary's ``metric.components``)."""

    quality: QualityComponent
    cost: CostComponent


class CheaperSameQualityTest:
    """Feed pairs with :meth:`add_pair` in planned order; :attr:`verdict` as in the module docstring.

    ``settings`` are the run's (alpha, beta, delta): the halves' own levels are derived from them. ``design`` is the
    quality half's (:func:`quality_design` when not given).
    """

    def __init__(self, settings: SequentialSettings, *, cost_ratio: float, design: PairedDesign | None = None) -> None:
        if not 0 < cost_ratio < 1:
            raise ValueError(f"cost_ratio must be in (0, 1) (a saving), got {cost_ratio!r}")
        quality = quality_settings(settings)
        if design is not None and (design.alpha, design.beta, design.delta) != (
            quality.alpha,
            quality.beta,
            quality.delta,
        ):
            raise ValueError(
                f"the quality half's design must be for alpha {quality.alpha:g}, beta {quality.beta:g}, delta "
                f"{quality.delta:g} (quality_design), got alpha {design.alpha:g}, beta {design.beta:g}, "
                f"delta {design.delta:g}"
            )
        self.quality = PairedSequentialTest(quality, "worse", design or quality_design(settings))
        self.cost = PairedRatioTest(
            alpha=settings.alpha, beta=cost_beta(settings), effect_ratio=cost_ratio, direction="better"
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

    def components(self) -> CheaperComponents:
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
