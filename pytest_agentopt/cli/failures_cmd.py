"""``agentopt failures``: why trials fail, grouped by error type and normalised message."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import (
    add_agent_dir,
    add_filters,
    empty_message,
    load_filtered,
    print_json,
    render_table,
)
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.storage.ledger import resolve_run


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "failures",
        help="failed and errored trials grouped by error type and message shape",
        description=(
            "Failed and errored trials (not infrastructure or set-up errors) grouped by error type and message, "
            "with numbers and identifiers in the messages replaced (<n>, <id>), largest group first."
        ),
    )
    add_agent_dir(parser)
    add_filters(parser)
    parser.add_argument("--run", metavar="RUN", help="only this run (an id under --agent-dir or a run directory)")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="show the N largest groups (default 20)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis import FAILURE_COLUMNS, cluster_failures

    if args.limit < 1:
        raise AgentoptUsageError(f"--limit {args.limit}: must be at least 1")
    # a run may be given as a directory anywhere, so --agent-dir need not exist then
    source = resolve_run(args.run, Path(args.agent_dir)).directory if args.run else None
    rows = cluster_failures(load_filtered(args, columns=FAILURE_COLUMNS, source=source), limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print(empty_message(args, "failed or errored trials"))
        return 0
    print(render_table(HEADERS, [_cells(row) for row in rows], wrap=(3,)))
    return 0


HEADERS = ("count", "share", "error type", "message (normalised)", "tasks", "arms")


def _cells(row: dict[str, Any]) -> list[Any]:
    tasks = row["tasks"]
    shown = ", ".join(tasks[:5]) + (f" (+{len(tasks) - 5} more)" if len(tasks) > 5 else "")
    return [
        row["count"],
        fmt.pct(row["share"], 0),
        row["error_type"],
        row["signature"] or "(no message)",
        shown,
        ", ".join(row["arms"]),
    ]
