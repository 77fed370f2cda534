"""The run summary: per-arm figures, the paired comparison and the verdict, as plain JSON data.

Pure: it takes trial records and the sequential state and returns a
:class:`~pytest_agentopt.storage.summary_schema.RunSummary` (the ``--agent-json`` document, schema in
``docs/summary.md``). Renderers (terminal, Markdown, HTML) read only this.

Which interval is which:

* per-arm success rates: after a sequential run, time-uniform confidence sequences (valid at the data-dependent
  stopping time, like the effect's); in a fixed-sample run, Wilson 95 % intervals;
* the paired effect (success rate of test minus control) after a sequential run, and the median paired cost
  ratio in every A/B run: time-uniform confidence sequences, valid at the data-dependent stopping time;
* the paired effect of a fixed-sample run: Newcombe's paired score interval at 1 - 2 alpha and the one-sided
  exact McNemar tests at alpha each, so that ``--agent-alpha`` is the rate of each directional false claim in
  both modes. No fixed-n p-value is reported after a sequential run (it is not valid after a sequential stop).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, cast

from pytest_agentopt.configs.data import diff_config_data
from pytest_agentopt.number_format import usd
from pytest_agentopt.report.verdict_text import paired_sequential_reason, target_reason, unfinished_reason
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.options import DEFAULT_DRIFT_ALPHA
from pytest_agentopt.run.outcomes import SCORED_OUTCOMES
from pytest_agentopt.run.pairing import paired_outcomes
from pytest_agentopt.stats.intervals import exact_mcnemar_one_sided_p, paired_difference_interval, wilson_interval
from pytest_agentopt.stats.paired import cost_ratio, pair_counts, paired_effect
from pytest_agentopt.stats.sprt import TestState
from pytest_agentopt.storage.run_context import RunContext
from pytest_agentopt.storage.summary_schema import (
    ArmSummary,
    BudgetState,
    CandidateResult,
    CapDesign,
    ConfigChange,
    RunSummary,
    Settings,
    ShardInfo,
    Spend,
    TargetCapDesign,
    TaskArmFigures,
    TaskRow,
    TokenSums,
)
from pytest_agentopt.storage.trial_record import TrialRecord

if TYPE_CHECKING:
    from pytest_agentopt.run.candidates import CandidateFeeders, FalseDiscoveryClaim

SUMMARY_SCHEMA = 1


def arm_figures(records: Sequence[TrialRecord], *, sequential: bool = False, alpha: float = 0.05) -> ArmSummary:
    """Counts, rate with its interval, tokens, cost and latency of one arm's trials.

    The interval is a Wilson 95 % interval, or after a sequential run a time-uniform 1 - ``alpha`` confidence
    sequence over the trials in planned order (a fixed-n interval is not valid after a data-dependent stop).
    ``model`` is ``None`` here: the run's summary sets the arm config's model.
    """

    counts = dict.fromkeys(("success", "failure", "error", "timeout", "infra_error", "setup_error", "worker_crash"), 0)
    for record in records:
        counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
    scored = [r for r in records if r["outcome"] in SCORED_OUTCOMES]
    trials = len(scored)
    successes = counts["success"]
    with_tokens = [r for r in scored if r["tokens"] is not None]
    token_sums = TokenSums(
        input=_token_sum(with_tokens, "input"),
        output=_token_sum(with_tokens, "output"),
        cache_read=_token_sum(with_tokens, "cache_read"),
        cache_write=_token_sum(with_tokens, "cache_write"),
        reasoning=_token_sum(with_tokens, "reasoning"),
    )
    with_cost = [r for r in scored if r["cost_usd"] is not None]
    cost = sum(r["cost_usd"] or 0.0 for r in with_cost) if with_cost else None
    cost_per_trial = cost / len(with_cost) if cost is not None and with_cost else None
    # Cost per success extrapolates the known per-trial cost to all scored trials.
    cost_per_success = cost_per_trial * trials / successes if cost_per_trial is not None and successes else None
    latencies = [r["latency_s"] for r in scored if r["latency_s"] is not None]  # unknown in a hand-made record
    steps = [r["steps"] for r in scored if r["steps"] is not None]
    infra_cost = sum(
        float(r["cost_usd"]) for r in records if r["outcome"] == "infra_error" and r["cost_usd"] is not None
    )
    spent = spend(records)
    first = records[0] if records else None
    success_ci, success_ci_method = _success_interval(scored, sequential=sequential, alpha=alpha)
    return {
        "experiment_id": first["experiment_id"] if first else None,
        "config_hash": first["config_hash"] if first else None,
        "trials": trials,
        "successes": successes,
        "failures": counts["failure"],
        "errors": counts["error"],
        "infra_errors": counts["infra_error"],
        "setup_errors": counts["setup_error"],
        "timeouts": counts["timeout"],
        "worker_crashes": counts["worker_crash"],
        "success_rate": successes / trials if trials else None,
        "success_ci": success_ci,
        "success_ci_method": success_ci_method,
        "tokens": token_sums if with_tokens else None,
        "trials_with_usage": len(with_tokens),
        "mean_tokens": (
            {"input": token_sums["input"] / len(with_tokens), "output": token_sums["output"] / len(with_tokens)}
            if with_tokens
            else None
        ),
        "cost_usd": cost,
        "trials_with_cost": len(with_cost),
        "cost_per_trial_usd": cost_per_trial,
        "cost_per_success_usd": cost_per_success,
        "infra_cost_usd": infra_cost if infra_cost else 0.0,
        "spent_usd": spent["usd"],
        "trials_unpriced": spent["unpriced"],
        "mean_latency_s": sum(latencies) / len(latencies) if latencies else None,
        "mean_steps": sum(steps) / len(steps) if steps else None,
        "model": None,
    }


def _success_interval(
    scored: Sequence[TrialRecord], *, sequential: bool, alpha: float
) -> tuple[list[float] | None, str | None]:
    """``(success_ci, success_ci_method)`` of an arm's scored trials."""
    if not scored:
        return None, None
    if sequential:
        # Here, not at the top: the confidence sequence's numpy costs about 0.08 s at start-up
        # (scripts/bench_overhead.py), and a fixed-sample run never needs it.
        from pytest_agentopt.stats.confseq import mean_with_confidence_sequence

        ordered = sorted(scored, key=lambda record: record["seq"])
        sequence = mean_with_confidence_sequence(
            [float(record["outcome"] == "success") for record in ordered], 0.0, 1.0, alpha
        )
        return [sequence["lower"], sequence["upper"]], sequence["method"]

    successes = sum(record["outcome"] == "success" for record in scored)
    return list(wilson_interval(successes, len(scored))), "Wilson 95% (fixed-n)"


