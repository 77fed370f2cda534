"""``agentopt report RUN...``: the Markdown, HTML and CSV reports of one run, or the comparison of several."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pytest_agentopt.run.options import DEFAULT_DIR


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="Markdown, HTML and CSV reports of one run or a comparison of several",
        description=(
            "Render the reports of finished runs. One RUN: the run's report (verdict, what changed, per-arm and "
            "per-task tables, the sequential test's path, trajectory metrics, failures, and the Pareto front of "
            "every config in --agent-dir). Several: a comparison (each run's verdict, experiment history, "
            "guideline impact, the Pareto front of their configs). Without --md/--html/--csv the Markdown is "
            "printed."
        ),
    )
    parser.add_argument("runs", nargs="+", metavar="RUN", help="a run id (under DIR/runs/) or a run directory")
    parser.add_argument("--md", type=Path, metavar="PATH", help="write GitHub-flavoured Markdown to PATH")
    parser.add_argument("--html", type=Path, metavar="PATH", help="write a self-contained HTML report to PATH")
    parser.add_argument("--csv", type=Path, metavar="PATH", help="write one CSV row per trial to PATH")
    parser.add_argument(
        "--agent-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where runs are stored; default: the directory holding the run, else {DEFAULT_DIR}/",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.report.files import build_run_report, build_runs_report, write_reports
    from pytest_agentopt.report.render.sections import SUMMARY_NOT_SHOWN
    from pytest_agentopt.storage.ledger import resolve_run
    from pytest_agentopt.storage.summary_schema import read_summary

    agent_dir = args.agent_dir or Path(DEFAULT_DIR)
    paths = []
    for reference in dict.fromkeys(args.runs):  # the same run twice is one run
        paths.append(resolve_run(reference, agent_dir))
    if args.agent_dir is None and len(paths) == 1 and paths[0].directory.parent.name == "runs":
        agent_dir = paths[0].directory.parent.parent  # a run directory given by its path: its own history
    notes: list[str] = []
    if len(paths) == 1:
        run_paths = paths[0]
        stored = read_summary(run_paths.summary)  # checked once, here: a RunSummary, or None and why
        if not run_paths.summary.is_file():
            notes.append(f"{stored.problem}: no verdict or per-arm figures")
        elif stored.problem is not None:
            notes.append(f"warning: {stored.problem}: {SUMMARY_NOT_SHOWN}")
        report = build_run_report(summary=stored.summary, run_dir=run_paths.directory, agent_dir=agent_dir)
    else:
        report = build_runs_report([p.directory for p in paths], agent_dir=agent_dir)

    def trials() -> list[Any]:
        from pytest_agentopt.storage.ledger import iter_ledger_records

        return list(iter_ledger_records(paths))

    report["notes"] = [*notes, *(report.get("notes") or [])]
    if args.md is None and args.html is None and args.csv is None:
        from pytest_agentopt.report.render.markdown import render_markdown

        print(render_markdown(report))
        return 0
    outputs: list[str] = []
    written = write_reports(
        report,
        trials=trials,
        md_path=args.md,
        html_path=args.html,
        csv_path=args.csv,
        step_summary=None,
        notes=outputs,
        candidates=_candidates_of(report) if len(paths) == 1 else None,
    )
    for line in outputs:
        print(f"agentopt: {line}", file=sys.stdout if written else sys.stderr)
    return 0 if written else 1


def _candidates_of(report: Any) -> object:
    """The run's ``candidates`` (several candidates), for the per-candidate CSV; ``None`` if it has none."""
    summary = report.get("summary")
    return summary.get("candidates") if isinstance(summary, dict) else None
