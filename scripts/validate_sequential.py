"""Seeded validation of the sequential machinery: error rates, pairs used and sessions started, by simulation.

Run ``python scripts/validate_sequential.py --help``; ``docs/validation.md`` holds the latest output and what it
means. Not part of the test suite (it takes minutes); ``tests/unit/test_validation_script.py`` smoke-tests it.

What is simulated, and what is the real code
--------------------------------------------
A suite of ``tasks`` tasks, each with a difficulty ``u_t ~ N(0, sigma^2)`` on the logit scale, drawn afresh for
every simulated run; arm ``a`` solves task ``t`` with probability ``expit(c_a + u_t)``, the intercepts ``c_a``
calibrated by ``stats.planning`` so that the *marginal* rates are the stated ones (the model behind
``paired_outcome_probabilities`` and the lower bounds of the reference figures). A trial's duration is gamma with
mean 1 (exponential by default) for a success and ``failure_slowdown`` (3) times longer for a failure: agent
failures run into turn limits.

Everything else is the code that runs in the plugin:

- ``plan.build_plan``: the trial-major planned order (a seeded shuffle per round, both arms of a pair adjacent);
- ``dispatch.TrialDispatcher`` with ``default_window(workers)``: which items each worker holds. The simulated workers
  follow xdist: a worker starts the item it holds only once it holds the next one too, or once it has been told
  to shut down (the dispatcher is exhausted); the event loop mirrors ``xdist_scheduler.SequentialScheduling``
  (the result is reported first, then ``finish`` and ``assign`` with the reporting node served first);
- ``sequential.SequentialFeeder``: results enter the test only as the completed prefix of the planned order;
- ``stats.sprt.PairedSequentialTest`` / ``TargetSequentialTest``: the decisions, with the design the plugin
  builds (``run.sequential_design.design_for``: boundaries calibrated over the discordance and the last look at the cap;
  ``stats.target_design``: Wald's boundaries and the calibrated last look for a target);
- the cap: without ``--trials-per-task``, the one the plugin derives without ``--agent-trials``
  (``trial_expansion.trials_for`` of the design's required pairs or trials), reached with the plan's last item,
  where the feeder asks the test for its last look.

On the decision the controller calls ``TrialDispatcher.stop()`` and the workers skip what they hold (the stop flag), so
"sessions started" counts the trials that had begun running by the decision: those that finish after it
included, those merely held excluded.

Contrast: "completion order" feeds results as they arrive (the feeder is given arrival numbers instead of planned
sequence numbers) and dispatches without a window - the naive design that docs/statistics.md warns against.

Common random numbers: a run's suite, plan, outcomes and durations are drawn once and replayed for every worker
count and ordering, so the comparisons between them are paired. In planned-prefix order the decision cannot
depend on the number of workers at all; the report checks that it never does.
"""

from __future__ import annotations

import argparse
import functools
import heapq
import math
import multiprocessing
import os
import shlex
import sys
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from tabulate import tabulate

if __package__ in (None, ""):  # run as ``python scripts/validate_sequential.py``: this checkout's plugin
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_agentopt.run.dispatch import TrialDispatcher, default_window
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.trial_order import ARMS_AB, ARMS_SINGLE, PlannedTrial, build_plan
from pytest_agentopt.shell.trial_expansion import trials_for
from pytest_agentopt.stats.design import PairedDesign
from pytest_agentopt.stats.gsprt_dp import lattice_dp
from pytest_agentopt.stats.oc import binomial_sprt_oc, stopping_quantile
from pytest_agentopt.stats.planning import (
    asn_lower_bounds_one_sample,
    asn_lower_bounds_paired,
    fixed_n_mcnemar,
    fixed_n_one_sample,
    logit_intercept,
    paired_outcome_probabilities,
)
from pytest_agentopt.stats.sprt import (
    Direction,
    PairedSequentialTest,
    SequentialSettings,
    TargetSequentialTest,
)
from pytest_agentopt.stats.target_design import target_design

Ordering = Literal["planned", "completion"]
FloatArray = npt.NDArray[np.float64]

INCONCLUSIVE = "inconclusive"
DEFAULT_WORKERS = (1, 4, 8, 16)
GATE_WORKERS = 8
"""The acceptance checks of the machinery are stated for 8 workers with slow failures."""

# The reference figures (docs/statistics.md), quoted to check the exact DP against them:
# (p0, p1) -> exact alpha, exact beta, exact ASN under H0, under H1.
REFERENCE_ONE_SAMPLE: dict[tuple[float, float], tuple[float, float, float, float]] = {
    (0.50, 0.65): (0.0450, 0.0871, 45.7, 55.6),
    (0.70, 0.85): (0.0464, 0.0768, 31.6, 42.1),
    (0.80, 0.95): (0.0496, 0.0675, 17.3, 27.3),
}
# Ranges for the paired GSPRT (improvement test) around the exact DP of Wald's constant bounds in docs/statistics.md
# (89.3 / 97.6 pairs without spread, 56.5 / 62.4 with sigma = 2): sigma -> ASN H0, H1.
REFERENCE_PAIRED_ASN: dict[float, tuple[str, str]] = {0.0: ("88-90", "97-99"), 2.0: ("55-57", "62-63")}


# -- configuration ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuiteModel:
    """The simulated benchmark suite and its timing."""

    tasks: int = 24
    trials_per_task: int | None = None
    """The cap: at most this many trials per task and arm (``--agent-trials`` under ``--sprt``); ``None``: the cap
    the plugin derives without ``--agent-trials`` (per test: paired or against a target)."""
    failure_slowdown: float = 3.0
    duration_shape: float = 1.0
    """Gamma shape of the durations (mean 1 for a success); 1 is exponential."""


