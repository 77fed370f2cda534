"""``agentopt hypotheses``: every hypothesis with its status, runs, sessions, dollars, time to decision and effect,
and the experiment-velocity figures (``analysis.hypotheses``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.analysis_common import add_agent_dir, agent_dir, print_json, render_table

HEADERS = ("hypothesis", "metric", "status", "runs", "sessions", "est. $", "time to decision", "effect [interval]")


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "hypotheses",
        help="every hypothesis: status, runs, sessions, dollars, time to decision, effect; decisions per week",
        description=(
            "One row per hypothesis recorded by a run under --agent-dir (a <config>.hypothesis.json beside the "
            "test config), plus the hypotheses of --configs that no run has used yet ('not run'). Status is the "
            "latest run's: accepted, rejected, inconclusive, running (no summary yet), unknown (a summary that "
            "cannot be read; a note says why) or not run. Then the "
            "hypotheses decided per ISO week and the share of the wall time, from the first hypothesis run's "
            "start to the last one's end, during which a hypothesis run was going on."
        ),
    )
    add_agent_dir(parser)
    parser.add_argument(
        "--configs",
        action="append",
        metavar="DIR",
        help="a folder searched for *.hypothesis.json files not run yet (repeatable; default: ./configs if it exists)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.analysis.hypotheses import hypothesis_registry

    folders = [Path(folder) for folder in args.configs] if args.configs else [Path("configs")]
    notes: list[str] = []
    rows, velocity = hypothesis_registry(agent_dir(args), folders, notes)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        print_json({"hypotheses": [row.as_dict() for row in rows], "velocity": velocity})
        return 0
    if not rows:
        print("no hypothesis found: put <config>.hypothesis.json beside a config and run it (docs/configs.md)")
        return 0
    print(render_table(HEADERS, [_cells(row.as_dict()) for row in rows]))
    per_week = velocity["decided_per_week"]
    weeks = ", ".join(f"{week}: {count}" for week, count in per_week.items()) or "none yet"
    print(f"\nhypotheses decided per week: {weeks}")
    print(f"share of wall time waiting for decisions: {fmt.pct(velocity['waiting_share'])}")
    if any(row.usd_unpriced for row in rows):
        print("est. $ leaves out trials whose cost is unknown (no usage or no price): it is then a lower bound (+)")
    return 0


def _cells(row: dict[str, Any]) -> list[Any]:
    effect = row["effect"] or {}
    render = fmt.ratio if "ratio" in str(effect.get("kind")) else fmt.signed
    dollars = fmt.usd(row["usd"]) + ("+" if row["usd_unpriced"] else "")
    decision = row["time_to_decision_s"]
    return [
        row["id"],
        row["metric"] or "success",
        row["status"],
        row["runs"],
        row["sessions"],
        dollars if row["runs"] else fmt.MISSING,
        f"{decision / 60:.1f} min" if isinstance(decision, int | float) else fmt.MISSING,
        fmt.with_interval(effect.get("estimate"), [effect.get("lower"), effect.get("upper")], render)
        if effect
        else fmt.MISSING,
    ]
