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
    The exact DP (``stats.gsprt_dp``) of one candidate's test (the design the plugin uses at alpha/K, its last
    look included; i.i.d. pairs) at discordances 0.05 .. 1.0: P(false ``better``) under no difference, and the
    power (P(``better``)) at +effect, both at the cap. No randomness.

``python scripts/candidates_error_rates.py guarantee --candidates 1 2 4``
    For each K and direction, the exact DP of one candidate's test at the cap a run derives without
    ``--agent-trials`` (``run.sequential_design.derived_cap_pairs``: the calibrated design's ``required_pairs``
    when the table holds alpha/K), over a grid of step 0.0025 (four times finer than the calibration's, both
    ends included): the largest P(false claim) under no difference, and the largest P(claim H0) and P(no claim
    of H1) (the miss) at +-effect. Each test within alpha/K and beta is what Bonferroni's union bound needs.

``python scripts/candidates_error_rates.py sessions --candidates 4 --runs 4000``
    The least share of sessions any dispatcher can reach against K separate A/B runs with the same guarantee,
    ``1/2 + E[max_k N_k] / (2 E[sum_k N_k])`` (``N_k``: candidate k's pairs to its decision, the cap's pairs when
    undecided; ``docs/candidates-validation.md`` gives the argument), estimated with the real tests fed in
    planned order (which fixes every ``N_k`` whatever the schedule) for the mixed family (better, equal, equal,
    worse: rates 0.75, 0.6, 0.6, 0.45 against a control at 0.6) and the all-equal family, task spread sigma, the
    cap a run derives without ``--agent-trials``; with the Monte Carlo standard error (delta method).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pytest_agentopt.run.candidates import candidate_alpha, candidate_feeders
from pytest_agentopt.run.options import RunOptions
from pytest_agentopt.run.sequential_design import derived_cap_pairs, design_for
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


SESSION_RATES = {"better": 0.75, "equal": 0.6, "worse": 0.45}
SESSION_FAMILIES = {
    "mixed": ("better", "equal", "equal", "worse"),
    "all equal": ("equal", "equal", "equal", "equal"),
}


def pairs_to_decision(
    kinds: Sequence[str], sigma: float, trials: int, args: argparse.Namespace, rng: np.random.Generator
) -> list[int]:
    """One run: each candidate's pairs to its decision (planned order; the cap's pairs when undecided)."""
    k = len(kinds)
    family = candidate_feeders(
        candidate_arms(k), alpha=args.alpha, beta=args.beta, effect=args.effect, direction=args.direction
    )
    tests = [feeder.paired_test for feeder in family.feeders.values()]
    assert all(isinstance(test, PairedSequentialTest) for test in tests)
    intercepts = [logit_intercept(args.rate, sigma)] + [logit_intercept(SESSION_RATES[kind], sigma) for kind in kinds]
    difficulty = rng.normal(0.0, sigma, args.tasks) if sigma > 0 else np.zeros(args.tasks)
    rates = 1.0 / (1.0 + np.exp(-(np.asarray(intercepts)[:, None] + difficulty[None, :])))
    solved = rng.random((k + 1, trials, args.tasks)) < rates[:, None, :]
    pairs = [trials * args.tasks] * k
    live = list(range(k))
    fed = 0
    for trial in range(trials):
        for task in rng.permutation(args.tasks):
            fed += 1
            control = bool(solved[0, trial, task])
            for i in list(live):
                test = tests[i]
                assert isinstance(test, PairedSequentialTest)
                test.add_pair(control, bool(solved[i + 1, trial, task]))
                if test.verdict is not None:
                    pairs[i] = fed
                    live.remove(i)
            if not live:
                return pairs
    return pairs