@dataclass(frozen=True)
class PairedScenario:
    p_control: float
    p_test: float
    spread_sigma: float

    @property
    def hypothesis(self) -> str:
        return "H0" if self.p_test == self.p_control else "H1"

    @property
    def label(self) -> str:
        return f"paired {self.p_control:.2f} vs {self.p_test:.2f}, sigma={self.spread_sigma:g}"


@dataclass(frozen=True)
class TargetScenario:
    """One config against ``target`` (H0: p = target - delta vs H1: p = target) when its true rate is ``rate``."""

    target: float
    rate: float

    @property
    def hypothesis(self) -> str:
        return "H1" if math.isclose(self.rate, self.target) else "H0"

    @property
    def label(self) -> str:
        return f"target {self.target:.2f}, true rate {self.rate:.2f}"


Scenario = PairedScenario | TargetScenario


@dataclass(frozen=True)
class ValidationConfig:
    runs: int = 4000
    seed: int = 20240601
    workers: tuple[int, ...] = DEFAULT_WORKERS
    processes: int = 1
    suite: SuiteModel = field(default_factory=SuiteModel)
    settings: SequentialSettings = field(default_factory=SequentialSettings)
    paired: tuple[PairedScenario, ...] = (
        PairedScenario(0.60, 0.60, 0.0),
        PairedScenario(0.60, 0.75, 0.0),
        PairedScenario(0.60, 0.60, 2.0),
        PairedScenario(0.60, 0.75, 2.0),
    )
    target_single: tuple[TargetScenario, ...] = (
        TargetScenario(0.65, 0.50),
        TargetScenario(0.65, 0.65),
        TargetScenario(0.85, 0.70),
        TargetScenario(0.85, 0.85),
        TargetScenario(0.95, 0.80),
        TargetScenario(0.95, 0.95),
    )
    """Scenario 3: single process (one worker)."""
    target_parallel: tuple[TargetScenario, ...] = (TargetScenario(0.65, 0.50), TargetScenario(0.65, 0.65))
    """Scenario 2 for the target test: every worker count, both orderings."""


# -- one simulated run ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawnRun:
    """A run's planned order with every trial's outcome and duration, drawn before anything is scheduled."""

    plan: list[PlannedTrial]
    successes: list[bool]
    durations: list[float]


@dataclass(frozen=True)
class ScheduledResult:
    verdict: str
    units: int
    """Pairs (A/B) or trials (target) that entered the decision; the cap when inconclusive."""
    started: int
    """Sessions (trials) that had begun running when the test decided (all of them when inconclusive)."""


@functools.lru_cache(maxsize=64)
def arm_intercept(rate: float, spread_sigma: float) -> float:
    """The logit intercept whose marginal success rate over the task spread is ``rate`` (planning's calibration)."""
    return logit_intercept(rate, spread_sigma)


def _expit(x: FloatArray) -> FloatArray:
    result: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * x))
    return result


@functools.cache
def paired_design_of(settings: SequentialSettings, direction: Direction = "both") -> PairedDesign:
    """The paired design the plugin runs for these settings (``run.sequential_design.design_for``; built once per
    process: the plugin builds it once per run)."""
    return design_for(settings.alpha, settings.beta, settings.delta, direction)


def cap_trials(scenario: Scenario, suite: SuiteModel, settings: SequentialSettings) -> int:
    """Trials per task and arm: the suite's, or the cap the plugin derives without ``--agent-trials``."""
    if suite.trials_per_task is not None:
        return suite.trials_per_task
    if isinstance(scenario, PairedScenario):
        required = paired_design_of(settings).required_pairs
    else:
        required = target_design(scenario.target, settings.alpha, settings.beta, settings.delta).required_trials
    if required is None:
        raise ValueError(f"{scenario.label}: no derived cap for these settings; give --trials-per-task")
    return trials_for(required, suite.tasks)


def draw_run(rng: np.random.Generator, scenario: Scenario, suite: SuiteModel, trials: int) -> DrawnRun:
    """Draw a fresh suite (task difficulties), the run's planned order, and every trial's outcome and duration."""
    task_ids = [f"task{index:03d}" for index in range(suite.tasks)]
    if isinstance(scenario, PairedScenario):
        arms, sigma = ARMS_AB, scenario.spread_sigma
        rates = {"control": scenario.p_control, "test": scenario.p_test}
    else:
        arms, sigma = ARMS_SINGLE, 0.0
        rates = {"test": scenario.rate}
    plan = build_plan(task_ids, arms, trials, seed=int(rng.integers(2**62)))
    difficulty = rng.normal(0.0, sigma, suite.tasks) if sigma > 0 else np.zeros(suite.tasks)
    task_index = {task_id: index for index, task_id in enumerate(task_ids)}
    logits = np.array(
        [arm_intercept(rates[trial.arm], sigma) + difficulty[task_index[trial.task_id]] for trial in plan]
    )
    successes = rng.random(len(plan)) < _expit(logits)
    shape = suite.duration_shape
    durations = rng.gamma(shape, 1.0 / shape, len(plan)) * np.where(successes, 1.0, suite.failure_slowdown)
    return DrawnRun(plan, [bool(value) for value in successes], [float(value) for value in durations])


def new_feeder(scenario: Scenario, settings: SequentialSettings, plan_size: int) -> SequentialFeeder:
    """The feeder and test the controller builds: the plugin's design, the last look once the plan is committed."""
    if isinstance(scenario, PairedScenario):
        test = PairedSequentialTest(settings, "both", paired_design_of(settings))
        return SequentialFeeder(paired_test=test, plan_size=plan_size)
    design = target_design(scenario.target, settings.alpha, settings.beta, settings.delta)
    target_test = TargetSequentialTest(scenario.target, settings, design=design)
    return SequentialFeeder(target_test=target_test, plan_size=plan_size)


