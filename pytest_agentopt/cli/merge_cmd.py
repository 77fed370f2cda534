"""``agentopt merge RUN...``: the shards of a run (``--agent-shard I/N``) combined into one new run."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_agentopt.run.options import DEFAULT_DIR


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "merge",
        help="combine the shards of a sharded run (--agent-shard I/N) into one run with the fixed-sample verdict",
        description=(
            "Combine the runs of every shard of one sharded run (pytest --agent-shard I/N, one per CI job) into one "
            "new run under DIR/runs/: its ledger holds every shard's trials at their place in the unsharded plan, "
            "its summary.json (the --agent-json schema) has the fixed-sample verdict, the report is printed, and "
            "the exit status is the gate's (1 when a regression is proven). Shards with different configs, seeds, "
            "settings or tasks, a shard given twice or missing, and unfinished shards are refused (exit 2, naming "
            "what differs). A sequential (--sprt) verdict needs one controller that feeds every pair to the test "
            "in planned order and stops the run when it decides; shards run apart, so they are analysed as the "
            "fixed sample they are."
        ),
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="a shard's run id (under DIR/runs/) or run directory")
    parser.add_argument(
        "--agent-dir",
        type=Path,
        default=Path(DEFAULT_DIR),
        metavar="DIR",
        help=f"where runs are read by id and the merged run is written; default {DEFAULT_DIR}/",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the merged run's summary to PATH")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.cli.shard_merge import merge_shards
    from pytest_agentopt.errors import AgentoptUsageError
    from pytest_agentopt.report.terminal import render_summary
    from pytest_agentopt.storage.ledger import resolve_run, write_json_atomic

    if args.json is not None and args.json.is_dir():
        raise AgentoptUsageError(f"--json {args.json}: is a directory; give a file path")
    paths = [resolve_run(reference, args.agent_dir) for reference in args.runs]
    merged = merge_shards(paths, args.agent_dir, gate_options=_gate_options)
    summary = merged.summary
    for line in render_summary(summary, verbosity=0, width=None, details={}):
        print(line)
    print(f"agentopt: merged run {summary['run_id']} written to {merged.run_dir}")
    if args.json is not None:
        write_json_atomic(args.json, summary)
        print(f"agentopt: summary written to {args.json}")
    return 1 if summary["gate"]["passed"] is False else 0


def _gate_options(options: Mapping[str, Any]) -> Any:
    """The gate's options as the shards ran with them (their manifest's ``options``)."""
    from pytest_agentopt.run.options import DEFAULT_INFRA_MAX_SHARE, RunOptions

    share = options.get("infra_max_share")
    return RunOptions(
        fail_inconclusive=bool(options.get("fail_inconclusive", False)),
        infra_max_share=float(share) if isinstance(share, int | float) else DEFAULT_INFRA_MAX_SHARE,
    )
