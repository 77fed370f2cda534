"""The look-ahead under ``--sprt``: how busy the workers are, how long to a decision, what it costs after it; and
the ``-n 8`` wall time against plain pytest-xdist.

Run ``python scripts/bench_lookahead.py`` (a few minutes; ``--quick`` for rough figures; ``--write-docs`` also
replaces the generated section of ``docs/lookahead.md`` and its chart ``docs/lookahead.svg``). Two parts, in one
invocation:

**Scheduling (simulated time, the real schedulers).** A paired suite (24 tasks, the cap the plugin derives) with
heavy-tailed trial latencies, lognormal with median 30 ms and sigma 1 (one trial in 100 takes ten times the
median), on 8 workers. Each simulated run draws the outcomes and latencies once and replays them under every
policy (common random numbers):

- ``load``: pytest-xdist's own ``LoadScheduling`` (the class xdist runs for ``-n``), the whole plan, no stop;
- ``--sprt`` with ``--agent-lookahead`` ``16`` (2 x workers: the fixed window of earlier versions), ``auto`` (the
  default) and a few larger fixed values: the plugin's ``SequentialScheduling`` with its ``TrialDispatcher`` and
  look-ahead, fed by the real ``SequentialFeeder`` and paired test, stopping on the decision.

The event loop plays xdist's part: a worker starts the item it holds once it holds the next one too (pytest's
``nextitem``) or has been told to shut down; a finished item is reported (the controller feeds the test, and on a
decision publishes the stop and stops the scheduler) before ``mark_test_complete``; after the stop, workers skip
what they hold. Figures per policy, averaged over the runs:

- **busy share**: the summed trial durations over (workers x the run's span, from the first start to the last
  finish), and its ratio to ``load``'s on the same runs (target >= 0.95);
- **time to decision** (simulated seconds) and **run end** (when the last trial in flight finished);
- **trials after the decision**: trials that ran with a planned position beyond the decision's (recorded
  ``after_decision``; target <= 2 x workers = 16), mean and maximum over the runs;
- the verdicts, which must be the same under every policy (planned-order feeding).

**The clairvoyant bound** (same runs; ``--no-bound`` skips it): dispatch that knows where the test will decide and
starts every item up to ``B`` positions beyond it, for several ``B``; it bounds what any in-order look-ahead with at
most ``B`` trials after the decision can reach (the argument is in docs/lookahead.md), and a Lagrangian bound over
the ``B`` chosen per run bounds a mean of at most 2 x workers after the decision. The **work bound** per run needs
no monotonicity of the busy share: the work of positions up to ``d + B`` over workers x the clairvoyant ``B``'s
decision time (:func:`work_bound`).

**Start-up (real pytest runs).** ``scripts/bench_overhead.py``'s 100 ms agent: 800 trials, ``-n 8``, against plain
pytest-xdist running the same sleeps (target: the plugin's run takes at most 1.05x). Wall time, in rounds with a
rotating order; a loaded machine inflates the ratio (the workers compete for the CPUs with other processes while
they start), which the output says.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import shlex
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

if __package__ in (None, ""):  # run as ``python scripts/bench_lookahead.py``: this checkout's plugin
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xdist.scheduler import LoadScheduling

from pytest_agentopt.report.render.svg import Box, Scale, _axes, _e, _n, _open
from pytest_agentopt.run.feeding import Decision, SequentialFeeder
from pytest_agentopt.run.lookahead import lookahead_for
from pytest_agentopt.shell.xdist_scheduler import SequentialScheduling
from scripts import bench_overhead
from scripts.validate_sequential import PairedScenario, SuiteModel, cap_trials, draw_run, new_feeder

WORKERS = 8
MEDIAN_S = 0.030
SIGMA = 1.0
BUSY_TARGET = 0.95
AFTER_TARGET = 2 * WORKERS
RATIO_TARGET = 1.05
FIXED = (16, 32, 64, 128)
"""Fixed look-aheads compared with ``auto``: 16 = 2 x workers, the window of earlier versions."""
CLAIRVOYANT = (8, 16, 24, 32, 48, 64, 96, 128, 256)
"""Allowances ``B`` of the clairvoyant bound: dispatch that knows where the test will decide and starts, in planned
order, every item up to ``B`` positions beyond that point as soon as a worker is free."""
SCENARIOS = (PairedScenario(0.60, 0.60, 2.0), PairedScenario(0.60, 0.75, 2.0))
"""No difference and a difference of delta, on a suite with the task spread typical of agent suites."""
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "lookahead.md"
CHART_PATH = DOC_PATH.with_suffix(".svg")
SECTIONS = ("scheduling", "start-up")
"""The generated sections of docs/lookahead.md: ``--no-startup --write-docs`` replaces the first only."""


def doc_markers(section: str) -> tuple[str, str]:
    return (
        f"<!-- begin {section}: generated by scripts/bench_lookahead.py --write-docs; edit the script, not this "
        "section -->",
        f"<!-- end {section}: generated by scripts/bench_lookahead.py -->",
    )


# -- the simulated xdist session ---------------------------------------------------------------------------------


class _Gateway:
    def __init__(self, name: str) -> None:
        self.id = name


class SimNode:
    """What a scheduler sees of a worker: ``send_runtest_some``, ``shutdown``, ``shutting_down``, ``gateway.id``."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.gateway = _Gateway(f"gw{index}")
        self.queue: list[int] = []
        self.shutting_down = False
        self.running: int | None = None

    def send_runtest_some(self, indices: Sequence[int]) -> None:
        self.queue.extend(indices)

    def shutdown(self) -> None:
        self.shutting_down = True

    def __hash__(self) -> int:
        return self.index

    def __repr__(self) -> str:
        return self.gateway.id