def spend(records: Sequence[TrialRecord]) -> Spend:
    """The estimated money spent on ``records``: every trial that ran, whatever its outcome (infrastructure errors
    and set-up errors cost what they used too). ``usd`` is the sum of the known costs (``None`` when none is known)
    and a lower bound when ``unpriced`` trials have no known cost."""
    known = [r["cost_usd"] for r in records if r["cost_usd"] is not None]
    return {"usd": sum(known) if known else None, "trials": len(records), "unpriced": len(records) - len(known)}


def coverage_statements(arms: Mapping[str, ArmSummary]) -> list[str]:
    """One sentence per arm whose usage or cost is missing for some scored trials (none when complete).

    Per-arm costs are means over the trials whose cost is known; without this sentence a figure over 8 of 12
    trials would read as a figure over all 12.
    """
    statements = []
    for arm, figures in arms.items():
        trials, with_usage, with_cost = figures["trials"], figures["trials_with_usage"], figures["trials_with_cost"]
        if not trials or with_cost == trials:
            continue
        reasons = []
        if with_usage < trials:
            reasons.append(f"{trials - with_usage} recorded no usage")
        if with_cost < with_usage:
            reasons.append(f"{with_usage - with_cost} had no price")
        covered = (
            f"est. $/trial is the mean over those {with_cost} and est. $/success extrapolates it to all {trials}"
            if with_cost
            else "no cost figure for this arm"
        )
        statements.append(
            f"{arm} arm: cost covers {with_cost} of {trials} trials ({', '.join(reasons)}); {covered}"
            + (
                "; record usage with agent_trial.record_usage(response)"
                if with_usage < trials
                else '; set "prices" in the config for the unpriced models'
            )
        )
    return statements


