"""The Inspect AI side of ``agentopt replay CONTROL_LOG TEST_LOG``: the two logs as the replay's stream, and the
lines that say what was paired, how it was scored and where the cost came from."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from pytest_agentopt.errors import AgentoptUsageError

if TYPE_CHECKING:
    from pytest_agentopt.run.stream_replay import StreamRow

__all__ = ["inspect_cost_lines", "inspect_lines", "inspect_rows"]


def inspect_rows(args: argparse.Namespace) -> tuple[list[StreamRow], dict[str, Any], bool]:
    """The paired stream of two Inspect logs, what describes it in the output, and whether it is open-ended (a
    log of an evaluation that did not finish is no whole run: no last look at its end)."""
    from pytest_agentopt.recording.inspect_trials import ScoreRule, pair_inspect_logs
    from pytest_agentopt.storage.inspect_log import InspectLogError, read_inspect_log

    rule = ScoreRule(scorer=args.score, pass_values=tuple(args.pass_value), pass_threshold=args.pass_threshold)
    try:
        control, test = (read_inspect_log(path) for path in args.files)
    except InspectLogError as exc:
        raise AgentoptUsageError(str(exc)) from None
    pairing = pair_inspect_logs(control, test, rule)
    unfinished = {arm: log.status for arm, log in (("control", control), ("test", test)) if log.status != "success"}
    source = {
        "inspect": {
            "task": control.task,
            "logs": {
                arm: {
                    "file": str(log.path),
                    "format": log.format,
                    "model": log.model,
                    "status": log.status,
                    "samples": len(log.samples),
                }
                for arm, log in (("control", control), ("test", test))
            },
            "rule": rule.described,
            **pairing.as_dict(),
        }
    }
    return pairing.rows, source, args.open_ended or bool(unfinished)


def inspect_lines(inspect: dict[str, Any], scored_pairs: int) -> list[str]:
    logs = inspect["logs"]
    lines = [f"replay   Inspect AI logs of task {inspect['task']!r}"]
    for arm in ("control", "test"):
        log = logs[arm]
        lines.append(
            f"{'logs' if arm == 'control' else '':<8} {arm} {log['file']} ({log['format']}, model {log['model']}, "
            f"{log['samples']} samples, status {log['status']})"
        )
    dropped = [
        f"{inspect[key]} only in the {arm} log" for key, arm in (("only_control", "control"), ("only_test", "test"))
    ]
    lines.append(
        f"pairs    {inspect['paired_samples']} samples in both logs, paired by (sample id, epoch) in order of "
        f"epoch then id; {', '.join(dropped)} (left out)"
    )
    lines.append(f"score    {inspect['scorer']!r}: {inspect['rule']}")
    unscored = inspect["unscored"]
    if unscored["control"] or unscored["test"]:
        lines.append(
            f"unscored {unscored['control']} control and {unscored['test']} test samples have no {inspect['scorer']!r} "
            f"score (an error, or not scored): their pairs are left out, {scored_pairs} scored pairs remain"
        )
    unfinished = [
        f"the {arm} log's status is {logs[arm]['status']!r}" for arm in logs if logs[arm]["status"] != "success"
    ]
    if unfinished:
        lines.append(
            f"note     {' and '.join(unfinished)} (not a finished evaluation): replayed open-ended, no last look"
        )
    return lines


def inspect_cost_lines(inspect: dict[str, Any]) -> list[str]:
    why = []
    if inspect["samples_without_usage"]:
        why.append(f"{inspect['samples_without_usage']} samples have no model_usage")
    if inspect["unpriced_models"]:
        why.append(f"no price for {', '.join(inspect['unpriced_models'])}")
    lines = []
    if inspect["cost_sources"]:
        lines.append(f"         from {', '.join(inspect['cost_sources'])}")
    if why:
        lines.append(f"         unknown where {'; '.join(why)}")
    return lines