class _QuietLog:
    """xdist's ``Producer`` stand-in: the schedulers' debug lines are not wanted here."""

    def __call__(self, *args: object) -> None:
        return None

    def __getattr__(self, name: str) -> _QuietLog:
        return self


class SimConfig:
    """The two things xdist's schedulers read from ``pytest.Config``: the ``--tx`` specs and ``--maxschedchunk``."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def getvalue(self, name: str) -> Any:
        assert name == "tx"
        return [f"{self.workers}*popen"]

    def getoption(self, name: str) -> Any:
        assert name == "maxschedchunk"
        return None


@dataclass
class Outcome:
    """One policy on one simulated run."""

    busy_share: float
    """Summed trial durations over workers x the run's span (to the last finish)."""
    busy_to_decision: float
    """The same up to the decision (load: over its whole span): what the scheduling used of the workers while
    the test still needed results."""
    decision_s: float | None
    end_s: float
    after_decision: int
    started: int
    verdict: str


@dataclass
class ClairvoyantLookahead:
    """Knows the planned position where the test will decide and lets in-order dispatch start any item up to
    ``limit`` (that position + ``B``). No real policy can know it; every in-order window that never starts more
    than ``B`` items beyond the decision on this run starts nothing this one does not (see docs/lookahead.md)."""

    feeder: SequentialFeeder
    limit: int

    @property
    def items(self) -> int:
        return max(1, self.limit + 1 - self.feeder.committed)


def decision_position(drawn: Any, scenario: PairedScenario, settings: Any) -> int:
    """The planned position of the item whose result decides the test (feeding the plan in order), or the last."""
    feeder = new_feeder(scenario, settings, len(drawn.plan))
    for index, trial in enumerate(drawn.plan):
        outcome = "success" if drawn.successes[index] else "failure"
        decision = feeder.add(index, task_id=trial.task_id, arm=trial.arm, trial=trial.trial, outcome=outcome)
        if decision is not None:
            return decision.seq
    return len(drawn.plan) - 1