def sessions(args: argparse.Namespace) -> None:
    k = args.candidates
    if k != 4:
        raise SystemExit("sessions: the families are defined for --candidates 4")
    options = RunOptions(
        candidate_paths=tuple(Path(f"c{i}.json") for i in range(k)),
        sprt=True,
        alpha=args.alpha,
        beta=args.beta,
        effect=args.effect,
    )
    cap = derived_cap_pairs(options, paired=True, direction=args.direction)
    trials = math.ceil(cap / args.tasks) if cap is not None else args.trials
    alpha = candidate_alpha(args.alpha, k)
    source = design_for(alpha, args.beta, args.effect, args.direction).source
    print(
        f"K = {k}; each test at alpha/K = {alpha:.5g} ({source} bounds), beta {args.beta:g}, effect {args.effect:g}, "
        f"direction {args.direction}; {args.tasks} tasks x at most {trials} trials (the derived cap); control "
        f"{args.rate:g}; planned-order feeding; {args.runs} runs per row; seed {args.seed}."
    )
    print()
    print(
        "| family | sigma | E[N_k] per candidate | E[sum N] | E[max N] | least share 1/2 + E[max N]/(2 E[sum N]) "
        "+- s.e. | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, kinds in SESSION_FAMILIES.items():
        for sigma in args.sigma:
            rng = np.random.default_rng([args.seed, round(sigma * 1000), len(label)])
            started = time.perf_counter()
            runs = np.asarray([pairs_to_decision(kinds, sigma, trials, args, rng) for _ in range(args.runs)], float)
            sums, maxima = runs.sum(axis=1), runs.max(axis=1)
            ratio = maxima.mean() / sums.mean()
            error = (maxima - ratio * sums).std(ddof=1) / (sums.mean() * math.sqrt(len(sums)))
            means = " / ".join(f"{m:.1f}" for m in runs.mean(axis=0))
            print(
                f"| {label} ({' '.join(kinds)}) | {sigma:g} | {means} | {sums.mean():.1f} | {maxima.mean():.1f} | "
                f"{100 * (0.5 + ratio / 2):.2f} % +- {100 * error / 2:.2f} | {time.perf_counter() - started:.0f} |",
                flush=True,
            )


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


GUARANTEE_STEP = 0.0025


def guarantee_row(k: int, direction: str, args: argparse.Namespace) -> list[str]:
    """One K and direction: the derived cap and the worst-case rates there by the exact DP on the fine grid."""
    alpha = candidate_alpha(args.alpha, k)
    design = design_for(alpha, args.beta, args.effect, direction)
    options = RunOptions(
        candidate_paths=tuple(Path(f"c{i}.json") for i in range(k)) if k > 1 else (),
        sprt=True,
        alpha=args.alpha,
        beta=args.beta,
        effect=args.effect,
    )
    cap = derived_cap_pairs(options, paired=True, direction=direction)
    if cap is None:
        return [str(k), f"{alpha:.5g}", direction, design.source, "-", "-", "-", "-", "-", "no derived cap"]
    sign = -1.0 if direction == "worse" else 1.0
    null_d = np.append(np.arange(0.05, 1.0, GUARANTEE_STEP), 1.0)
    alt_d = np.append(np.arange(args.effect, 1.0, GUARANTEE_STEP), 1.0)
    started = time.perf_counter()
    results = lattice_dp(
        delta=args.effect,
        bounds=design.bounds,
        direction=direction,  # type: ignore[arg-type]
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"null": trinomial_grid(null_d, 0.0), "alt": trinomial_grid(alt_d, sign * args.effect)},
    )
    null, alt = results["null"], results["alt"]
    false_claim = null.worse if direction == "worse" else null.better
    right = alt.worse if direction == "worse" else alt.better
    wrong = alt.no_difference + (alt.worse if direction == "both" else 0.0)
    worst_alpha, worst_beta, worst_miss = float(false_claim.max()), float(wrong.max()), float((1.0 - right).max())
    holds = worst_alpha <= alpha and worst_miss <= args.beta
    log(f"K={k} {direction}: cap {cap}, {time.perf_counter() - started:.0f} s")
    return [
        str(k),
        f"{alpha:.5g}",
        direction,
        design.source,
        str(cap),
        f"{worst_alpha:.5f}",
        f"{worst_beta:.4f}",
        f"{worst_miss:.4f}",
        f"{1.0 - worst_miss:.4f}",
        "yes" if holds else "no",
    ]


def guarantee(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    rows = [guarantee_row(k, direction, args) for k in args.candidates_list for direction in ("both", "better")]
    print(
        f"Exact DP of one candidate's test at alpha/K, beta {args.beta:g}, effect {args.effect:g}, at the cap a run "
        f"derives without --agent-trials, last look included; i.i.d. pairs; worst case over discordances "
        f"0.05 .. 1 (H0) and {args.effect:g} .. 1 (H1) in steps of {GUARANTEE_STEP:g}; `worse` is `better`'s "
        f"mirror image ({time.perf_counter() - started:.0f} s)."
    )
    print()
    headers = [
        "K",
        "alpha/K",
        "direction",
        "boundaries",
        "cap (pairs)",
        "max P(false claim)",
        "max beta",
        "max miss",
        "least power",
        "alpha/K and beta hold",
    ]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("mode", choices=("simulate", "exact", "guarantee", "sessions"))
    parser.add_argument(
        "--candidates", type=int, nargs="+", default=None, help="K (simulate, exact: one; guarantee: several)"
    )
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
    if args.mode == "guarantee":
        args.candidates_list = args.candidates or [1, 2, 4]
        guarantee(args)
        return 0
    if args.candidates is not None and len(args.candidates) != 1:
        parser.error(f"{args.mode} takes one K with --candidates")
    args.candidates = args.candidates[0] if args.candidates else 8
    if args.mode == "simulate":
        simulate(args)
    elif args.mode == "sessions":
        sessions(args)
    else:
        exact(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