def _pricing_warnings(records: Iterable[TrialRecord]) -> list[str]:
    """One warning per model whose cost could not be estimated (never a silent zero)."""
    unpriced = sorted({str(r["model"]) for r in records if r["tokens"] is not None and r["cost_usd"] is None})
    return [
        f'warning: estimated cost unknown for model {model!r}: genai-prices has no price for it; set "prices" '
        "in the config (dollars per million tokens) to price it"
        for model in unpriced
    ]


def _token_sum(records: Iterable[TrialRecord], token_class: str) -> int:
    """The sum of one token class over ``records`` (a record without usage counts 0)."""
    total = 0
    for record in records:
        tokens: Mapping[str, object] | None = record["tokens"]
        count = tokens.get(token_class, 0) if tokens is not None else 0
        total += int(count) if isinstance(count, (int, float)) else 0
    return total


def build_summary(
    *,
    records: Sequence[TrialRecord],
    context: RunContext,
    feeder: SequentialFeeder | None,
    plan_size: int | None,
    skipped_by_stop: int,
    interrupted: bool,
    notes: Sequence[str],
    budget: BudgetState | None = None,
    stopped_by: str | None = None,
    resume_command: str | None = None,
    plan: Mapping[str, int] | None = None,
    cap: CapDesign | TargetCapDesign | None = None,
    shard: ShardInfo | None = None,
    merged_from: Sequence[str] | None = None,
    drift_alpha: float = DEFAULT_DRIFT_ALPHA,
    candidates: CandidateFeeders | None = None,
) -> RunSummary:
    """The summary of a run; ``plan_size`` is ``None`` when the collection is not known (it never finished, or
    no worker reported it), 0 when it found no agent task; ``stopped_by`` says what ended the session early;
    ``resume_command`` is how to continue the run if it stopped early (default: the bare ``--agent-resume``).
    ``plan``: what was collected (tasks, trials per task and arm); ``cap``: what the paired test's cap delivers
    (``run_design.CapAssessment.as_dict``); ``shard``: the share of the plan an ``--agent-shard`` run ran;
    ``merged_from``: the shard runs ``agentopt merge`` combined into this one; ``drift_alpha``: the family-wise
    level of the A/B run's drift report (``report.drift``); ``candidates``: the sequential tests of a run with
    several candidates (its summary gains ``candidates``, one object per candidate, see
    :func:`candidate_summaries`)."""
    by_arm: dict[str, list[TrialRecord]] = {arm: [] for arm in context.arms}
    for record in records:
        by_arm.setdefault(record["arm"], []).append(record)
    sequential = feeder is not None
    arms = {
        arm: arm_figures(arm_records, sequential=sequential, alpha=context.alpha) for arm, arm_records in by_arm.items()
    }
    for arm, figures in arms.items():
        config = context.configs.raw(arm)
        figures["experiment_id"] = config["experiment_id"]
        figures["config_hash"] = context.hashes[arm]
        figures["model"] = config["model_id"]
    decision = feeder.decision if feeder is not None else None
    summary: RunSummary = {
        "schema": SUMMARY_SCHEMA,
        "run_id": context.run_id,
        "experiment_id": context.configs.raw("test")["experiment_id"],
        "mode": "ab" if context.paired else "single",
        "settings": _settings(context, plan),
        "design": cap,
        "arms": arms,
        "config_diff": [],
        "verdict": None,
        "verdict_reason": None,
        "decided_by": None,
        "llr": None,
        "bounds": None,
        "tests": None,
        "last_look": None,
        "decided_at_cap": False,
        "pairs_used": None,
        "pairs": None,
        "mcnemar_p": None,
        "mcnemar_direction": None,
        "effect": None,
        "cost_ratio": None,
        "drift": None,
        "metric": None,
        "hypothesis": None,
        "trials_planned": plan_size,
        "trials_started": len(records),
        "trials_skipped": skipped_by_stop,
        "trials_after_decision": sum(1 for r in records if decision is not None and r["seq"] > decision.seq),
        "budget": budget,
        "spend": spend(records),
        "interrupted": interrupted,
        "stopped_by": stopped_by,
        "coverage": coverage_statements(arms),
        "tasks": task_table(records, context.arms),
        "notes": [*notes, *_pricing_warnings(records)],
        "extension": None,
        "shard": shard,
        "merged_from": list(merged_from) if merged_from is not None else None,
    }
    if context.several_candidates:
        summary["mode"] = "candidates"
        summary["trials_after_decision"] = sum(1 for r in records if r.get("after_decision"))
        summary["candidates"] = candidate_summaries(
            records, context, candidates, plan_size, summary, skipped_counted=not interrupted
        )
        summary["verdict"], summary["verdict_reason"] = family_verdict(summary["candidates"])
        summary["decided_by"] = "sprt" if candidates is not None else "fixed"
        summary["multiplicity"] = summary["candidates"][0]["multiplicity"]
    elif context.paired:
        summary["config_diff"] = [
            ConfigChange(key=change.key, control=change.before, test=change.after, text=change.describe())
            for change in diff_config_data(context.configs.raw("control"), context.configs.raw("test"))
        ]
        _paired_comparison(summary, records, context, feeder, plan_size)
        _compare_behaviour(summary, records, context, feeder is not None, drift_alpha)
        _advise_extension(
            summary, records, feeder, plan_size, resume_command or f"pytest --agent-resume {context.run_id}"
        )
    elif context.target is not None:
        _target_comparison(summary, context, feeder, plan_size)
    if interrupted and decision is None:
        # A partial run proves nothing either way (a fixed-sample verdict from part of the plan would not be one).
        planned = plan_size if plan_size is not None else "?"
        summary["verdict"] = "inconclusive"
        summary["verdict_reason"] = (
            f"the run stopped early ({stopped_by or 'interrupted'}) after {summary['trials_started']} of {planned} "
            f"trials; continue it with {resume_command or f'pytest --agent-resume {context.run_id}'}"
        )
    if not records and (plan_size == 0 or (plan_size is None and not interrupted)):
        summary["verdict"] = None
        summary["verdict_reason"] = (
            "no agent task was collected: a task is a test that uses the agent_config or agent_trial fixture, "
            "or is marked @pytest.mark.agent_task"
        )
        summary["notes"].append(f"warning: {summary['verdict_reason']}")
    if budget is not None and budget["exhausted"] and decision is None:
        # Budget exhaustion is never scored as a pass or a fail.
        summary["verdict"] = "inconclusive"
        summary["verdict_reason"] = (
            f"the budget of ${budget['limit_usd']:g} was exhausted (estimated spend {usd(budget['spent_usd'])}) "
            "before a decision; raise --agent-budget or lower the cap"
        )
    if context.hypothesis is not None:
        from pytest_agentopt.report.metric_summary import hypothesis_outcome

        summary["hypothesis"] = hypothesis_outcome(context.hypothesis, summary)
    return summary