def simulate(drawn: Any, scenario: PairedScenario, policy: str, workers: int, settings: Any) -> Outcome:
    """Run ``drawn`` (plan, outcomes, durations) under ``policy``: ``load``, a ``--agent-lookahead`` value, or
    ``clairvoyant B`` (:class:`ClairvoyantLookahead`)."""
    plan = drawn.plan
    collection = [f"test_agent.py::test_task[{trial.task_id}-{trial.arm}-{trial.trial}]" for trial in plan]
    config = SimConfig(workers)
    feeder: SequentialFeeder | None = None
    scheduler: Any
    if policy == "load":
        scheduler = LoadScheduling(config, _QuietLog())
    else:
        feeder = new_feeder(scenario, settings, len(plan))
        lookahead: Any
        if policy.startswith("clairvoyant "):
            allowance = int(policy.split()[1])
            lookahead = ClairvoyantLookahead(feeder, decision_position(drawn, scenario, settings) + allowance)
        else:
            items = None if policy == "auto" else int(policy)
            lookahead = lookahead_for(items, workers=workers, feeder=feeder)
        scheduler = SequentialScheduling(config, _QuietLog(), window=lookahead)  # type: ignore[arg-type]
    nodes = [SimNode(index) for index in range(workers)]
    for node in nodes:
        scheduler.add_node(node)
    for node in nodes:
        scheduler.add_node_collection(node, collection)
    scheduler.schedule()
    events: list[tuple[float, int, int]] = []
    ran: list[int] = []
    spans: list[tuple[float, float]] = []
    now = 0.0
    busy = 0.0
    decision: Decision | None = None
    decision_at: float | None = None

    def start_what_may_start() -> None:
        nonlocal busy
        for node in nodes:
            while node.running is None and node.queue and (len(node.queue) >= 2 or node.shutting_down):
                index = node.queue[0]
                if decision is not None:  # the stop flag: a held item is skipped at once, nothing is paid
                    node.queue.pop(0)
                    scheduler.mark_test_complete(node, index, 0.0)
                    continue
                node.running = index
                ran.append(index)
                busy += drawn.durations[index]
                spans.append((now, now + drawn.durations[index]))
                heapq.heappush(events, (now + drawn.durations[index], node.index, index))

    start_what_may_start()
    while events:
        now, node_index, index = heapq.heappop(events)
        node = nodes[node_index]
        node.running = None
        node.queue.pop(0)
        if feeder is not None and decision is None:
            trial = plan[index]
            outcome = "success" if drawn.successes[index] else "failure"
            decision = feeder.add(index, task_id=trial.task_id, arm=trial.arm, trial=trial.trial, outcome=outcome)
            if decision is not None:  # the controller publishes the stop, then stops the scheduler
                decision_at = now
                scheduler.stop()
        scheduler.mark_test_complete(node, index, drawn.durations[index])
        start_what_may_start()
    if feeder is not None and decision is None:
        decision = feeder.conclude_if_complete()
        decision_at = now
    verdict = "load" if feeder is None else (decision.verdict if decision is not None else "inconclusive")
    until = decision_at if feeder is not None and decision_at is not None else now
    busy_before = sum(max(0.0, min(end, until) - start) for start, end in spans)
    return Outcome(
        busy_share=busy / (workers * now) if now > 0 else 0.0,
        busy_to_decision=busy_before / (workers * until) if until > 0 else 0.0,
        decision_s=decision_at,
        end_s=now,
        after_decision=sum(1 for index in ran if decision is not None and index > decision.seq),
        started=len(ran),
        verdict=verdict,
    )


def lognormal_durations(rng: np.random.Generator, count: int) -> list[float]:
    return [float(value) for value in np.exp(rng.normal(math.log(MEDIAN_S), SIGMA, count))]


@dataclass
class PolicyFigures:
    policy: str
    outcomes: list[Outcome] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    """Per run: this policy's busy share over load's on the same run."""
    ratios_to_decision: list[float] = field(default_factory=list)
    """Per run: this policy's busy share up to the decision over load's busy share on the same run."""
    work_bounds: list[float] = field(default_factory=list)
    """Clairvoyant ``B`` only, per run: the work-over-decision-time bound on the busy share of any in-order policy
    with at most ``B`` trials after the decision (:func:`work_bound`), over load's busy share on the same run."""

    def mean(self, name: str) -> float:
        return statistics.fmean(getattr(outcome, name) for outcome in self.outcomes)

    def standard_error(self, values: Sequence[float]) -> float:
        return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan


def work_bound(drawn: Any, position: int, allowance: int, workers: int, clairvoyant: Outcome) -> float:
    """An upper bound on the busy share of any in-order policy that runs at most ``allowance`` trials after the
    decision at planned ``position`` on this run, needing no monotonicity of the busy share in the window.

    Its work is at most the summed durations of positions ``0 .. position + allowance`` (the only items it can run);
    its span (first start to last finish) is at least its decision time, which is at least the clairvoyant
    ``allowance``'s (a wider in-order window never starts or finishes an item later, docs/lookahead.md). So its
    busy share is at most that work over ``workers`` x the clairvoyant's decision time (and at most 1)."""
    work = math.fsum(drawn.durations[: position + allowance + 1])
    decided = clairvoyant.decision_s if clairvoyant.decision_s is not None else clairvoyant.end_s
    return min(1.0, work / (workers * decided)) if decided > 0 else 1.0


