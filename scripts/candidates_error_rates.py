"""Family-wise error and per-test error rates of several candidates: fast planned-order simulation and exact DP.

``docs/candidates-validation.md`` holds the output and what it means. Not part of the test suite (minutes).

``python scripts/candidates_error_rates.py simulate --candidates 8 --runs 20000 --sigma 0 1 2``
    K candidates all equal to the control (every candidate a true null: the worst case for the family-wise
    error), each with the real ``PairedSequentialTest`` at alpha/K as the plugin builds it
    (``run.candidates.candidate_feeders``), fed the pairs in planned order: trial-major, tasks in a seeded
    order within each trial, every candidate's pair with the shared control at once. Planned-order feeding is
    what the controller does under any schedule (``run.feeding``), so the verdicts are those of a real run with
    any number of workers (``scripts/validate_candidates.py`` drives the dispatcher too, about 100 times slower).
    A task's difficulty ``u_t ~ N(0, sigma^2)`` on the logit scale is drawn afresh per run; every arm solves the
    task with probability ``expit(c + u_t)`` (``c`` calibrated so the marginal rate is ``--rate``), independently
    given the task. Prints, per sigma, P(some false ``better``) and P(some false ``worse``) (each must be at most
    alpha), each with its Monte Carlo standard error and a 95 % Wilson upper bound, and the per-test rates.

``python scripts/candidates_error_rates.py exact --candidates 8 --cap 400``
    The exact DP (``stats.gsprt_dp``) of one candidate's test (Wald's bounds at alpha/K, i.i.d. pairs) at
    discordances 0.05 .. 1.0: P(false ``better``) under no difference, and the power (P(``better``)) at
    +effect, both at the cap. No randomness.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence

import numpy as np

from pytest_agentopt.run.candidates import candidate_alpha, candidate_feeders
from pytest_agentopt.run.sequential_design import design_for
from pytest_agentopt.run.trial_order import candidate_arms
from pytest_agentopt.stats.gsprt_dp import lattice_dp, trinomial_grid
from pytest_agentopt.stats.planning import logit_intercept
from pytest_agentopt.stats.sprt import PairedSequentialTest

DISCORDANCES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0)


def wilson_upper(hits: int, runs: int, z: float = 1.959964) -> float:
    p = hits / runs
    centre = p + z * z / (2 * runs)
    spread = z * math.sqrt(p * (1 - p) / runs + z * z / (4 * runs * runs))
    return (centre + spread) / (1 + z * z / runs)


def one_run(
    k: int, sigma: float, args: argparse.Namespace, rng: np.random.Generator, intercept: float
) -> tuple[int, int]:
    """One run of K null candidates: how many were declared better, how many worse."""
    family = candidate_feeders(
        candidate_arms(k), alpha=args.alpha, beta=args.beta, effect=args.effect, direction=args.direction
    )
    tests: list[PairedSequentialTest] = []
    for feeder in family.feeders.values():
        assert isinstance(feeder.paired_test, PairedSequentialTest)
        tests.append(feeder.paired_test)
    difficulty = rng.normal(0.0, sigma, args.tasks) if sigma > 0 else np.zeros(args.tasks)
    rates = 1.0 / (1.0 + np.exp(-(intercept + difficulty)))
    solved = rng.random((k + 1, args.trials, args.tasks)) < rates[None, None, :]
    live = list(range(k))
    for trial in range(args.trials):
        for task in rng.permutation(args.tasks):
            control = bool(solved[0, trial, task])
            for i in list(live):
                tests[i].add_pair(control, bool(solved[i + 1, trial, task]))
                if tests[i].verdict is not None:
                    live.remove(i)
            if not live:
                break
        if not live:
            break
    for i in live:
        tests[i].conclude()
    verdicts = [test.verdict for test in tests]
    return verdicts.count("better"), verdicts.count("worse")


def _cell(hits: int, runs: int) -> str:
    p = hits / runs
    return f"{p:.4f} +- {math.sqrt(p * (1 - p) / runs):.4f} (<= {wilson_upper(hits, runs):.4f})"


def simulate(args: argparse.Namespace) -> None:
    k = args.candidates
    alpha = candidate_alpha(args.alpha, k)
    source = design_for(alpha, args.beta, args.effect, args.direction).source
    print(
        f"K = {k} candidates, all equal to the control (rate {args.rate:g}); each test at alpha/K = {alpha:.5g} "
        f"({source} bounds), beta {args.beta:g}, effect {args.effect:g}, direction {args.direction}; {args.tasks} "
        f"tasks x at most {args.trials} trials; planned-order feeding; {args.runs} runs per sigma; seed {args.seed}."
    )
    print()
    print(
        "| sigma | P(some false better) +- s.e. (95% upper) | P(some false worse) +- s.e. (95% upper) | "
        "per-test false better | per-test false worse | seconds |"
    )
    print("|---|---|---|---|---|---|")
    for sigma in args.sigma:
        rng = np.random.default_rng([args.seed, round(sigma * 1000)])
        intercept = logit_intercept(args.rate, sigma)
        some_better = some_worse = better = worse = 0
        started = time.perf_counter()
        for _ in range(args.runs):
            b, w = one_run(k, sigma, args, rng, intercept)
            some_better += b > 0
            some_worse += w > 0
            better += b
            worse += w
        n = args.runs
        print(
            f"| {sigma:g} | {_cell(some_better, n)} | {_cell(some_worse, n)} | {better / (n * k):.5f} | "
            f"{worse / (n * k):.5f} | {time.perf_counter() - started:.0f} |",
            flush=True,
        )


def exact(args: argparse.Namespace) -> None:
    k = args.candidates
    alpha = candidate_alpha(args.alpha, k)
    design = design_for(alpha, args.beta, args.effect, args.direction)
    null = list(DISCORDANCES)
    alternative = [d for d in DISCORDANCES if d >= args.effect]
    started = time.perf_counter()
    results = lattice_dp(
        delta=args.effect,
        bounds=design.bounds,
        direction=args.direction,
        max_pairs=args.cap,
        grids={"null": trinomial_grid(null, 0.0), "up": trinomial_grid(alternative, args.effect)},
        last_look=design.last_look(args.cap),
    )
    print(
        f"Exact DP: one candidate's test at alpha/K = {alpha:.5g} ({design.source} bounds), beta {args.beta:g}, "
        f"effect {args.effect:g}, direction {args.direction}, i.i.d. pairs, cap {args.cap} pairs "
        f"({time.perf_counter() - started:.0f} s)."
    )
    print()
    print("| discordance | " + " | ".join(f"{d:g}" for d in null) + " |")
    print("|---|" + "---|" * len(null))
    print("| P(false better), no difference | " + " | ".join(f"{p:.5f}" for p in results["null"].better) + " |")
    power = dict(zip(alternative, results["up"].better, strict=True))
    print(f"| power at +{args.effect:g} | " + " | ".join(f"{power[d]:.3f}" if d in power else "-" for d in null) + " |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("simulate", "exact"))
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--runs", type=int, default=20000)
    parser.add_argument("--sigma", type=float, nargs="+", default=[0.0, 1.0, 2.0])
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--trials", type=int, default=40, help="cap: trials per task per arm")
    parser.add_argument("--rate", type=float, default=0.6)
    parser.add_argument("--cap", type=int, default=400, help="exact: the cap in pairs")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--beta", type=float, default=0.10)
    parser.add_argument("--effect", type=float, default=0.15)
    parser.add_argument("--direction", choices=("both", "better", "worse"), default="both")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.mode == "simulate":
        simulate(args)
    else:
        exact(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
