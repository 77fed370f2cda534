"""The terminal report: plain lines from the summary dict (pure; the controller prints them).

Figures are formatted by :mod:`pytest_agentopt.number_format` and shared sentences come from
:mod:`pytest_agentopt.report.render.wording`, so the terminal says what the Markdown and HTML reports say.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from tabulate import tabulate

from pytest_agentopt import number_format as fmt
from pytest_agentopt.configs.data import diff_config_data
from pytest_agentopt.report.render import wording
from pytest_agentopt.report.verdict_text import consistency_note

if TYPE_CHECKING:
    from pytest_agentopt.run.options import RunOptions
    from pytest_agentopt.storage.run_context import RunContext
    from pytest_agentopt.storage.summary_schema import CandidateResult, RunSummary

DEFAULT_WIDTH = 80
FAILED_PREFIX = "agentopt: FAILED: "
"""The start of the line that says the gate failed (the controller prints it in red)."""

FailureDetail = str | Mapping[str, object]
"""What the controller keeps of a failed trial: pytest's text report (older controllers), or a mapping with
``error_type``, ``message``, ``location`` (``file.py:9``) and, with ``-vv``, ``traceback``."""


def header_line(context: RunContext, options: RunOptions) -> str:
    """One line for pytest's header: the arms, what differs, the test and where the run is stored."""
    test = context.configs.raw("test")
    if context.several_candidates:
        names = ", ".join(str(context.configs.raw(arm)["experiment_id"]) for arm in context.candidates)
        arms = (
            f"control {context.configs.raw('control')['experiment_id']} vs {len(context.candidates)} candidates "
            f"({names}), "
            + (
                f"false discovery rate <= {context.alpha:g} (e-BH)"
                if context.family_error == "fdr" and context.sprt
                else f"each at alpha {context.alpha:g}/{len(context.candidates)} (family-wise)"
            )
        )
    elif context.paired:
        control = context.configs.raw("control")
        changes = [change.describe() for change in diff_config_data(control, test)]
        changed = "; ".join(changes) if changes else "identical configs"
        arms = f"control {control['experiment_id']} vs test {test['experiment_id']} ({fmt.clip(changed, 120)})"
    else:
        arms = f"single config {test['experiment_id']}"
    if context.sprt:
        target = f", target {context.target:g}" if context.target is not None else ""
        if "control" in context.arms and context.direction != "both":
            ci = " (CI detected)" if context.notes else ""
            target += f", one-sided: {context.direction}{ci}"
        cap = (
            f"cap {context.cap_pairs} {'pairs' if context.paired else 'trials'} (trials per task derived from it)"
            if context.cap_pairs is not None
            else f"cap {context.trials} trials per task per arm"
        )
        mode = f"SPRT alpha {context.alpha:g} beta {context.beta:g} effect {context.effect:g}{target}, {cap}"
        if context.metric is not None:
            mode += f", deciding on the {context.metric.describe()}"
        if context.hypothesis is not None:
            mode += f", hypothesis {context.hypothesis['id']}"
    else:
        mode = f"{context.trials} trials per task per arm"
    resumed = f", resuming {len(context.resumed)} finished trials" if context.resumed else ""
    return f"agentopt: {arms}; {mode}; seed {context.seed}; run {context.run_dir}{resumed}"


def render_summary(
    summary: RunSummary,
    *,
    verbosity: int,
    width: int | None,
    details: Mapping[tuple[str, str, int], FailureDetail],
    shown_live: Collection[str] = (),
) -> list[str]:
    """The report's lines; ``width`` is the terminal's, or ``None`` outside a terminal (nothing is cut).

    ``shown_live``: notes already printed while the run went on; ``-q`` does not print them a second time.
    """
    if verbosity < 0:
        return _quiet(summary, shown_live)
    lines = [_rule(" agentopt ", width or DEFAULT_WIDTH)]
    lines.append(_run_line(summary))
    for change in summary.get("config_diff") or []:
        lines.append(f"  changed  {_clip(change['text'], width, 11)}")
    lines.append("")
    lines.extend(_arm_table(summary))
    lines.extend(_coverage(summary))
    lines.append("")
    lines.extend(_comparison(summary))
    lines.extend(_metric_lines(summary))
    lines.extend(_drift_lines(summary, quiet=False))
    lines.extend(_candidate_lines(summary, width))
    if verbosity >= 1 and summary.get("tasks"):
        lines.append("")
        lines.extend(_task_table(summary))
    if verbosity >= 1 and details:
        lines.append("")
        lines.extend(_failure_details(details, verbosity, width))
    for note in summary.get("notes") or []:
        lines.append(f"note: {note}")
    lines.append(_verdict_line(summary))
    lines.extend(_extension_lines(summary))
    lines.extend(_gate_lines(summary))
    return lines