def policies() -> list[str]:
    return ["load", str(FIXED[0]), "auto", *(str(items) for items in FIXED[1:])]


def run_simulation(
    runs: int, seed: int, workers: int, clairvoyant: Sequence[int] = ()
) -> tuple[dict[str, PolicyFigures], int]:
    """Every policy (and ``clairvoyant B`` for each allowance given) on the same ``runs`` drawn runs per scenario;
    returns the figures and the verdict mismatches."""
    from pytest_agentopt.stats.sprt import SequentialSettings

    settings = SequentialSettings()
    suite = SuiteModel()
    names = [*policies(), *(f"clairvoyant {allowance}" for allowance in clairvoyant)]
    figures = {policy: PolicyFigures(policy) for policy in names}
    mismatches = 0
    rng = np.random.default_rng(seed)
    for scenario in SCENARIOS:
        trials = cap_trials(scenario, suite, settings)
        for _ in range(runs):
            drawn = draw_run(rng, scenario, suite, trials)
            drawn = type(drawn)(drawn.plan, drawn.successes, lognormal_durations(rng, len(drawn.plan)))
            load = simulate(drawn, scenario, "load", workers, settings)
            figures["load"].outcomes.append(load)
            figures["load"].ratios.append(1.0)
            figures["load"].ratios_to_decision.append(1.0)
            verdicts = set()
            position = decision_position(drawn, scenario, settings) if clairvoyant else -1
            for policy in names[1:]:
                outcome = simulate(drawn, scenario, policy, workers, settings)
                figures[policy].outcomes.append(outcome)
                figures[policy].ratios.append(outcome.busy_share / load.busy_share)
                figures[policy].ratios_to_decision.append(outcome.busy_to_decision / load.busy_share)
                if policy.startswith("clairvoyant "):
                    bound = work_bound(drawn, position, int(policy.split()[1]), workers, outcome)
                    figures[policy].work_bounds.append(bound / load.busy_share)
                verdicts.add(outcome.verdict)
            mismatches += len(verdicts) > 1
    return figures, mismatches


def simulation_table(figures: dict[str, PolicyFigures], workers: int) -> tuple[str, list[str]]:
    rows = []
    verdicts = []
    for policy, found in figures.items():
        if policy.startswith("clairvoyant"):
            continue
        ratio = statistics.fmean(found.ratios)
        ratio_se = found.standard_error(found.ratios)
        to_decision = statistics.fmean(found.ratios_to_decision)
        to_decision_se = found.standard_error(found.ratios_to_decision)
        after = [outcome.after_decision for outcome in found.outcomes]
        decided = [outcome.decision_s for outcome in found.outcomes if outcome.decision_s is not None]
        label = "xdist load (whole plan)" if policy == "load" else f"--agent-lookahead {policy}"
        if policy == str(2 * workers):
            label += " (earlier fixed window)"
        rows.append(
            [
                label,
                f"{found.mean('busy_share'):.3f}",
                "1" if policy == "load" else f"{ratio:.3f} ± {ratio_se:.3f}",
                "1" if policy == "load" else f"{to_decision:.3f} ± {to_decision_se:.3f}",
                "-" if policy == "load" else f"{statistics.fmean(decided):.2f}",
                f"{found.mean('end_s'):.2f}",
                f"{found.mean('started'):.0f}",
                "-" if policy == "load" else f"{statistics.fmean(after):.1f} / {max(after)}",
            ]
        )
        if policy != "load":
            busy_ok = ratio >= BUSY_TARGET
            after_ok = statistics.fmean(after) <= 2 * workers and max(after) <= 2 * workers
            verdicts.append(
                f"--agent-lookahead {policy}: busy share {ratio:.3f} of load's ({'PASS' if busy_ok else 'FAIL'}, "
                f"target >= {BUSY_TARGET}; {to_decision:.3f} up to the decision); trials after the decision mean "
                f"{statistics.fmean(after):.1f}, max "
                f"{max(after)} ({'PASS' if after_ok else 'FAIL'}, target <= {2 * workers})"
            )
    headers = [
        "scheduling",
        "busy share",
        "ratio to load (± s.e.)",
        "ratio to load, up to the decision",
        "time to decision s",
        "run end s",
        "trials run",
        "after decision: mean / max",
    ]
    return tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True), verdicts


