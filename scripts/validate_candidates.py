"""Seeded validation of several candidates against one control: family-wise error (or false discovery rate),
power and sessions.

Run ``python scripts/validate_candidates.py --help``; ``docs/candidates-validation.md`` holds the latest output
and what it means. Not part of the test suite (it takes minutes).

What is simulated, and what is the real code
--------------------------------------------
A suite of ``tasks`` tasks with a difficulty ``u_t ~ N(0, sigma^2)`` on the logit scale, drawn afresh for every
simulated run; arm ``a`` solves task ``t`` with probability ``expit(c_a + u_t)``, the intercept ``c_a`` calibrated
(``stats.planning.logit_intercept``) so that the arm's *marginal* rate is ``p_a``. Each trial of each arm is an
independent draw given the task: the pairs are correlated through the task's difficulty only (two arms with the
same rate do not give identical outcomes). A trial's duration is exponential with mean 1 for a success and
``failure_slowdown`` (3) for a failure: failures run into turn limits.

The real code: ``run.trial_order.build_plan`` (control and every candidate adjacent in each pair), the
``run.dispatch.TrialDispatcher`` with ``default_window(workers)`` and xdist's rule that a worker starts the item it
holds only once it holds the next one too (as in ``scripts/validate_sequential.py``),
``run.candidates.CandidateFeeders`` (one ``SequentialFeeder`` and ``PairedSequentialTest`` per candidate at alpha/K,
the design ``run.sequential_design.design_for`` gives), and the per-arm stop: a worker skips (in no time, no
session) an item whose candidate has decided; the dispatcher stops once every candidate has decided.

``--family-error fdr`` validates ``--agent-family-error fdr`` instead: every run is simulated twice on the same
draws, under ``fdr`` (each candidate's ``stats.evidence_paired.EvidencePairedTest``, the final claims by e-BH over
the e-values at the stops: ``CandidateFeeders.false_discovery_claims``) and under the default ``fwer``; it reports
the false discovery rate of the ``better`` and of the ``worse`` claims (the mean over runs of false claims /
max(claims, 1)), with its Monte Carlo standard error, power per true improvement and sessions of both.

The error rates and sessions above keep the fixed window ``default_window(workers)``; a run's own dispatch with
several candidates (the look-ahead ``auto`` over the undecided candidates, a decided candidate's queued items
dropped) changes which trials start beyond each decision, never a verdict. ``--after-decision SIGMA`` measures
that instead: per decided candidate, its trials started beyond its decision point, with the earlier dispatch and
with this one, on local workers (stop flags) and remote ones (none), lognormal durations with that sigma
(``docs/candidates-validation.md``, "A decided candidate stops consuming sessions: the bound").

"Sessions" are the trials that started (skipped ones excluded). The comparison "K separate A/B runs" runs each
candidate alone with its own control trials, through the same code, at the same per-candidate alpha (alpha/K:
the same family-wise guarantee) and, for reference, at alpha (no multiplicity control: a weaker guarantee).

The least share any dispatcher can reach
----------------------------------------
Candidate ``k``'s test decides after ``N_k`` pairs (the cap's pairs when it ends undecided). Whatever the
dispatcher does, one run with a shared control starts at least ``sum_k N_k`` candidate sessions and ``max_k N_k``
control sessions (the control's trial of every pair that entered a test), while K separate runs that stop exactly
at their decisions start ``2 sum_k N_k``. So the expected share is at least ``1/2 + E[max_k N_k] / (2 E[sum_k
N_k])`` against separate runs with no overhead; the column "least share" estimates it from the same runs (the real
tests, their shared control), with its Monte Carlo standard error (delta method over the runs).
"""

from __future__ import annotations

import argparse
import heapq
import math
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tabulate import tabulate

from pytest_agentopt.run.candidates import CandidateFeeders, candidate_alpha, candidate_feeders
from pytest_agentopt.run.dispatch import TrialDispatcher, default_window
from pytest_agentopt.run.options import FAMILY_ERRORS, FamilyError, RunOptions
from pytest_agentopt.run.sequential_design import derived_cap_pairs, design_for
from pytest_agentopt.run.trial_order import PlannedTrial, build_plan, candidate_arms
from pytest_agentopt.stats.planning import logit_intercept

