"""``agentopt tasks``: tasks clustered as trivial, discriminative, challenging or undetermined."""

from __future__ import annotations

import argparse
from collections import Counter
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
        "tasks",
        help="which tasks tell configs apart (trivial / discriminative / challenging / undetermined)",
        description=(
            "Each task gets every config's success rate on it with a Wilson 95% interval. trivial: every lower "
            "bound >= --high; challenging: every upper bound <= --low; discriminative: the configs' success rates "
            "differ, a discovery at a false discovery rate of 5 % over the tasks run by two or more configs "
            "(Fisher's exact test per task, Benjamini-Hochberg adjusted; the table shows the raw p and the "
            "adjusted q); otherwise undetermined (more trials needed). The first rule that holds wins."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.add_argument("--high", type=float, default=0.8, help="trivial: every lower bound >= HIGH (default 0.8)")
    parser.add_argument("--low", type=float, default=0.5, help="challenging: every upper bound <= LOW (default 0.5)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import TASK_COLUMNS, cluster_tasks

    if not 0 < args.low < args.high < 1:
        raise AgentoptUsageError(f"--low {args.low} --high {args.high}: need 0 < LOW < HIGH < 1")
    rows = cluster_tasks(load_filtered(args, columns=TASK_COLUMNS), high=args.high, low=args.low)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(empty_message(args, "scored trials"))
        return 0
    print(render_table(HEADERS, [_cells(row) for row in rows], wrap=(7,)))
    counts = Counter(row["cluster"] for row in rows)
    print()
    print(", ".join(f"{counts[name]} {name}" for name in ("trivial", "discriminative", "challenging", "undetermined")))
    family = sum(1 for row in rows if row["p_value"] is not None)
    raw = sum(1 for row in rows if row["discriminative_raw"])
    print_wrapped(
        f"discriminative: Benjamini-Hochberg at a false discovery rate of 5 % over the {family} tasks run by two or "
        f"more configs (p: Fisher's exact test per task; q: adjusted); {raw} by the unadjusted interval rule; "
        "the 95% intervals are per config and task, not simultaneous"
    )
    return 0


HEADERS = ("task", "declared", "cluster", "configs", "lowest [95%]", "highest [95%]", "p / q (BH)", "why")


def _cells(row: dict[str, Any]) -> list[Any]:
    return [
        row["code"] or row["task_id"],
        row["declared_category"],
        row["cluster"],
        row["configs"],
        f"{fmt.with_interval(row['min_rate'], row['min_rate_ci'])} {row['min_rate_config']}",
        f"{fmt.with_interval(row['max_rate'], row['max_rate_ci'])} {row['max_rate_config']}",
        "-" if row["p_value"] is None else f"{row['p_value']:.2g} / {row['q_value']:.2g}",
        row["reason"],
    ]