def _metric_lines(summary: RunSummary) -> list[str]:
    """The decided metric's figure with its interval (``--agent-metric``), when it is not success."""
    metric = summary["metric"]
    if metric is None:
        return []
    from pytest_agentopt.report.metric_summary import metric_figure

    return [f"metric   {metric_figure(metric)}"]


def _drift_lines(summary: RunSummary, *, quiet: bool) -> list[str]:
    """The drift report in one line: always in the report; under ``-q`` only a drift found or a missing test."""
    drift = summary.get("drift")
    if drift is None or (quiet and drift["status"] == "no_drift"):
        return []
    from pytest_agentopt.report.drift import drift_text

    return [f"{'agentopt: ' if quiet else 'drift    '}{drift_text(drift)}"]


def _extension_lines(summary: RunSummary) -> list[str]:
    """An undecided cap: what extending the run would take and the command (also under ``-q``)."""
    advice = summary.get("extension")
    if not advice:
        return []
    from pytest_agentopt.run.extension_advice import advice_text

    return [f"agentopt: {advice_text(advice)}"]


def _coverage(summary: RunSummary) -> list[str]:
    """What the cost figures leave out (also under ``-q``: a figure over part of the trials must say so)."""
    return [f"agentopt: {statement}" for statement in summary.get("coverage") or []]


def _quiet(summary: RunSummary, shown_live: Collection[str] = ()) -> list[str]:
    """``-q``: the verdict, every warning (a missing figure must say so under ``-q`` too) and the gate."""
    warnings = [
        f"agentopt: {note}"
        for note in summary.get("notes") or []
        if str(note).startswith("warning:") and note not in shown_live
    ]
    return [
        *warnings,
        *_coverage(summary),
        *_drift_lines(summary, quiet=True),
        *_candidate_verdicts(summary),
        _verdict_line(summary),
        *_extension_lines(summary),
        *_gate_lines(summary),
    ]


def _candidate_lines(summary: RunSummary, width: int | None) -> list[str]:
    """With several candidates: per candidate its pairs, effect, test and verdict (one block each)."""
    from pytest_agentopt.report.summary import candidate_view

    lines: list[str] = []
    for candidate in summary.get("candidates") or []:
        lines.append("")
        lines.append(
            f"candidate {candidate['experiment_id']} ({candidate['arm']}, alpha {candidate['alpha']:.4g}): "
            f"{candidate['trials_started']} trials started, {candidate['trials_after_decision']} after its decision"
            + _e_values_text(candidate)
        )
        for change in candidate["config_diff"]:
            lines.append(f"  changed  {_clip(change['text'], width, 11)}")
        skipped = candidate["trials_skipped"]
        view = candidate_view(summary, candidate)
        shown = str(skipped) if skipped is not None else "unknown (interrupted)"
        lines.extend("  " + line for line in _comparison(view, skipped=shown))
    lines.extend(_candidate_verdicts(summary))
    return lines


def _e_values_text(candidate: CandidateResult) -> str:
    """Under e-BH: the candidate's e-values at its stop (what e-BH read)."""
    e_values = candidate.get("e_values")
    if e_values is None:
        return ""
    shown = ", ".join(f"{name} {value:.4g}" for name, value in e_values.items() if value is not None)
    return f"; e-values at its stop: {shown}"