def bound_lines(figures: dict[str, PolicyFigures], workers: int) -> list[str]:
    """The clairvoyant bound: its table, the best busy share with at most ``2 x workers`` trials after the decision
    on every run, and the Lagrangian upper bound with at most that many on average."""
    found = {int(policy.split()[1]): figures[policy] for policy in figures if policy.startswith("clairvoyant")}
    if not found:
        return []
    budget = 2 * workers
    rows = []
    for allowance, figure in found.items():
        after = [outcome.after_decision for outcome in figure.outcomes]
        rows.append(
            [
                f"clairvoyant, B = {allowance}",
                f"{statistics.fmean(figure.ratios):.3f} ± {figure.standard_error(figure.ratios):.3f}",
                f"{statistics.fmean(figure.ratios_to_decision):.3f} ± "
                f"{figure.standard_error(figure.ratios_to_decision):.3f}",
                f"{statistics.fmean(after):.1f} / {max(after)}",
                f"{statistics.fmean(figure.work_bounds):.3f} ± {figure.standard_error(figure.work_bounds):.3f}",
            ]
        )
    headers = [
        "dispatch",
        "ratio to load (± s.e.)",
        "ratio to load, up to the decision",
        "after decision: mean / max",
        "work bound, ratio to load (± s.e.)",
    ]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    within = [
        allowance for allowance, figure in found.items() if max(o.after_decision for o in figure.outcomes) <= budget
    ]
    best_max = max((statistics.fmean(found[allowance].ratios) for allowance in within), default=math.nan)
    lines = [
        table,
        "",
        f"- at most {budget} trials after the decision on every run: the clairvoyant dispatch reaches a busy share of "
        f"{best_max:.3f} of load's (B = {max(within, default=0)}); every in-order look-ahead with that guarantee "
        f"starts no item it does not, so none reaches {BUSY_TARGET}",
    ]
    if budget in found and found[budget].work_bounds:
        bounds = found[budget].work_bounds
        mean, error = statistics.fmean(bounds), found[budget].standard_error(bounds)
        below = sum(bound < BUSY_TARGET for bound in bounds)
        lines.append(
            f"- the work bound, which needs no monotonicity of the busy share (B = {budget}: the work of positions up "
            f"to d + {budget} over {workers} x the clairvoyant decision time): {mean:.3f} ± {error:.3f} of load's "
            f"on average ({'below' if mean + 3 * error < BUSY_TARGET else 'not clearly below'} {BUSY_TARGET}); "
            f"below {BUSY_TARGET} on {below} of {len(bounds)} runs"
        )
        lines.append(
            f"- the work bound with at most {budget} after the decision on average (whole run): no in-order policy "
            f"exceeds {mean_work_budget_bound(found, budget):.3f} of load's (Lagrangian bound over the work bounds; a "
            "policy with a trials after the decision on a run is charged the next allowance's bound and the previous "
            "allowance as its cost)"
        )
    for name, attribute in (("whole run", "ratios"), ("up to the decision", "ratios_to_decision")):
        bound = mean_budget_bound(found, attribute, budget)
        lines.append(
            f"- at most {budget} trials after the decision on average ({name}): no choice of B per run, even with "
            f"hindsight, exceeds {bound:.3f} of load's (Lagrangian bound over B in {', '.join(map(str, found))})"
        )
    return lines


def mean_budget_bound(found: dict[int, PolicyFigures], attribute: str, budget: float) -> float:
    """An upper bound on the mean busy-share ratio of any per-run choice among the clairvoyant allowances whose
    mean number of trials after the decision is at most ``budget`` (weak duality: for every lambda >= 0,
    mean over runs of max over B of (ratio - lambda x after) + lambda x budget bounds it; the least over a grid)."""
    ratios = np.array([getattr(figure, attribute) for figure in found.values()])  # allowance x run
    after = np.array([[o.after_decision for o in figure.outcomes] for figure in found.values()], dtype=float)
    best = math.inf
    for multiplier in np.linspace(0.0, 0.05, 1001):
        best = min(best, float((ratios - multiplier * after).max(axis=0).mean() + multiplier * budget))
    return best


