"""Hand-made data in the shapes of the reports contract (run summary, analysis rows), for the renderer tests.

The summaries are complete :class:`RunSummary` documents (``test_render_format`` checks their shape): the
renderers read a summary through its type, so a partial sample would test a document no run writes.
"""

from __future__ import annotations

from typing import Any

from pytest_agentopt.report.report_dict import ReportDict
from pytest_agentopt.storage.summary_schema import ArmSummary, RunSummary

INJECTION = (
    '<script>alert("x")</script> | *bold* `code` [link](javascript:alert(1)) $1 & $2 <img src=x onerror=alert(1)>'
)


def arm(experiment_id: str, successes: int, trials: int, cost: float) -> ArmSummary:
    return {
        "experiment_id": experiment_id,
        "config_hash": f"hash-{experiment_id}",
        "model": "gpt-4.1-mini",
        "trials": trials,
        "successes": successes,
        "failures": trials - successes - 1,
        "errors": 1,
        "infra_errors": 2,
        "setup_errors": 0,
        "timeouts": 0,
        "worker_crashes": 0,
        "success_rate": successes / trials,
        "success_ci": [successes / trials - 0.1, successes / trials + 0.1],
        "success_ci_method": "Wilson 95% (fixed-n)",
        "tokens": {"input": 1000 * trials, "output": 100 * trials, "cache_read": 0, "cache_write": 0, "reasoning": 0},
        "trials_with_usage": trials,
        "mean_tokens": {"input": 1000.0, "output": 100.0},
        "cost_usd": cost * trials,
        "trials_with_cost": trials,
        "cost_per_trial_usd": cost,
        "cost_per_success_usd": cost * trials / successes,
        "infra_cost_usd": 0.0,
        "spent_usd": cost * trials,
        "trials_unpriced": 0,
        "mean_latency_s": 1.25,
        "mean_steps": 6.5,
    }


def ab_summary(*, verdict: str = "better", gate_passed: bool = True) -> RunSummary:
    return {
        "schema": 1,
        "run_id": "20261123-155501-exp_042-3fa2",
        "experiment_id": "exp_042",
        "mode": "ab",
        "settings": {
            "trials_per_task_per_arm": 10,
            "sprt": True,
            "alpha": 0.05,
            "beta": 0.1,
            "effect": 0.15,
            "target": None,
            "direction": "both",
            "seed": 7,
            "cap_pairs": None,
        },
        "design": None,
        "arms": {"control": arm("exp_041", 19, 49, 0.0027), "test": arm("exp_042", 31, 49, 0.0025)},
        "config_diff": [
            {
                "key": "guidelines",
                "control": ["Verify the checkout."],
                "test": ["Verify the checkout.", "Check coupon limits first"],
                "text": 'guidelines: +"Check coupon limits first"',
            }
        ],
        "verdict": verdict,
        "verdict_reason": (
            "test is better than control: 'no difference' rejected after 49 pairs, the evidence favouring an "
            "improvement of 0.15 over none (false 'better' at most 0.05)"
        ),
        "decided_by": "sprt",
        "llr": {"better": 2.99, "worse": -2.27},
        "bounds": [-2.2513, 2.8904],
        "tests": {"better": "accepted_h1", "worse": "accepted_h0"},
        "last_look": None,
        "decided_at_cap": False,
        "pairs_used": 49,
        "pairs": {"both": 15, "test_only": 15, "control_only": 4, "neither": 15},
        "mcnemar_p": None,
        "mcnemar_direction": None,
        "effect": {"estimate": 0.2245, "lower": -0.0361, "upper": 0.4248, "n": 49, "method": "time-uniform 95% cs"},
        "cost_ratio": {
            "estimate": 0.936,
            "lower": 0.684,
            "upper": 1.329,
            "level": 0.95,
            "pairs": 49,
            "pairs_complete": 49,
            "pairs_for_bounds": 8,
            "mean_ratio": 0.951,
            "estimand": "median of the per-pair cost ratio test / control",
            "method": "median of 49 paired cost ratios; time-uniform 95% confidence sequence for the median",
        },
        "drift": None,
        "trials_planned": 520,
        "trials_started": 99,
        "trials_skipped": 421,
        "trials_after_decision": 1,
        "budget": None,
        "spend": {"usd": 0.2548, "trials": 99, "unpriced": 0},
        "interrupted": False,
        "stopped_by": None,
        "coverage": [],
        "tasks": [
            {
                "task_id": "bench/test_store.py::test_store_task[gpu_race]",
                "code": "gpu_race",
                "category": "discriminative",
                "arms": {
                    "control": {"trials": 5, "successes": 1, "cost_usd": 0.01, "tokens": 5500, "success_rate": 0.2},
                    "test": {"trials": 5, "successes": 4, "cost_usd": 0.012, "tokens": 6000, "success_rate": 0.8},
                },
            }
        ],
        "notes": ["warning: estimated cost unknown for model 'local'"],
        "extension": None,
        "metric": None,
        "hypothesis": None,
        "shard": None,
        "merged_from": None,
        "gate": {"passed": gate_passed, "reason": None if gate_passed else "regression proven: test is worse"},
    }


