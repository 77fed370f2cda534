"""``config_table``, the bootstrap behind its cost interval, and ``pareto_front`` with the KPI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pytest_agentopt.analysis import TrialTable, config_table, load_trials, pareto_front
from pytest_agentopt.analysis.bootstrap import EXACT_LIMIT, bootstrap_config, config_generator
from pytest_agentopt.stats.intervals import wilson_interval
from tests.analysis.ledger_factory import trial, write_run


def test_config_table_gives_exact_figures_per_config_hash(tmp_path: Path) -> None:
    b: dict[str, Any] = {"experiment_id": "exp_b", "config_hash": "hb", "model": "gpt-5"}
    write_run(
        tmp_path,
        "r1",
        [
            trial(seq=0, outcome="success", cost=0.01, tokens=(100, 10), **b),
            trial(seq=1, outcome="failure", cost=0.03, tokens=(200, 30), **b),
            trial(seq=2, outcome="error", cost=None, tokens=None, **b),
            trial(seq=3, outcome="success", cost=0.02, tokens=(300, 20), **b),
            trial(seq=4, outcome="infra_error", cost=0.5, tokens=(9000, 900), **b),
            trial(seq=5, outcome="failure", cost=0.01, experiment_id="exp_a", config_hash="ha", model="gpt-4"),
            trial(seq=6, outcome="failure", cost=0.01, experiment_id="exp_a", config_hash="ha", model="gpt-4"),
        ],
    )
    write_run(
        tmp_path, "r2", [trial(run_id="r2", outcome="success", cost=0.04, experiment_id="exp_b2", config_hash="hb")]
    )
    rows = config_table(load_trials(tmp_path), bootstrap=500, seed=3)
    json.dumps(rows, allow_nan=False)
    hb, ha = rows
    assert hb["config_hash"] == "hb"
    assert hb["experiment_id"] == "exp_b, exp_b2"
    assert hb["experiment_ids"] == ["exp_b", "exp_b2"]
    assert hb["model"] == "gpt-5"
    assert (hb["trials"], hb["successes"], hb["success_rate"]) == (5, 3, 0.6)
    assert hb["success_ci"] == list(wilson_interval(3, 5))
    assert hb["cost_per_task_usd"] == pytest.approx((0.01 + 0.03 + 0.02 + 0.04) / 4, abs=1e-15)
    assert hb["trials_with_cost"] == 4
    assert hb["tokens_per_task"] == {"input": 175.0, "output": 17.5}
    assert hb["runs"] == ["r1", "r2"]
    assert 0.01 <= hb["cost_ci"][0] < hb["cost_per_task_usd"] < hb["cost_ci"][1] <= 0.04
    assert (ha["trials"], ha["successes"], ha["success_rate"]) == (2, 0, 0.0)
    assert ha["cost_ci"] == pytest.approx([0.01, 0.01], abs=1e-15)
    assert "Wilson" in ha["method"]
    assert "bootstrap" in ha["method"]
    again = config_table(load_trials(tmp_path), bootstrap=500, seed=3)
    assert again == rows
    assert config_table(load_trials(tmp_path), bootstrap=500, seed=4)[0]["cost_ci"] != hb["cost_ci"]


def _sample(
    n: int, seed: int, *, success_share: float, unknown_share: float
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], np.ndarray[Any, np.dtype[np.float64]]]:
    rng = np.random.default_rng(seed)
    success = rng.random(n) < success_share
    # Failures run longer and cost more, as they do for agents: cost and success are correlated.
    cost = np.where(success, rng.gamma(2.0, 0.005, n), rng.gamma(2.0, 0.015, n))
    cost[rng.random(n) < unknown_share] = np.nan
    return success, cost


@pytest.mark.parametrize(
    ("n", "success_share", "unknown_share"),
    [(400, 0.6, 0.0), (EXACT_LIMIT + 3000, 0.6, 0.1), (EXACT_LIMIT + 3000, 0.0025, 0.2)],
    ids=["literal draws", "by outcome class", "rare class drawn literally"],
)
def test_the_bootstrap_has_the_moments_of_resampling_trials(n: int, success_share: float, unknown_share: float) -> None:
    success, cost = _sample(n, 1, success_share=success_share, unknown_share=unknown_share)
    resamples = 4000
    draws = bootstrap_config(success, cost, resamples=resamples, generator=np.random.default_rng(2))
    p = success.mean()
    known = cost[~np.isnan(cost)]
    # Resampling n trials: the success count is Binomial(n, p) and the mean cost over the drawn trials with a known
    # cost has variance var/(n q) to first order (q = share with a known cost, var = population variance).
    rate_sd = math.sqrt(p * (1 - p) / n)
    cost_sd = math.sqrt(known.var() / known.size)
    # Monte Carlo error with R = 4000 resamples: the mean is within 4 standard errors (sd / sqrt(R)); an estimated
    # standard deviation has a relative standard error of about 1 / sqrt(2 R) = 1.1%, so 6% is more than 5 of them.
    assert draws.rates.mean() == pytest.approx(p, abs=4 * rate_sd / math.sqrt(resamples))
    assert draws.rates.std() == pytest.approx(rate_sd, rel=0.06)
    assert np.nanmean(draws.costs) == pytest.approx(known.mean(), abs=4 * cost_sd / math.sqrt(resamples))
    assert np.nanstd(draws.costs) == pytest.approx(cost_sd, rel=0.06)
    if success_share > 0.1:
        # The pair keeps its dependence: the correlation of the resampled means is that of (success, cost) over the
        # trials; its standard error is about (1 - rho^2) / sqrt(R) < 0.016, so 0.07 is over 4 of them.
        both = ~np.isnan(cost)
        expected = np.corrcoef(success[both], cost[both])[0, 1]
        assert np.corrcoef(draws.rates, draws.costs)[0, 1] == pytest.approx(expected, abs=0.07)


def test_the_bootstrap_is_seeded_per_config_hash() -> None:
    success, cost = _sample(300, 5, success_share=0.5, unknown_share=0.0)
    first = bootstrap_config(success, cost, resamples=50, generator=config_generator(7, "hash-a"))
    again = bootstrap_config(success, cost, resamples=50, generator=config_generator(7, "hash-a"))
    other = bootstrap_config(success, cost, resamples=50, generator=config_generator(7, "hash-b"))
    np.testing.assert_array_equal(first.costs, again.costs)
    assert not np.array_equal(first.costs, other.costs)


# -- the Pareto front -----------------------------------------------------------------------------------------------

N = 100
CONFIGS = {"hA": (0.9, 1.0), "hB": (0.8, 0.2), "hC": (0.7, 0.5), "hD": (0.5, 0.1)}


@pytest.fixture
def four_configs(tmp_path: Path) -> TrialTable:
    records: list[dict[str, Any]] = []
    for name, (rate, cost) in CONFIGS.items():
        for i in range(N):
            outcome = "success" if i < rate * N else "failure"
            records.append(
                trial(seq=len(records), config_hash=name, experiment_id=f"exp_{name[1]}", outcome=outcome, cost=cost)
            )
    write_run(tmp_path, "r1", records)
    return load_trials(tmp_path)


def test_the_front_and_the_kpi_are_those_computed_by_hand(four_configs: TrialTable) -> None:
    front = pareto_front(four_configs, bootstrap=200, seed=0)
    json.dumps(front, allow_nan=False)
    points = {point["config_hash"]: point for point in front["points"]}
    assert [point["config_hash"] for point in front["points"]] == ["hA", "hB", "hC", "hD"]  # by success rate
    assert {name: point["on_front"] for name, point in points.items()} == {
        "hA": True,
        "hB": True,
        "hC": False,  # hB has more success at a lower cost
        "hD": True,
    }
    assert front["front"] == ["hD", "hB", "hA"]  # by cost
    kpi = front["kpi"]
    assert kpi["best"]["config_hash"] == "hA"
    assert kpi["threshold_success"] == pytest.approx(0.72)
    assert kpi["threshold_cost"] == pytest.approx(0.3)
    assert kpi["answers"] == ["hB"]  # hC misses the success threshold (0.70 < 0.72), hD too
    assert kpi["statement"] == (
        "Best success rate: exp_A (90.0% at $1.00 per trial). 1 config reaches >= 80% of its success rate "
        "(>= 72.0%) at <= 30% of its cost (<= $0.3000): exp_B (80.0%, $0.2000)."
    )
    assert points["hB"]["meets_kpi"] is True
    assert points["hA"]["p_kpi"] is None
    assert points["hB"]["cost_ci"] == pytest.approx([0.2, 0.2])
    assert "Wilson" in front["method"]
    assert "bootstrap" in front["method"]


def _binomial(p: float) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([math.comb(N, k) * p**k * (1 - p) ** (N - k) for k in range(N + 1)])


def test_the_probability_of_being_dominated_matches_the_exact_binomial_value(four_configs: TrialTable) -> None:
    resamples = 3000
    front = pareto_front(four_configs, bootstrap=resamples, seed=11)
    points = {point["config_hash"]: point for point in front["points"]}
    # Costs are constant within a config, so a resample differs only in its success counts, which are exactly
    # Binomial(N, rate) and independent across configs. hA is dominated when any cheaper config does at least as well;
    # hB only by hD (the only cheaper one); hC by hB or hD; hD, the cheapest, never.
    pmf = {name: _binomial(rate) for name, (rate, _) in CONFIGS.items()}
    below = {name: np.concatenate([[0.0], np.cumsum(values)[:-1]]) for name, values in pmf.items()}  # P(X < k)
    expected = {
        "hA": 1 - float(np.sum(pmf["hA"] * below["hB"] * below["hC"] * below["hD"])),
        "hB": 1 - float(np.sum(pmf["hB"] * below["hD"])),
        "hC": 1 - float(np.sum(pmf["hC"] * below["hB"] * below["hD"])),
    }
    for name, probability in expected.items():
        # Monte Carlo standard error sqrt(p (1 - p) / R); 4 of them, and at least 1/R.
        tolerance = max(4 * math.sqrt(probability * (1 - probability) / resamples), 1 / resamples)
        assert points[name]["p_dominated"] == pytest.approx(probability, abs=tolerance)
    assert points["hD"]["p_dominated"] == 0.0
    # P(hB meets the KPI) = P(rate_B >= 0.8 rate_A), computed with the same floating-point arithmetic.
    a, b = np.meshgrid(np.arange(N + 1), np.arange(N + 1), indexing="ij")
    meets = (b / N) >= 0.8 * (a / N)
    p_kpi = float(np.sum(np.outer(pmf["hA"], pmf["hB"]) * meets))
    assert points["hB"]["p_kpi"] == pytest.approx(p_kpi, abs=4 * math.sqrt(p_kpi * (1 - p_kpi) / resamples))


def test_configs_without_a_known_cost_stay_off_the_front(tmp_path: Path) -> None:
    write_run(
        tmp_path,
        "r1",
        [
            trial(seq=0, config_hash="priced", cost=0.1),
            trial(seq=1, config_hash="unpriced", cost=None, outcome="success"),
        ],
    )
    front = pareto_front(load_trials(tmp_path), bootstrap=20)
    points = {point["config_hash"]: point for point in front["points"]}
    assert points["unpriced"]["on_front"] is False
    assert points["unpriced"]["p_dominated"] is None
    assert points["priced"]["on_front"] is True
    assert front["kpi"]["best"]["config_hash"] == "priced"


def test_an_empty_table_gives_an_empty_front(tmp_path: Path) -> None:
    front = pareto_front(load_trials(tmp_path), bootstrap=10)
    assert front["points"] == []
    assert front["kpi"]["answers"] == []
    assert front["kpi"]["statement"] == "No scored trials: nothing to compare."


def test_the_dominated_call_is_benjamini_hochberg_over_the_priced_configs(four_configs: TrialTable) -> None:
    from pytest_agentopt.analysis.multiplicity import benjamini_hochberg

    resamples = 400
    front = pareto_front(four_configs, bootstrap=resamples, seed=3)
    points = {point["config_hash"]: point for point in front["points"]}
    names = [point["config_hash"] for point in front["points"]]
    raw = [(1 + (1 - points[name]["p_dominated"]) * resamples) / (1 + resamples) for name in names]
    assert [points[name]["p_value_dominated"] for name in names] == pytest.approx(raw)
    assert [points[name]["q_dominated"] for name in names] == pytest.approx(benjamini_hochberg(raw))
    for name in names:
        assert points[name]["dominated"] is (points[name]["q_dominated"] <= 0.05)
    # hC (70 % at $0.50) is off the front and dominated in about 97 % of the resamples: a raw call at 5 %
    # (p 0.03), but not a discovery among four configs (q = 4 p / 1 > 0.05). hD, the cheapest, never is.
    assert points["hC"]["on_front"] is False
    assert points["hC"]["p_value_dominated"] <= 0.05
    assert points["hC"]["q_dominated"] == pytest.approx(min(1.0, 4 * points["hC"]["p_value_dominated"]))
    assert points["hC"]["dominated"] is False
    assert points["hD"]["dominated"] is False
    assert points["hD"]["p_value_dominated"] == 1.0
    assert "Benjamini-Hochberg" in front["method"]


def test_a_config_dominated_in_every_resample_is_called_dominated(tmp_path: Path) -> None:
    records = [
        trial(seq=offset + k, trial_index=offset + k, config_hash=name, experiment_id=f"exp_{name}", cost=cost,
              outcome="success" if k < rate * N else "failure")
        for offset, (name, rate, cost) in ((0, ("X", 0.9, 0.1)), (N, ("Y", 0.5, 1.0)))
        for k in range(N)
    ]  # fmt: skip
    write_run(tmp_path, "r1", records)
    points = {point["config_hash"]: point for point in pareto_front(load_trials(tmp_path), bootstrap=400)["points"]}
    assert points["Y"]["p_value_dominated"] == pytest.approx(1 / 401)
    assert points["Y"]["q_dominated"] == pytest.approx(2 / 401)
    assert points["Y"]["dominated"] is True
    assert points["X"]["dominated"] is False
