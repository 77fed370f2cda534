"""``agentopt replay FILE``: what the sequential test would have decided on outcomes recorded elsewhere."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pytest_agentopt.cli.sprt_cmd import sequential_settings
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_EFFECT
from pytest_agentopt.stats.wald import DIRECTIONS


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        help="run recorded paired outcomes (CSV or JSON Lines) through the sequential test",
        description=(
            "Feed an ordered stream of paired outcomes through the plugin's sequential test (the same paired "
            "GSPRT, calibrated design and last look) and report what a run would have decided and after how many "
            "pairs. FILE is CSV (a header row) or JSON Lines, one trial per row: task (or task_id), trial, arm "
            "(control or test), outcome (success, failure, error, timeout; infra_error, worker_crash and skipped "
            "are left out as in a run; or true/false, 1/0, pass/fail) and optionally cost (or cost_usd) and seq. "
            "Rows are taken in file order, or by seq when every row has one: a run's ledger (trials.jsonl) or its "
            "CSV export (agentopt report RUN --csv, --agent-csv) replays to the run's own verdict. The end of the "
            "file is the run's cap (the design's last look is taken there) unless --open-ended."
        ),
    )
    parser.add_argument("file", type=Path, metavar="FILE", help="CSV or JSON Lines file of trials")
    parser.add_argument(
        "--alpha", type=float, default=DEFAULT_ALPHA, help=f"as --agent-alpha (default {DEFAULT_ALPHA})"
    )
    parser.add_argument("--beta", type=float, default=DEFAULT_BETA, help=f"as --agent-beta (default {DEFAULT_BETA})")
    parser.add_argument(
        "--effect", type=float, default=DEFAULT_EFFECT, help=f"as --agent-effect (default {DEFAULT_EFFECT})"
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="both",
        help="which question, as --agent-direction (default both; a CI run of the plugin defaults to worse)",
    )
    parser.add_argument(
        "--open-ended",
        action="store_true",
        help="the file is not a whole run: no last look at its end (an undecided stream stays inconclusive)",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.run.stream_replay import ReplayInputError, read_stream, replay_stream

    settings = sequential_settings(args)
    if not args.file.is_file():
        raise AgentoptUsageError(f"{args.file}: no such file; give a CSV or JSON Lines file of trials")
    try:
        rows = read_stream(args.file)
    except ReplayInputError as exc:
        raise AgentoptUsageError(str(exc)) from None
    design = design_for(settings.alpha, settings.beta, settings.delta, args.direction)
    result = replay_stream(rows, settings, args.direction, design, open_ended=args.open_ended)
    return {
        "file": str(args.file),
        **result.as_dict(),
        "boundaries": design.source,
        "settings": {
            "alpha": settings.alpha,
            "beta": settings.beta,
            "effect": settings.delta,
            "direction": args.direction,
            "open_ended": args.open_ended,
        },
    }


def _dollars(value: float | None) -> str:
    return "unknown (some rows have no cost)" if value is None else f"${value:,.4f}"


def run(args: argparse.Namespace) -> int:
    result = evaluate(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    settings = result["settings"]
    print(
        f"replay   {result['file']}: {result['rows']} trials, {result['pairs']} scored pairs"
        + (f", {result['unpaired_rows']} trials without their other half (left out)" if result["unpaired_rows"] else "")
    )
    print(
        f"test     paired GSPRT, alpha {settings['alpha']:g} beta {settings['beta']:g} effect {settings['effect']:g}, "
        f"direction {settings['direction']}, {result['boundaries']} bounds"
        + ("; open-ended (no last look)" if settings["open_ended"] else "; the end of the file is the cap")
    )
    llr = result["llr"]
    shown = ", ".join(f"{side} {value:+.3f}" for side, value in llr.items() if value is not None)
    lower, upper = result["bounds"]
    print(f"LLR      {shown}; bounds [{lower:+.3f}, {upper:+.3f}] at the observed discordance")
    if result["verdict"] == "inconclusive":
        print(f"verdict  inconclusive after all {result['pairs_used']} pairs: no bound crossed")
    else:
        how = "at the last look (the end of the file)" if result["decided_at_cap"] else "by a boundary crossing"
        print(
            f"verdict  {result['verdict']} after {result['pairs_used']} pairs ({result['rows_used']} of "
            f"{result['rows']} trials), {how}"
        )
    print(f"cost     {_dollars(result['cost_used_usd'])} up to the decision, of {_dollars(result['cost_total_usd'])}")
    return 0