def _candidate_verdicts(summary: RunSummary) -> list[str]:
    """What the run controls across the candidates, then one line per candidate: its verdict and why (also under
    ``-q``)."""
    from pytest_agentopt.report.verdict_text import family_error_statement

    candidates = summary.get("candidates") or []
    if not candidates:
        return []
    multiplicity = candidates[0].get("multiplicity", "bonferroni")  # a summary written before it existed
    statement = family_error_statement(multiplicity, summary["settings"]["alpha"], len(candidates))
    return [
        f"agentopt: candidates: {statement}",
        *(
            f"agentopt: candidate {c['experiment_id']}: verdict {fmt.verdict_word(c['verdict'])} "
            f"({c['decided_by']}): {c['verdict_reason']}"
            for c in candidates
        ),
    ]


def _gate_lines(summary: RunSummary) -> list[str]:
    """``agentopt: FAILED: <reason>`` when the gate failed or a requested file could not be written; a gate not
    evaluated says so (it did not fail)."""
    gate = summary.get("gate")
    lines = [f"{FAILED_PREFIX}{error}" for error in summary.get("output_errors") or []]
    if gate is not None and gate["passed"] is False:
        lines.insert(0, f"{FAILED_PREFIX}{gate['reason']}")
    elif gate is not None and gate["passed"] is None and gate["reason"]:
        lines.insert(0, f"agentopt: gate {gate['reason']}")
    return lines


def _clip(text: str, width: int | None, indent: int) -> str:
    return text if width is None else fmt.clip(text, width - indent)


def _rule(title: str, width: int) -> str:
    width = max(40, min(width, 140))
    side = max(2, (width - len(title)) // 2)
    return "=" * side + title + "=" * (width - side - len(title))


def _run_line(summary: RunSummary) -> str:
    arms = summary["arms"]
    settings = summary["settings"]
    if summary["mode"] == "ab":
        who = f"control {arms['control']['experiment_id']} vs test {arms['test']['experiment_id']}"
    elif summary["mode"] == "candidates":
        names = ", ".join(str(c["experiment_id"]) for c in summary.get("candidates") or [])
        who = f"control {arms['control']['experiment_id']} vs candidates {names}"
    else:
        who = f"config {arms['test']['experiment_id']}"
    return f"run {summary['run_id']}: {who}, {settings['trials_per_task_per_arm']} trials per task per arm"


def _arm_table(summary: RunSummary) -> list[str]:
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
                fmt.with_interval(figures["success_rate"], ci),
                f"{figures['errors']}/{figures['infra_errors']}",
                (
                    f"{fmt.number(mean_tokens['input'], 0)} / {fmt.number(mean_tokens['output'], 0)}"
                    if mean_tokens
                    else fmt.UNKNOWN
                ),
                fmt.usd(figures["cost_per_trial_usd"]),
                fmt.usd(figures["cost_per_success_usd"]),
                wording.spent_text(figures.get("spent_usd"), figures.get("trials_unpriced")),
                fmt.seconds(figures["mean_latency_s"]),
            ]
        )
    spend = summary.get("spend")
    if spend is not None and len(rows) > 1:
        rows.append(["total", *[""] * 8, wording.spent_text(spend["usd"], spend["unpriced"]), ""])
    headers = [
        "arm",
        "experiment",
        "model",
        "solved",
        wording.success_interval_header(summary),
        "err/infra",
        "tokens in/out",
        "est.$/trial",
        "est.$/success",
        "est.$ spent",
        "latency",
    ]
    return tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True).splitlines()


def _comparison(summary: RunSummary, *, skipped: str | None = None) -> list[str]:
    """The paired comparison's lines; ``skipped``: what to show for the skipped trials (default the summary's)."""
    lines: list[str] = []
    pairs = summary.get("pairs")
    if pairs is not None:
        total = pairs["both"] + pairs["test_only"] + pairs["control_only"] + pairs["neither"]
        lines.append(
            f"pairs    {total} complete: {pairs['test_only']} only test solved, {pairs['control_only']} only "
            f"control solved, {pairs['both']} both, {pairs['neither']} neither"
            + (f"; {mcnemar}" if (mcnemar := wording.mcnemar_text(summary)) else "")
        )
    effect = summary.get("effect")
    if effect is not None:
        lines.append(
            f"effect   test - control = {fmt.signed(effect['estimate'])} "
            f"{fmt.interval([effect['lower'], effect['upper']], fmt.signed)}  ({fmt.short_method(effect['method'])})"
        )
    ratio = summary.get("cost_ratio")
    if ratio is not None:
        lines.append(f"cost     test / control = {wording.cost_ratio_text(ratio)}")
    budget = summary.get("budget")
    if budget is not None:
        lines.append(f"budget   {wording.budget_text(budget)}")
    test_text = wording.sequential_test_text(summary)
    if test_text is not None:
        used = summary.get("pairs_used") if summary["mode"] == "ab" else summary.get("trials_used")
        unit = "pairs" if summary["mode"] == "ab" else "trials"
        lines.append(
            f"sprt     {test_text}; {used} {unit} used, "
            f"{summary['trials_started']} trials started, "
            f"{skipped if skipped is not None else summary['trials_skipped']} not run, "
            f"{summary['trials_after_decision']} after the decision"
        )
    design = summary.get("design")
    if summary.get("decided_by") == "sprt" and design and design.get("power_at_cap") is not None:
        lines.append(f"cap      {wording.cap_text(design, summary.get('settings') or {})}")

    note = consistency_note(summary)
    if note is not None:
        lines.append(f"why      {note}")
    return lines