CONTROL_RATE = 0.6
RATES = {"better": 0.75, "equal": 0.6, "worse": 0.45}
SCENARIOS: dict[int, tuple[str, ...]] = {
    1: ("better",),
    2: ("better", "equal"),
    4: ("better", "equal", "equal", "worse"),
    8: ("better", "better", "equal", "equal", "equal", "equal", "worse", "worse"),
}


@dataclass(frozen=True)
class Config:
    runs: int
    tasks: int
    trials: int | None
    """The cap in trials per task and arm; ``None``: each K's derived cap (``derived_trials``)."""
    workers: int
    sigma: float
    slowdown: float
    alpha: float
    beta: float
    effect: float
    seed: int
    null_families: bool
    family_error: str = "fwer"
    candidates: tuple[int, ...] = tuple(SCENARIOS)
    after_decision: float | None = None
    """``--after-decision SIGMA``: measure the trials after each candidate's decision instead."""


def derived_trials(k: int, config: Config) -> int:
    """The trials per task and arm a run with K candidates derives without ``--agent-trials`` (as the plugin:
    ``run.sequential_design.derived_cap_pairs`` divided among the tasks); 40 when it derives none."""
    options = RunOptions(
        candidate_paths=tuple(Path(f"c{i}.json") for i in range(k)) if k > 1 else (),
        sprt=True,
        alpha=config.alpha,
        beta=config.beta,
        effect=config.effect,
    )
    pairs = derived_cap_pairs(options, paired=True, direction="both")
    return math.ceil(pairs / config.tasks) if pairs is not None else 40


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def make_feeders(arms: Sequence[str], alpha: float, config: Config, family_error: FamilyError) -> CandidateFeeders:
    """Each candidate's test at ``alpha`` (already divided by K), as the controller builds them."""
    return candidate_feeders(
        arms,
        alpha=alpha * len(arms),
        beta=config.beta,
        effect=config.effect,
        direction="both",
        family_error=family_error,
    )


def draw_run(
    rates: dict[str, float], config: Config, rng: np.random.Generator
) -> tuple[list[str], list[PlannedTrial], list[bool]]:
    """A run's candidates, its planned order and each planned trial's outcome (the suite's task difficulties are
    drawn afresh; see the module doc)."""
    candidates = [arm for arm in rates if arm != "control"]
    tasks = [f"t{i}" for i in range(config.tasks)]
    assert config.trials is not None
    plan = build_plan(tasks, ("control", *candidates), config.trials, config.seed)
    difficulty = rng.normal(0.0, config.sigma, config.tasks)
    draws = rng.random(len(plan))
    task_index = {task: i for i, task in enumerate(tasks)}
    logits = {arm: logit_intercept(rate, config.sigma) for arm, rate in rates.items()}
    successes = []
    for entry in plan:
        t = task_index[entry.task_id]
        p = _expit(logits[entry.arm] + float(difficulty[t]))
        successes.append(bool(draws[entry.seq] < p))
    return candidates, plan, successes


def simulate(
    rates: dict[str, float],
    alpha: float,
    config: Config,
    rng: np.random.Generator,
    family_error: FamilyError = "fwer",
) -> tuple[dict[str, str], int, list[int]]:
    """One run: each candidate's verdict (under ``fdr`` e-BH's claim where it makes one), the sessions started
    (control included) and each candidate's pairs to its decision (the cap's pairs when undecided)."""
    candidates, plan, successes = draw_run(rates, config, rng)
    mean_durations = np.where(np.array(successes), 1.0, config.slowdown)
    durations = rng.exponential(mean_durations)
    family = make_feeders(candidates, alpha, config, family_error)
    family.set_plan_size(len(plan))
    dispatcher: TrialDispatcher[int] = TrialDispatcher(len(plan), default_window(config.workers))

    def report(node: int, index: int, outcome: str) -> None:
        entry = plan[index]
        family.add(index, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcome)
        if family.all_decided and not dispatcher.stopped:
            dispatcher.stop()
        dispatcher.finish(node, index)

    started = run_workers(
        dispatcher,
        config.workers,
        durations,
        report=report,
        skips=lambda index: dispatcher.stopped or family.decided(plan[index].arm),  # the stop flag: no session
        outcome_of=lambda index: "success" if successes[index] else "failure",
    )
    verdicts = {
        arm: (decision.verdict if decision is not None else "inconclusive") for arm, decision in family.decisions()
    }
    cap_pairs = config.tasks * (config.trials or 0)
    pairs = [decision.units if decision is not None else cap_pairs for _, decision in family.decisions()]
    for arm, claim in (family.false_discovery_claims() or {}).items():
        if claim.verdict is not None:
            verdicts[arm] = claim.verdict
    return verdicts, len(started), pairs


