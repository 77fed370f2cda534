"""Seeded simulations of the plugin's own sequential tests, for ``agentopt plan`` where no exact DP exists.

Each run of a simulation builds the very test the controller builds (``run.candidates.candidate_feeders`` for
several candidates, ``run.metric_pairs.metric_pairs`` with ``run.sequential_design.metric_design_for`` for a
numeric metric and for cheaper-at-the-same-quality), feeds it independent pairs up to the cap, takes the last look
the run takes there (``conclude``), and records the pairs used and the verdict. The figures are averages over the
runs with their Monte Carlo standard error, so a plan says how precise it is.

The world the pairs come from (stated in ``docs/statistics.md``, "Planning"):

* success: the task model of ``stats.planning``: a pair draws a task difficulty ``u ~ N(0, spread^2)`` on the
  logit scale, shared by every arm of the pair, and each arm succeeds independently with ``expit(c_arm + u)``,
  ``c_arm`` set so that the arm's average rate is the one given (the exact DP's model, pair by pair);
* a numeric metric (cost): the per-pair log ratio ``log(test / control)`` is normal with mean ``log(ratio)`` and
  standard deviation ``log_sd`` (what a previous run's pairs show, ``--from-run``), independent of success.

Pairs are independent draws: the planned order's rounds (tasks without replacement) are not modelled, as in the
exact DP of the success test.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytest_agentopt.run.candidates import candidate_feeders
from pytest_agentopt.run.metric_choice import CHEAPER_SAME_QUALITY, MetricChoice
from pytest_agentopt.run.metric_pairs import metric_pairs
from pytest_agentopt.run.sequential_design import metric_design_for
from pytest_agentopt.stats.sprt import SequentialSettings
from pytest_agentopt.stats.wald import Direction

__all__ = [
    "CandidateSimulation",
    "SimulatedTest",
    "simulate_candidates",
    "simulate_cheaper_same_quality",
    "simulate_ratio_test",
]

UNDECIDED = "inconclusive"


@dataclass(frozen=True)
class SimulatedTest:
    """Pairs used and verdicts of one test over the simulated runs."""

    runs: int
    mean_pairs: float
    standard_error: float
    """Monte Carlo standard error of ``mean_pairs`` (sample sd / sqrt(runs))."""
    p95_pairs: int
    verdicts: dict[str, float]
    """Share of the runs per verdict (``inconclusive``: undecided at the cap)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "runs": self.runs,
            "mean_pairs": self.mean_pairs,
            "standard_error": self.standard_error,
            "p95_pairs": self.p95_pairs,
            "verdicts": dict(self.verdicts),
        }


def _summarise(pairs: Sequence[int], verdicts: Sequence[str]) -> SimulatedTest:
    runs = len(pairs)
    ordered = sorted(pairs)
    shares: dict[str, float] = {}
    for verdict in verdicts:
        shares[verdict] = shares.get(verdict, 0.0) + 1.0 / runs
    return SimulatedTest(
        runs=runs,
        mean_pairs=statistics.fmean(pairs),
        standard_error=statistics.stdev(pairs) / math.sqrt(runs) if runs > 1 else math.inf,
        p95_pairs=ordered[max(0, math.ceil(0.95 * runs) - 1)],
        verdicts=dict(sorted(shares.items())),
    )


def _success_drawer(rates: Sequence[float], spread: float, rng: random.Random) -> Callable[[], list[bool]]:
    """One pair's outcomes for arms with these average rates (shared task difficulty, see the module doc)."""
    from pytest_agentopt.stats.planning import logit_intercept

    intercepts = [logit_intercept(rate, spread) for rate in rates]

    def draw() -> list[bool]:
        difficulty = rng.gauss(0.0, spread) if spread > 0 else 0.0
        return [rng.random() < 1.0 / (1.0 + math.exp(-(c + difficulty))) for c in intercepts]

    return draw


@dataclass(frozen=True)
class CandidateSimulation:
    """A run with several candidates against one shared control."""

    candidates: list[SimulatedTest]
    """Each candidate's pairs (its own sessions) and verdicts."""
    control: SimulatedTest
    """The control's pairs: until the last candidate has decided (or the cap)."""
    sessions_mean: float
    sessions_standard_error: float
    """The run's sessions (every candidate's pairs plus the control's) and its Monte Carlo standard error."""