def candidate_summaries(
    records: Sequence[TrialRecord],
    context: RunContext,
    candidates: CandidateFeeders | None,
    plan_size: int | None,
    base: RunSummary,
    *,
    skipped_counted: bool = True,
) -> list[CandidateResult]:
    """One object per candidate: its paired comparison with the shared control, at the candidate's alpha / K;
    under ``--agent-family-error fdr`` the claims are e-BH's over every candidate's e-values.

    Each is what the summary of a run with that candidate alone says about it (``_paired_comparison`` on the
    control's and that candidate's trials, starting from ``base``, the run's summary before its comparison), so
    every figure means the same in both kinds of run.

    ``trials_skipped`` is the candidate's planned trials that did not run (its share of the plan less the trials it
    started): every one of them was skipped when the run ended on its own (``skipped_counted``); ``None`` after an
    interruption, when some were neither run nor skipped.
    """
    import dataclasses

    from pytest_agentopt.run.candidates import candidate_alpha
    from pytest_agentopt.storage.run_context import ConfigSet

    alpha = candidate_alpha(context.alpha, len(context.candidates))
    claims = candidates.false_discovery_claims() if candidates is not None else None
    control = [r for r in records if r["arm"] == "control"]
    result: list[CandidateResult] = []
    for arm in context.candidates:
        view = dataclasses.replace(
            context,
            arms=("control", "test"),
            configs=ConfigSet({"control": context.configs.raw("control"), "test": context.configs.raw(arm)}),
            hashes={"control": context.hashes["control"], "test": context.hashes[arm]},
            alpha=alpha,
        )
        own = [r for r in records if r["arm"] == arm]
        paired_records = [*control, *(cast(TrialRecord, {**r, "arm": "test"}) for r in own)]
        comparison: RunSummary = {**base, "mode": "ab"}
        feeder = candidates.feeders[arm] if candidates is not None else None
        _paired_comparison(comparison, paired_records, view, feeder, plan_size)
        decision = feeder.decision if feeder is not None else None
        experiment_id = context.configs.raw(arm)["experiment_id"]
        result.append(
            {
                "arm": arm,
                "experiment_id": str(experiment_id),
                "config_hash": context.hashes[arm],
                "alpha": alpha,
                "verdict": comparison["verdict"],
                "verdict_reason": comparison["verdict_reason"],
                "multiplicity": "bonferroni",
                "e_values": None,
                "claim_threshold": None,
                "decided_by": comparison["decided_by"],
                "decided_at_cap": comparison["decided_at_cap"],
                "pairs_used": comparison["pairs_used"],
                "trials_started": len(own),
                "trials_skipped": (
                    plan_size // len(context.arms) - len(own) if plan_size is not None and skipped_counted else None
                ),
                "trials_after_decision": sum(1 for r in own if decision is not None and r["seq"] > decision.seq),
                "llr": comparison["llr"],
                "bounds": comparison["bounds"],
                "tests": comparison["tests"],
                "last_look": comparison["last_look"],
                "pairs": comparison["pairs"],
                "mcnemar_p": comparison["mcnemar_p"],
                "mcnemar_direction": comparison["mcnemar_direction"],
                "effect": comparison["effect"],
                "cost_ratio": comparison["cost_ratio"],
                "config_diff": [
                    ConfigChange(key=change.key, control=change.before, test=change.after, text=change.describe())
                    for change in diff_config_data(context.configs.raw("control"), context.configs.raw(arm))
                ],
                "hypothesis": None,
            }
        )
        if claims is not None:
            apply_false_discovery_claim(result[-1], claims, context.alpha)
        hypothesis = context.candidate_hypotheses.get(arm)
        if hypothesis is not None:
            from pytest_agentopt.report.metric_summary import hypothesis_outcome

            result[-1]["hypothesis"] = hypothesis_outcome(hypothesis, {**comparison, "verdict": result[-1]["verdict"]})
    return result


