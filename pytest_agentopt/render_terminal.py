"""The terminal report: plain lines from the summary dict (pure; the controller prints them)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .configs import diff_configs
from .context import RunContext
from .options import RunOptions
from .verdicts import VERDICT_WORDS


def header_line(context: RunContext, options: RunOptions) -> str:
    """One line for pytest's header: the arms, what differs, the test and where the run is stored."""
    test = context.configs["test"]
    if context.paired:
        control = context.configs["control"]
        changes = [change.describe() for change in diff_configs(control, test)]
        changed = "; ".join(changes) if changes else "identical configs"
        arms = f"control {control.experiment_id} vs test {test.experiment_id} ({_clip(changed, 120)})"
    else:
        arms = f"single config {test.experiment_id}"
    if context.sprt:
        target = f", target {context.target:g}" if context.target is not None else ""
        if context.paired and context.direction != "both":
            target += f", one-sided: {context.direction}"
        mode = (
            f"SPRT alpha {context.alpha:g} beta {context.beta:g} effect {context.effect:g}{target}, "
            f"cap {context.trials} trials per task per arm"
        )
    else:
        mode = f"{context.trials} trials per task per arm"
    resumed = f", resuming {len(context.resumed)} finished trials" if context.resumed else ""
    return f"agentopt: {arms}; {mode}; seed {context.seed}; run {context.run_dir}{resumed}"


def render_summary(
    summary: Mapping[str, Any], *, verbosity: int, width: int, details: Mapping[tuple[str, str, int], str]
) -> list[str]:
    if verbosity < 0:
        return _quiet(summary)
    lines = [_rule(" agentopt ", width)]
    lines.append(_run_line(summary))
    for change in summary.get("config_diff") or []:
        lines.append(f"  changed  {_clip(change['text'], width - 11)}")
    lines.append("")
    lines.extend(_arm_table(summary))
    lines.append("")
    lines.extend(_comparison(summary))
    if verbosity >= 1 and summary.get("tasks"):
        lines.append("")
        lines.extend(_task_table(summary))
    if verbosity >= 1 and details:
        lines.append("")
        lines.extend(_failure_details(details, verbosity, width))
    for note in summary.get("notes") or []:
        lines.append(f"note: {note}")
    lines.append(_verdict_line(summary))
    gate = summary.get("gate") or {}
    if gate and not gate.get("passed", True):
        lines.append(f"agentopt: FAILED: {gate.get('reason')}")
    return lines


def _quiet(summary: Mapping[str, Any]) -> list[str]:
    lines = [_verdict_line(summary)]
    gate = summary.get("gate") or {}
    if gate and not gate.get("passed", True):
        lines.append(f"agentopt: FAILED: {gate.get('reason')}")
    return lines


def _rule(title: str, width: int) -> str:
    width = max(40, min(width, 140))
    side = max(2, (width - len(title)) // 2)
    return "=" * side + title + "=" * (width - side - len(title))


def _run_line(summary: Mapping[str, Any]) -> str:
    arms = summary["arms"]
    settings = summary["settings"]
    if summary["mode"] == "ab":
        who = f"control {arms['control']['experiment_id']} vs test {arms['test']['experiment_id']}"
    else:
        who = f"config {arms['test']['experiment_id']}"
    return f"run {summary['run_id']}: {who}, {settings['trials_per_task_per_arm']} trials per task per arm"


def _arm_table(summary: Mapping[str, Any]) -> list[str]:
    from tabulate import tabulate

    rows = []
    for arm, figures in summary["arms"].items():
        ci = figures["success_ci"]
        mean_tokens = figures["mean_tokens"]
        rows.append(
            [
                arm,
                figures["experiment_id"],
                figures["model"],
                f"{figures['successes']}/{figures['trials']}",
                _pct(figures["success_rate"]) + (f" [{_pct(ci[0])}, {_pct(ci[1])}]" if ci else ""),
                f"{figures['errors']}/{figures['infra_errors']}",
                f"{mean_tokens['input']:,.0f} / {mean_tokens['output']:,.0f}" if mean_tokens else "unknown",
                _usd(figures["cost_per_trial_usd"]),
                _usd(figures["cost_per_success_usd"]),
                f"{figures['mean_latency_s']:.2f}s" if figures["mean_latency_s"] is not None else "-",
            ]
        )
    headers = [
        "arm",
        "experiment",
        "model",
        "solved",
        "success [95% Wilson]",
        "err/infra",
        "tokens in/out",
        "est.$/trial",
        "est.$/success",
        "latency",
    ]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True).splitlines()


