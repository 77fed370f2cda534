"""Several candidates against one control: one paired sequential test per candidate, family-wise error control.

Every arm runs the same tasks with the same trial seeds, so each candidate ``c`` forms pairs with the shared
control (trial ``k`` of task ``t`` under ``control`` and under ``c``). Each candidate has its own
:class:`~pytest_agentopt.run.feeding.SequentialFeeder` over the one planned order: a result moves every feeder's
committed prefix on, and enters only the test of its own candidate (control results enter all of them).

Multiplicity (Bonferroni, the first step of Holm's procedure): each candidate's test runs at ``alpha / K`` for
``K`` candidates, with the usual ``beta`` and effect, and the design ``run.sequential_design.design_for`` gives
for ``alpha / K``: calibrated by the exact DP when the shipped table holds it (the default beta and effect with
K = 2 to 8), else Wald's bounds. A calibrated test holds P(false claim) <= ``alpha / K`` per direction at every
discordance and every cap, and misses a true difference of the effect at most ``beta`` of the time from its
``required_pairs`` on (i.i.d. pairs). Then, under any dependence between the tests (they share the control's
outcomes), the probability that *some* candidate with no true difference is declared ``better`` (or ``worse``)
is at most ``K0 * alpha / K <= alpha`` (``K0`` true nulls; union bound), which is strong family-wise control for
each directional claim, and each candidate's power at the effect is at least ``1 - beta``. Holm's step-down
(raising the level of the undecided tests to ``alpha / (K - j)`` after ``j`` rejections) is *not* applied: a
sequential test's acceptance boundary depends on its level too, and switching levels mid-run breaks the
containment the step-down proof needs (a path kept alive by the stricter acceptance boundary may then cross the
looser rejection boundary); see docs/statistics.md.

False discovery rate instead (``--agent-family-error fdr``): each candidate's test is a
``stats.evidence_paired.EvidencePairedTest``: it stops when one direction's e-value reaches ``K / alpha`` (a
claim e-BH makes whatever the others show), when the GSPRT at ``alpha / K`` accepts its null, or at the cap. At
the end of the run e-BH (``stats.ebh``) runs over the ``K`` e-values of each direction separately
(:func:`false_discovery_claims`): the expected share of false ``better`` claims among the ``better`` claims is
at most alpha, and likewise for ``worse``, under any dependence between the candidates.

A candidate that has decided consumes no more sessions: the controller publishes a per-arm stop (local workers
skip the items of it they hold) and the xdist scheduler drops its items not yet handed out (reported skipped with
the candidate's decision, on every worker, remote ones included); the control runs while any candidate is
undecided (its trials are shared by all candidates). docs/candidates-validation.md bounds the trials a candidate
starts after its decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pytest_agentopt.run.feeding import Decision, SequentialFeeder
from pytest_agentopt.run.options import DEFAULT_FAMILY_ERROR, FamilyError
from pytest_agentopt.stats.wald import Direction


def candidate_alpha(alpha: float, candidates: int) -> float:
    """Each candidate's alpha: ``alpha / K`` (Bonferroni), so that the family-wise error rate is at most alpha."""
    return alpha / max(1, candidates)


@dataclass(frozen=True)
class CandidateDecision:
    arm: str
    decision: Decision


def candidate_feeders(
    candidates: Sequence[str],
    *,
    alpha: float,
    beta: float,
    effect: float,
    direction: Direction,
    family_error: FamilyError = DEFAULT_FAMILY_ERROR,
) -> CandidateFeeders:
    """One paired test per candidate at ``alpha / K`` with the design ``run.sequential_design.design_for`` gives
    (under ``fdr`` the e-value test that claims at ``K / alpha``): what the controller runs, and what ``agentopt
    watch`` and the validation scripts rebuild."""
    from pytest_agentopt.run.feeding import PairedTest
    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.stats.evidence_paired import EvidencePairedTest
    from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

    settings = SequentialSettings(alpha=candidate_alpha(alpha, len(candidates)), beta=beta, delta=effect)
    design = design_for(settings.alpha, beta, effect, direction)

    def paired_test() -> PairedTest:
        if family_error == "fdr":
            return EvidencePairedTest(design, claim_threshold=len(candidates) / alpha)
        return PairedSequentialTest(settings, direction, design)

    return CandidateFeeders(
        {arm: SequentialFeeder(paired_test=paired_test(), test_arm=arm) for arm in candidates},
        family_error=family_error,
        alpha=alpha,
    )


@dataclass(frozen=True)
class FalseDiscoveryClaim:
    """What e-BH claims about one candidate at the end of a run under ``fdr``."""

    verdict: Literal["better", "worse"] | None
    """The claim, or ``None`` when e-BH rejects neither direction's null (the candidate's own verdict stands)."""
    e_values: dict[str, float | None]
    """Each direction's e-value at the candidate's stop (``None`` for a direction the run does not ask)."""
    threshold: float | None
    """The e-value the claim needed, ``K / (alpha k)`` with ``k`` claims in its direction; ``None``: no claim."""