def simulate_scheduled(drawn: DrawnRun, feeder: SequentialFeeder, workers: int, ordering: Ordering) -> ScheduledResult:
    """Discrete-event simulation of ``workers`` xdist workers running the plan until the test decides.

    ``planned``: the dispatcher's window is ``default_window(workers)`` and results carry their planned sequence
    numbers (the design). ``completion``: no window, and results are numbered in the order they complete.
    """
    window = default_window(workers) if ordering == "planned" else None
    dispatcher: TrialDispatcher[int] = TrialDispatcher(len(drawn.plan), window)
    nodes = list(range(workers))
    for node in nodes:
        dispatcher.add_node(node)
    running: list[int | None] = [None] * workers
    serve_first = [[first, *(node for node in nodes if node != first)] for first in nodes]
    shutting_down = False
    events: list[tuple[float, int, int]] = []
    started = 0
    arrivals = 0
    now = 0.0

    def start_what_may_start(candidates: Iterable[int]) -> None:
        # xdist: a worker runs the item it holds once it holds the next one too, or once told to shut down.
        nonlocal started
        for node in candidates:
            held = dispatcher.node_items[node]
            if running[node] is None and (len(held) >= 2 or (held and shutting_down)):
                index = held[0]
                running[node] = index
                started += 1
                heapq.heappush(events, (now + drawn.durations[index], node, index))

    def send(first: int | None) -> None:
        nonlocal shutting_down
        sent = dispatcher.assign(nodes if first is None else serve_first[first])
        if dispatcher.exhausted and not shutting_down:
            shutting_down = True
            start_what_may_start(nodes)  # every worker runs the last item it holds
        elif first is None:
            start_what_may_start(nodes)
        else:
            start_what_may_start([first, *sent])

    send(None)
    while events:
        now, node, index = heapq.heappop(events)
        running[node] = None
        trial = drawn.plan[index]
        seq = index if ordering == "planned" else arrivals
        arrivals += 1
        outcome = "success" if drawn.successes[index] else "failure"
        # The controller sees the report before xdist marks the item complete (as in the real scheduler).
        decision = feeder.add(seq, task_id=trial.task_id, arm=trial.arm, trial=trial.trial, outcome=outcome)
        if decision is not None:
            dispatcher.stop()  # the workers skip what they hold: nothing more starts
            return ScheduledResult(decision.verdict, decision.units, started)
        dispatcher.finish(node, index)
        send(node)
    return ScheduledResult(INCONCLUSIVE, feeder.units, started)


def planned_order_reference(drawn: DrawnRun, feeder: SequentialFeeder) -> ScheduledResult:
    """The same run without any scheduling: every result fed in planned order (what a single process does)."""
    for trial, success in zip(drawn.plan, drawn.successes, strict=True):
        outcome = "success" if success else "failure"
        decision = feeder.add(trial.seq, task_id=trial.task_id, arm=trial.arm, trial=trial.trial, outcome=outcome)
        if decision is not None:
            return ScheduledResult(decision.verdict, decision.units, trial.seq + 1)
    return ScheduledResult(INCONCLUSIVE, feeder.units, len(drawn.plan))


