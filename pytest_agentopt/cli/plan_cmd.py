"""``agentopt plan``: how many agent sessions (and dollars) a sequential experiment should take.

One-sample (default): H0 p = P vs H1 p = P + D with Wald's boundaries (``--tuned``: boundaries tuned to the exact
error rates), exact figures by dynamic programming over the lattice. Paired (``--paired`` or ``--spread``):
control at P vs test at P + D with the paired two-sided test the plugin runs under ``--sprt``, exact figures by
dynamic programming over the (wins, losses) lattice.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from ..errors import AgentoptUsageError
from ..options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_DIR, DEFAULT_EFFECT
from ..stats.sprt import DIRECTIONS
from .sprt_cmd import sequential_settings

DEFAULT_PAIRED_CAP_FACTOR = 4


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "plan",
        help="expected sessions and cost of a sequential experiment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--p0", type=float, required=True, help="success rate under H0 (the control's rate)")
    parser.add_argument("--effect", type=float, default=DEFAULT_EFFECT, help=f"default {DEFAULT_EFFECT}")
    parser.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help=f"default {DEFAULT_ALPHA}")
    parser.add_argument("--beta", type=float, default=DEFAULT_BETA, help=f"default {DEFAULT_BETA}")
    parser.add_argument("--paired", action="store_true", help="plan a control vs test run (pairs)")
    parser.add_argument(
        "--spread",
        type=float,
        default=None,
        metavar="SIGMA",
        help="task difficulty spread on the logit scale (implies --paired; 0 = independent outcomes)",
    )
    parser.add_argument(
        "--max-trials",
        type=int,
        default=None,
        metavar="N",
        help="cap (trials, or pairs when paired); default: none for one-sample, "
        f"{DEFAULT_PAIRED_CAP_FACTOR}x the fixed-sample n for paired",
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="both",
        help="paired: the sequential test's question, as --agent-direction (default both)",
    )
    parser.add_argument("--tuned", action="store_true", help="one-sample: boundaries tuned to the exact error rates")
    parser.add_argument(
        "--cost-per-trial",
        type=float,
        default=None,
        metavar="USD",
        help="estimated dollars per agent session",
    )
    parser.add_argument(
        "--from-run",
        default=None,
        metavar="RUN",
        help="take the cost per session from a previous run (id or directory)",
    )
    parser.add_argument("--agent-dir", default=DEFAULT_DIR, help=f"where runs are stored; default {DEFAULT_DIR}/")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(handler=run)


def _validate(args: argparse.Namespace) -> None:
    if not 0 < args.p0 < 1:
        raise AgentoptUsageError(f"--p0 {args.p0}: must be a success rate strictly between 0 and 1")
    sequential_settings(args)  # --alpha, --beta and --effect, range-checked by SequentialSettings
    if args.direction != "worse" and args.p0 + args.effect >= 1:
        raise AgentoptUsageError(f"--effect {args.effect}: p0 + effect must be below 1 (p0 is {args.p0})")
    if args.spread is not None and args.spread < 0:
        raise AgentoptUsageError(f"--spread {args.spread}: must be 0 or more")
    if args.max_trials is not None and args.max_trials < 1:
        raise AgentoptUsageError(f"--max-trials {args.max_trials}: must be at least 1")
    if args.cost_per_trial is not None and args.cost_per_trial < 0:
        raise AgentoptUsageError(f"--cost-per-trial {args.cost_per_trial}: must be 0 or more")


def cost_per_trial(args: argparse.Namespace) -> tuple[float | None, str | None]:
    if args.cost_per_trial is not None:
        return args.cost_per_trial, "--cost-per-trial"
    if args.from_run is None:
        return None, None
    from ..ledger import read_json, resolve_run

    paths = resolve_run(args.from_run, Path(args.agent_dir))
    summary = read_json(paths.summary)
    arms = summary.get("arms")
    costs = (
        [arm.get("cost_per_trial_usd") for arm in arms.values() if isinstance(arm, dict)]
        if isinstance(arms, dict)
        else []
    )
    # A damaged summary: only finite numbers are costs.
    known = [float(c) for c in costs if isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)]
    if not known:
        raise AgentoptUsageError(f"--from-run {args.from_run}: the run recorded no cost (no usage or unknown prices)")
    return sum(known) / len(known), f"run {paths.run_id}"


def one_sample_plan(args: argparse.Namespace) -> dict[str, Any]:
    from ..stats.oc import binomial_sprt_oc, tuned_bounds, wald_asn_approximation, wald_oc_approximation
    from ..stats.planning import asn_lower_bounds_one_sample, fixed_n_one_sample
    from ..stats.sprt import wald_bounds

    p0, p1, alpha, beta = args.p0, args.p0 + args.effect, args.alpha, args.beta
    bounds = tuned_bounds(p0, p1, alpha, beta, max_n=args.max_trials) if args.tuned else wald_bounds(alpha, beta)
    under_h0 = binomial_sprt_oc(p0, p0, p1, alpha, beta, max_n=args.max_trials, bounds=bounds)
    under_h1 = binomial_sprt_oc(p1, p0, p1, alpha, beta, max_n=args.max_trials, bounds=bounds)
    lower_h0, lower_h1 = asn_lower_bounds_one_sample(p0, p1, alpha, beta)
    return {
        "design": "one-sample",
        "hypotheses": {"h0": p0, "h1": p1},
        "boundaries": "tuned" if args.tuned else "wald",
        "bounds": list(bounds),
        "fixed_n": fixed_n_one_sample(p0, p1, alpha, beta),
        "asn_h0": under_h0.asn,
        "asn_h1": under_h1.asn,
        "p95_h0": under_h0.quantile(0.95),
        "p95_h1": under_h1.quantile(0.95),
        "worst_case": max(under_h0.max_trials, under_h1.max_trials) if args.max_trials else None,
        "alpha_exact": under_h0.accept_h1,
        "beta_exact": under_h1.accept_h0,
        "undecided_h0": under_h0.undecided,
        "undecided_h1": under_h1.undecided,
        "asn_h0_wald": wald_asn_approximation(p0, p0, p1, alpha, beta, bounds=bounds),
        "asn_h1_wald": wald_asn_approximation(p1, p0, p1, alpha, beta, bounds=bounds),
        "alpha_wald": 1 - wald_oc_approximation(p0, p0, p1, alpha, beta, bounds=bounds),
        "beta_wald": wald_oc_approximation(p1, p0, p1, alpha, beta, bounds=bounds),
        "lower_bound_h0": lower_h0,
        "lower_bound_h1": lower_h1,
        "sessions_per_unit": 1,
    }


def paired_plan(args: argparse.Namespace) -> dict[str, Any]:
    from ..stats.paired_oc import paired_test_oc
    from ..stats.planning import asn_lower_bounds_trinomial, fixed_n_mcnemar, paired_outcome_probabilities

    spread = args.spread or 0.0
    # H1 is the change the question is about: an improvement, or a regression for direction "worse".
    sign = -1.0 if args.direction == "worse" else 1.0
    p_control, p_test, alpha, beta = args.p0, args.p0 + sign * args.effect, args.alpha, args.beta
    if not 0 < p_test < 1:
        raise AgentoptUsageError(f"--p0 {args.p0} with --effect {args.effect}: the H1 rate {p_test:g} is not in (0, 1)")
    fixed = fixed_n_mcnemar(min(p_control, p_test), max(p_control, p_test), alpha, beta, spread)
    cap = args.max_trials or DEFAULT_PAIRED_CAP_FACTOR * fixed
    null = paired_outcome_probabilities(p_control, p_control, spread)
    alternative = paired_outcome_probabilities(p_control, p_test, spread)
    under_h0, under_h1 = (
        paired_test_oc(distribution, alpha=alpha, beta=beta, delta=args.effect, max_pairs=cap, direction=args.direction)
        for distribution in (null, alternative)
    )
    lower_h0, lower_h1 = asn_lower_bounds_trinomial(null, alternative, p_test - p_control, alpha, beta)
    return {
        "design": "paired",
        "direction": args.direction,
        "hypotheses": {"control": p_control, "test_h0": p_control, "test_h1": p_test, "spread": spread},
        "boundaries": "wald",
        "fixed_n": fixed,
        "cap": cap,
        "asn_h0": under_h0.asn,
        "asn_h1": under_h1.asn,
        "p95_h0": under_h0.quantile(0.95),
        "p95_h1": under_h1.quantile(0.95),
        "worst_case": cap,
        "alpha_exact": under_h0.worse if args.direction == "worse" else under_h0.better,
        "alpha_worse_exact": under_h0.worse,
        "beta_exact": 1 - (under_h1.worse if args.direction == "worse" else under_h1.better),
        "no_difference_h0": under_h0.no_difference,
        "undecided_h0": under_h0.undecided,
        "undecided_h1": under_h1.undecided,
        "asn_h0_wald": None,
        "asn_h1_wald": None,
        "lower_bound_h0": lower_h0,
        "lower_bound_h1": lower_h1,
        "sessions_per_unit": 2,
    }


def plan(args: argparse.Namespace) -> dict[str, Any]:
    _validate(args)
    paired = args.paired or args.spread is not None or args.direction != "both"
    result = paired_plan(args) if paired else one_sample_plan(args)
    result["settings"] = {"alpha": args.alpha, "beta": args.beta, "effect": args.effect}
    cost, source = cost_per_trial(args)
    if cost is not None:
        sessions = result["sessions_per_unit"]
        result["cost"] = {
            "per_session_usd": cost,
            "source": source,
            "expected_usd_h0": cost * sessions * result["asn_h0"],
            "expected_usd_h1": cost * sessions * result["asn_h1"],
            "p95_usd": cost * sessions * max(result["p95_h0"], result["p95_h1"]),
            "fixed_n_usd": cost * sessions * result["fixed_n"],
        }
    return result


def run(args: argparse.Namespace) -> int:
    result = plan(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for line in render(result):
        print(line)
    return 0


def render(result: dict[str, Any]) -> list[str]:
    from tabulate import tabulate

    from ..render.format import usd

    paired = result["design"] == "paired"
    unit = "pairs" if paired else "trials"
    settings = result["settings"]
    if paired:
        h = result["hypotheses"]
        title = (
            f"paired ({result['direction']}): control {h['control']:g} vs test {h['test_h1']:g} (H1) / "
            f"{h['control']:g} (H0), task spread sigma {h['spread']:g}"
        )
    else:
        h = result["hypotheses"]
        title = f"one-sample: H0 p = {h['h0']:g} vs H1 p = {h['h1']:g} ({result['boundaries']} boundaries)"
    lines = [
        title,
        f"alpha {settings['alpha']:g}, beta {settings['beta']:g}, effect {settings['effect']:g}",
        "",
    ]
    rows = [
        ["fixed-sample n", result["fixed_n"], result["fixed_n"]],
        ["sequential, average (exact)", f"{result['asn_h0']:.1f}", f"{result['asn_h1']:.1f}"],
        ["sequential, 95th percentile", result["p95_h0"], result["p95_h1"]],
        ["lower bound, any test", f"{result['lower_bound_h0']:.1f}", f"{result['lower_bound_h1']:.1f}"],
    ]
    if result.get("asn_h0_wald") is not None:
        rows.append(["Wald's approximation", f"{result['asn_h0_wald']:.1f}", f"{result['asn_h1_wald']:.1f}"])
    lines.extend(
        tabulate(rows, headers=[unit, "under H0", "under H1"], tablefmt="simple", disable_numparse=True).splitlines()
    )
    lines.append("")
    errors = f"exact alpha {result['alpha_exact']:.4f}, exact beta {result['beta_exact']:.4f}"
    if paired and result["direction"] == "both":
        errors += f" (false 'worse' under H0: {result['alpha_worse_exact']:.4f})"
    lines.append(errors)
    if result.get("worst_case"):
        undecided = max(result["undecided_h0"], result["undecided_h1"])
        lines.append(f"worst case {result['worst_case']} {unit} (cap); undecided at the cap: {undecided:.4f}")
    if paired:
        lines.append("sessions = 2 x pairs (both arms run each pair)")
    if paired and result["direction"] == "both":
        lines.append(
            "the lower bound is that of one question (one direction); for a test of both directions under H0 see "
            "docs/statistics.md, 'How close to optimal is the two-sided test?'"
        )
    cost = result.get("cost")
    if cost is not None:
        lines.append(
            f"estimated cost at {usd(cost['per_session_usd'])} per session ({cost['source']}): "
            f"{usd(cost['expected_usd_h0'])} (H0), {usd(cost['expected_usd_h1'])} (H1), "
            f"95th percentile {usd(cost['p95_usd'])}; fixed-sample {usd(cost['fixed_n_usd'])}"
        )
    return lines