def simulate_candidates(
    *,
    p_control: float,
    p_candidates: Sequence[float],
    spread: float,
    alpha: float,
    beta: float,
    effect: float,
    direction: Direction,
    cap: int,
    runs: int,
    seed: int,
) -> CandidateSimulation:
    """The plugin's candidate tests (each at alpha/K, ``candidate_feeders``) on a shared control, ``runs`` times."""
    rng = random.Random(seed)
    draw = _success_drawer([p_control, *p_candidates], spread, rng)
    arms = [f"candidate{index + 1}" for index in range(len(p_candidates))]
    used: list[list[int]] = [[] for _ in arms]
    verdicts: list[list[str]] = [[] for _ in arms]
    control_used: list[int] = []
    control_verdicts: list[str] = []
    sessions: list[int] = []
    for _ in range(runs):
        feeders = candidate_feeders(arms, alpha=alpha, beta=beta, effect=effect, direction=direction)
        tests = [feeders.feeders[arm].paired_test for arm in arms]
        stops = [0] * len(arms)
        for pair in range(1, cap + 1):
            control, *outcomes = draw()
            running = False
            for index, test in enumerate(tests):
                assert test is not None
                if test.verdict is None:
                    test.add_pair(control, outcomes[index])
                    stops[index] = pair
                    running = running or test.verdict is None
            if not running:
                break
        for index, test in enumerate(tests):
            assert test is not None
            verdict = test.verdict if test.verdict is not None else test.conclude()
            used[index].append(stops[index])
            verdicts[index].append(verdict or UNDECIDED)
        control_used.append(max(stops))
        control_verdicts.append("all decided" if all(v[-1] != UNDECIDED for v in verdicts) else UNDECIDED)
        sessions.append(sum(stops) + max(stops))
    return CandidateSimulation(
        candidates=[_summarise(used[index], verdicts[index]) for index in range(len(arms))],
        control=_summarise(control_used, control_verdicts),
        sessions_mean=statistics.fmean(sessions),
        sessions_standard_error=statistics.stdev(sessions) / math.sqrt(runs) if runs > 1 else math.inf,
    )


def simulate_ratio_test(
    *,
    ratio: float,
    log_sd: float,
    alpha: float,
    beta: float,
    effect_ratio: float,
    direction: Direction,
    cap: int,
    runs: int,
    seed: int,
) -> SimulatedTest:
    """The numeric metric's median-ratio test (``--agent-metric cost --agent-effect-ratio R``) at a true median
    per-pair ratio ``ratio``."""
    rng = random.Random(seed)
    choice = MetricChoice("cost", "numeric", effect_ratio)
    settings = SequentialSettings(alpha=alpha, beta=beta)
    used, verdicts = [], []
    for _ in range(runs):
        pairs = metric_pairs(choice, settings, direction, None)
        entered = 0
        while entered < cap and pairs.verdict is None:
            test_cost = math.exp(rng.gauss(math.log(ratio), log_sd))
            pairs.add_results(("success", 1.0), ("success", test_cost))
            entered += 1
        used.append(entered)
        verdicts.append(pairs.verdict or pairs.conclude() or UNDECIDED)
    return _summarise(used, verdicts)


def simulate_cheaper_same_quality(
    *,
    p_control: float,
    p_test: float,
    spread: float,
    ratio: float,
    log_sd: float,
    settings: SequentialSettings,
    effect_ratio: float,
    cap: int,
    runs: int,
    seed: int,
) -> SimulatedTest:
    """``--agent-metric cheaper_same_quality``: its quality half on success at ``p_control`` / ``p_test`` and its
    cost half at a true median per-pair cost ratio ``ratio``, as the controller builds them."""
    rng = random.Random(seed)
    draw = _success_drawer([p_control, p_test], spread, rng)
    choice = MetricChoice(CHEAPER_SAME_QUALITY, "cheaper_same_quality", effect_ratio)
    design = metric_design_for(settings, "worse", choice)
    used, verdicts = [], []
    for _ in range(runs):
        pairs = metric_pairs(choice, settings, "worse", design)
        entered = 0
        while entered < cap and pairs.verdict is None:
            control, test = draw()
            test_cost = math.exp(rng.gauss(math.log(ratio), log_sd))
            pairs.add_results(("success" if control else "failure", 1.0), ("success" if test else "failure", test_cost))
            entered += 1
        used.append(entered)
        verdicts.append(pairs.verdict or pairs.conclude() or UNDECIDED)
    return _summarise(used, verdicts)
