"""``agentopt replay FILE`` and ``agentopt replay CONTROL_LOG TEST_LOG``: what the sequential test would have
decided on outcomes recorded elsewhere (a CSV or JSON Lines stream of trials, or two Inspect AI logs)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_agentopt.cli.replay_inspect import inspect_cost_lines, inspect_lines, inspect_rows
from pytest_agentopt.cli.sprt_cmd import sequential_settings
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import DEFAULT_ALPHA, DEFAULT_BETA, DEFAULT_EFFECT
from pytest_agentopt.stats.wald import DIRECTIONS

if TYPE_CHECKING:
    from pytest_agentopt.run.stream_replay import StreamRow


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        help="run recorded paired outcomes (CSV or JSON Lines, or two Inspect AI logs) through the sequential test",
        description=(
            "Feed an ordered stream of paired outcomes through the plugin's sequential test (the same paired "
            "GSPRT, calibrated design and last look) and report what a run would have decided and after how many "
            "pairs. FILE is CSV (a header row) or JSON Lines, one trial per row: task (or task_id), trial, arm "
            "(control or test), outcome (success, failure, error, timeout; infra_error, worker_crash and skipped "
            "are left out as in a run; or true/false, 1/0, pass/fail) and optionally cost (or cost_usd) and seq. "
            "Rows are taken in file order, or by seq when every row has one: a run's ledger (trials.jsonl) or its "
            "CSV export (agentopt report RUN --csv, --agent-csv) replays to the run's own verdict. The end of the "
            "file is the run's cap (the design's last look is taken there) unless --open-ended. "
            "Two Inspect AI logs (.eval or .json, the control's first) are paired by sample id and epoch and taken "
            "in Inspect's order (epoch, then sample id); the outcome comes from the score (--score, --pass-value, "
            "--pass-threshold) and the cost from each sample's model_usage."
        ),
    )
    parser.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="FILE",
        help="a CSV or JSON Lines file of trials, or CONTROL_LOG TEST_LOG: two Inspect AI logs (.eval or .json)",
    )
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
    parser.add_argument(
        "--score",
        metavar="NAME",
        help="Inspect logs: the scorer that decides a sample (needed when the samples have several)",
    )
    parser.add_argument(
        "--pass-value",
        action="append",
        default=[],
        metavar="VALUE",
        help=(
            "Inspect logs: a score value that counts as solved (repeat for several, e.g. --pass-value C "
            "--pass-value P to count partial credit); every other value fails. Default: C, correct, true, yes, "
            "pass, 1 pass; I, N, P, incorrect, partial, false, no, fail, 0 fail"
        ),
    )
    parser.add_argument(
        "--pass-threshold",
        type=float,
        metavar="NUMBER",
        help="Inspect logs: a numeric score counts as solved when it is at least NUMBER",
    )
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(handler=run)


def evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from pytest_agentopt.run.sequential_design import design_for
    from pytest_agentopt.run.stream_replay import replay_stream

    settings = sequential_settings(args)
    if len(args.files) > 2:
        raise AgentoptUsageError(
            f"{len(args.files)} files given; give one CSV or JSON Lines file of trials, or two Inspect AI logs "
            "(CONTROL_LOG TEST_LOG)"
        )
    for path in args.files:
        if not path.is_file():
            raise AgentoptUsageError(
                f"{path}: no such file; give a CSV or JSON Lines file of trials, or two Inspect AI logs"
            )
    if len(args.files) == 2:
        rows, source, open_ended = inspect_rows(args)
    else:
        rows, source, open_ended = _stream_rows(args), {"file": str(args.files[0])}, args.open_ended
    from pytest_agentopt.run.stream_replay import candidate_arms_of, replay_candidates

    shown_settings = {
        "alpha": settings.alpha,
        "beta": settings.beta,
        "effect": settings.delta,
        "direction": args.direction,
        "open_ended": open_ended,
    }
    arms = candidate_arms_of(rows)
    if arms and arms != ["test"]:  # the ledger or export of a run with several candidates
        from pytest_agentopt.run.candidates import candidate_alpha

        alpha = candidate_alpha(settings.alpha, len(arms))
        several = replay_candidates(rows, settings, args.direction, open_ended=open_ended)
        boundaries = design_for(alpha, settings.beta, settings.delta, args.direction).source
        return {**source, **several.as_dict(), "boundaries": boundaries, "settings": shown_settings}
    design = design_for(settings.alpha, settings.beta, settings.delta, args.direction)
    result = replay_stream(rows, settings, args.direction, design, open_ended=open_ended)
    return {**source, **result.as_dict(), "boundaries": design.source, "settings": shown_settings}


def _stream_rows(args: argparse.Namespace) -> list[StreamRow]:
    from pytest_agentopt.run.stream_replay import ReplayInputError, read_stream
    from pytest_agentopt.storage.inspect_log import looks_like_inspect_log

    (path,) = args.files
    if looks_like_inspect_log(path):
        raise AgentoptUsageError(
            f"{path}: an Inspect AI log; a replay pairs two, the control's and the test's: "
            "agentopt replay CONTROL_LOG TEST_LOG"
        )
    for flag, value in (
        ("--score", args.score),
        ("--pass-value", args.pass_value),
        ("--pass-threshold", args.pass_threshold),
    ):
        if value not in (None, []):
            raise AgentoptUsageError(f"{flag}: applies to Inspect AI logs (CONTROL_LOG TEST_LOG), not to {path}")
    try:
        return read_stream(path)
    except ReplayInputError as exc:
        raise AgentoptUsageError(str(exc)) from None


def _dollars(value: float | None, rows: str) -> str:
    return f"unknown (some {rows} have no cost)" if value is None else f"${value:,.4f}"


def run(args: argparse.Namespace) -> int:
    result = evaluate(args)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "candidates" in result:
        for line in candidates_lines(result):
            print(line)
        return 0
    settings = result["settings"]
    stream, rows, priced = ("logs", "samples", "samples") if "inspect" in result else ("file", "trials", "rows")
    if "inspect" in result:
        for line in inspect_lines(result["inspect"], result["pairs"]):
            print(line)
    else:
        print(
            f"replay   {result['file']}: {result['rows']} trials, {result['pairs']} scored pairs"
            + (
                f", {result['unpaired_rows']} trials without their other half (left out)"
                if result["unpaired_rows"]
                else ""
            )
        )
    print(
        f"test     paired GSPRT, alpha {settings['alpha']:g} beta {settings['beta']:g} effect {settings['effect']:g}, "
        f"direction {settings['direction']}, {result['boundaries']} bounds"
        + ("; open-ended (no last look)" if settings["open_ended"] else f"; the end of the {stream} is the cap")
    )
    llr = result["llr"]
    shown = ", ".join(f"{side} {value:+.3f}" for side, value in llr.items() if value is not None)
    lower, upper = result["bounds"]
    print(f"LLR      {shown}; bounds [{lower:+.3f}, {upper:+.3f}] at the observed discordance")
    if result["verdict"] == "inconclusive":
        print(f"verdict  inconclusive after all {result['pairs_used']} pairs: no bound crossed")
    else:
        how = f"at the last look (the end of the {stream})" if result["decided_at_cap"] else "by a boundary crossing"
        print(
            f"verdict  {result['verdict']} after {result['pairs_used']} pairs ({result['rows_used']} of "
            f"{result['rows']} {rows}), {how}"
        )
    print(
        f"cost     {_dollars(result['cost_used_usd'], priced)} up to the decision, of "
        f"{_dollars(result['cost_total_usd'], priced)}"
    )
    if "inspect" in result:
        for line in inspect_cost_lines(result["inspect"]):
            print(line)
    return 0


def candidates_lines(result: dict[str, Any]) -> list[str]:
    """The text of a replay with several candidates: one line per candidate's test."""
    settings, candidates = result["settings"], result["candidates"]
    lines = [
        f"replay   {result['file']}: {result['rows']} trials, {len(candidates)} candidates against the control",
        f"test     one paired GSPRT per candidate at alpha {settings['alpha']:g}/{len(candidates)} = "
        f"{result['alpha_per_candidate']:.4g}, beta {settings['beta']:g}, effect {settings['effect']:g}, "
        f"direction {settings['direction']}, {result['boundaries']} bounds"
        + ("; open-ended (no last look)" if settings["open_ended"] else "; the end of the file is the cap"),
    ]
    for arm, figures in candidates.items():
        llr = ", ".join(f"{side} {value:+.3f}" for side, value in figures["llr"].items() if value is not None)
        if figures["verdict"] == "inconclusive":
            verdict = f"inconclusive after all {figures['pairs_used']} pairs"
        else:
            how = "at the last look" if figures["decided_at_cap"] else "by a boundary crossing"
            verdict = f"{figures['verdict']} after {figures['pairs_used']} pairs, {how}"
        lines.append(f"{arm:<8} {verdict}; LLR {llr}")
    lines.append(
        f"cost     {_dollars(result['cost_used_usd'], 'rows')} up to the last decision, of "
        f"{_dollars(result['cost_total_usd'], 'rows')}"
    )
    return lines