def mean_work_budget_bound(found: dict[int, PolicyFigures], budget: float) -> float:
    """An upper bound on the mean busy-share ratio of any in-order policy running, on average over the runs, at
    most ``budget`` trials after the decision, from the work bounds alone (no monotonicity of the busy share).

    On a run where it runs ``a`` trials after the decision, with ``a`` in ``(B_{k-1}, B_k]`` of the allowances
    simulated (``B_0 = 0``), its ratio is at most ``B_k``'s work bound (its window is within ``B_k``'s) and ``a``
    is more than ``B_{k-1}``: weak duality over those pairs, as :func:`mean_budget_bound` (the least over a grid
    of multipliers). A policy running more than the largest allowance on a run is not covered."""
    allowances = sorted(found)
    bounds = np.array([found[allowance].work_bounds for allowance in allowances])  # allowance x run
    costs = np.array([0, *allowances[:-1]], dtype=float)[:, None]
    best = math.inf
    for multiplier in np.linspace(0.0, 0.05, 1001):
        best = min(best, float((bounds - multiplier * costs).max(axis=0).mean() + multiplier * budget))
    return best


# -- the -n 8 wall time against plain xdist ------------------------------------------------------------------------


def startup_ratio(rounds: int, agent_trials: int) -> tuple[list[str], list[float], list[float]]:
    """``-n 8`` with the plugin over plain pytest-xdist on the same 100 ms sleeps: the table, the per-round wall-time
    ratios and the per-round extra CPU seconds (all processes: the controller and its workers)."""
    with tempfile.TemporaryDirectory(prefix="bench-lookahead-") as scratch:
        suite = Path(scratch)
        bench_overhead.write_suite(suite, agent_trials)
        commands = [command for command in bench_overhead.speedup_commands(agent_trials) if "-n 0" not in command.label]
        timings = bench_overhead.time_in_rounds(commands, suite, rounds)
    ours, plain = timings[commands[0].label], timings[commands[1].label]
    ratios = [mine.wall_s / theirs.wall_s for mine, theirs in zip(ours, plain, strict=True)]
    extra_cpu = [mine.cpu_s - theirs.cpu_s for mine, theirs in zip(ours, plain, strict=True)]
    rows = [
        [
            command.shell(),
            f"{statistics.median(t.wall_s for t in timings[command.label]):.3f}",
            f"{statistics.median(t.cpu_s for t in timings[command.label]):.3f}",
        ]
        for command in commands
    ]
    headers = ["command", "wall median s", "CPU median s (all processes)"]
    table = tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    return [table], ratios, extra_cpu


# -- the chart ---------------------------------------------------------------------------------------------------


