"""``agentopt plan``: how many agent sessions (and dollars) a sequential experiment should take.

One-sample (default): H0 p = P vs H1 p = P + D with Wald's boundaries, exact figures by dynamic programming over
the lattice. Paired (``--paired``, ``--spread``, ``--tasks`` or ``--direction``): control at P vs test at P + D
(P - D for ``--direction worse``), planned as the run the plugin executes under ``--sprt``: the same question
(``--direction``, by default chosen as the plugin chooses it), the same boundaries (calibrated over the
discordance where the shipped table holds the settings, else Wald's), the same cap (``--tasks`` and ``--trials``
as the plugin turns them into pairs) and its last look; exact figures by dynamic programming over the lattice.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path
from typing import Any

from pytest_agentopt.cli.sprt_cmd import sequential_settings
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_DIR, DEFAULT_EFFECT
from pytest_agentopt.stats.wald import DIRECTIONS

DEFAULT_PAIRED_CAP_FACTOR = 4
AUTO = "auto"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "plan",
        help="expected sessions and cost of a sequential experiment",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--p0",
        type=float,
        default=None,
        help="success rate under H0 (the control's rate); needed unless --metric is a numeric metric",
    )
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
        "--tasks",
        type=int,
        default=None,
        metavar="T",
        help="paired: tasks in the suite; with --trials the cap is T x trials pairs, without it the plugin's "
        "default cap (trials per task derived from the pairs the calibrated design needs)",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=None,
        metavar="R",
        help="paired: trials per task and arm, as --agent-trials (needs --tasks)",
    )
    parser.add_argument(
        "--max-trials",
        type=int,
        default=None,
        metavar="N",
        help="cap in trials (one-sample) or pairs (paired), instead of --tasks/--trials; default: none for "
        "one-sample, the plugin's default cap for paired",
    )
    parser.add_argument(
        "--direction",
        choices=(AUTO, *DIRECTIONS),
        default=AUTO,
        help="paired: the sequential test's question, as --agent-direction; default as the plugin: worse in CI "
        "(CI or BUILD_NUMBER set), else both",
    )
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
    parser.add_argument(
        "--candidates",
        type=int,
        default=1,
        metavar="K",
        help="paired: K candidates against one shared control in one run (each tested at alpha/K); default 1",
    )
    parser.add_argument(
        "--metric",
        default="success",
        metavar="NAME",
        help="what the run decides on, as --agent-metric: success (default), cheaper_same_quality, or a numeric "
        "metric (cost, tokens, steps, latency or any recorded number: the median-ratio test)",
    )
    parser.add_argument(
        "--effect-ratio",
        type=float,
        default=0.8,
        metavar="R",
        help="--metric other than success: the minimal relative change, as --agent-effect-ratio; default 0.8",
    )
    parser.add_argument(
        "--log-sd",
        type=float,
        default=None,
        metavar="S",
        help="--metric other than success: the per-pair sd of log(test / control) (default: from --from-run)",
    )
    parser.add_argument(
        "--sim-runs",
        type=int,
        default=1000,
        metavar="N",
        help="simulated runs per world where there is no exact DP (--metric, --candidates); default 1000",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of those simulations; default 1")
    parser.add_argument("--agent-dir", default=DEFAULT_DIR, help=f"where runs are stored; default {DEFAULT_DIR}/")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(handler=run)


def _validate(args: argparse.Namespace) -> None:
    if args.p0 is None:
        raise AgentoptUsageError("--p0: the control's success rate is needed (e.g. --p0 0.6)")
    if not 0 < args.p0 < 1:
        raise AgentoptUsageError(f"--p0 {args.p0}: must be a success rate strictly between 0 and 1")
    validate_common(args)  # first: --effect out of (0, 1) is named as such
    if args.direction != "worse" and args.p0 + args.effect >= 1:
        raise AgentoptUsageError(f"--effect {args.effect}: p0 + effect must be below 1 (p0 is {args.p0})")


def validate_common(args: argparse.Namespace) -> None:
    """The checks every plan needs (a success plan or a metric plan)."""
    sequential_settings(args)  # --alpha, --beta and --effect, range-checked by SequentialSettings
    if args.spread is not None and args.spread < 0:
        raise AgentoptUsageError(f"--spread {args.spread}: must be 0 or more")
    if args.max_trials is not None and args.max_trials < 1:
        raise AgentoptUsageError(f"--max-trials {args.max_trials}: must be at least 1")
    for flag, value in (("--tasks", args.tasks), ("--trials", args.trials)):
        if value is not None and value < 1:
            raise AgentoptUsageError(f"{flag} {value}: must be at least 1")
    if args.trials is not None and args.tasks is None:
        raise AgentoptUsageError(f"--trials {args.trials} needs --tasks: the cap in pairs is tasks x trials")
    if args.max_trials is not None and args.tasks is not None:
        raise AgentoptUsageError(
            "--max-trials and --tasks both set the cap: give --tasks (and --trials) as the run has them, or "
            "--max-trials in pairs"
        )
    if args.candidates < 1:
        raise AgentoptUsageError(f"--candidates {args.candidates}: must be at least 1")
    if args.cost_per_trial is not None and args.cost_per_trial < 0:
        raise AgentoptUsageError(f"--cost-per-trial {args.cost_per_trial}: must be 0 or more")
    if args.candidates > 1 and args.sim_runs < 20:
        raise AgentoptUsageError(f"--sim-runs {args.sim_runs}: must be at least 20")


def cost_per_trial(args: argparse.Namespace) -> tuple[float | None, str | None]:
    if args.cost_per_trial is not None:
        return args.cost_per_trial, "--cost-per-trial"
    if args.from_run is None:
        return None, None
    from pytest_agentopt.storage.ledger import resolve_run
    from pytest_agentopt.storage.summary_schema import read_summary

    paths = resolve_run(args.from_run, Path(args.agent_dir))
    stored = read_summary(paths.summary)  # checked once: a summary without the documented shape gives no cost
    costs = [arm["cost_per_trial_usd"] for arm in stored.summary["arms"].values()] if stored.summary else []
    known = [float(c) for c in costs if c is not None and math.isfinite(c)]
    if not known:
        why = f"; {stored.problem}" if stored.problem is not None else ""
        raise AgentoptUsageError(
            f"--from-run {args.from_run}: the run recorded no cost (no usage or unknown prices){why}"
        )
    return sum(known) / len(known), f"run {paths.run_id}"


def one_sample_plan(args: argparse.Namespace) -> dict[str, Any]:
    from pytest_agentopt.stats.oc import binomial_sprt_oc, wald_asn_approximation, wald_oc_approximation
    from pytest_agentopt.stats.planning import asn_lower_bounds_one_sample, fixed_n_one_sample
    from pytest_agentopt.stats.wald import wald_bounds

    p0, p1, alpha, beta = args.p0, args.p0 + args.effect, args.alpha, args.beta
    bounds = wald_bounds(alpha, beta)
    under_h0 = binomial_sprt_oc(p0, p0, p1, alpha, beta, max_n=args.max_trials, bounds=bounds)
    under_h1 = binomial_sprt_oc(p1, p0, p1, alpha, beta, max_n=args.max_trials, bounds=bounds)
    lower_h0, lower_h1 = asn_lower_bounds_one_sample(p0, p1, alpha, beta)
    return {
        "design": "one-sample",
        "hypotheses": {"h0": p0, "h1": p1},
        "boundaries": "wald",
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


def resolve_direction(direction: str) -> str:
    """``auto``: as the plugin decides for a paired ``--sprt`` run (``worse`` in CI, else ``both``)."""
    if direction != AUTO:
        return direction
    import os

    from pytest_agentopt.run.sequential_design import GATE_DIRECTION, running_in_ci

    return GATE_DIRECTION if running_in_ci(os.environ) else "both"


def plan_cap(args: argparse.Namespace, design: Any, fixed: int) -> tuple[int, str]:
    """The cap in pairs the plugin would use, and how it was reached."""
    import math

    if args.max_trials is not None:
        return args.max_trials, "--max-trials"
    if args.tasks is not None and args.trials is not None:
        return args.tasks * args.trials, f"{args.tasks} tasks x {args.trials} trials"
    required = design.required_pairs
    what = "the pairs the calibrated design needs"
    if args.candidates > 1:  # ``design`` is each candidate's, at alpha/K
        what = f"the pairs the calibrated design of alpha/{args.candidates} needs"
    if args.tasks is not None:
        from pytest_agentopt.run.options import DEFAULT_TRIALS

        trials = math.ceil(required / args.tasks) if required is not None else DEFAULT_TRIALS
        return args.tasks * trials, f"{args.tasks} tasks x {trials} trials (the plugin's default)"
    if required is not None:
        return required, f"{what} (the plugin's default, before rounding up to tasks)"
    return DEFAULT_PAIRED_CAP_FACTOR * fixed, f"{DEFAULT_PAIRED_CAP_FACTOR}x the fixed-sample n"


def paired_plan(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.stats.gsprt_dp import lattice_dp
    from pytest_agentopt.stats.oc import stopping_quantile
    from pytest_agentopt.stats.planning import asn_lower_bounds_trinomial, fixed_n_mcnemar, paired_outcome_probabilities

    spread = args.spread or 0.0
    direction = resolve_direction(args.direction)
    # H1 is the change the question is about: an improvement, or a regression for direction "worse".
    sign = -1.0 if direction == "worse" else 1.0
    from pytest_agentopt.run.candidates import candidate_alpha

    p_control, p_test, beta = args.p0, args.p0 + sign * args.effect, args.beta
    alpha = candidate_alpha(args.alpha, args.candidates)
    if not 0 < p_test < 1:
        raise AgentoptUsageError(f"--p0 {args.p0} with --effect {args.effect}: the H1 rate {p_test:g} is not in (0, 1)")
    fixed = fixed_n_mcnemar(min(p_control, p_test), max(p_control, p_test), alpha, beta, spread)
    design = design_for(alpha, beta, args.effect, direction)
    cap, cap_source = plan_cap(args, design, fixed)
    null = paired_outcome_probabilities(p_control, p_control, spread)
    alternative = paired_outcome_probabilities(p_control, p_test, spread)
    result = lattice_dp(
        delta=args.effect,
        bounds=design.bounds,
        direction=direction,  # type: ignore[arg-type]
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"plan": np.array([null, alternative])},
    )["plan"]
    asn_h0, asn_h1 = (float(value) for value in result.asn)
    claim_h1 = result.worse if direction == "worse" else result.better
    lower_h0, lower_h1 = asn_lower_bounds_trinomial(null, alternative, p_test - p_control, alpha, beta)
    worst = design.at_cap(cap)
    return {
        "design": "paired",
        "direction": direction,
        "hypotheses": {"control": p_control, "test_h0": p_control, "test_h1": p_test, "spread": spread},
        "boundaries": design.source,
        "fixed_n": fixed,
        "cap": cap,
        "cap_source": cap_source,
        "required_pairs": design.required_pairs,
        "asn_h0": asn_h0,
        "asn_h1": asn_h1,
        "p95_h0": stopping_quantile(result.stopping_of(0), 0.95),
        "p95_h1": stopping_quantile(result.stopping_of(1), 0.95),
        "worst_case": cap,
        "alpha_exact": float(claim_h1[0]),
        "alpha_worse_exact": float(result.worse[0]),
        "beta_exact": float(1.0 - claim_h1[1]),
        "no_difference_h0": float(result.no_difference[0]),
        "undecided_h0": float(result.undecided[0]),
        "undecided_h1": float(result.undecided[1]),
        "worst_alpha_at_cap": worst.alpha if worst is not None else None,
        "worst_power_at_cap": 1.0 - worst.miss if worst is not None else None,
        "asn_h0_wald": None,
        "asn_h1_wald": None,
        "lower_bound_h0": lower_h0,
        "lower_bound_h1": lower_h1,
        "sessions_per_unit": 2,
        **(
            {"candidates": _candidates_plan(args, alpha, result, cap, direction, (p_control, p_test, spread))}
            if args.candidates > 1
            else {}
        ),
    }


def _candidates_plan(
    args: argparse.Namespace, alpha: float, result: Any, cap: int, direction: str, world: tuple[float, float, float]
) -> dict[str, Any]:
    """Expected sessions of one run with K candidates and a shared control, against K separate A/B runs.

    Each candidate's own pairs are exact (the DP above, at alpha/K). The control runs until the last candidate has
    decided: the maximum of K stopping times that share the control's outcomes, which no DP here computes, so
    it comes from a seeded simulation of the plugin's candidate tests (``run.plan_simulation``), with its Monte
    Carlo standard error; the run's sessions too (every candidate at H0, then every candidate at H1).
    """
    from pytest_agentopt.run.plan_simulation import simulate_candidates

    candidates = args.candidates
    p_control, p_test, spread = world
    figures: dict[str, Any] = {"count": candidates, "alpha_per_candidate": alpha, "simulation_runs": args.sim_runs}
    for index, name, rate in ((0, "h0", p_control), (1, "h1", p_test)):
        simulated = simulate_candidates(
            p_control=p_control,
            p_candidates=[rate] * candidates,
            spread=spread,
            alpha=args.alpha,
            beta=args.beta,
            effect=args.effect,
            direction=direction,  # type: ignore[arg-type]
            cap=cap,
            runs=args.sim_runs,
            seed=args.seed + index,
        )
        asn = float(result.asn[index])
        figures[f"sessions_{name}"] = simulated.sessions_mean
        figures[f"sessions_{name}_se"] = simulated.sessions_standard_error
        figures[f"control_pairs_{name}"] = simulated.control.mean_pairs
        figures[f"control_pairs_{name}_se"] = simulated.control.standard_error
        figures[f"candidate_pairs_{name}_simulated"] = statistics.fmean(c.mean_pairs for c in simulated.candidates)
        figures[f"separate_sessions_{name}"] = 2 * candidates * asn
    return figures


def plan(args: argparse.Namespace) -> dict[str, Any]:
    from pytest_agentopt.cli.plan_metrics import metric_kind, metric_plan

    if metric_kind(args.metric) != "success":
        result = metric_plan(args)
        return _with_cost(args, result)
    _validate(args)
    paired = (
        args.paired
        or args.spread is not None
        or args.direction != AUTO
        or args.tasks is not None
        or args.candidates > 1
    )
    result = paired_plan(args) if paired else one_sample_plan(args)
    return _with_cost(args, result)


def _with_cost(args: argparse.Namespace, result: dict[str, Any]) -> dict[str, Any]:
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
            "fixed_n_usd": cost * sessions * result["fixed_n"] if result["fixed_n"] is not None else None,
        }
        if result.get("candidates"):
            group = result["candidates"]
            result["cost"]["candidates_usd_h0"] = cost * group["sessions_h0"]
            result["cost"]["candidates_usd_h1"] = cost * group["sessions_h1"]
            result["cost"]["separate_usd_h0"] = cost * group["separate_sessions_h0"]
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

    from pytest_agentopt.number_format import usd

    if result["design"] not in ("paired", "one-sample"):
        from pytest_agentopt.cli.plan_metrics import render_metric_plan

        lines = render_metric_plan(result)
        cost = result.get("cost")
        if cost is not None:
            lines.append(
                f"estimated cost at {usd(cost['per_session_usd'])} per session ({cost['source']}): "
                f"{usd(cost['expected_usd_h0'])} (h0), {usd(cost['expected_usd_h1'])} (h1), 95th percentile "
                f"{usd(cost['p95_usd'])}"
            )
        return lines

    paired = result["design"] == "paired"
    unit = "pairs" if paired else "trials"
    settings = result["settings"]
    if paired:
        h = result["hypotheses"]
        title = (
            f"paired ({result['direction']}): control {h['control']:g} vs test {h['test_h1']:g} (H1) / "
            f"{h['control']:g} (H0), task spread sigma {h['spread']:g}; {result['boundaries']} boundaries"
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
        source = f": {result['cap_source']}" if result.get("cap_source") else ""
        lines.append(
            f"worst case {result['worst_case']} {unit} (the cap{source}); undecided at the cap: {undecided:.4f}"
        )
    if paired and result.get("worst_power_at_cap") is not None:
        lines.append(
            f"at this cap, at the least favourable discordance: alpha {result['worst_alpha_at_cap']:.4f}, power "
            f"{result['worst_power_at_cap']:.4f} (from {result['required_pairs']} pairs on: power >= "
            f"{1 - settings['beta']:g}, no undecided end)"
        )
    elif paired:
        lines.append(
            "boundaries not calibrated for these settings (Wald's): the error rates above hold at this planning "
            "point only"
        )
    if paired:
        lines.append("sessions = 2 x pairs (both arms run each pair)")
    if paired and result["direction"] == "both":
        lines.append(
            "the lower bound is that of one question (one direction); for a test of both directions under H0 see "
            "docs/statistics.md, 'How close to optimal is the two-sided test?'"
        )
    group = result.get("candidates")
    if group:
        k = group["count"]
        lines.append(
            f"{k} candidates against one shared control, each tested at alpha {group['alpha_per_candidate']:.4g} "
            f"(alpha/{k}: family-wise error <= alpha); the figures above are per candidate"
        )
        lines.append(
            f"expected sessions of the run: {group['sessions_h0']:.0f} +/- {group['sessions_h0_se']:.0f} with every "
            f"candidate at H0, {group['sessions_h1']:.0f} +/- {group['sessions_h1_se']:.0f} at H1 (the control "
            f"runs until the last candidate decides: {group['control_pairs_h0']:.0f} / "
            f"{group['control_pairs_h1']:.0f} pairs), against {group['separate_sessions_h0']:.0f} / "
            f"{group['separate_sessions_h1']:.0f} for {k} separate A/B runs at the same alpha "
            f"({100 * group['sessions_h0'] / group['separate_sessions_h0']:.0f} % / "
            f"{100 * group['sessions_h1'] / group['separate_sessions_h1']:.0f} %)"
        )
        lines.append(
            f"the run's sessions: a seeded simulation of the plugin's candidate tests, {group['simulation_runs']} "
            "runs each (+/- one Monte Carlo standard error); the separate runs' are exact"
        )
    cost = result.get("cost")
    if cost is not None:
        lines.append(
            f"estimated cost at {usd(cost['per_session_usd'])} per session ({cost['source']}): "
            f"{usd(cost['expected_usd_h0'])} (H0), {usd(cost['expected_usd_h1'])} (H1), "
            f"95th percentile {usd(cost['p95_usd'])}; fixed-sample {usd(cost['fixed_n_usd'])}"
        )
        if group:
            lines.append(
                f"the run with {group['count']} candidates: {usd(cost['candidates_usd_h0'])} (H0), "
                f"{usd(cost['candidates_usd_h1'])} (H1); {group['count']} separate A/B runs "
                f"{usd(cost['separate_usd_h0'])} (H0)"
            )
    return lines
