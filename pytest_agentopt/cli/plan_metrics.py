"""``agentopt plan --metric``: expected sessions of the numeric (median-ratio) test and of cheaper-same-quality.

Neither test has an exact DP (the median-ratio test's decisions come from confidence sequences on any distribution
of ratios), so the figures are a seeded simulation of the real tests (``run.plan_simulation``), printed with their
Monte Carlo standard error. The assumptions are flags: the per-pair spread of the log cost ratio (``--log-sd``,
or what a previous run's pairs show, ``--from-run``), the control's success rate and the task spread for the
quality half, and the cap.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path
from typing import Any

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.stats.wald import Direction

CHEAPER_SAME_QUALITY = "cheaper_same_quality"


def metric_kind(name: str) -> str:
    """``success``, ``cheaper_same_quality`` or ``numeric`` (any other name: a number the run records)."""
    return name if name in ("success", CHEAPER_SAME_QUALITY) else "numeric"


def log_ratio_spread(reference: str, agent_dir: Path, metric: str) -> tuple[float, int, str]:
    """The sample sd of ``log(test / control)`` over a previous run's pairs with a positive value in both arms.

    ``metric``: ``cost`` (``cost_usd``), a built-in number of the record (``steps``, ``tool_calls``,
    ``latency_s``) or a number the tasks recorded (``metrics``). Returns the sd, the pairs it rests on and the
    run id.
    """
    from pytest_agentopt.storage.ledger import read_ledger, resolve_run

    paths = resolve_run(reference, agent_dir)
    records = read_ledger(paths.trials).records
    field = "cost_usd" if metric in ("cost", CHEAPER_SAME_QUALITY) else metric
    values: dict[tuple[str, str, int], float] = {}
    for record in records:
        raw: Any = record.get(field) if field in record else (record.get("metrics") or {}).get(field)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) or raw <= 0:
            continue
        values[(record["arm"], record["task_id"], record["trial"])] = float(raw)
    logs = [
        math.log(value / values[("control", task, trial)])
        for (arm, task, trial), value in values.items()
        if arm != "control" and ("control", task, trial) in values
    ]
    if len(logs) < 2:
        raise AgentoptUsageError(
            f"--from-run {reference}: the run has {len(logs)} pairs with a positive {field!r} in both arms; the "
            "spread of the log ratio needs at least 2 (give --log-sd instead)"
        )
    return statistics.stdev(logs), len(logs), paths.run_id


def validate(args: argparse.Namespace) -> None:
    from pytest_agentopt.cli.plan_cmd import validate_common

    validate_common(args)
    kind = metric_kind(args.metric)
    if not (args.effect_ratio > 0 and math.isfinite(args.effect_ratio)) or args.effect_ratio == 1:
        raise AgentoptUsageError(f"--effect-ratio {args.effect_ratio}: must be a positive number other than 1")
    if kind == CHEAPER_SAME_QUALITY and not args.effect_ratio < 1:
        raise AgentoptUsageError(
            f"--effect-ratio {args.effect_ratio}: cheaper_same_quality needs a saving, a ratio below 1 (0.8: 20 % "
            "cheaper)"
        )
    if args.log_sd is not None and not (args.log_sd > 0 and math.isfinite(args.log_sd)):
        raise AgentoptUsageError(f"--log-sd {args.log_sd}: must be a positive number (the sd of log(test/control))")
    if args.log_sd is None and args.from_run is None:
        raise AgentoptUsageError(
            f"--metric {args.metric}: give --log-sd (the per-pair sd of log(test / control), e.g. 1.0 for noisy "
            "agent costs) or --from-run RUN to take it from a previous run's pairs"
        )
    if args.candidates > 1:
        raise AgentoptUsageError(
            f"--candidates {args.candidates} with --metric {args.metric}: several candidates are each decided on "
            "success only (as in a run)"
        )
    if args.sim_runs < 20:
        raise AgentoptUsageError(f"--sim-runs {args.sim_runs}: must be at least 20")
    if args.max_trials is None and args.tasks is None:
        raise AgentoptUsageError(
            f"--metric {args.metric}: give the cap, --tasks T (and --trials R, default as the plugin's) or "
            "--max-trials N in pairs: the median-ratio test has no calibrated cap"
        )


def _cap(args: argparse.Namespace, settings: Any) -> tuple[int, str]:
    from pytest_agentopt.run.options import DEFAULT_TRIALS

    if args.max_trials is not None:
        return args.max_trials, "--max-trials"
    if args.trials is not None:
        return args.tasks * args.trials, f"{args.tasks} tasks x {args.trials} trials"
    if metric_kind(args.metric) == CHEAPER_SAME_QUALITY:
        from pytest_agentopt.stats.cheaper_same_quality import quality_design

        required = quality_design(settings).required_pairs
        if required is not None:
            trials = math.ceil(required / args.tasks)
            return args.tasks * trials, f"{args.tasks} tasks x {trials} trials (the plugin's default)"
    return args.tasks * DEFAULT_TRIALS, f"{args.tasks} tasks x {DEFAULT_TRIALS} trials (the plugin's default)"


def metric_plan(args: argparse.Namespace) -> dict[str, Any]:
    """The plan of a numeric-metric or cheaper-same-quality run (``--metric``)."""
    from pytest_agentopt.run.plan_simulation import simulate_cheaper_same_quality, simulate_ratio_test
    from pytest_agentopt.stats.sprt import SequentialSettings

    validate(args)
    kind = metric_kind(args.metric)
    settings = SequentialSettings(alpha=args.alpha, beta=args.beta, delta=args.effect)
    if args.log_sd is not None:
        log_sd, spread_source = args.log_sd, "--log-sd"
    else:
        log_sd, pairs, run_id = log_ratio_spread(args.from_run, Path(args.agent_dir), args.metric)
        spread_source = f"run {run_id} ({pairs} pairs)"
    cap, cap_source = _cap(args, settings)
    common = {"runs": args.sim_runs, "cap": cap}
    result: dict[str, Any] = {
        "design": kind,
        "metric": args.metric,
        "effect_ratio": args.effect_ratio,
        "log_sd": log_sd,
        "log_sd_source": spread_source,
        "cap": cap,
        "cap_source": cap_source,
        "worst_case": cap,
        "simulation": {"runs": args.sim_runs, "seed": args.seed},
        "sessions_per_unit": 2,
        "fixed_n": None,
    }
    if kind == "numeric":
        direction: Direction = "better" if args.direction == "auto" else args.direction
        scenarios = {
            "h0": simulate_ratio_test(
                ratio=1.0,
                log_sd=log_sd,
                alpha=args.alpha,
                beta=args.beta,
                effect_ratio=args.effect_ratio,
                direction=direction,
                seed=args.seed,
                **common,
            ),
            "h1": simulate_ratio_test(
                ratio=args.effect_ratio,
                log_sd=log_sd,
                alpha=args.alpha,
                beta=args.beta,
                effect_ratio=args.effect_ratio,
                direction=direction,
                seed=args.seed + 1,
                **common,
            ),
        }
        result["direction"] = direction
        result["hypotheses"] = {"h0": "median ratio 1", "h1": f"median ratio {args.effect_ratio:g}"}
    else:
        from pytest_agentopt.stats.cheaper_same_quality import quality_design

        p0, spread = _quality_rate(args), args.spread or 0.0
        world = {"p_control": p0, "spread": spread, "log_sd": log_sd, "settings": settings}
        world["effect_ratio"] = args.effect_ratio
        scenarios = {
            "h0": simulate_cheaper_same_quality(p_test=p0, ratio=1.0, seed=args.seed, **world, **common),
            "h1": simulate_cheaper_same_quality(
                p_test=p0, ratio=args.effect_ratio, seed=args.seed + 1, **world, **common
            ),
        }
        if p0 - args.effect > 0:
            scenarios["quality_drop"] = simulate_cheaper_same_quality(
                p_test=p0 - args.effect, ratio=args.effect_ratio, seed=args.seed + 2, **world, **common
            )
        design = quality_design(settings)
        result["direction"] = "worse"
        result["boundaries"] = design.source
        result["quality_half"] = {"false_not_worse_level": design.beta, "false_worse_level": design.alpha}
        result["quality_half"].update(_quality_exact(design, p0, spread, cap))
        result["hypotheses"] = {
            "control": p0,
            "spread": spread,
            "h0": "equal success, median cost ratio 1 (not cheaper)",
            "h1": f"equal success, median cost ratio {args.effect_ratio:g}",
            "quality_drop": f"success {p0:g} -> {p0 - args.effect:g}, median cost ratio {args.effect_ratio:g}",
        }
    result["scenarios"] = {name: figure.as_dict() for name, figure in scenarios.items()}
    result["asn_h0"], result["asn_h1"] = scenarios["h0"].mean_pairs, scenarios["h1"].mean_pairs
    result["p95_h0"], result["p95_h1"] = scenarios["h0"].p95_pairs, scenarios["h1"].p95_pairs
    return result


def _quality_rate(args: argparse.Namespace) -> float:
    """``--p0``, or the control's success rate in the ``--from-run`` run."""
    if args.p0 is not None:
        if not 0 < args.p0 < 1:
            raise AgentoptUsageError(f"--p0 {args.p0}: must be a success rate strictly between 0 and 1")
        return float(args.p0)
    if args.from_run is not None:
        from pytest_agentopt.storage.ledger import resolve_run
        from pytest_agentopt.storage.summary_schema import read_summary

        stored = read_summary(resolve_run(args.from_run, Path(args.agent_dir)).summary)  # checked once
        control = stored.summary["arms"].get("control") if stored.summary is not None else None
        rate = control["success_rate"] if control is not None else None
        if rate is not None and 0 < rate < 1:
            return float(rate)
        why = f"; {stored.problem}" if stored.problem is not None else ""
        raise AgentoptUsageError(
            f"--from-run {args.from_run}: the run has no control success rate strictly between 0 and 1{why}; give --p0"
        )
    raise AgentoptUsageError(
        "--metric cheaper_same_quality needs --p0, the control's success rate (its quality half tests success), "
        "or --from-run RUN"
    )