def run_workers(
    dispatcher: TrialDispatcher[int],
    workers: int,
    durations: np.ndarray,
    *,
    report: Callable[[int, int, str], None],
    skips: Callable[[int], bool],
    outcome_of: Callable[[int], str],
) -> list[int]:
    """Simulated xdist workers ``0 .. workers - 1`` served by ``dispatcher``: a worker starts the item it holds
    once it holds the next one too, or once dispatch has run out (it is shutting down); an item ``skips`` says is
    skipped in no time (a stop flag). ``report(node, index, outcome)`` is told every result (``skipped``
    included) and must finish the item in the dispatcher. Returns the started items, in start order."""
    nodes = list(range(workers))
    for node in nodes:
        dispatcher.add_node(node)
    running: list[int | None] = [None] * workers
    events: list[tuple[float, int, int]] = []
    started: list[int] = []
    now = 0.0
    shutting_down = False

    def start_what_may_start() -> None:
        nonlocal shutting_down
        progress = True
        while progress:
            progress = False
            for node in nodes:
                if running[node] is not None:
                    continue
                held = dispatcher.node_items[node]
                if not (len(held) >= 2 or (held and (shutting_down or dispatcher.stopped))):
                    continue
                index = held[0]
                if skips(index):
                    report(node, index, "skipped")
                    progress = True
                    continue
                running[node] = index
                started.append(index)
                heapq.heappush(events, (now + float(durations[index]), node, index))
            if dispatcher.assign(nodes):
                progress = True
            if dispatcher.exhausted and not shutting_down:
                shutting_down = True
                progress = True

    start_what_may_start()
    while events:
        now, node, index = heapq.heappop(events)
        running[node] = None
        report(node, index, outcome_of(index))
        start_what_may_start()
    return started


DISPATCH_MODES = ("before", "after")
"""How the scheduler treats a decided candidate: ``before`` the earlier dispatch (no look-ahead bound with several
candidates, every item handed out, workers skip a decided candidate's items by its stop flag); ``after``: the
look-ahead ``auto`` over the undecided candidates (``run.lookahead.CandidatesLookahead``) and a decided
candidate's queued items dropped (``TrialDispatcher.drop``)."""


@dataclass
class AfterDecision:
    """Per candidate and run: the candidate's trials started beyond its decision point (decided runs only)."""

    counts: list[int] = field(default_factory=list)

    def add(self, count: int) -> None:
        self.counts.append(count)

    def summary(self) -> tuple[float, float, int]:
        """Mean, its Monte Carlo standard error, and the maximum."""
        values = np.asarray(self.counts, dtype=float)
        if len(values) == 0:
            return math.nan, math.nan, 0
        error = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
        return float(values.mean()), error, int(values.max())


def simulate_after_decision(
    rates: dict[str, float],
    config: Config,
    rng: np.random.Generator,
    *,
    dispatch: str,
    stop_flags: bool,
    latency_sigma: float,
) -> dict[str, int]:
    """One run with the real dispatcher, look-ahead and candidate tests: for each candidate that decided, how many
    of its trials started beyond its decision point (planned position ``> decision.seq``).

    Durations are lognormal (median 1, ``latency_sigma``; failures ``slowdown`` times slower). ``stop_flags``:
    workers read the candidates' stop flags (local workers) and skip a decided candidate's item they hold; without
    (remote workers) they run whatever they were handed.
    """
    from pytest_agentopt.run.lookahead import CandidatesLookahead

    candidates, plan, successes = draw_run(rates, config, rng)
    durations = rng.lognormal(0.0, latency_sigma, len(plan)) * np.where(np.array(successes), 1.0, config.slowdown)
    family = make_feeders(candidates, candidate_alpha(config.alpha, len(candidates)), config, "fwer")
    family.set_plan_size(len(plan))
    window = CandidatesLookahead(config.workers, family) if dispatch == "after" else None
    dispatcher: TrialDispatcher[int] = TrialDispatcher(len(plan), window)

    def feed(index: int, outcome: str) -> None:
        entry = plan[index]
        decided = family.add(index, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcome)
        for made in decided:
            if dispatch == "after" and not dispatcher.stopped:
                drop = [i for i in dispatcher.pending if plan[i].arm == made.arm]
                for dropped in dispatcher.drop(drop):
                    feed(dropped, "skipped")
        if family.all_decided and not dispatcher.stopped:
            dispatcher.stop()

    def report(node: int, index: int, outcome: str) -> None:
        feed(index, outcome)
        dispatcher.finish(node, index)

    started = run_workers(
        dispatcher,
        config.workers,
        durations,
        report=report,
        skips=lambda index: stop_flags and (dispatcher.stopped or family.decided(plan[index].arm)),
        outcome_of=lambda index: "success" if successes[index] else "failure",
    )
    after: dict[str, int] = {}
    for arm, decision in family.decisions():
        if decision is not None:
            after[arm] = sum(1 for index in started if plan[index].arm == arm and index > decision.seq)
    return after


