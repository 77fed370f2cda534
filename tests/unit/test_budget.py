"""The budget guard's projection: spend so far plus one average trial per trial that may still run."""

from __future__ import annotations

from pytest_agentopt.run.budget import BudgetGuard


def test_it_stops_before_the_next_trials_would_exceed_the_budget() -> None:
    guard = BudgetGuard(limit_usd=1.0, in_flight=3)
    hits = [guard.add(0.1) for _ in range(10)]
    # after 6 trials: 0.6 spent + 0.1 x (3 in flight + 1 next) = 1.0, not above; after 7: 1.1 > 1.0
    assert hits.index(True) == 6
    assert hits.count(True) == 1
    assert guard.exhausted
    assert abs(guard.spent_usd - 1.0) < 1e-12  # every finished trial is still counted


def test_unknown_costs_are_counted_apart_and_never_stop_the_run() -> None:
    guard = BudgetGuard(limit_usd=0.01, in_flight=0)
    assert not any(guard.add(None) for _ in range(5))
    assert guard.as_dict() == {"limit_usd": 0.01, "spent_usd": 0.0, "exhausted": False, "unpriced_trials": 5}
