"""The summary of a run that decides on another metric than success (``--agent-metric``): its ``metric`` section,
the verdict and the sentence that says what the verdict shows, and the hypothesis the run tested.

Pure: plain values in, plain values out (``report/summary.py`` calls it; the renderers read the summary).
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_agentopt.report.verdict_text import paired_sequential_reason, unfinished_reason
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.metric_choice import MetricChoice
from pytest_agentopt.run.metric_pairs import MetricPairs
from pytest_agentopt.run.verdicts import hypothesis_status
from pytest_agentopt.stats.paired_ratio import PairedRatioTest
from pytest_agentopt.stats.sprt import PairedSequentialTest
from pytest_agentopt.storage.summary_schema import MetricSection, RunSummary


def _ratio_reason(verdict: str, choice: MetricChoice, units: int, alpha: float, beta: float) -> str:
    ratio = choice.effect_ratio
    assert ratio is not None
    more_or_less = "lower" if ratio < 1 else "higher"
    subject = f"the median per-pair ratio of {choice.name!r} (test / control)"
    when = f"after {units} pairs"
    sentences = {
        "better": f"test is better on {choice.name!r}: {subject} is {more_or_less} than 1, shown {when} "
        f"(false 'better' at most {alpha:g})",
        "worse": f"test is worse on {choice.name!r}: {subject} is on the wrong side of 1, shown {when} "
        f"(false 'worse' at most {alpha:g})",
        "not_better": f"test is not better on {choice.name!r} by the ratio {ratio:g}: such an improvement "
        f"ruled out {when} (missed at most {beta:g} of the time)",
        "not_worse": f"test is not worse on {choice.name!r} by the ratio {1 / ratio:.3g}: such a regression ruled "
        f"out {when} (passes at most {beta:g} of the time)",
        "no_difference": f"no change of {choice.name!r} by the ratio {ratio:g} or more either way: both ruled out "
        f"{when} (each missed at most {beta:g} of the time)",
    }
    return sentences[verdict] + "; the error rates assume independent pairs (docs/statistics.md)"


def _csq_reason(verdict: str, choice: MetricChoice, units: int, effect: float, alpha: float, beta: float) -> str:
    when = f"after {units} pairs"
    if verdict == "cheaper_same_quality":
        return (
            f"test is cheaper at the same quality: success not worse by {effect:g} and the median per-pair cost "
            f"ratio below 1, both shown {when} (a false claim at most {alpha:g}: intersection-union of the two "
            "tests)"
        )
    if verdict == "worse_quality":
        return (
            f"test is worse on success than control: 'no difference' rejected {when} (false at most {beta / 2:g}, "
            "half of the claim's beta)"
        )
    return (
        f"test is not cheaper by the ratio {choice.effect_ratio:g}: a saving of that size ruled out {when} "
        f"(missed at most {beta / 2:g} of the time, half of the claim's beta)"
    )


def metric_comparison(
    summary: RunSummary, feeder: SequentialFeeder, choice: MetricChoice, *, effect: float, plan_size: int | None
) -> None:
    """Fill ``summary`` (verdict, reason, pairs used, ``metric`` section) from the metric's sequential test."""
    pairs = feeder.metric_test
    assert isinstance(pairs, MetricPairs)
    settings = summary["settings"]
    alpha, beta = settings["alpha"], settings["beta"]
    test = pairs.test
    decision = feeder.decision
    units = decision.units if decision is not None else feeder.units
    summary["decided_by"] = "sprt"
    summary["pairs_used"] = units
    # The section's keys in the order summary.json has always written them: the common ones, then the kind's.
    name, kind, effect_ratio, lower_is_better = choice.name, choice.kind, choice.effect_ratio, choice.lower_is_better
    missing, invalid, examples = pairs.missing, pairs.invalid, list(pairs.examples)
    section: MetricSection
    if isinstance(test, PairedSequentialTest):  # a binary metric
        llr, states = test.llr, test.states
        summary["llr"] = {"better": llr["better"], "worse": llr["worse"]}
        summary["bounds"] = list(test.bounds)
        summary["tests"] = {"better": states["better"], "worse": states["worse"]}
        section = {
            "name": name,
            "kind": kind,
            "effect_ratio": effect_ratio,
            "lower_is_better": lower_is_better,
            "verdict": None,
            "pairs_used": units,
            "pairs_missing": missing,
            "pairs_invalid": invalid,
            "invalid_examples": examples,
            "counts": {"wins": test.wins, "losses": test.losses, "ties": test.ties},
            "method": "paired trinomial GSPRT on the flag (as for success)",
        }
        if pairs.differences:
            from pytest_agentopt.stats.confseq import mean_with_confidence_sequence

            # the rate of the flag, test minus control, over the pairs the test took (not only up to the decision)
            section["effect"] = mean_with_confidence_sequence(pairs.differences, -1.0, 1.0, alpha)
    elif isinstance(test, PairedRatioTest):  # a numeric metric
        snapshot = test.snapshot()
        section = {
            "name": name,
            "kind": kind,
            "effect_ratio": effect_ratio,
            "lower_is_better": lower_is_better,
            "verdict": None,
            "pairs_used": units,
            "pairs_missing": missing,
            "pairs_invalid": invalid,
            "invalid_examples": examples,
            "pairs": snapshot["pairs"],
            "estimate": snapshot["estimate"],
            "lower": snapshot["lower"],
            "upper": snapshot["upper"],
            "level": snapshot["level"],
            "pairs_for_bounds": snapshot["pairs_for_bounds"],
            "method": (
                "median per-pair ratio test / control; decisions from time-uniform confidence sequences for the "
                "median (Howard & Ramdas 2022), assuming independent pairs"
            ),
        }
    else:
        section = {
            "name": name,
            "kind": kind,
            "effect_ratio": effect_ratio,
            "lower_is_better": lower_is_better,
            "verdict": None,
            "pairs_used": units,
            "pairs_missing": missing,
            "pairs_invalid": invalid,
            "invalid_examples": examples,
            "components": test.components(),
            "method": "intersection-union of the paired success GSPRT (worse) and the median cost-ratio test",
        }
    section["pairs_used"] = units
    if decision is not None:
        verdict = decision.verdict
        if isinstance(test, PairedSequentialTest):
            reason = f"on metric {choice.name!r}: " + paired_sequential_reason(
                verdict,
                units=units,
                effect=effect,
                alpha=alpha,
                beta=beta,
                calibrated=test.design.source == "calibrated",
                at_cap=decision.at_cap,
            )
        elif isinstance(test, PairedRatioTest):
            reason = _ratio_reason(verdict, choice, units, alpha, beta)
        else:
            reason = _csq_reason(verdict, choice, units, effect, alpha, beta)
        summary["verdict"] = verdict
        summary["decided_at_cap"] = decision.at_cap
    else:
        verdict = "inconclusive"
        design = summary.get("design")
        reason = unfinished_reason(
            units,
            "pairs",
            cap_reached=plan_size is not None and feeder.committed >= plan_size,
            trials_needed=design.get("trials_needed") if design is not None and choice.kind == "binary" else None,
        )
        summary["verdict"] = verdict
    summary["verdict_reason"] = reason
    section["verdict"] = verdict
    left_out = pairs.missing + pairs.invalid
    if left_out:
        summary["notes"].append(missing_note(choice.name, pairs.missing, pairs.invalid, pairs.examples))
    summary["metric"] = section