def run_after_decision(config: Config, latency_sigma: float) -> list[tuple[str, str, int, AfterDecision]]:
    """For each K and dispatch mode, with and without stop flags: the trials after each candidate's decision.
    Every mode runs on the same draws (the same generator state per run)."""
    results = []
    for k, kinds in SCENARIOS.items():
        if k not in config.candidates or k == 1:
            continue
        trials = config.trials or derived_trials(k, config)
        run_config = replace(config, trials=trials)
        arms = candidate_arms(k)
        rates = {"control": CONTROL_RATE, **{arm: RATES[kind] for arm, kind in zip(arms, kinds, strict=True)}}
        tallies = {(mode, flags): AfterDecision() for mode in DISPATCH_MODES for flags in (True, False)}
        rng = np.random.default_rng([config.seed, k, 1])
        for _ in range(config.runs):
            state = rng.bit_generator.state
            for (mode, flags), tally in tallies.items():
                rng.bit_generator.state = state
                for count in simulate_after_decision(
                    rates, run_config, rng, dispatch=mode, stop_flags=flags, latency_sigma=latency_sigma
                ).values():
                    tally.add(count)
        for (mode, flags), tally in tallies.items():
            results.append((mode, "local (stop flags)" if flags else "remote (no flags)", k, tally))
    return results


def render_after_decision(
    results: list[tuple[str, str, int, AfterDecision]],
    config: Config,
    latency_sigma: float,
    command: str,
    seconds: float,
) -> str:
    rows = []
    for mode, workers, k, tally in results:
        mean, error, most = tally.summary()
        base = 2 * config.workers
        rows.append(
            [
                k,
                mode,
                workers,
                len(tally.counts),
                f"{mean:.2f} +- {error:.2f}",
                most,
                math.ceil(base / (k + 1)) + config.workers,
            ]
        )
    table = tabulate(
        rows,
        headers=[
            "K",
            "dispatch",
            "workers",
            "decided candidates",
            "trials after its decision: mean +- s.e.",
            "max",
            "bound ceil(2w/(K+1)) + w",
        ],
        tablefmt="github",
    )
    return "\n".join(
        [
            f"Command: `{command}` ({seconds:.0f} s)",
            "",
            f"{config.runs} runs per K; {config.tasks} tasks, each K's derived cap; {config.workers} workers; "
            f"lognormal durations (median 1, sigma {latency_sigma:g}), failures {config.slowdown:g}x slower; "
            f"control {CONTROL_RATE:g}, better {RATES['better']:g}, equal {RATES['equal']:g}, worse "
            f"{RATES['worse']:g}; alpha {config.alpha:g}; seed {config.seed}.",
            "",
            table,
            "",
        ]
    )


WRONG = {"better": ("worse",), "equal": ("better", "worse"), "worse": ("better",)}


@dataclass
class Tally:
    runs: int = 0
    family_errors: int = 0
    false_better: int = 0
    false_worse: int = 0
    sessions: int = 0
    separate_sessions: int = 0
    separate_sessions_full_alpha: int = 0
    true_better: int = 0
    better_found: int = 0
    trials: int = 0
    pair_sums: list[int] = field(default_factory=list)
    """Per run: ``sum_k N_k``, each candidate's pairs to its decision."""
    pair_maxima: list[int] = field(default_factory=list)
    """Per run: ``max_k N_k``."""

    def least_share(self) -> tuple[float, float]:
        """``1/2 + E[max N] / (2 E[sum N])`` and its standard error (delta method for a ratio of means)."""
        sums, maxima = np.asarray(self.pair_sums, dtype=float), np.asarray(self.pair_maxima, dtype=float)
        ratio = float(maxima.mean() / sums.mean())
        if len(sums) < 2:
            return 0.5 + ratio / 2.0, math.nan
        residual = maxima - ratio * sums
        error = float(residual.std(ddof=1) / (sums.mean() * math.sqrt(len(sums))))
        return 0.5 + ratio / 2.0, error / 2.0