def pareto_point(
    experiment_id: str, success: float, cost: float, *, on_front: bool, spread: float = 0.1
) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id,
        "config_hash": f"hash-{experiment_id}",
        "model": "gpt-4.1-mini",
        "trials": 50,
        "success_rate": success,
        "success_ci": [max(0.0, success - spread), min(1.0, success + spread)],
        "cost_per_task_usd": cost,
        "cost_ci": [cost * 0.8, cost * 1.2],
        "on_front": on_front,
        "p_dominated": 0.05 if on_front else 0.9,
    }


def pareto(points: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    points = points or [
        pareto_point("cheap", 0.45, 0.0004, on_front=True),
        pareto_point("exp_041", 0.39, 0.0027, on_front=False),
        pareto_point("exp_042", 0.62, 0.0025, on_front=True),
        pareto_point("big", 0.70, 0.0120, on_front=True),
    ]
    return {
        "points": points,
        "kpi": {
            "best": "big",
            "threshold_success": 0.56,
            "threshold_cost": 0.0036,
            "answers": ["hash-exp_042"],
            "statement": "exp_042 reaches at least 80% of big's success rate at at most 30% of its cost.",
        },
        "method": "success: Wilson 95%; cost: bootstrap percentile 95% (1000 resamples)",
    }


def llr_path(pairs: int = 49, decided_at: int | None = 49) -> dict[str, Any]:
    return {
        "points": [{"pairs": n, "better": 0.06 * n, "worse": -0.045 * n} for n in range(1, pairs + 1)],
        "bounds": [-2.2513, 2.8904],
        "decided_at": decided_at,
    }


def trajectory_row(group: str) -> dict[str, Any]:
    return {
        "group": group,
        "trials": 49,
        "mean_steps": 6.5,
        "mean_tool_calls": 5.5,
        "step_efficiency": 0.8,
        "early_termination_rate": None,
        "token_waste": 0.4,
        "false_done_rate": 0.3,
        "mean_latency_s": 1.2,
    }


def full_report() -> ReportDict:
    return {
        "title": None,
        "summary": ab_summary(),
        "llr_path": llr_path(),
        "trajectory": {
            "by_arm": [trajectory_row("control"), trajectory_row("test")],
            "by_task": [trajectory_row("gpu_race")],
            "by_category": [trajectory_row("discriminative")],
        },
        "pareto": pareto(),
        "tasks_clusters": [
            {
                "task_id": "bench/test_store.py::test_store_task[gpu_race]",
                "code": "gpu_race",
                "declared_category": "discriminative",
                "cluster": "discriminative",
                "configs": 4,
                "min_rate": 0.2,
                "max_rate": 0.8,
                "reason": "the intervals of the best and the worst config do not overlap",
            }
        ],
        "failures": [
            {
                "signature": "AssertionError: wrong coupon on <n>x item",
                "error_type": "AssertionError",
                "example_message": "wrong coupon on 1x Laptop sleeve: used TECH25, expected BAGS15",
                "count": 12,
                "tasks": ["coupon_category"],
                "arms": ["control", "test"],
                "share": 0.25,
            }
        ],
        "generated_at": "2026-11-23T16:41:00.000Z",
        "source": "/tmp/agent/runs/20261123-155501-exp_042-3fa2",
    }