def apply_false_discovery_claim(
    entry: CandidateResult, claims: Mapping[str, FalseDiscoveryClaim], alpha: float
) -> None:
    """Under ``--agent-family-error fdr``: e-BH's claim replaces the candidate's own verdict (its test stopped it;
    e-BH over every candidate's e-values decides what is claimed, ``run.candidates``)."""
    claim = claims[entry["arm"]]
    entry["multiplicity"] = "e-bh"
    entry["e_values"] = {"better": claim.e_values.get("better"), "worse": claim.e_values.get("worse")}
    entry["claim_threshold"] = claim.threshold
    own = entry["verdict"]
    if claim.verdict is None or claim.threshold is None:
        if own in ("better", "worse"):  # cannot happen: a claim by its own test is at K / alpha, which e-BH keeps
            raise AssertionError(f"candidate {entry['arm']} claimed {own!r} without e-BH")
        return
    e_value = float(claim.e_values.get(claim.verdict) or 0.0)
    claimed = sum(1 for other in claims.values() if other.verdict == claim.verdict)
    stopped = (
        f"; its own test had stopped at '{own}' after {entry['pairs_used']} pairs"
        if own not in (claim.verdict, None, "inconclusive")
        else ("; its own test was undecided" if own == "inconclusive" else "")
    )
    entry["verdict"] = claim.verdict
    entry["decided_at_cap"] = entry["decided_at_cap"] and own == claim.verdict
    entry["verdict_reason"] = (
        f"e-BH: its '{claim.verdict}' e-value {e_value:.4g} reached {claim.threshold:.4g} = K / (alpha k) with "
        f"{claimed} '{claim.verdict}' claim(s) among {len(claims)} candidates (false discovery rate of the "
        f"'{claim.verdict}' claims <= {alpha:g}){stopped}"
    )