def false_discovery_claims(
    e_values: dict[str, dict[str, float | None]], alpha: float
) -> dict[str, FalseDiscoveryClaim]:
    """e-BH at ``alpha`` over the candidates' e-values (by arm), each direction separately.

    A candidate rejected in both directions (both e-values large: possible only in theory, the two bets oppose
    each other) gets the direction whose e-value exceeds its threshold by more."""
    from pytest_agentopt.stats.ebh import e_bh

    arms = list(e_values)
    rejected: dict[str, dict[str, float]] = {arm: {} for arm in arms}
    for direction in ("better", "worse"):
        asked = [arm for arm in arms if e_values[arm].get(direction) is not None]
        if not asked:
            continue
        # e-BH over all K candidates: a direction not asked of some candidate (never, today) would count as e = 0.
        values = [float(e_values[arm].get(direction) or 0.0) for arm in arms]
        result = e_bh(values, alpha)
        for index in result.rejected:
            rejected[arms[index]][direction] = result.threshold
    claims = {}
    for arm in arms:
        made = rejected[arm]
        if not made:
            claims[arm] = FalseDiscoveryClaim(None, e_values[arm], None)
            continue
        direction = max(made, key=lambda name: float(e_values[arm][name] or 0.0) / made[name])
        claims[arm] = FalseDiscoveryClaim(
            "better" if direction == "better" else "worse", e_values[arm], made[direction]
        )
    return claims


class CandidateFeeders:
    """One feeder per candidate arm over the shared planned order (see the module doc)."""

    def __init__(
        self,
        feeders: dict[str, SequentialFeeder],
        *,
        family_error: FamilyError = DEFAULT_FAMILY_ERROR,
        alpha: float | None = None,
    ) -> None:
        if not feeders:
            raise ValueError("a run with candidates needs at least one")
        if family_error == "fdr" and alpha is None:
            raise ValueError("false discovery rate control needs the family's alpha")
        self.feeders = feeders
        self.family_error: FamilyError = family_error
        self.alpha = alpha

    def false_discovery_claims(self) -> dict[str, FalseDiscoveryClaim] | None:
        """Under ``fdr``: e-BH's claims over the candidates' e-values as they stand (at their stops once each has
        decided or the run has ended); ``None`` under ``fwer``."""
        if self.family_error != "fdr" or self.alpha is None:
            return None
        from pytest_agentopt.stats.evidence_paired import EvidencePairedTest

        e_values = {}
        for arm, feeder in self.feeders.items():
            test = feeder.paired_test
            if not isinstance(test, EvidencePairedTest):
                raise TypeError(f"candidate {arm}'s test has no e-values")
            e_values[arm] = test.e_values
        return false_discovery_claims(e_values, self.alpha)

    @property
    def arms(self) -> Sequence[str]:
        return list(self.feeders)

    def add(self, seq: int, *, task_id: str, arm: str, trial: int, outcome: str) -> list[CandidateDecision]:
        """Record the result at ``seq`` in every feeder; return the decisions it made (several at the cap)."""
        made: list[CandidateDecision] = []
        for name, feeder in self.feeders.items():
            decision = feeder.add(seq, task_id=task_id, arm=arm, trial=trial, outcome=outcome)
            if decision is not None:
                made.append(CandidateDecision(name, decision))
        return made

    def set_plan_size(self, plan_size: int) -> None:
        for feeder in self.feeders.values():
            feeder.plan_size = plan_size

    @property
    def plan_size(self) -> int | None:
        return next(iter(self.feeders.values())).plan_size

    def conclude_if_complete(self) -> list[CandidateDecision]:
        """At the cap: each undecided candidate's last look (see ``SequentialFeeder.conclude_if_complete``)."""
        made = []
        for name, feeder in self.feeders.items():
            before = feeder.decision
            decision = feeder.conclude_if_complete()
            if decision is not None and before is None:
                made.append(CandidateDecision(name, decision))
        return made

    def decided(self, arm: str) -> bool:
        feeder = self.feeders.get(arm)
        return feeder is not None and feeder.decision is not None

    @property
    def all_decided(self) -> bool:
        return all(feeder.decision is not None for feeder in self.feeders.values())

    @property
    def undecided(self) -> list[str]:
        return [arm for arm, feeder in self.feeders.items() if feeder.decision is None]

    def is_after_decision(self, arm: str, seq: int) -> bool:
        """A candidate's trial after its own decision; a control trial after every candidate's decision."""
        feeder = self.feeders.get(arm)
        if feeder is not None:
            return feeder.is_after_decision(seq)
        decisions = [f.decision for f in self.feeders.values()]
        return all(d is not None for d in decisions) and seq > max(d.seq for d in decisions if d is not None)

    @property
    def committed(self) -> int:
        return next(iter(self.feeders.values())).committed

    @property
    def waiting(self) -> int:
        return next(iter(self.feeders.values())).waiting

    def decisions(self) -> Iterable[tuple[str, Decision | None]]:
        return ((arm, feeder.decision) for arm, feeder in self.feeders.items())