def improvement_test_alone(drawn: DrawnRun, settings: SequentialSettings) -> tuple[str, int]:
    """The paired test's improvement GSPRT (0 vs +delta) run alone on the planned pairs: (state, pairs used).

    the reference figures' paired figures and lower bounds are for this one-sided test; the paired test also waits
    for its regression test before it may say ``no_difference``.
    """
    test = PairedSequentialTest(settings, "better", paired_design_of(settings, "better"))
    states = {"better": "accepted_h1", "not_better": "accepted_h0"}
    for pair in range(len(drawn.plan) // 2):
        test.add_pair(drawn.successes[2 * pair], drawn.successes[2 * pair + 1])
        if test.verdict is not None:
            return (states[test.verdict], pair + 1)
    verdict = test.conclude()  # the last look at the cap
    return (states[verdict] if verdict is not None else "running", len(drawn.plan) // 2)


# -- many runs --------------------------------------------------------------------------------------------------

Key = tuple[int, Ordering]
"""(workers, ordering) of one scheduled simulation."""


@dataclass(frozen=True)
class RunSample:
    run: int
    reference: ScheduledResult
    scheduled: dict[Key, ScheduledResult]
    alone: tuple[str, int] | None


@dataclass(frozen=True)
class Job:
    scenario: Scenario
    runs: tuple[int, ...]
    keys: tuple[Key, ...]
    seed: int
    suite: SuiteModel
    settings: SequentialSettings


def _scenario_stream(scenario: Scenario) -> int:
    """A stable number per scenario (not ``hash``, which is salted per process)."""
    return zlib.crc32(repr(scenario).encode("utf-8"))


def run_job(job: Job) -> list[RunSample]:
    samples: list[RunSample] = []
    for run in job.runs:
        rng = np.random.default_rng([job.seed, _scenario_stream(job.scenario), run])
        drawn = draw_run(rng, job.scenario, job.suite, cap_trials(job.scenario, job.suite, job.settings))
        size = len(drawn.plan)
        reference = planned_order_reference(drawn, new_feeder(job.scenario, job.settings, size))
        scheduled = {
            (workers, ordering): simulate_scheduled(
                drawn, new_feeder(job.scenario, job.settings, size), workers, ordering
            )
            for workers, ordering in job.keys
        }
        alone = improvement_test_alone(drawn, job.settings) if isinstance(job.scenario, PairedScenario) else None
        samples.append(RunSample(run, reference, scheduled, alone))
    return samples


def scheduling_keys(workers: Sequence[int], parallel: bool) -> tuple[Key, ...]:
    """Planned order for every worker count; completion order too where it differs (more than one worker)."""
    if not parallel:
        return ((1, "planned"),)
    keys: list[Key] = [(count, "planned") for count in workers]
    keys.extend((count, "completion") for count in workers if count > 1)
    return tuple(keys)


# -- summaries --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    value: float
    standard_error: float


def proportion(hits: int, runs: int) -> Estimate:
    rate = hits / runs
    return Estimate(rate, math.sqrt(rate * (1.0 - rate) / runs))


def mean_of(values: Sequence[int]) -> Estimate:
    array = np.asarray(values, dtype=float)
    spread = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return Estimate(float(array.mean()), spread / math.sqrt(len(array)))


def percentile_95(values: Sequence[int]) -> int:
    """The smallest n with at least 95 % of the runs at or below it (the DP's quantile definition)."""
    return int(np.quantile(np.asarray(values), 0.95, method="inverted_cdf"))


@dataclass(frozen=True)
class Summary:
    """What one (scenario, workers, ordering) did over all runs."""

    runs: int
    verdicts: dict[str, Estimate]
    units: Estimate
    units_p95: int
    started: Estimate
    started_max: int
    excess: Estimate
    """Sessions started minus the sessions that entered the decision (2 per pair, 1 per target trial)."""
    excess_max: int
    same_as_reference: float
    """Fraction of runs with the verdict and the number of units of the unscheduled planned-order run."""


def summarise(results: Sequence[ScheduledResult], reference: Sequence[ScheduledResult], arms: int) -> Summary:
    runs = len(results)
    names = sorted({result.verdict for result in results} | {INCONCLUSIVE})
    verdicts = {name: proportion(sum(result.verdict == name for result in results), runs) for name in names}
    units = [result.units for result in results]
    started = [result.started for result in results]
    excess = [result.started - arms * result.units for result in results]
    same = sum(
        result.verdict == base.verdict and result.units == base.units
        for result, base in zip(results, reference, strict=True)
    )
    return Summary(
        runs=runs,
        verdicts=verdicts,
        units=mean_of(units),
        units_p95=percentile_95(units),
        started=mean_of(started),
        started_max=max(started),
        excess=mean_of(excess),
        excess_max=max(excess),
        same_as_reference=same / runs,
    )


@dataclass(frozen=True)
class AloneSummary:
    accept_h1: Estimate
    undecided: Estimate
    units: Estimate
    units_p95: int


def summarise_alone(alone: Sequence[tuple[str, int]]) -> AloneSummary:
    runs = len(alone)
    return AloneSummary(
        accept_h1=proportion(sum(state == "accepted_h1" for state, _ in alone), runs),
        undecided=proportion(sum(state == "running" for state, _ in alone), runs),
        units=mean_of([pairs for _, pairs in alone]),
        units_p95=percentile_95([pairs for _, pairs in alone]),
    )


# -- reference figures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairedReference:
    """Exact DP of the paired test on i.i.d. pairs with the model's pair probabilities, and planning figures."""

    probabilities: tuple[float, float, float]
    better: float
    worse: float
    no_difference: float
    undecided: float
    asn: float
    p95: int
    lower_bound: float
    """the reference figures' lower bound under this scenario's hypothesis (improvement claim)."""
    fixed_n: int


def paired_reference(scenario: PairedScenario, settings: SequentialSettings, max_pairs: int) -> PairedReference:
    """The exact DP of the design the plugin runs (calibrated bounds, the last look at ``max_pairs``)."""
    probabilities = paired_outcome_probabilities(scenario.p_control, scenario.p_test, scenario.spread_sigma)
    design = paired_design_of(settings)
    oc = lattice_dp(
        delta=settings.delta,
        bounds=design.bounds,
        direction="both",
        max_pairs=max_pairs,
        last_look=design.last_look(max_pairs),
        grids={"truth": np.array([probabilities])},
    )["truth"]
    p_test = scenario.p_control + settings.delta
    bounds = asn_lower_bounds_paired(scenario.p_control, p_test, settings.alpha, settings.beta, scenario.spread_sigma)
    return PairedReference(
        probabilities=probabilities,
        better=float(oc.better[0]),
        worse=float(oc.worse[0]),
        no_difference=float(oc.no_difference[0]),
        undecided=float(oc.undecided[0]),
        asn=float(oc.asn[0]),
        p95=stopping_quantile(oc.stopping_of(0), 0.95),
        lower_bound=bounds[0] if scenario.hypothesis == "H0" else bounds[1],
        fixed_n=fixed_n_mcnemar(scenario.p_control, p_test, settings.alpha, settings.beta, scenario.spread_sigma),
    )


@dataclass(frozen=True)
class TargetReference:
    p0: float
    p1: float
    accept_h1: float
    accept_h0: float
    undecided: float
    asn: float
    p95: int
    asn_untruncated: float
    accept_h1_untruncated: float
    accept_h0_untruncated: float
    """Wald's boundaries without a cap: the figures the reference quotes."""
    lower_bound: float
    fixed_n: int


def target_reference(scenario: TargetScenario, settings: SequentialSettings, max_trials: int) -> TargetReference:
    """The exact figures of the design the plugin runs: Wald's boundaries (``binomial_sprt_oc``: the stopping
    distribution, unchanged by the last look) and the last look at ``max_trials`` (``stats.target_design``)."""
    test = TargetSequentialTest(scenario.target, settings)  # its p0, p1 exactly as the plugin computes them
    alpha, beta = settings.alpha, settings.beta
    truncated = binomial_sprt_oc(scenario.rate, test.p0, test.p1, alpha, beta, max_n=max_trials)
    untruncated = binomial_sprt_oc(scenario.rate, test.p0, test.p1, alpha, beta)
    bounds = asn_lower_bounds_one_sample(test.p0, test.p1, alpha, beta)
    figures = target_design(scenario.target, alpha, beta, settings.delta).at_cap(max_trials)
    assert figures is not None
    if scenario.hypothesis == "H0":  # the rate is target - delta
        accept_h1, accept_h0 = figures.alpha, 1.0 - figures.below_miss
    else:
        accept_h1, accept_h0 = 1.0 - figures.miss, figures.beta
    return TargetReference(
        p0=test.p0,
        p1=test.p1,
        accept_h1=accept_h1,
        accept_h0=accept_h0,
        undecided=max(0.0, 1.0 - accept_h1 - accept_h0),
        asn=truncated.asn,
        p95=truncated.quantile(0.95),
        asn_untruncated=untruncated.asn,
        accept_h1_untruncated=untruncated.accept_h1,
        accept_h0_untruncated=untruncated.accept_h0,
        lower_bound=bounds[0] if scenario.hypothesis == "H0" else bounds[1],
        fixed_n=fixed_n_one_sample(test.p0, test.p1, alpha, beta),
    )


# -- the whole validation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScenarioResult:
    scenario: Scenario
    reference_run: Summary
    """The planned-order run without scheduling (one process)."""
    scheduled: dict[Key, Summary]
    alone: AloneSummary | None
    exact: PairedReference | TargetReference


@dataclass(frozen=True)
class Check:
    name: str
    figure: str
    passed: bool


@dataclass(frozen=True)
class ValidationReport:
    config: ValidationConfig
    paired: list[ScenarioResult]
    target_single: list[ScenarioResult]
    target_parallel: list[ScenarioResult]
    checks: list[Check]
    seconds: float


def _chunks(runs: int, size: int) -> list[tuple[int, ...]]:
    return [tuple(range(start, min(runs, start + size))) for start in range(0, runs, size)]


def _jobs(config: ValidationConfig) -> list[Job]:
    groups: list[tuple[Iterable[Scenario], tuple[Key, ...]]] = [
        (config.paired, scheduling_keys(config.workers, parallel=True)),
        (config.target_single, scheduling_keys(config.workers, parallel=False)),
        (config.target_parallel, scheduling_keys(config.workers, parallel=True)),
    ]
    size = max(1, min(200, config.runs // max(1, 4 * config.processes)))
    return [
        Job(scenario, runs, keys, config.seed, config.suite, config.settings)
        for scenarios, keys in groups
        for scenario in scenarios
        for runs in _chunks(config.runs, size)
    ]


Collected = dict[tuple[Scenario, tuple[Key, ...]], list[RunSample]]


def exact_reference(job: tuple[Scenario, SequentialSettings, int]) -> PairedReference | TargetReference:
    """The exact and planning figures of one scenario capped at ``cap`` (a pool task: the paired DP is slow)."""
    scenario, settings, cap = job
    if isinstance(scenario, PairedScenario):
        return paired_reference(scenario, settings, cap)
    return target_reference(scenario, settings, cap)


def _simulate_all(
    config: ValidationConfig, jobs: list[Job], scenarios: list[Scenario]
) -> tuple[Collected, dict[Scenario, PairedReference | TargetReference]]:
    reference_jobs = [
        (scenario, config.settings, config.suite.tasks * cap_trials(scenario, config.suite, config.settings))
        for scenario in scenarios
    ]
    if config.processes > 1:
        with multiprocessing.get_context("fork").Pool(config.processes) as pool:
            references_pending = pool.map_async(exact_reference, reference_jobs, chunksize=1)
            outputs = pool.map(run_job, jobs, chunksize=1)
            references = references_pending.get()
    else:
        references = [exact_reference(job) for job in reference_jobs]
        outputs = [run_job(job) for job in jobs]
    collected: Collected = {}
    for job, samples in zip(jobs, outputs, strict=True):
        collected.setdefault((job.scenario, job.keys), []).extend(samples)
    for samples in collected.values():
        samples.sort(key=lambda sample: sample.run)
    return collected, dict(zip(scenarios, references, strict=True))


def _scenario_result(
    scenario: Scenario, samples: list[RunSample], exact: PairedReference | TargetReference
) -> ScenarioResult:
    arms = 2 if isinstance(scenario, PairedScenario) else 1
    reference = [sample.reference for sample in samples]
    keys = list(samples[0].scheduled)
    scheduled = {key: summarise([sample.scheduled[key] for sample in samples], reference, arms) for key in keys}
    alone = None
    if isinstance(scenario, PairedScenario):
        alone = summarise_alone([sample.alone for sample in samples if sample.alone is not None])
    return ScenarioResult(scenario, summarise(reference, reference, arms), scheduled, alone, exact)


def run_validation(config: ValidationConfig) -> ValidationReport:
    """Simulate every scenario ``config.runs`` times and evaluate the acceptance checks of the machinery."""
    began = time.perf_counter()
    scenarios: list[Scenario] = list(dict.fromkeys([*config.paired, *config.target_single, *config.target_parallel]))
    collected, references = _simulate_all(config, _jobs(config), scenarios)
    results = {key: _scenario_result(key[0], samples, references[key[0]]) for key, samples in collected.items()}
    paired_keys = scheduling_keys(config.workers, parallel=True)
    single_keys = scheduling_keys(config.workers, parallel=False)
    paired = [results[(scenario, paired_keys)] for scenario in config.paired]
    target_single = [results[(scenario, single_keys)] for scenario in config.target_single]
    target_parallel = [results[(scenario, paired_keys)] for scenario in config.target_parallel]
    checks = acceptance_checks(config, paired, target_single, target_parallel)
    return ValidationReport(config, paired, target_single, target_parallel, checks, time.perf_counter() - began)


# -- acceptance checks of the machinery ---------------------------------------------------------------------------

ALPHA_LIMIT = 0.06
BETA_LIMIT = 0.11
ASN_TOLERANCE = 0.10


def _fmt(estimate: Estimate, digits: int = 4) -> str:
    return f"{estimate.value:.{digits}f} ± {estimate.standard_error:.{digits}f}"


def acceptance_checks(
    config: ValidationConfig,
    paired: Sequence[ScenarioResult],
    target_single: Sequence[ScenarioResult],
    target_parallel: Sequence[ScenarioResult],
) -> list[Check]:
    checks: list[Check] = []
    for result in target_single:
        scenario, exact = result.scenario, result.exact
        assert isinstance(scenario, TargetScenario)
        assert isinstance(exact, TargetReference)
        quoted = REFERENCE_ONE_SAMPLE.get((round(exact.p0, 2), round(exact.p1, 2)))
        if quoted is None:
            continue
        if scenario.hypothesis == "H0":
            ours, theirs, asn_theirs = exact.accept_h1_untruncated, quoted[0], quoted[2]
            what = "alpha"
        else:
            ours, theirs, asn_theirs = exact.accept_h0_untruncated, quoted[1], quoted[3]
            what = "beta"
        checks.append(
            Check(
                f"exact DP without a cap = reference to 3 decimals ({exact.p0:.2f} vs {exact.p1:.2f}, {what}, ASN)",
                f"{what} {ours:.4f} vs {theirs:.4f}; ASN {exact.asn_untruncated:.2f} vs {asn_theirs}",
                round(ours, 3) == round(theirs, 3) and round(exact.asn_untruncated, 1) == asn_theirs,
            )
        )
    gate = GATE_WORKERS if GATE_WORKERS in config.workers else max(config.workers)
    key: Key = (gate, "planned")
    for result in paired:
        scenario, exact, alone = result.scenario, result.exact, result.alone
        assert isinstance(scenario, PairedScenario)
        assert isinstance(exact, PairedReference)
        assert alone is not None
        summary = result.scheduled[key]
        where = f"{gate} workers, sigma={scenario.spread_sigma:g}"
        limit = (1.0 + ASN_TOLERANCE) * exact.lower_bound
        if scenario.hypothesis == "H0":
            alpha = summary.verdicts.get("better", Estimate(0.0, 0.0))
            checks.append(Check(f"alpha <= {ALPHA_LIMIT} ({where})", _fmt(alpha), alpha.value <= ALPHA_LIMIT))
            checks.append(
                Check(
                    f"pairs used within 10 % of the lower bound, two-sided paired test under H0 ({where})",
                    f"{summary.units.value:.1f} vs bound {exact.lower_bound:.1f} (limit {limit:.1f})",
                    summary.units.value <= limit,
                )
            )
            checks.append(
                Check(
                    f"pairs used within 10 % of the lower bound, improvement test alone under H0 ({where})",
                    f"{alone.units.value:.1f} vs bound {exact.lower_bound:.1f} (limit {limit:.1f})",
                    alone.units.value <= limit,
                )
            )
        else:
            better = summary.verdicts.get("better", Estimate(0.0, 0.0))
            beta = Estimate(1.0 - better.value, better.standard_error)
            checks.append(Check(f"beta <= {BETA_LIMIT} ({where})", _fmt(beta), beta.value <= BETA_LIMIT))
            checks.append(
                Check(
                    f"pairs used within 10 % of the lower bound under H1 ({where})",
                    f"{summary.units.value:.1f} vs bound {exact.lower_bound:.1f} (limit {limit:.1f})",
                    summary.units.value <= limit,
                )
            )
        # ASN in sessions is 2 x pairs used; required on average and, stronger, in every single run.
        allowed = 2.0 * summary.units.value + 2.0 * gate
        checks.append(
            Check(
                f"sessions started <= ASN + 2 x workers ({where}, {scenario.hypothesis})",
                f"mean {summary.started.value:.1f} <= {allowed:.1f} (2 x {summary.units.value:.1f} pairs "
                f"+ {2 * gate}); per run, started - 2 x pairs used: max {summary.excess_max} <= {2 * gate}",
                summary.started.value <= allowed and summary.excess_max <= 2 * gate,
            )
        )
    planned = [
        summary
        for result in [*paired, *target_parallel]
        for (_, ordering), summary in result.scheduled.items()
        if ordering == "planned"
    ]
    checks.append(
        Check(
            "planned-prefix decisions identical to the unscheduled run for every worker count",
            f"{min(s.same_as_reference for s in planned):.4f} of runs identical (worst case)",
            all(s.same_as_reference == 1.0 for s in planned),
        )
    )
    return checks


# -- rendering --------------------------------------------------------------------------------------------------


def _verdict(summary: Summary, name: str) -> Estimate:
    return summary.verdicts.get(name, Estimate(0.0, 0.0))


def _sessions(summary: Summary) -> str:
    return f"{summary.started.value:.1f} (max {summary.started_max})"


def _excess(summary: Summary) -> str:
    return f"{summary.excess.value:.2f} (max {summary.excess_max})"


def _paired_table(results: Sequence[ScenarioResult], ordering: Ordering) -> str:
    rows = []
    for result in results:
        scenario = result.scenario
        assert isinstance(scenario, PairedScenario)
        for (workers, kind), summary in result.scheduled.items():
            if kind != ordering:
                continue
            rows.append(
                [
                    f"{scenario.p_control:.2f} vs {scenario.p_test:.2f} ({scenario.hypothesis})",
                    f"{scenario.spread_sigma:g}",
                    workers,
                    _fmt(_verdict(summary, "better")),
                    _fmt(_verdict(summary, "worse")),
                    _fmt(_verdict(summary, "no_difference")),
                    f"{_verdict(summary, INCONCLUSIVE).value:.4f}",
                    _fmt(summary.units, 1),
                    summary.units_p95,
                    _sessions(summary),
                    _excess(summary),
                    f"{summary.same_as_reference:.4f}",
                ]
            )
    headers = [
        "truth",
        "sigma",
        "workers",
        "P(better)",
        "P(worse)",
        "P(no_difference)",
        "P(inconcl.)",
        "pairs used (ASN)",
        "p95",
        "sessions started",
        "started - 2 x pairs",
        "same as 1 process",
    ]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def _z_rate(observed: Estimate, exact: float, runs: int) -> float:
    """Standardised difference of a simulated rate from the exact one (standard error under the exact rate)."""
    error = math.sqrt(exact * (1.0 - exact) / runs)
    return (observed.value - exact) / error if error > 0 else 0.0


def _z_mean(observed: Estimate, exact: float) -> float:
    return (observed.value - exact) / observed.standard_error if observed.standard_error > 0 else 0.0


def _paired_reference_table(results: Sequence[ScenarioResult]) -> str:
    rows = []
    for result in results:
        scenario, exact, alone = result.scenario, result.exact, result.alone
        assert isinstance(scenario, PairedScenario)
        assert isinstance(exact, PairedReference)
        assert alone is not None
        simulated = result.reference_run
        design = REFERENCE_PAIRED_ASN.get(scenario.spread_sigma, ("-", "-"))
        rows.append(
            [
                f"{scenario.p_control:.2f} vs {scenario.p_test:.2f} ({scenario.hypothesis})",
                f"{scenario.spread_sigma:g}",
                "{:.3f} / {:.3f} / {:.3f}".format(*exact.probabilities),
                f"{exact.better:.4f} / {exact.worse:.4f} / {exact.no_difference:.4f}",
                f"{exact.asn:.1f} (p95 {exact.p95})",
                "{:.4f} / {:.4f} / {:.4f}".format(
                    _verdict(simulated, "better").value,
                    _verdict(simulated, "worse").value,
                    _verdict(simulated, "no_difference").value,
                ),
                f"{_fmt(simulated.units, 1)} (p95 {simulated.units_p95})",
                "{:+.1f} / {:+.1f}".format(
                    _z_rate(_verdict(simulated, "better"), exact.better, simulated.runs),
                    _z_mean(simulated.units, exact.asn),
                ),
                f"{_fmt(alone.units, 1)} (p95 {alone.units_p95})",
                _fmt(alone.accept_h1),
                design[0] if scenario.hypothesis == "H0" else design[1],
                f"{exact.lower_bound:.1f}",
                exact.fixed_n,
            ]
        )
    headers = [
        "truth",
        "sigma",
        "P(D=-1/0/+1)",
        "DP: better / worse / no_diff",
        "DP: ASN",
        "sim: better / worse / no_diff",
        "sim: pairs used",
        "z sim vs DP: better / ASN",
        "sim: improvement test alone, pairs",
        "sim: improvement alone, P(accept H1)",
        "reference GSPRT ASN",
        "lower bound",
        "fixed n (McNemar)",
    ]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def _ordering_table(results: Sequence[ScenarioResult]) -> str:
    rows = []
    for result in results:
        scenario = result.scenario
        paired = isinstance(scenario, PairedScenario)
        claim = "better" if paired else "meets_target"
        for (workers, ordering), summary in sorted(result.scheduled.items()):
            if workers == 1:
                continue
            if scenario.hypothesis == "H0":
                error = _verdict(summary, claim)
                label = "alpha"
            else:
                hit = _verdict(summary, claim)
                error = Estimate(1.0 - hit.value, hit.standard_error)
                label = "beta"
            rows.append(
                [
                    scenario.label,
                    workers,
                    "planned prefix" if ordering == "planned" else "completion",
                    f"{label} {_fmt(error)}",
                    _fmt(summary.units, 1),
                    _sessions(summary),
                    _excess(summary),
                ]
            )
    headers = ["scenario", "workers", "fed in", "error rate", "units used (ASN)", "sessions started", "excess"]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def _target_table(results: Sequence[ScenarioResult]) -> str:
    rows = []
    for result in results:
        scenario, exact = result.scenario, result.exact
        assert isinstance(scenario, TargetScenario)
        assert isinstance(exact, TargetReference)
        summary = result.scheduled[(1, "planned")]
        quoted = REFERENCE_ONE_SAMPLE.get((round(exact.p0, 2), round(exact.p1, 2)))
        if scenario.hypothesis == "H0":
            simulated = _verdict(summary, "meets_target")
            label, ours = "alpha", exact.accept_h1
            design = f"{quoted[0]:.4f} / {quoted[2]}" if quoted else "-"
        else:
            simulated = _verdict(summary, "below_target")
            label, ours = "beta", exact.accept_h0
            design = f"{quoted[1]:.4f} / {quoted[3]}" if quoted else "-"
        rows.append(
            [
                f"{exact.p0:.2f} vs {exact.p1:.2f}, p = {scenario.rate:.2f} ({scenario.hypothesis})",
                f"{label} {_fmt(simulated)}",
                f"{ours:.4f}",
                _fmt(summary.units, 1),
                f"{exact.asn:.2f}",
                f"{_z_rate(simulated, ours, summary.runs):+.1f} / {_z_mean(summary.units, exact.asn):+.1f}",
                f"{summary.units_p95} / {exact.p95}",
                f"{_verdict(summary, INCONCLUSIVE).value:.4f} / {exact.undecided:.4f}",
                design,
                f"{exact.lower_bound:.1f}",
                exact.fixed_n,
            ]
        )
    headers = [
        "scenario",
        "sim error rate",
        "DP exact",
        "sim ASN",
        "DP ASN",
        "z sim vs DP: rate / ASN",
        "p95 sim / DP",
        "inconclusive sim / DP",
        "reference exact rate / ASN",
        "lower bound",
        "fixed n",
    ]
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def render_report(report: ValidationReport, command: str | None = None) -> str:
    config, suite, settings = report.config, report.config.suite, report.config.settings
    if suite.trials_per_task is not None:
        cap = suite.tasks * suite.trials_per_task
        caps = f"cap {suite.trials_per_task} trials per task and arm ({cap} pairs or trials)"
    else:
        paired_trials = trials_for(paired_design_of(settings).required_pairs or 0, suite.tasks)
        derived = sorted(
            {
                (scenario.target, cap_trials(scenario, suite, settings))
                for scenario in [*config.target_single, *config.target_parallel]
            }
        )
        target_caps = ", ".join(f"{trials} for target {target:g}" for target, trials in derived)
        caps = (
            f"the caps the plugin derives without --agent-trials: {paired_trials} trials per task and arm for the "
            f"paired test ({suite.tasks * paired_trials} pairs), {target_caps} ({suite.tasks} tasks)"
        )
    lines = [
        "# Sequential validation (scripts/validate_sequential.py)",
        "",
    ]
    if command is not None:
        lines += [f"Command: `{command}`", ""]
    lines += [
        f"{config.runs} runs per scenario, seed {config.seed}, {config.processes} process(es), "
        f"{report.seconds:.0f} s. alpha {settings.alpha}, beta {settings.beta}, delta {settings.delta}. "
        f"Design: calibrated paired boundaries and Wald's for a target, each with its last look at the cap. "
        f"Suite: {suite.tasks} tasks, {caps}; "
        f"durations gamma(shape {suite.duration_shape:g}) with mean 1 for a success, x{suite.failure_slowdown:g} "
        f"for a failure; dispatch window default_window(workers) = 2 x workers.",
        "",
        "## 1. Paired test, results fed as the planned prefix (the design)",
        "",
        "Probabilities ± Monte Carlo standard error; pairs used ± standard error; sessions started: mean (max); "
        "'same as 1 process': fraction of runs whose verdict and pairs used equal those of the same run fed in "
        "planned order without any scheduling.",
        "",
        _paired_table(report.paired, "planned"),
        "",
        "Reference figures. DP: exact dynamic programming of the paired test as the plugin runs it (`lattice_dp` "
        "with the calibrated boundaries and the last look at the cap) on i.i.d. pairs "
        "with the model's pair probabilities (for sigma > 0 this treats every pair as a new task; the simulation "
        "reuses the suite's tasks across rounds). 'sim' columns: the unscheduled planned-order run. The lower "
        "bound and the reference ASN are for the one-sided improvement test: compare them with 'improvement test "
        "alone', not with the two-sided test's pairs used under H0.",
        "",
        _paired_reference_table(report.paired),
        "",
        "## 2. Planned-prefix order vs completion order (failures 3x slower)",
        "",
        "Paired: alpha = P(better) under H0, beta = 1 - P(better) under H1. Target: alpha = P(meets_target) at "
        "p = target - delta, beta = 1 - P(meets_target) at p = target. Completion order: results fed as they "
        "complete, no dispatch window.",
        "",
        _ordering_table([*report.paired, *report.target_parallel]),
        "",
        "## 3. One config against a target, single process",
        "",
        _target_table(report.target_single),
        "",
        "## Acceptance checks (the machinery)",
        "",
    ]
    lines += [f"- {'PASS' if check.passed else 'FAIL'}: {check.name}: {check.figure}" for check in report.checks]
    return "\n".join(lines) + "\n"


# -- command line -----------------------------------------------------------------------------------------------


def _worker_counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated worker counts, got {text!r}") from exc
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts must be >= 1, got {text!r}")
    return counts


def parse_args(argv: Sequence[str] | None) -> ValidationConfig:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=4000, help="simulated runs per scenario (default 4000)")
    parser.add_argument("--seed", type=int, default=20240601, help="master seed (default 20240601)")
    parser.add_argument(
        "--workers", type=_worker_counts, default=DEFAULT_WORKERS, help="worker counts, e.g. 1,4,8,16 (default)"
    )
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="simulation processes (default: CPU count)"
    )
    parser.add_argument("--tasks", type=int, default=24, help="tasks in the suite (default 24)")
    parser.add_argument(
        "--trials-per-task",
        type=int,
        default=None,
        help="cap per task and arm (default: the cap the plugin derives without --agent-trials)",
    )
    parser.add_argument("--failure-slowdown", type=float, default=3.0, help="failure duration factor (default 3)")
    parser.add_argument("--duration-shape", type=float, default=1.0, help="gamma shape; 1 = exponential")
    args = parser.parse_args(argv)
    if args.runs < 2 or args.processes < 1 or args.tasks < 1 or (args.trials_per_task or 1) < 1:
        parser.error("--runs must be >= 2; --processes, --tasks and --trials-per-task >= 1")
    suite = SuiteModel(args.tasks, args.trials_per_task, args.failure_slowdown, args.duration_shape)
    return ValidationConfig(runs=args.runs, seed=args.seed, workers=args.workers, processes=args.processes, suite=suite)


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    arguments = sys.argv[1:] if argv is None else list(argv)
    command = shlex.join(["python", "scripts/validate_sequential.py", *arguments])
    report = run_validation(config)
    sys.stdout.write(render_report(report, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