def candidate_view(summary: RunSummary, candidate: CandidateResult) -> RunSummary:
    """The summary a run with this candidate alone would have: the run's, with the candidate's comparison (what
    the renderers show per candidate with the code they use for one)."""
    return {
        **summary,
        "mode": "ab",
        "settings": {**summary["settings"], "alpha": candidate["alpha"]},
        "design": None,
        "budget": None,
        "config_diff": candidate["config_diff"],
        "verdict": candidate["verdict"],
        "verdict_reason": candidate["verdict_reason"],
        "multiplicity": candidate.get("multiplicity", "bonferroni"),
        "decided_by": candidate["decided_by"],
        "decided_at_cap": candidate["decided_at_cap"],
        "pairs_used": candidate["pairs_used"],
        "trials_started": candidate["trials_started"],
        "trials_after_decision": candidate["trials_after_decision"],
        "llr": candidate["llr"],
        "bounds": candidate["bounds"],
        "tests": candidate["tests"],
        "last_look": candidate["last_look"],
        "pairs": candidate["pairs"],
        "mcnemar_p": candidate["mcnemar_p"],
        "mcnemar_direction": candidate["mcnemar_direction"],
        "effect": candidate["effect"],
        "cost_ratio": candidate["cost_ratio"],
        "extension": None,
        "metric": None,
        "hypothesis": None,
    }


def family_verdict(candidates: Sequence[CandidateResult]) -> tuple[str, str]:
    """The run's verdict with several candidates, and one sentence naming each candidate's verdict.

    ``worse`` when some candidate is proven worse, else ``better`` when some is proven better, else
    ``inconclusive`` when some is undecided, else ``no_difference`` (every candidate ruled out a difference of
    the effect in the direction asked).
    """
    verdicts = [str(candidate["verdict"]) for candidate in candidates]
    listed = "; ".join(f"{c['experiment_id']}: {c['verdict']}" for c in candidates)
    if "worse" in verdicts:
        return "worse", f"at least one candidate is proven worse ({listed})"
    if "better" in verdicts:
        return "better", f"at least one candidate is proven better ({listed})"
    if "inconclusive" in verdicts:
        return "inconclusive", f"not every candidate is decided ({listed})"
    same = verdicts[0] if len(set(verdicts)) == 1 else "no_difference"
    return same, f"every candidate is decided and none is proven better or worse ({listed})"


def _settings(context: RunContext, plan: Mapping[str, int] | None) -> Settings:
    trials = context.trials
    if plan is not None and plan.get("trials"):
        trials = plan["trials"]  # derived from the cap in pairs, or --agent-trials
    return Settings(
        trials_per_task_per_arm=trials,
        seed=context.seed,
        sprt=context.sprt,
        alpha=context.alpha,
        beta=context.beta,
        effect=context.effect,
        target=context.target,
        direction=context.direction,
        cap_pairs=context.cap_pairs,
    )


