"""The sentences that say what a verdict shows: which hypothesis was rejected, at which error rate.

A sequential test that decides ``better`` has rejected "no difference" at level alpha: the evidence favours an
improvement of ``effect`` over none. It has not shown that the improvement *is* ``effect`` (a true effect of half
of it is declared ``better`` about half of the time), so the sentences never say "improvement of 0.15 accepted".
Likewise ``not_worse`` rejects "a regression of ``effect``" with error beta, and ``below_target`` rejects "the
target is met" with error beta, which says nothing of the rates between ``target - effect`` and ``target``.

"At most" is said only of calibrated error rates (the paired test's calibrated design, the one-sample SPRT whose
exact rates are known). Wald's uncalibrated bounds give "nominally" with the caveat that the exact rate is not
computed: the figure is the design's target, never claimed as a bound (it can be exceeded a little at some
discordances).

Pure functions of plain values; ``report/summary.py`` stores the result in ``verdict_reason``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pytest_agentopt.storage.summary_schema import RunSummary


def _rate(calibrated: bool) -> str:
    return "at most" if calibrated else "nominally"


def _uncalibrated(calibrated: bool) -> str:
    return "" if calibrated else "; Wald's bounds, exact rate not computed"


def _when(units: int, unit: str, at_cap: bool) -> str:
    return f"after {units} {unit}" + (" (the last look at the cap)" if at_cap else "")


def paired_sequential_reason(
    verdict: str, *, units: int, effect: float, alpha: float, beta: float, calibrated: bool, at_cap: bool
) -> str:
    """What a paired sequential verdict shows (``better``, ``worse``, ``no_difference``, ``not_better``,
    ``not_worse``)."""
    when = _when(units, "pairs", at_cap)
    rate = _rate(calibrated)
    caveat = _uncalibrated(calibrated)
    if verdict == "better":
        return (
            f"test is better than control: 'no difference' rejected {when}, the evidence favouring an improvement "
            f"of {effect:g} over none (false 'better' {rate} {alpha:g}{caveat})"
        )
    if verdict == "worse":
        return (
            f"test is worse than control: 'no difference' rejected {when}, the evidence favouring a regression "
            f"of {effect:g} over none (false 'worse' {rate} {alpha:g}{caveat})"
        )
    if verdict == "not_worse":
        return (
            f"test is not worse than control by {effect:g}: 'a regression of {effect:g}' rejected {when} "
            f"(such a regression passes {rate} {beta:g} of the time{caveat})"
        )
    if verdict == "not_better":
        return (
            f"test is not better than control by {effect:g}: 'an improvement of {effect:g}' rejected {when} "
            f"(such an improvement is missed {rate} {beta:g} of the time{caveat})"
        )
    if verdict == "no_difference":
        return (
            f"no difference of {effect:g} or more either way: both 'an improvement of {effect:g}' and 'a "
            f"regression of {effect:g}' rejected {when} (each is missed {rate} {beta:g} of the time{caveat})"
        )
    raise ValueError(f"not a paired sequential verdict: {verdict!r}")


def target_reason(
    verdict: str, *, units: int, target: float, effect: float, alpha: float, beta: float, at_cap: bool = False
) -> str:
    """What a one-config-against-a-target verdict shows. H0: p = target - effect, H1: p = target (Wald's SPRT,
    with the last look at the cap whose thresholds keep both rates: ``stats.target_design``)."""
    below = target - effect
    when = _when(units, "trials", at_cap)
    if verdict == "meets_target":
        return (
            f"success rate meets the target {target:g}: 'p <= {below:g}' rejected {when}, the evidence "
            f"favouring p = {target:g} over p = {below:g} (a config at {below:g} or below passes at most {alpha:g} "
            "of the time)"
        )
    if verdict == "below_target":
        return (
            f"success rate below the target {target:g}: 'p >= {target:g}' rejected {when}, the evidence "
            f"favouring p = {below:g} over p = {target:g} (a config at the target fails at most {beta:g} of the "
            f"time; rates between {below:g} and {target:g} may end either way)"
        )
    raise ValueError(f"not a target verdict: {verdict!r}")


def unfinished_reason(units: int, unit: str, *, cap_reached: bool, trials_needed: int | None) -> str:
    """Why a sequential run ended without a verdict."""
    if not cap_reached:
        return f"the run ended after {units} {unit} before the sequential test decided"
    fix = f"--agent-trials={trials_needed} (or no --agent-trials)" if trials_needed else "raise --agent-trials"
    return (
        f"the cap was reached after {units} {unit} without a decision (the last look, if any, was undecided: "
        f"the cap is too small for both error rates); {fix}"
    )


def consistency_note(summary: RunSummary) -> str | None:
    """One line when the verdict and the effect's interval seem to disagree, saying why they do not.

    After a sequential stop the verdict rests on the test's error rates, while the interval is a time-uniform
    confidence sequence (valid at any stopping time, so wider than a fixed-n interval): a ``better`` verdict can
    come with an interval that still includes 0, a ``no_difference`` with one that reaches beyond the effect.
    """
    effect = summary["effect"]
    verdict = summary["verdict"]
    if summary["decided_by"] != "sprt" or effect is None:
        return None
    lower, upper = effect["lower"], effect["upper"]
    settings = summary["settings"]
    delta, alpha = settings["effect"], settings["alpha"]
    if verdict in ("better", "worse") and lower <= 0.0 <= upper:
        seen = "includes 0"
    elif verdict in ("no_difference", "not_worse", "not_better"):
        outside = (verdict != "not_better" and lower <= -delta) or (verdict != "not_worse" and upper >= delta)
        if not outside:
            return None
        seen = f"reaches beyond {delta:g}"
    else:
        return None
    beta = settings["beta"]
    rate = f"alpha {alpha:g} per direction" if verdict in ("better", "worse") else f"beta {beta:g}"
    return (
        f"the interval {seen} although the test decided: the verdict's error rate is the sequential test's "
        f"({rate}), while the interval is a time-uniform confidence sequence, valid at any stopping time and so "
        "wider than the test's evidence"
    )


def family_error_statement(multiplicity: str, alpha: float, candidates: int) -> str:
    """What a run with several candidates controls across them, for the terminal and the reports.

    ``e-bh`` is proven (``docs/statistics.md``); Bonferroni's family-wise figure holds when each test holds its own
    ``alpha / K``, which Wald's bounds do not do exactly (``docs/candidates-validation.md``), so it is stated as
    the procedure, not as a bound."""
    if multiplicity == "e-bh":
        return (
            f"false discovery rate <= {alpha:g} (e-BH over the {candidates} candidates' e-values), for the "
            "'better' claims and for the 'worse' claims separately"
        )
    return f"family-wise error rate controlled by Bonferroni: each candidate's test at alpha {alpha:g}/{candidates}"