def chart_svg(figures: dict[str, PolicyFigures], workers: int, width: int = 720, height: int = 420) -> str:
    """Busy share (ratio to load) against trials after the decision, one point per look-ahead."""
    points = []
    for policy, found in figures.items():
        if policy == "load" or policy.startswith("clairvoyant"):
            continue
        after = statistics.fmean(outcome.after_decision for outcome in found.outcomes)
        points.append((policy, after, statistics.fmean(found.ratios)))
    box = Box(left=72, top=40, right=width - 24, bottom=height - 56)
    x = Scale(0.0, max(2 * workers * 1.25, max(p[1] for p in points) * 1.1), box.left, box.right)
    y = Scale(min(0.5, min(p[2] for p in points) - 0.05), 1.05, box.bottom, box.top)
    title = f"Look-ahead under --sprt, {workers} workers, lognormal latencies (median 30 ms, sigma 1)"
    desc = "; ".join(
        f"{policy}: {after:.1f} trials after the decision, busy {ratio:.3f}" for policy, after, ratio in points
    )
    parts = _open(width, height, "lookahead", title, desc, True)
    parts += _axes(
        box,
        x,
        y,
        "trials run after the decision (mean)",
        "busy share / xdist load's",
        lambda v: f"{v:g}",
        lambda v: f"{v:.2f}",
    )
    target_x, target_y = x(2 * workers), y(BUSY_TARGET)
    parts.append(
        f'<rect class="target" x="{_n(box.left)}" y="{_n(box.top)}" width="{_n(target_x - box.left)}" '
        f'height="{_n(target_y - box.top)}" fill="#2e9e5b" fill-opacity="0.12"/>'
    )
    parts.append(
        f'<text x="{_n(box.left + 6)}" y="{_n(box.top + 14)}" fill="#1f7a3f" font-size="11">target: busy &gt;= '
        f"{BUSY_TARGET} of load, &lt;= {2 * workers} after the decision</text>"
    )
    parts.append(f'<text x="{_n(width / 2)}" y="22" text-anchor="middle" font-size="13">{_e(title)}</text>')
    for policy, after, ratio in points:
        colour = "#b3261e" if policy == str(2 * workers) else "#1f5fbf" if policy == "auto" else "#59606b"
        parts.append(
            f'<circle cx="{_n(x(after))}" cy="{_n(y(ratio))}" r="5" fill="{colour}"><title>{_e(policy)}: '
            f"{after:.1f} after the decision, busy {ratio:.3f}</title></circle>"
        )
        parts.append(
            f'<text x="{_n(x(after) + 8)}" y="{_n(y(ratio) + 4)}" font-size="11" fill="{colour}">{_e(policy)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# -- main --------------------------------------------------------------------------------------------------------


def write_docs(sections: dict[str, list[str]], chart: str) -> None:
    """Replace each given section of docs/lookahead.md (appended when missing) and the chart."""
    text = DOC_PATH.read_text() if DOC_PATH.exists() else ""
    for name, lines in sections.items():
        begin, end = doc_markers(name)
        section = "\n".join([begin, *lines, end])
        if begin in text and end in text:
            head, rest = text.split(begin, 1)
            text = head + section + rest.split(end, 1)[1]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC_PATH.write_text(text)
    CHART_PATH.write_text(chart)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=200, help="simulated runs per scenario (default 200)")
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the real -n 8 runs (default 3)")
    parser.add_argument("--quick", action="store_true", help="40 runs per scenario, 1 round of 160 trials")
    parser.add_argument("--no-startup", action="store_true", help="skip the real -n 8 runs")
    parser.add_argument("--no-bound", action="store_true", help="skip the clairvoyant bound")
    parser.add_argument("--write-docs", action="store_true", help="replace the generated section of docs/lookahead.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs = 40 if args.quick else args.runs
    rounds, agent_trials = (1, bench_overhead.QUICK_AGENT_TRIALS) if args.quick else (args.rounds, 800)
    command = shlex.join(["python", "scripts/bench_lookahead.py", *(argv if argv is not None else sys.argv[1:])])
    load_at_start = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    figures, mismatches = run_simulation(runs, args.seed, WORKERS, () if args.no_bound else CLAIRVOYANT)
    table, verdicts = simulation_table(figures, WORKERS)
    bound = bound_lines(figures, WORKERS)
    lines = [
        f"`{command}`",
        "",
        f"Scheduling, simulated: {runs} runs per scenario x {len(SCENARIOS)} scenarios "
        f"({', '.join(scenario.label for scenario in SCENARIOS)}; 24 tasks, derived cap), {WORKERS} workers, "
        f"lognormal latencies (median {MEDIAN_S * 1000:g} ms, sigma {SIGMA:g}), seed {args.seed}. Means over the "
        "runs; the busy-share ratio is the mean of per-run ratios with its standard error.",
        "",
        table,
        "",
        *(f"- {line}" for line in verdicts),
        f"- verdicts that differ between look-aheads on the same run: {mismatches} (must be 0)",
    ]
    if bound:
        lines += [
            "",
            "The clairvoyant bound, on the same runs: dispatch that knows where the test will decide and starts, in "
            "planned order, every item up to B positions beyond it as soon as a worker is free (xdist's "
            "lowest-first order, no knowledge of latencies).",
            "",
            *bound,
        ]
    sections = {"scheduling": lines}
    if not args.no_startup:
        startup_tables, ratios, extra_cpu = startup_ratio(rounds, agent_trials)
        verdict = "PASS" if statistics.median(ratios) <= RATIO_TARGET else "FAIL"
        sections["start-up"] = [
            f"`{command}`",
            "",
            f"Start-up, real runs: {agent_trials} trials of a 100 ms agent, {rounds} round(s), wall time.",
            "",
            *startup_tables,
            "",
            f"- -n {WORKERS} with the plugin over plain pytest-xdist: {statistics.median(ratios):.3f}x (rounds "
            f"{', '.join(f'{ratio:.3f}' for ratio in ratios)}): {verdict} (target <= {RATIO_TARGET}x)"
            f"{bench_overhead.load_warning()}",
            f"- CPU over plain pytest-xdist's, all processes: {statistics.median(extra_cpu):+.2f} s (rounds "
            f"{', '.join(f'{cpu:+.2f}' for cpu in extra_cpu)})",
        ]
    machine = ["", *bench_overhead.machine_lines(load_at_start)]
    for section in sections.values():
        section += machine
    print("\n\n".join("\n".join(section) for section in sections.values()))
    if args.write_docs:
        write_docs(sections, chart_svg(figures, WORKERS))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
