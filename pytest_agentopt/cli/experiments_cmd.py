"""``agentopt experiments``: the experiment history with lineage, success, cost and the latest verdict."""

from __future__ import annotations

import argparse
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import (
    add_agent_dir,
    add_filters,
    empty_message,
    load_filtered,
    load_runs_noting,
    print_json,
    render_table,
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "experiments",
        help="the experiment history: lineage, model, trials, success, cost, verdict",
        description=(
            "One row per experiment (experiment id and config content hash) with trials under --agent-dir: its "
            "lineage (child first), the model, scored trials, the success rate with its Wilson 95% interval, the "
            "estimated mean cost per trial, the verdict of its latest run against that run's control, and the date."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import HISTORY_COLUMNS, experiment_history

    rows = experiment_history(load_runs_noting(args), load_filtered(args, columns=HISTORY_COLUMNS))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(empty_message(args, "experiments"))
        return 0
    print(render_table(HEADERS, [_cells(row) for row in rows]))  # ids and lineages only: no word may break
    return 0


HEADERS = ("experiment", "lineage", "model", "n", "success [95%]", "mean $/trial", "verdict", "date")


def _cells(row: dict[str, Any]) -> list[Any]:
    verdict = row["verdict"]
    if verdict is not None and row["verdict_control"]:
        verdict = f"{verdict} vs {row['verdict_control']}"
    return [
        row["experiment_id"],
        " <- ".join(row["lineage"]),
        row["model"],
        row["trials"],
        fmt.with_interval(row["success_rate"], row["success_ci"]),
        fmt.usd(row["cost_per_task_usd"]),
        verdict,
        row["date"],
    ]