def _paired_comparison(
    summary: RunSummary,
    records: Sequence[TrialRecord],
    context: RunContext,
    feeder: SequentialFeeder | None,
    plan_size: int | None,
) -> None:
    pairs = paired_outcomes(records)
    counts = pair_counts(pairs)
    summary["pairs"] = counts
    summary["cost_ratio"] = cost_ratio(pairs, context.alpha)
    n = len(pairs)
    if feeder is not None and feeder.metric_test is not None and context.metric is not None:
        from pytest_agentopt.report.metric_summary import metric_comparison

        metric_comparison(summary, feeder, context.metric, effect=context.effect, plan_size=plan_size)
        if n:
            summary["effect"] = paired_effect(pairs, context.alpha)  # on success, beside the metric's decision
        return
    if feeder is not None and feeder.paired_test is not None:
        test = feeder.paired_test
        summary["decided_by"] = "sprt"
        llr, states = test.llr, test.states
        summary["llr"] = {"better": llr["better"], "worse": llr["worse"]}
        summary["bounds"] = list(test.bounds)
        summary["tests"] = {"better": states["better"], "worse": states["worse"]}
        summary["last_look"] = (
            [value if math.isfinite(value) else None for value in test.last_look]
            if test.last_look is not None
            else None
        )
        decision = feeder.decision
        summary["pairs_used"] = decision.units if decision is not None else feeder.units
        if decision is not None:
            summary["verdict"] = decision.verdict
            summary["decided_at_cap"] = decision.at_cap
            summary["verdict_reason"] = paired_sequential_reason(
                decision.verdict,
                units=decision.units,
                effect=context.effect,
                alpha=context.alpha,
                beta=context.beta,
                calibrated=test.design.source == "calibrated",
                at_cap=decision.at_cap,
            )
        else:
            summary["verdict"] = "inconclusive"
            summary["verdict_reason"] = _unfinished_reason(feeder.units, plan_size, feeder, "pairs", summary)
        if n:
            summary["effect"] = paired_effect(pairs, context.alpha)
        return
    summary["decided_by"] = "fixed"
    summary["pairs_used"] = n
    if not n:
        summary["verdict"] = "inconclusive"
        summary["verdict_reason"] = "no complete pair of scored trials"
        return
    wins, losses = counts["test_only"], counts["control_only"]
    estimate = (wins - losses) / n
    # --agent-alpha is the rate of each directional false claim, as in the sequential test: one-sided exact
    # McNemar tests at alpha each, and the 1 - 2 alpha interval (two one-sided tests) for the effect.
    confidence = 1 - 2 * context.alpha
    lower, upper = paired_difference_interval(counts["both"], wins, losses, counts["neither"], confidence)
    summary["effect"] = {
        "estimate": estimate,
        "lower": lower,
        "upper": upper,
        "method": f"Newcombe paired score interval, {100 * confidence:g}% (two one-sided at alpha "
        f"{context.alpha:g}; fixed-n)",
    }
    direction: Literal["better", "worse"] = "better" if wins >= losses else "worse"
    p_value = (
        exact_mcnemar_one_sided_p(wins, losses) if direction == "better" else exact_mcnemar_one_sided_p(losses, wins)
    )
    summary["mcnemar_p"] = p_value
    summary["mcnemar_direction"] = direction
    verdict: str
    if p_value < context.alpha and wins != losses:
        verdict = direction
        reason = (
            f"one-sided exact McNemar test p = {p_value:.3g} < alpha {context.alpha:g} on {n} pairs "
            f"({wins} only test solved, {losses} only control solved): 'no difference' rejected in favour of "
            f"test {direction} than control"
        )
    elif -context.effect < lower and upper < context.effect:
        verdict = "no_difference"
        reason = (
            f"equivalence within +/-{context.effect:g}: the {100 * confidence:g}% interval "
            f"[{lower:+.3f}, {upper:+.3f}] lies inside it (two one-sided tests at alpha {context.alpha:g})"
        )
    else:
        verdict = "inconclusive"
        reason = (
            f"no significant difference (one-sided McNemar p = {p_value:.3g}) and no proof of equivalence "
            f"within +/-{context.effect:g} (interval [{lower:+.3f}, {upper:+.3f}]): more trials needed"
        )
    summary["verdict"] = verdict
    summary["verdict_reason"] = reason


def _compare_behaviour(
    summary: RunSummary, records: Sequence[TrialRecord], context: RunContext, sequential: bool, alpha: float
) -> None:
    """The drift report, once there is a complete pair to compare (before, there is nothing to say)."""
    pairs = summary["pairs"]
    if pairs is None or not any(pairs.values()):
        return
    from pytest_agentopt.report.drift import drift_report

    summary["drift"] = drift_report(
        records,
        alpha=alpha,
        seed=context.seed,
        decided_on_metric=context.metric.name if context.metric is not None and sequential else None,
    )