def _task_table(summary: RunSummary) -> list[str]:
    arms = list(summary["arms"])
    rows = []
    for task in summary["tasks"]:
        row = [task["code"] or task["task_id"], task["category"] or "-"]
        for arm in arms:
            figures = task["arms"].get(arm)
            n = figures["trials"] if figures is not None else 0
            row.append(f"{figures['successes']}/{n}" if figures is not None and n else "-")
        rows.append(row)
    headers = ["task", "category", *arms]
    return ["per task (solved/trials):", *tabulate(rows, headers=headers, tablefmt="simple").splitlines()]


def _failure_details(
    details: Mapping[tuple[str, str, int], FailureDetail], verbosity: int, width: int | None
) -> list[str]:
    """``-v``: one line per failed trial (what the agent got wrong, and where); ``-vv``: with its traceback."""
    if all(isinstance(detail, str) for detail in details.values()):
        heading = "agent failures (last lines; -vv for the whole traceback):"
    else:
        heading = "agent failures:" if verbosity >= 2 else "agent failures (-vv for the tracebacks):"
    lines = [heading]
    for (task_id, arm, trial), detail in sorted(details.items()):
        title = f"{task_id} [{arm} {trial}]"
        if isinstance(detail, str):
            lines.extend(_text_detail(title, detail, verbosity, width))
            continue
        lines.append(_failure_line(f"  {title} ", detail, None if verbosity >= 2 else width))
        traceback = detail.get("traceback")
        if verbosity >= 2 and isinstance(traceback, str) and traceback.strip():
            lines.extend("    " + text for text in traceback.rstrip("\n").splitlines())
    return lines


def _failure_line(prefix: str, detail: Mapping[str, object], width: int | None) -> str:
    """``<prefix>AssertionError: wrong coupon: used TECH25 (test_store.py:9)``: what failed, in one line.

    Within ``width`` the message gives way (clipped), not the error type or the location.
    """
    error_type = str(detail.get("error_type") or "")
    message = " ".join(str(detail.get("message") or "").split())
    location = detail.get("location")
    suffix = f" ({location})" if location else ""
    head = prefix + (f"{error_type}: " if error_type and message else error_type)
    if not error_type and not message:
        head += "failed"
    if width is not None and message:
        message = fmt.clip(message, max(20, width - len(head) - len(suffix)))
    return head + message + suffix


def _text_detail(title: str, text: str, verbosity: int, width: int | None) -> list[str]:
    """Pytest's text report of a failure (what older controllers pass): its last lines, or all with ``-vv``."""
    body = text.splitlines() if verbosity >= 2 else [line for line in text.splitlines() if line.strip()][-3:]
    return [f"  {title}", *("    " + _clip(line, width, 4) for line in body)]


def _verdict_line(summary: RunSummary) -> str:
    verdict = summary.get("verdict")
    if verdict is None:
        if summary.get("verdict_reason"):  # e.g. no agent task was collected
            return f"agentopt: no verdict: {summary['verdict_reason']}"
        return "agentopt: " + wording.single_config_text(summary["arms"])
    return (
        f"agentopt: verdict {fmt.verdict_word(verdict)} ({summary.get('decided_by')}): {summary.get('verdict_reason')}"
    )
