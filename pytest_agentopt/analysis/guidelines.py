"""``guideline_impact``: what each guideline added or removed between two configs did to success and cost.

Pairs of configs come from the manifests:

* every parent -> child pair of the history (the child's resolved config names the parent's experiment id)
  whose guidelines differ, and
* every A/B run whose two arms' guidelines differ (control -> test, or child -> parent order when the control is
  the child).

For each pair the guidelines are compared as sets of texts (their MD5s are the prompt-component hashes of the
manifests). The effect is oriented *child minus parent* (success) and *child / parent* (cost):

* **paired** when some run had the two configs as its arms: the pairs of those runs (same task, same trial
  index) give ``D = success(child) - success(parent)``, summarised with the time-uniform confidence sequence
  the run summary uses (valid after a sequential stop), and the median of the per-pair cost ratios with its
  confidence sequence, as in the run summary (``cost_ratio``);
* **unpaired** otherwise: the two configs' trials across the history, the difference of success rates and the
  ratio of costs per task with 95% percentile bootstrap intervals (trials resampled within each config). Task mix
  and run conditions may differ between the two, so read these as weaker evidence.

When a pair changes several guidelines at once, each gets the same joint effect (``changed_with`` lists the
others), and ``other_changes`` lists whatever else differs (a model, a temperature), which the effect includes.

Each pair of configs is one question (did the change move success?), and a history holds many: the call
(``helps`` / ``hurts`` / ``unclear``) is made on Holm's adjusted p-value over the family of config pairs shown,
so the probability that *any* of the calls is wrong stays at most alpha (each guideline is kept or dropped on
its own call: a family-wise error rate, not a false discovery rate). The raw ``p_value`` is kept next to
``p_holm``. The p-value is the one that matches the interval: paired, ``1 / max_t K_t(0)``, the reciprocal of
the largest betting capital against "no effect" along the pairs (anytime-valid, by Ville's inequality; the
confidence sequence at alpha excludes 0 exactly when it is <= alpha); unpaired, the two-sided percentile
bootstrap p-value ``2 min(P*(d <= 0), P*(d >= 0))`` with the +1 correction. The intervals shown are each at
95 %, not simultaneous.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from pydantic import ValidationError

from pytest_agentopt.analysis.bootstrap import bootstrap_config, config_generator, percentile_interval
from pytest_agentopt.analysis.multiplicity import holm
from pytest_agentopt.analysis.runs import ArmInfo, RunInfo
from pytest_agentopt.analysis.table import TrialTable
from pytest_agentopt.configs.model import AgentConfig, diff_configs, text_hash
from pytest_agentopt.run.pairing import paired_outcomes
from pytest_agentopt.stats.paired import cost_ratio, paired_effect
from pytest_agentopt.storage.trial_record import TrialRecord

__all__ = ["GUIDELINE_COLUMNS", "ConfigPair", "config_pairs", "guideline_impact"]

# What pairing needs (``summary.paired_outcomes``, ``summary.cost_ratio``) and the unpaired figures.
PAIR_FIELDS = ("task_id", "trial", "arm", "seq", "outcome", "cost_usd")
GUIDELINE_COLUMNS = frozenset({*PAIR_FIELDS, "run_id", "config_hash"})
"""The ledger columns ``guideline_impact`` reads."""


@dataclass(frozen=True)
class ConfigPair:
    parent: ArmInfo
    child: ArmInfo
    relation: str
    """``parent/child`` (from the configs' ``parent``) or ``control/test`` (two arms of a run)."""


def config_pairs(runs: Sequence[RunInfo]) -> list[ConfigPair]:
    """Parent -> child pairs whose guidelines differ, in order of first appearance, without repeats."""
    by_id: dict[str, ArmInfo] = {}
    for run in runs:
        for arm in run.arms.values():
            by_id[arm.experiment_id] = arm
    pairs: dict[tuple[str, str], ConfigPair] = {}

    def add(parent: ArmInfo, child: ArmInfo, relation: str) -> None:
        key = (parent.config_hash, child.config_hash)
        if parent.config_hash == child.config_hash or key in pairs or key[::-1] in pairs:
            return
        if set(parent.guidelines) != set(child.guidelines):
            pairs[key] = ConfigPair(parent, child, relation)

    for run in runs:
        control = run.arms.get("control")
        if control is None:
            continue
        for name in run.candidate_arms():  # ``test``, and each candidate of a run with several
            test = run.arms[name]
            if control.parent == test.experiment_id:
                add(test, control, "parent/child")
            elif test.parent == control.experiment_id:
                add(control, test, "parent/child")
            else:
                add(control, test, "control/test")
    for child in by_id.values():
        parent = by_id.get(child.parent) if child.parent is not None else None
        if parent is not None:
            add(parent, child, "parent/child")
    return list(pairs.values())


def guideline_impact(
    runs: Sequence[RunInfo],
    table: TrialTable,
    *,
    alpha: float = 0.05,
    bootstrap: int = 1000,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per guideline added or removed between a parent and a child config (see the module docstring).

    Keys: ``guideline``, ``md5``, ``change`` (``added`` | ``removed``), ``parent``, ``child`` (experiment ids),
    ``parent_hash``, ``child_hash``, ``relation``, ``paired``, ``pairs``, ``effect`` {``estimate``, ``lower``,
    ``upper``, ``method``} or None, ``cost_ratio`` {``estimate``, ``lower``, ``upper``, ``method``} or None,
    ``runs``, ``changed_with``, ``other_changes``, ``p_value`` (no effect on success; ``None`` without one),
    ``p_holm`` (Holm over the config pairs with a p-value) and ``call`` (``helps``, ``hurts`` or ``unclear`` at
    ``alpha`` on ``p_holm``), ``family`` (the number of config pairs adjusted over).
    """
    rows: list[dict[str, Any]] = []
    pairs = config_pairs(runs)
    figures_of = []
    for pair in pairs:
        figures = _paired_figures(pair, runs, table, alpha)
        if figures is None:
            figures = _unpaired_figures(pair, table, bootstrap, seed)
        figures_of.append(figures)
    tested = [figures for figures in figures_of if figures["p_value"] is not None]
    for figures, adjusted in zip(tested, holm([figures["p_value"] for figures in tested]), strict=True):
        figures["p_holm"] = adjusted
    for figures in figures_of:
        figures.setdefault("p_holm", None)
        figures["family"] = len(tested)
        figures["call"] = _call(figures, alpha)
    for pair, figures in zip(pairs, figures_of, strict=True):
        added = [text for text in pair.child.guidelines if text not in pair.parent.guidelines]
        removed = [text for text in pair.parent.guidelines if text not in pair.child.guidelines]
        changes = [(text, "added") for text in added] + [(text, "removed") for text in removed]
        for text, change in changes:
            rows.append(
                {
                    "guideline": text,
                    "md5": text_hash(text),
                    "change": change,
                    "parent": pair.parent.experiment_id,
                    "child": pair.child.experiment_id,
                    "parent_hash": pair.parent.config_hash,
                    "child_hash": pair.child.config_hash,
                    "relation": pair.relation,
                    **figures,
                    "changed_with": [other for other, _ in changes if other != text],
                    "other_changes": _other_changes(pair),
                }
            )
    return rows


def _call(figures: dict[str, Any], alpha: float) -> str:
    """``helps`` / ``hurts`` when Holm's adjusted p-value is at most alpha, else ``unclear``."""
    adjusted, effect = figures.get("p_holm"), figures.get("effect")
    if adjusted is None or effect is None or adjusted > alpha:
        return "unclear"
    return "helps" if effect["estimate"] > 0 else "hurts"


def _other_changes(pair: ConfigPair) -> list[str] | None:
    try:
        parent = AgentConfig.model_validate(pair.parent.config)
        child = AgentConfig.model_validate(pair.child.config)
    except ValidationError:
        return None
    return [change.describe() for change in diff_configs(parent, child) if change.key != "guidelines"]


def _paired_figures(
    pair: ConfigPair, runs: Sequence[RunInfo], table: TrialTable, alpha: float
) -> dict[str, Any] | None:
    """Pairs of every run whose arms are the two configs, oriented (seq, parent's trial, child's trial)."""
    oriented: list[tuple[int, TrialRecord, TrialRecord]] = []
    used: list[str] = []
    hashes = {pair.parent.config_hash, pair.child.config_hash}
    run_codes = table.codes("run_id")
    run_index = {run: code for code, run in enumerate(table.categories("run_id"))}
    for run in runs:
        control = run.arms.get("control")
        code = run_index.get(run.run_id)
        if control is None or code is None:
            continue
        for arm in run.candidate_arms():  # each candidate of a run with several is paired with its control
            test = run.arms[arm]
            if {control.config_hash, test.config_hash} != hashes:
                continue
            records = cast(list[TrialRecord], table.where(run_codes == code).records(fields=PAIR_FIELDS))
            child_is_test = test.config_hash == pair.child.config_hash
            found = paired_outcomes(records, test_arm=arm)
            oriented.extend((seq, c, t) if child_is_test else (seq, t, c) for seq, c, t in found)
            if found and run.run_id not in used:
                used.append(run.run_id)
    if not oriented:
        return None
    sequence = paired_effect(oriented, alpha)  # oriented (seq, parent, child): child minus parent
    ratio = cost_ratio(oriented, alpha)
    return {
        "paired": True,
        "pairs": len(oriented),
        "p_value": _anytime_p_value(oriented, alpha),
        "effect": {
            "estimate": sequence["estimate"],
            "lower": sequence["lower"],
            "upper": sequence["upper"],
            "method": f"paired success(child) - success(parent) over {len(oriented)} pairs; {sequence['method']}",
        },
        "cost_ratio": (
            {key: ratio[key] for key in ("estimate", "lower", "upper", "method")} if ratio is not None else None
        ),
        "runs": used,
    }


def _unpaired_figures(pair: ConfigPair, table: TrialTable, bootstrap: int, seed: int) -> dict[str, Any]:
    scored = table.array("scored")
    success = table.array("success")
    cost = table.array("cost_usd")
    hashes = table.categories("config_hash")
    codes = table.codes("config_hash")
    samples = []
    run_ids: list[str] = []
    for arm in (pair.parent, pair.child):
        code = hashes.index(arm.config_hash) if arm.config_hash in hashes else -1
        members = scored & (codes == code)
        samples.append(
            (
                success[members],
                cost[members],
                bootstrap_config(
                    success[members],
                    cost[members],
                    resamples=bootstrap,
                    generator=config_generator(seed, arm.config_hash),
                ),
            )
        )
        run_ids.extend(run for run in table.where(members).runs if run not in run_ids)
    (parent_success, parent_cost, parent_draws), (child_success, child_cost, child_draws) = samples
    method = (
        "unpaired: no run had both configs; all their scored trials in the history, 95% percentile bootstrap "
        f"({bootstrap} resamples, seed {seed})"
    )
    effect = None
    if parent_success.size and child_success.size:
        estimate = float(child_success.mean() - parent_success.mean())
        interval = percentile_interval(child_draws.rates - parent_draws.rates)
        assert interval is not None
        effect = {"estimate": estimate, "lower": interval[0], "upper": interval[1], "method": method}
    ratio = None
    parent_mean, child_mean = _mean_known(parent_cost), _mean_known(child_cost)
    if parent_mean and child_mean is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            interval = percentile_interval(child_draws.costs / parent_draws.costs)
        if interval is not None:
            ratio = {"estimate": child_mean / parent_mean, "lower": interval[0], "upper": interval[1], "method": method}
    p_value = _bootstrap_p_value(child_draws.rates - parent_draws.rates) if effect is not None else None
    return {"paired": False, "pairs": 0, "p_value": p_value, "effect": effect, "cost_ratio": ratio, "runs": run_ids}


def _anytime_p_value(oriented: Sequence[tuple[int, TrialRecord, TrialRecord]], alpha: float) -> float:
    """``min(1, 1 / max_t K_t(0))`` with the bets of the reported confidence sequence (see the module doc)."""
    from ..stats.confseq import hedged_capital

    differences = [float((c["outcome"] == "success") - (p["outcome"] == "success")) for _, p, c in oriented]
    capital = hedged_capital(differences, 0.0, -1.0, 1.0, alpha)
    return min(1.0, 1.0 / max(capital)) if capital else 1.0


def _bootstrap_p_value(draws: np.ndarray[Any, Any]) -> float:
    """Two-sided percentile bootstrap p-value of "no difference", ``2 min(P*(d <= 0), P*(d >= 0))``, +1 corrected."""
    total = draws.size
    below, above = int((draws <= 0).sum()), int((draws >= 0).sum())
    return min(1.0, 2.0 * (min(below, above) + 1) / (total + 1))


def _mean_known(values: np.ndarray[Any, Any]) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if known.size else None
