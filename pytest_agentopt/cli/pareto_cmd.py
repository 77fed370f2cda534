"""``agentopt pareto``: success against cost per config, the non-dominated front and the KPI answer."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import (
    add_agent_dir,
    add_filters,
    empty_message,
    load_filtered,
    print_json,
    print_wrapped,
    render_table,
)
from pytest_agentopt.errors import AgentoptUsageError


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "pareto",
        help="success rate against mean cost per trial for every config, the Pareto front and the KPI",
        description=(
            "Per config (config content hash) across the runs under --agent-dir: success rate with its Wilson 95% "
            "interval, estimated mean cost per trial with a bootstrap 95% interval, whether it is on the front "
            "(no other config has success >= and cost <= with one strict), its bootstrap probability of being "
            "dominated, the call 'dominated' adjusted over the configs (Benjamini-Hochberg, false discovery rate "
            "5 %), and which configs reach >= 80% of the best success rate at <= 30% of its cost."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import CONFIG_COLUMNS, pareto_front

    if args.bootstrap < 1:
        raise AgentoptUsageError(f"--bootstrap {args.bootstrap}: must be at least 1")
    front = pareto_front(load_filtered(args, columns=CONFIG_COLUMNS), bootstrap=args.bootstrap, seed=args.seed)
    if args.json:
        print_json(front)
        return 0
    if not front["points"]:
        print(empty_message(args, "scored trials"))
        return 0
    print(render_table(HEADERS, [_cells(point) for point in front["points"]]))
    print()
    print_wrapped(
        "* on the front: no other config has success >= and cost <= with one strict. P(dom): bootstrap probability "
        "that another config dominates it; q: its Benjamini-Hochberg adjusted p-value over the priced configs, "
        "'dominated' when q <= 0.05 (false discovery rate 5 %). KPI: >= 80% of the best success rate at <= 30% "
        "of its cost. The 95% intervals are each on their own, not simultaneous."
    )
    print_wrapped(front["kpi"]["statement"])
    print_wrapped(f"({front['method']})")
    return 0


HEADERS = ("experiment", "config", "model", "n", "success [95%]", "mean $/trial [95%]", "P(dom)", "q", "KPI")


def _cells(point: dict[str, Any]) -> list[Any]:
    return [
        point["experiment_id"] + (" *" if point["on_front"] else ""),
        point["config_hash"][:8],
        point["model"],
        point["trials"],
        fmt.with_interval(point["success_rate"], point["success_ci"]),
        fmt.with_interval(point["cost_per_task_usd"], point["cost_ci"], fmt.usd),
        fmt.pct(point["p_dominated"], 0),
        "-"
        if point.get("q_dominated") is None
        else f"{point['q_dominated']:.2g}" + (" dom." if point.get("dominated") else ""),
        "yes" if point["meets_kpi"] else "",
    ]