def missing_note(name: str, missing: int, invalid: int, examples: list[str]) -> str:
    """The warning that says which pairs the metric's test could not take (never scored as False or 0)."""
    parts = []
    if missing:
        parts.append(f"{missing} pairs had a trial without a value of {name!r}")
    if invalid:
        parts.append(f"{invalid} pairs had a value that cannot be used (e.g. {', '.join(examples)})")
    return (
        f"warning: metric {name!r}: {'; '.join(parts)}; they were left out of the decision, not scored "
        "(record it in every trial with agent_trial.record(...))"
    )


def hypothesis_outcome(hypothesis: Mapping[str, object], summary: RunSummary) -> dict[str, object]:
    """The summary's ``hypothesis`` section: the hypothesis and what this run found."""
    verdict = summary["verdict"]
    decided = verdict not in (None, "inconclusive")
    metric = summary["metric"]
    return {
        **hypothesis,
        "run_id": summary["run_id"],
        "verdict": verdict,
        "status": hypothesis_status(verdict) if decided else "inconclusive",
        "decided_metric": metric["name"] if metric is not None else "success",
    }


def metric_figure(metric: MetricSection) -> str:
    """One line for reports: the metric's effect with its interval, the pairs it rests on and those left out."""
    from pytest_agentopt import number_format as fmt

    name, kind = metric["name"], metric["kind"]
    if kind == "numeric":
        figure = "median ratio test / control " + fmt.with_interval(
            metric.get("estimate"), [metric.get("lower"), metric.get("upper")], fmt.ratio
        )
    elif kind == "cheaper_same_quality":
        components = metric.get("components")
        cost = components["cost"] if components is not None else None
        quality = components["quality"] if components is not None else None
        figure = (
            "median cost ratio test / control "
            + fmt.with_interval(
                cost["estimate"] if cost else None,
                [cost["lower"], cost["upper"]] if cost else [None, None],
                fmt.ratio,
            )
            + f"; quality test: {(quality['verdict'] if quality else None) or 'running'}"
        )
    else:
        effect = metric.get("effect")
        figure = "rate test - control " + fmt.with_interval(
            effect["estimate"] if effect else None,
            [effect["lower"], effect["upper"]] if effect else [None, None],
            fmt.signed,
        )
    left_out = metric["pairs_missing"] + metric["pairs_invalid"]
    tail = f", {left_out} left out (no usable value)" if left_out else ""
    return f"{name}: {figure} over {metric['pairs_used']} pairs{tail}"