def _quality_exact(design: Any, p0: float, spread: float, cap: int) -> dict[str, float]:
    """The quality half's exact error rates at this planning point (DP over the lattice, as the success plan)."""
    import numpy as np

    from pytest_agentopt.stats.gsprt_dp import lattice_dp
    from pytest_agentopt.stats.planning import paired_outcome_probabilities

    grids = [paired_outcome_probabilities(p0, p0, spread)]
    if p0 - design.delta > 0:
        grids.append(paired_outcome_probabilities(p0, p0 - design.delta, spread))
    result = lattice_dp(
        delta=design.delta,
        bounds=design.bounds,
        direction="worse",
        max_pairs=cap,
        last_look=design.last_look(cap),
        grids={"plan": np.array(grids)},
    )["plan"]
    figures = {"false_worse_exact": float(result.worse[0])}
    if len(grids) > 1:
        figures["false_not_worse_exact"] = float(result.no_difference[1])
    return figures


def render_metric_plan(result: dict[str, Any]) -> list[str]:
    from tabulate import tabulate

    scenarios = result["scenarios"]
    runs = result["simulation"]["runs"]
    if result["design"] == "numeric":
        title = (
            f"numeric metric {result['metric']!r}: median per-pair ratio test (direction {result['direction']}), "
            f"effect ratio {result['effect_ratio']:g}"
        )
    else:
        h = result["hypotheses"]
        title = (
            f"cheaper_same_quality: control success {h['control']:g}, task spread sigma {h['spread']:g}, cost "
            f"ratio {result['effect_ratio']:g}; quality half: {result['boundaries']} boundaries"
        )
    lines = [
        title,
        f"per-pair sd of log(test / control) {result['log_sd']:.3g} ({result['log_sd_source']}); cap "
        f"{result['cap']} pairs ({result['cap_source']})",
        "",
    ]
    rows = []
    for name, figure in scenarios.items():
        verdicts = ", ".join(f"{verdict} {share:.3f}" for verdict, share in figure["verdicts"].items())
        rows.append(
            [
                f"{name}: {result['hypotheses'][name]}",
                f"{figure['mean_pairs']:.1f} +/- {figure['standard_error']:.1f}",
                figure["p95_pairs"],
                verdicts,
            ]
        )
    lines.extend(
        tabulate(
            rows, headers=["world", "pairs, average (+/- MC se)", "95th pct", "verdicts"], disable_numparse=True
        ).splitlines()
    )
    lines.append("")
    lines.append(
        f"seeded simulation of the plugin's own test, {runs} runs per world (seed {result['simulation']['seed']}); "
        "sessions = 2 x pairs"
    )
    quality = result.get("quality_half")
    if quality is not None:
        exact = f"exact at this control rate: false worse {quality['false_worse_exact']:.4f}"
        if "false_not_worse_exact" in quality:
            exact += f", false not_worse at a drop of the effect {quality['false_not_worse_exact']:.4f}"
        lines.append(
            f"quality half: a false not_worse at most {quality['false_not_worse_level']:g} (the claim's alpha), a "
            f"false worse at most {quality['false_worse_level']:g} (beta/2); {exact}"
        )
        if result["boundaries"] != "calibrated":
            lines.append(
                "its boundaries are Wald's (no calibrated design for those settings): their worst case over the "
                "discordance can exceed the levels (docs/statistics.md, 'Cheaper at the same quality')"
            )
    return lines