def _target_comparison(
    summary: RunSummary,
    context: RunContext,
    feeder: SequentialFeeder | None,
    plan_size: int | None,
) -> None:
    if feeder is None or feeder.target_test is None:
        return

    test = feeder.target_test
    summary["decided_by"] = "sprt"
    summary["llr"] = {"target": test.llr}
    summary["bounds"] = list(test.bounds)
    states: dict[str | None, TestState] = {
        None: "running",
        "meets_target": "accepted_h1",
        "below_target": "accepted_h0",
    }
    summary["tests"] = {"target": states[test.verdict]}
    decision = feeder.decision
    summary["trials_used"] = decision.units if decision is not None else feeder.units
    if decision is not None:
        assert context.target is not None
        summary["verdict"] = decision.verdict
        summary["decided_at_cap"] = decision.at_cap
        summary["verdict_reason"] = target_reason(
            decision.verdict,
            units=decision.units,
            target=context.target,
            effect=context.effect,
            alpha=context.alpha,
            beta=context.beta,
            at_cap=decision.at_cap,
        )
    else:
        summary["verdict"] = "inconclusive"
        summary["verdict_reason"] = _unfinished_reason(feeder.units, plan_size, feeder, "trials", summary)


def _advise_extension(
    summary: RunSummary,
    records: Sequence[TrialRecord],
    feeder: SequentialFeeder | None,
    plan_size: int | None,
    command: str,
) -> None:
    """At an undecided cap: the ``extension`` section (``extension_advice``)."""
    design = summary.get("design")
    test = feeder.paired_test if feeder is not None else None
    cap_reached = feeder is not None and plan_size is not None and feeder.committed >= plan_size
    if test is None or test.verdict is not None or not cap_reached or design is None or not design.get("tasks"):
        return
    from pytest_agentopt.run.extension_advice import extension_advice, mean_cost_per_pair

    summary["extension"] = extension_advice(
        design=test.design,
        wins=test.wins,
        losses=test.losses,
        ties=test.ties,
        tests=dict(test.states),
        tasks=design["tasks"],
        trials=design["trials_per_task"],
        cost_per_pair=mean_cost_per_pair(records),
        command=command,
    )


def _unfinished_reason(
    units: int, plan_size: int | None, feeder: SequentialFeeder, unit_name: str, summary: RunSummary
) -> str:
    design = summary["design"]
    return unfinished_reason(
        units,
        unit_name,
        cap_reached=plan_size is not None and feeder.committed >= plan_size,
        trials_needed=design["trials_needed"] if design is not None else None,
    )


def task_table(records: Iterable[TrialRecord], arms: Sequence[str]) -> list[TaskRow]:
    """Per task and arm: scored trials, successes, success rate, and tokens and estimated cost (``None`` when no
    trial of that task and arm recorded any: unknown, not zero)."""

    def empty() -> TaskArmFigures:
        # success_rate is set last, from the final counts
        return {"trials": 0, "successes": 0, "cost_usd": None, "tokens": None, "success_rate": None}

    tasks: dict[str, TaskRow] = {}
    for record in records:
        entry = tasks.setdefault(
            record["task_id"],
            {
                "task_id": record["task_id"],
                "code": record.get("task_code"),
                "category": record.get("category"),
                "arms": {arm: empty() for arm in arms},
            },
        )
        if record["outcome"] not in SCORED_OUTCOMES:
            continue
        figures = entry["arms"].setdefault(record["arm"], empty())
        figures["trials"] += 1
        figures["successes"] += record["outcome"] == "success"
        if record["cost_usd"] is not None:
            figures["cost_usd"] = (figures["cost_usd"] or 0.0) + record["cost_usd"]
        tokens = record["tokens"]
        if tokens is not None:
            figures["tokens"] = (figures["tokens"] or 0) + tokens["input"] + tokens["output"]
    for entry in tasks.values():
        for figures in entry["arms"].values():
            n = figures["trials"]
            figures["success_rate"] = figures["successes"] / n if n else None
    return sorted(tasks.values(), key=lambda entry: entry["task_id"])