def wilson_upper(hits: int, runs: int, z: float = 1.959964) -> float:
    if runs == 0:
        return math.nan
    p = hits / runs
    centre = p + z * z / (2 * runs)
    spread = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    return (centre + spread) / (1 + z * z / runs)


def run_family(kinds: tuple[str, ...], config: Config, rng: np.random.Generator) -> Tally:
    k = len(kinds)
    # Every run of the family, and the K separate runs it is compared with, at the cap of alpha/K.
    config = replace(config, trials=config.trials or derived_trials(k, config))
    arms = candidate_arms(k)
    rates = {"control": CONTROL_RATE, **{arm: RATES[kind] for arm, kind in zip(arms, kinds, strict=True)}}
    alpha = candidate_alpha(config.alpha, k)
    tally = Tally(trials=config.trials or 0)
    for _ in range(config.runs):
        state = rng.bit_generator.state
        verdicts, sessions, pairs = simulate(rates, alpha, config, rng)
        tally.runs += 1
        tally.sessions += sessions
        tally.pair_sums.append(sum(pairs))
        tally.pair_maxima.append(max(pairs))
        wrong = [arm for arm, kind in zip(arms, kinds, strict=True) if verdicts[arm] in WRONG[kind]]
        tally.family_errors += bool(wrong)
        tally.false_better += any(verdicts[a] == "better" and kinds[i] != "better" for i, a in enumerate(arms))
        tally.false_worse += any(verdicts[a] == "worse" and kinds[i] != "worse" for i, a in enumerate(arms))
        for arm, kind in zip(arms, kinds, strict=True):
            if kind == "better":
                tally.true_better += 1
                tally.better_found += verdicts[arm] == "better"
        # The same suite and draws, each candidate alone with its own control (K separate A/B runs).
        for arm in arms:
            for separate_alpha, counter in (
                (alpha, "separate_sessions"),
                (config.alpha, "separate_sessions_full_alpha"),
            ):
                rng.bit_generator.state = state
                _, alone, _ = simulate({"control": CONTROL_RATE, "test": rates[arm]}, separate_alpha, config, rng)
                setattr(tally, counter, getattr(tally, counter) + alone)
        rng.bit_generator.state = state
        simulate(rates, alpha, config, rng)  # leave the stream where the family run left it
    return tally


@dataclass
class FdrTally:
    """Both procedures on the same runs: per direction the sum and sum of squares of the false discovery
    proportion (for the mean and its standard error), power and sessions."""

    runs: int = 0
    fdp: dict[str, list[float]] | None = None
    true_better: int = 0
    found: dict[str, int] | None = None
    sessions: dict[str, int] | None = None


def false_discovery_proportions(verdicts: dict[str, str], kinds: dict[str, str]) -> dict[str, float]:
    """Per direction: false claims / max(claims, 1) in one run."""
    shares = {}
    for direction in ("better", "worse"):
        claims = [arm for arm, verdict in verdicts.items() if verdict == direction]
        false = [arm for arm in claims if kinds[arm] != direction]
        shares[direction] = len(false) / max(len(claims), 1)
    return shares


def run_family_fdr(kinds: tuple[str, ...], config: Config, rng: np.random.Generator) -> FdrTally:
    k = len(kinds)
    config = replace(config, trials=config.trials or derived_trials(k, config))
    arms = candidate_arms(k)
    by_arm = dict(zip(arms, kinds, strict=True))
    rates = {"control": CONTROL_RATE, **{arm: RATES[kind] for arm, kind in by_arm.items()}}
    alpha = candidate_alpha(config.alpha, k)
    tally = FdrTally(
        fdp={f"{e} {d}": [] for e in FAMILY_ERRORS for d in ("better", "worse")},
        found=dict.fromkeys(FAMILY_ERRORS, 0),
        sessions=dict.fromkeys(FAMILY_ERRORS, 0),
    )
    assert tally.fdp is not None
    assert tally.found is not None
    assert tally.sessions is not None
    for _ in range(config.runs):
        state = rng.bit_generator.state
        tally.runs += 1
        tally.true_better += sum(kind == "better" for kind in kinds)
        for family_error in ("fwer", "fdr"):  # the same suite and draws under both procedures
            rng.bit_generator.state = state
            verdicts, sessions, _ = simulate(rates, alpha, config, rng, family_error)
            tally.sessions[family_error] += sessions
            tally.found[family_error] += sum(
                verdicts[arm] == "better" for arm, kind in by_arm.items() if kind == "better"
            )
            for direction, share in false_discovery_proportions(verdicts, by_arm).items():
                tally.fdp[f"{family_error} {direction}"].append(share)
    return tally