def _comparison(summary: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    pairs = summary.get("pairs")
    if pairs is not None:
        total = sum(pairs.values())
        lines.append(
            f"pairs    {total} complete: {pairs['test_only']} only test solved, {pairs['control_only']} only "
            f"control solved, {pairs['both']} both, {pairs['neither']} neither"
            + (f"; exact McNemar p = {summary['mcnemar_p']:.3g}" if summary.get("mcnemar_p") is not None else "")
        )
    effect = summary.get("effect")
    if effect is not None:
        lines.append(
            f"effect   test - control = {effect['estimate']:+.3f} [{effect['lower']:+.3f}, {effect['upper']:+.3f}]"
            f"  ({_short_method(effect['method'])})"
        )
    ratio = summary.get("cost_ratio")
    if ratio is not None:
        lines.append(
            f"cost     test / control = {ratio['estimate']:.3f}x [{ratio['lower']:.3f}, {ratio['upper']:.3f}]"
            f"  ({_short_method(ratio['method'])})"
        )
    budget = summary.get("budget")
    if budget is not None:
        state = "exhausted: no new trials were started" if budget["exhausted"] else "not reached"
        lines.append(f"budget   ${budget['limit_usd']:g}, estimated spend ${budget['spent_usd']:.4f} ({state})")
    if summary.get("decided_by") == "sprt" and summary.get("llr") is not None:
        llr = ", ".join(f"{name} {value:+.2f}" for name, value in summary["llr"].items() if value is not None)
        lower, upper = summary["bounds"]
        used = summary.get("pairs_used") if summary["mode"] == "ab" else summary.get("trials_used")
        unit = "pairs" if summary["mode"] == "ab" else "trials"
        lines.append(
            f"sprt     LLR {llr} between bounds [{lower:+.2f}, {upper:+.2f}]; {used} {unit} used, "
            f"{summary['trials_started']} trials started, {summary['trials_skipped']} skipped, "
            f"{summary['trials_after_decision']} after the decision"
        )
    return lines


def _task_table(summary: Mapping[str, Any]) -> list[str]:
    from tabulate import tabulate

    arms = list(summary["arms"])
    rows = []
    for task in summary["tasks"]:
        row = [task.get("code") or task["task_id"], task.get("category") or "-"]
        for arm in arms:
            figures = task["arms"].get(arm, {})
            n = figures.get("trials", 0)
            row.append(f"{figures.get('successes', 0)}/{n}" if n else "-")
        rows.append(row)
    headers = ["task", "category", *arms]
    return ["per task (solved/trials):", *tabulate(rows, headers=headers, tablefmt="simple").splitlines()]


def _failure_details(details: Mapping[tuple[str, str, int], str], verbosity: int, width: int) -> list[str]:
    lines = ["agent failures (last lines; -vv for the whole traceback):"]
    for (task_id, arm, trial), text in sorted(details.items()):
        lines.append(f"  {task_id} [{arm} {trial}]")
        body = text.splitlines() if verbosity >= 2 else [line for line in text.splitlines() if line.strip()][-3:]
        lines.extend("    " + _clip(line, width - 4) for line in body)
    return lines


def _verdict_line(summary: Mapping[str, Any]) -> str:
    verdict = summary.get("verdict")
    if verdict is None:
        arms = summary["arms"]
        parts = [f"{arm} {_pct(f['success_rate'])} success" for arm, f in arms.items()]
        return "agentopt: " + ", ".join(parts) + " (no comparison: single config without --agent-target)"
    word = VERDICT_WORDS.get(verdict, verdict.upper())
    by = summary.get("decided_by")
    return f"agentopt: verdict {word} ({by}): {summary.get('verdict_reason')}"


def _short_method(method: str) -> str:
    """The method's name without its references (the JSON summary and docs/summary.md have the whole text)."""
    return method.split(" (")[0].split("; ")[-1]


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."
