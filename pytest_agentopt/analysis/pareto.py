"""``pareto_front``: which configs are worth keeping, success against cost, with their uncertainty.

A config *dominates* another when its success rate is at least as high and its cost per task at most as high,
one of the two strictly. The front is the set of configs no other config dominates, on the point estimates.
``p_dominated`` is the share of bootstrap resamples in which some other config dominates the config: each config's
trials are resampled independently (:mod:`pytest_agentopt.analysis.bootstrap`), the front recomputed, and the
config's position counted. Configs whose cost is unknown (no trial with a price) are listed without a front
position.

Calling configs *dominated* (worth dropping) is a list of discoveries, one question per config, so the call is
adjusted with Benjamini-Hochberg over the family of priced configs: ``p_value_dominated``, the bootstrap p-value
of "this config is not dominated", ``(1 + resamples in which it is not dominated) / (1 + resamples)``, is
adjusted to ``q_dominated``, and ``dominated`` is true when ``q_dominated <= 0.05`` (on average at most 5 % of
the configs called dominated are not). A bootstrap p-value is approximate (it treats the resampling
distribution as the sampling distribution), and it can be no smaller than ``1 / (1 + resamples)``: with the
default 1000 resamples and many configs, few can reach the adjusted threshold, which is as it should be.
``on_front`` stays the description of the point estimates.

The users' KPI "configs with >= 80 % of the best success rate at <= 30 % of its cost" is answered on the point
estimates: the best is the config with the highest success rate among those with a known cost (ties: the cheaper);
``p_kpi`` is the share of resamples in which a config meets both thresholds, computed from the best's resampled
figures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_agentopt import number_format as fmt
from pytest_agentopt.analysis.aggregate import config_figures
from pytest_agentopt.analysis.multiplicity import benjamini_hochberg
from pytest_agentopt.analysis.table import TrialTable

__all__ = ["DOMINATED_FDR", "KPI_COST_SHARE", "KPI_SUCCESS_SHARE", "dominated_share", "pareto_front"]

DOMINATED_FDR = 0.05
"""The false discovery rate of the ``dominated`` calls (Benjamini-Hochberg over the priced configs)."""

KPI_SUCCESS_SHARE = 0.8
KPI_COST_SHARE = 0.3

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _dominated_by_any(rates: FloatArray, costs: FloatArray, target: int) -> BoolArray:
    """Per column (resample or the point estimate), whether some other row dominates row ``target``."""
    others = np.arange(rates.shape[0]) != target
    other_rates, other_costs = rates[others], costs[others]
    at_least = (other_rates >= rates[target]) & (other_costs <= costs[target])
    strictly = (other_rates > rates[target]) | (other_costs < costs[target])
    result: BoolArray = (at_least & strictly).any(axis=0)
    return result


def dominated_share(rates: FloatArray, costs: FloatArray) -> list[float]:
    """For a ``configs x resamples`` pair of arrays, each config's share of resamples in which it is dominated.

    NaN cells (a resample without a known cost) neither dominate nor count as dominated.
    """
    shares: list[float] = []
    for target in range(rates.shape[0]):
        dominated = _dominated_by_any(rates, costs, target)
        comparable = ~np.isnan(costs[target])
        shares.append(float(dominated[comparable].sum() / comparable.sum()) if comparable.any() else float("nan"))
    return shares


def pareto_front(table: TrialTable, *, bootstrap: int = 1000, seed: int = 0) -> dict[str, Any]:
    """``{"points": [...], "front": [config hashes by cost], "kpi": {...}, "method": str}`` (module docstring).

    Each point: ``experiment_id``, ``experiment_ids``, ``config_hash``, ``model``, ``trials``, ``successes``,
    ``success_rate``, ``success_ci``, ``cost_per_task_usd``, ``cost_ci``, ``on_front``, ``p_dominated``,
    ``p_value_dominated``, ``q_dominated``, ``dominated``, ``meets_kpi``, ``p_kpi``. Points are sorted by success
    rate (highest first), then cost.
    """
    if bootstrap < 1:
        raise ValueError(f"bootstrap must be >= 1, got {bootstrap}")
    figures = config_figures(table, bootstrap=bootstrap, seed=seed)
    priced = [i for i, row in enumerate(figures.rows) if row["cost_per_task_usd"] is not None]
    points = [_point(row) for row in figures.rows]
    if priced:
        rates = np.array([[figures.rows[i]["success_rate"]] for i in priced])
        costs = np.array([[figures.rows[i]["cost_per_task_usd"]] for i in priced])
        draw_rates = np.vstack([figures.draws[i].rates for i in priced])
        draw_costs = np.vstack([figures.draws[i].costs for i in priced])
        shares = dominated_share(draw_rates, draw_costs)
        for position, i in enumerate(priced):
            points[i]["on_front"] = not bool(_dominated_by_any(rates, costs, position)[0])
            points[i]["p_dominated"] = shares[position] if np.isfinite(shares[position]) else None
        _adjust_dominated(points, priced, bootstrap)
        best = max(priced, key=lambda i: (figures.rows[i]["success_rate"], -figures.rows[i]["cost_per_task_usd"]))
        kpi = _kpi(figures.rows, points, priced, best, figures.draws)
    else:
        kpi = _kpi_without_costs(figures.rows)
    order = sorted(
        range(len(points)),
        key=lambda i: (-points[i]["success_rate"], _cost_key(points[i]["cost_per_task_usd"])),
    )
    sorted_points = [points[i] for i in order]
    front = sorted(
        (p for p in sorted_points if p["on_front"]), key=lambda p: (p["cost_per_task_usd"], -p["success_rate"])
    )
    return {
        "points": sorted_points,
        "front": [p["config_hash"] for p in front],
        "kpi": kpi,
        "method": (
            f"{figures.method}; on_front: not dominated on the point estimates; p_dominated: share of the "
            f"{bootstrap} joint resamples (trials resampled within each config, independently) in which another "
            "config has success >= and cost <= with one strict; dominated: Benjamini-Hochberg q <= "
            f"{DOMINATED_FDR:g} over the priced configs, from the bootstrap p-value of not being dominated"
        ),
        "bootstrap": bootstrap,
        "seed": seed,
    }


def _point(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "experiment_id",
        "experiment_ids",
        "config_hash",
        "model",
        "trials",
        "successes",
        "success_rate",
        "success_ci",
        "cost_per_task_usd",
        "cost_ci",
    )
    point = {key: row[key] for key in keys}
    point.update(
        {
            "on_front": False,
            "p_dominated": None,
            "p_value_dominated": None,
            "q_dominated": None,
            "dominated": False,
            "meets_kpi": False,
            "p_kpi": None,
        }
    )
    return point


def _adjust_dominated(points: list[dict[str, Any]], priced: list[int], bootstrap: int) -> None:
    """``p_value_dominated``, ``q_dominated`` and the ``dominated`` call (module docstring)."""
    family = [i for i in priced if points[i]["p_dominated"] is not None]
    raw = [(1.0 + (1.0 - points[i]["p_dominated"]) * bootstrap) / (1.0 + bootstrap) for i in family]
    for i, p_value, q_value in zip(family, raw, benjamini_hochberg(raw), strict=True):
        points[i]["p_value_dominated"] = min(1.0, p_value)
        points[i]["q_dominated"] = q_value
        points[i]["dominated"] = q_value <= DOMINATED_FDR


def _cost_key(cost: float | None) -> float:
    return float("inf") if cost is None else cost


def _kpi(
    rows: list[dict[str, Any]],
    points: list[dict[str, Any]],
    priced: list[int],
    best: int,
    draws: list[Any],
) -> dict[str, Any]:
    best_row = rows[best]
    threshold_success = KPI_SUCCESS_SHARE * best_row["success_rate"]
    threshold_cost = KPI_COST_SHARE * best_row["cost_per_task_usd"]
    best_rates, best_costs = draws[best].rates, draws[best].costs
    answers: list[str] = []
    for i in priced:
        row = rows[i]
        meets = row["success_rate"] >= threshold_success and row["cost_per_task_usd"] <= threshold_cost
        points[i]["meets_kpi"] = meets
        if meets:
            answers.append(row["config_hash"])
        if i != best:
            with np.errstate(invalid="ignore"):
                hits = (draws[i].rates >= KPI_SUCCESS_SHARE * best_rates) & (
                    draws[i].costs <= KPI_COST_SHARE * best_costs
                )
            comparable = ~(np.isnan(draws[i].costs) | np.isnan(best_costs))
            points[i]["p_kpi"] = float(hits[comparable].mean()) if comparable.any() else None
    return {
        "best": {
            "experiment_id": best_row["experiment_id"],
            "config_hash": best_row["config_hash"],
            "success_rate": best_row["success_rate"],
            "cost_per_task_usd": best_row["cost_per_task_usd"],
        },
        "threshold_success": threshold_success,
        "threshold_cost": threshold_cost,
        "answers": answers,
        "statement": _statement(best_row, threshold_success, threshold_cost, [rows[i] for i in priced], answers),
    }


def _statement(
    best: dict[str, Any],
    threshold_success: float,
    threshold_cost: float,
    rows: list[dict[str, Any]],
    answers: list[str],
) -> str:
    head = (
        f"Best success rate: {best['experiment_id']} ({fmt.pct(best['success_rate'])} at "
        f"{fmt.usd(best['cost_per_task_usd'])} per trial). "
    )
    rule = (
        f">= 80% of its success rate (>= {fmt.pct(threshold_success)}) at <= 30% of its cost "
        f"(<= {fmt.usd(threshold_cost)})"
    )
    if not answers:
        return head + f"No config reaches {rule}."
    by_hash = {row["config_hash"]: row for row in rows}
    listed = ", ".join(
        f"{row['experiment_id']} ({fmt.pct(row['success_rate'])}, {fmt.usd(row['cost_per_task_usd'])})"
        for row in (by_hash[h] for h in answers)
    )
    verb = "reaches" if len(answers) == 1 else "reach"
    count = "1 config" if len(answers) == 1 else f"{len(answers)} configs"
    return head + f"{count} {verb} {rule}: {listed}."


def _kpi_without_costs(rows: list[dict[str, Any]]) -> dict[str, Any]:
    statement = (
        "No config has a known cost (no trial was priced), so the KPI (>= 80% of the best success rate at <= 30% "
        "of its cost) cannot be answered."
        if rows
        else "No scored trials: nothing to compare."
    )
    return {"best": None, "threshold_success": None, "threshold_cost": None, "answers": [], "statement": statement}