def render_fdr(
    results: list[tuple[str, tuple[str, ...], FdrTally]], config: Config, command: str, seconds: float
) -> str:
    def rate(values: list[float]) -> str:
        mean = sum(values) / len(values)
        error = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1) / len(values))
        return f"{mean:.4f} +/- {error:.4f} (<= {mean + 1.645 * error:.4f})"

    rows = []
    for label, kinds, tally in results:
        assert tally.fdp is not None
        assert tally.found is not None
        assert tally.sessions is not None
        power = {e: f"{tally.found[e] / tally.true_better:.4f}" if tally.true_better else "-" for e in FAMILY_ERRORS}
        rows.append(
            [
                label,
                len(kinds),
                " ".join(kinds),
                rate(tally.fdp["fdr better"]),
                rate(tally.fdp["fdr worse"]),
                power["fdr"],
                power["fwer"],
                f"{tally.sessions['fdr'] / tally.runs:.1f}",
                f"{tally.sessions['fwer'] / tally.runs:.1f}",
                f"{100 * tally.sessions['fdr'] / tally.sessions['fwer']:.1f} %",
                rate(tally.fdp["fwer better"]),
                rate(tally.fdp["fwer worse"]),
            ]
        )
    table = tabulate(
        rows,
        headers=[
            "family",
            "K",
            "candidates",
            "fdr: FDR of better claims (+/- s.e.; 95% upper)",
            "fdr: FDR of worse claims",
            "fdr: power per true improvement",
            "fwer: power",
            "fdr: sessions",
            "fwer: sessions",
            "fdr / fwer sessions",
            "fwer: FDR of better claims",
            "fwer: FDR of worse claims",
        ],
        tablefmt="github",
    )
    return "\n".join(
        [
            f"Command: `{command}` ({seconds:.0f} s)",
            "",
            f"{config.runs} runs per family, each under both procedures on the same draws; {config.tasks} tasks x at "
            f"most {config.trials} trials per arm; {config.workers} workers; task spread sigma {config.sigma:g} "
            f"(logit); failures {config.slowdown:g}x slower; control {CONTROL_RATE:g}, better {RATES['better']:g}, "
            f"equal {RATES['equal']:g}, worse {RATES['worse']:g}; alpha {config.alpha:g}, beta {config.beta:g}, "
            f"effect {config.effect:g}; seed {config.seed}. FDR: mean over runs of false claims / max(claims, 1); "
            "+/- one Monte Carlo standard error; the upper figure is mean + 1.645 standard errors.",
            "",
            table,
            "",
        ]
    )


def render(results: list[tuple[str, tuple[str, ...], Tally]], config: Config, command: str, seconds: float) -> str:
    rows = []
    for label, kinds, tally in results:
        n = tally.runs
        least, least_error = tally.least_share()
        rows.append(
            [
                label,
                len(kinds),
                " ".join(kinds),
                tally.trials,
                f"{candidate_alpha(config.alpha, len(kinds)):.4g}",
                f"{tally.false_better / n:.4f} (<= {wilson_upper(tally.false_better, n):.4f})",
                f"{tally.false_worse / n:.4f} (<= {wilson_upper(tally.false_worse, n):.4f})",
                f"{tally.family_errors / n:.4f} (<= {wilson_upper(tally.family_errors, n):.4f})",
                f"{tally.better_found / tally.true_better:.4f}" if tally.true_better else "-",
                f"{tally.sessions / n:.1f}",
                f"{tally.separate_sessions / n:.1f}",
                f"{100 * tally.sessions / tally.separate_sessions:.1f} %",
                f"{100 * tally.sessions / tally.separate_sessions_full_alpha:.1f} %",
                f"{100 * least:.1f} % +- {100 * least_error:.1f}" if len(kinds) > 1 else "-",
            ]
        )
    table = tabulate(
        rows,
        headers=[
            "family",
            "K",
            "candidates",
            "cap (trials per task and arm)",
            "alpha per candidate",
            "P(some false better) (95% upper)",
            "P(some false worse) (95% upper)",
            "P(any wrong claim) (95% upper)",
            "power per true improvement",
            "sessions (one run)",
            "sessions (K separate A/B at alpha/K)",
            "one run / K separate (same guarantee)",
            "one run / K separate at alpha (weaker guarantee)",
            "least share: 1/2 + E[max N]/(2 E[sum N]) +- s.e.",
        ],
        tablefmt="github",
    )
    sources = {
        k: design_for(candidate_alpha(config.alpha, k), config.beta, config.effect, "both").source
        for k in sorted({len(kinds) for _, kinds, _ in results})
    }
    design = ", ".join(f"K = {k}: {source}" for k, source in sources.items())
    return "\n".join(
        [
            f"Command: `{command}` ({seconds:.0f} s)",
            "",
            f"{config.runs} runs per family; {config.tasks} tasks x at most "
            f"{config.trials or 'the derived cap of'} trials per arm; "
            f"{config.workers} workers; task spread sigma {config.sigma:g} (logit); failures {config.slowdown:g}x "
            f"slower; control {CONTROL_RATE:g}, better {RATES['better']:g}, equal {RATES['equal']:g}, worse "
            f"{RATES['worse']:g}; alpha {config.alpha:g}, beta {config.beta:g}, effect {config.effect:g}; "
            f"boundaries at alpha/K: {design}; seed {config.seed}.",
            "",
            table,
            "",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument(
        "--trials",
        type=int,
        default=None,
        help="cap: trials per task per arm (default: each K's derived cap, as a run without --agent-trials)",
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("--slowdown", type=float, default=3.0)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--beta", type=float, default=0.10)
    parser.add_argument("--effect", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--null-families", action="store_true", help="also every candidate equal (worst case)")
    parser.add_argument(
        "--family-error",
        choices=FAMILY_ERRORS,
        default="fwer",
        help="fdr: validate --agent-family-error fdr (FDR per direction, power and sessions against fwer), K >= 2",
    )
    parser.add_argument(
        "--after-decision",
        type=float,
        default=None,
        metavar="SIGMA",
        help="measure instead the trials each candidate starts after its decision, before and after the scheduler "
        "drops a decided candidate, on lognormal durations with this sigma (e.g. 1.0)",
    )
    parser.add_argument(
        "--candidates",
        type=int,
        nargs="+",
        choices=sorted(SCENARIOS),
        default=list(SCENARIOS),
        help="the families' K (default: all)",
    )
    args = parser.parse_args(argv)
    return Config(
        args.runs,
        args.tasks,
        args.trials,
        args.workers,
        args.sigma,
        args.slowdown,
        args.alpha,
        args.beta,
        args.effect,
        args.seed,
        args.null_families,
        args.family_error,
        tuple(args.candidates),
        args.after_decision,
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    started = time.perf_counter()
    command = "python scripts/validate_candidates.py " + shlex.join(sys.argv[1:] if argv is None else list(argv))
    if config.after_decision is not None:
        measured = run_after_decision(config, config.after_decision)
        seconds = time.perf_counter() - started
        print(render_after_decision(measured, config, config.after_decision, command.strip(), seconds))
        return 0
    if config.family_error == "fdr":
        fdr_results = []
        for k, kinds in SCENARIOS.items():
            if k == 1 or k not in config.candidates:
                continue  # one candidate: no multiplicity
            rng = np.random.default_rng([config.seed, k])
            fdr_results.append(("mixed", kinds, run_family_fdr(kinds, config, rng)))
            if config.null_families:
                rng = np.random.default_rng([config.seed, k, 0])
                fdr_results.append(("all equal", ("equal",) * k, run_family_fdr(("equal",) * k, config, rng)))
        print(render_fdr(fdr_results, config, command.strip(), time.perf_counter() - started))
        return 0
    results = []
    for k, kinds in SCENARIOS.items():
        if k not in config.candidates:
            continue
        rng = np.random.default_rng([config.seed, k])
        results.append(("mixed", kinds, run_family(kinds, config, rng)))
        if config.null_families and k > 1:
            rng = np.random.default_rng([config.seed, k, 0])
            results.append(("all equal", ("equal",) * k, run_family(("equal",) * k, config, rng)))
    print(render(results, config, command.strip(), time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
