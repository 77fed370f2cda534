"""The ``report`` dict (see ``docs/reports.md``) as a :class:`~.document.Document`: formatting only, no statistics.

Every key of the report may be missing or None; a section appears only when its data is there. The run summary is
checked once, here (``render_markdown`` and ``render_html`` are public and take a plain dict): a summary that does
not have the documented shape is not shown at all, and a note names the field that does not fit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.report.render import wording
from pytest_agentopt.report.render.document import Block, Bullets, Chart, Document, Facts, Section, Table, Text, Verdict
from pytest_agentopt.report.report_dict import ReportDict
from pytest_agentopt.report.verdict_text import consistency_note, family_error_statement
from pytest_agentopt.storage.summary_schema import ArmSummary, CandidateResult, RunSummary, Settings, TaskRow
from pytest_agentopt.storage.typed_json import shape_problem

Report = ReportDict
CONFIG_VALUE_LIMIT = 300
MESSAGE_LIMIT = 200
SUMMARY_NOT_SHOWN = (
    "the summary does not have the shape docs/summary.md describes (damaged, edited or written by another "
    "version): its figures are not shown (a figure that cannot be read is missing, never guessed)"
)


def build_document(report: Report) -> Document:
    summary, problem = checked_summary(report.get("summary"))
    if problem is not None:
        report = {**report, "notes": [f"warning: {problem}: {SUMMARY_NOT_SHOWN}", *_rows_of(report.get("notes"))]}
    builders: list[Callable[[Report, RunSummary | None], Section | None]] = [
        _verdict_section,
        _run_section,
        _runs_section,
        _config_diff_section,
        _arms_section,
        _comparison_section,
        _drift_section,
        _candidates_section,
        _llr_section,
        _pareto_section,
        _history_pareto_section,
        _history_section,
        _guidelines_section,
        _tasks_section,
        _trajectory_section,
        _task_clusters_section,
        _failures_section,
        _notes_section,
    ]
    sections = [section for build in builders if (section := build(report, summary)) is not None]
    return Document(title=_title(report, summary), sections=sections, footer=_footer(report))


def checked_summary(value: object) -> tuple[RunSummary | None, str | None]:
    """The report's summary when it has the documented shape; else ``None`` and the field that does not fit.

    ``None`` and an empty dict are no summary (a run that did not finish), which is not a problem to report.
    """
    if value is None or value == {}:
        return None, None
    problem = shape_problem(value, RunSummary)
    if problem is not None:
        return None, f"the report's summary: {problem}"
    return value, None  # type: ignore[return-value]  # shape_problem checked it is a RunSummary


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def _title(report: Report, summary: RunSummary | None) -> str:
    title = report.get("title")
    if isinstance(title, str) and title:
        return title
    if summary is not None:
        return f"agentopt run {summary['run_id']}".strip()
    return "agentopt report"


def _footer(report: Report) -> list[str]:
    lines = []
    if report.get("generated_at"):
        lines.append(f"generated {report.get('generated_at')} by pytest-agentopt")
    source = report.get("source")
    if isinstance(source, str) and source:
        lines.append(f"source: {source}")
    elif isinstance(source, Sequence) and source:
        lines.append("source: " + ", ".join(str(item) for item in source))
    return lines


# -- one run --------------------------------------------------------------------------------------------------


def _experiment_id(arms: Mapping[str, ArmSummary], arm: str) -> str | None:
    figures = arms.get(arm)
    return figures["experiment_id"] if figures is not None else None


def _verdict_section(report: Report, summary: RunSummary | None) -> Section | None:
    if summary is None:
        return None
    verdict = summary["verdict"]
    reason = summary["verdict_reason"]
    if verdict is None and not reason:
        reason = wording.single_config_text(summary["arms"])
    gate = summary.get("gate")
    block = Verdict(
        verdict=verdict,
        word=fmt.verdict_word(verdict),
        reason=reason,
        decided_by=summary["decided_by"],
        gate_passed=gate["passed"] if gate is not None else None,
        gate_reason=gate["reason"] if gate is not None else None,
    )
    return Section("verdict", "Verdict", [block])


def _run_section(report: Report, summary: RunSummary | None) -> Section | None:
    if summary is None:
        return None
    arms = summary["arms"]
    items: list[tuple[str, str]] = [("run", summary["run_id"])]
    if summary["mode"] == "ab":
        items.append(("arms", f"control {_experiment_id(arms, 'control')} vs test {_experiment_id(arms, 'test')}"))
    else:
        items.append(("config", str(_experiment_id(arms, "test")) if "test" in arms else fmt.MISSING))
    items.append(("settings", _settings_text(summary["settings"])))
    items.append(
        (
            "trials",
            f"{fmt.number(summary['trials_started'])} run of {fmt.number(summary['trials_planned'])} "
            f"planned, {fmt.number(summary['trials_skipped'])} not run after the stop, "
            f"{fmt.number(summary['trials_after_decision'])} after the decision",
        )
    )
    spend = summary["spend"]
    items.append(
        (
            "estimated spend",
            f"{wording.spent_text(spend['usd'], spend['unpriced'])} on {fmt.number(spend['trials'])} trials"
            + (f" ({fmt.number(spend['unpriced'])} without a known cost)" if spend["unpriced"] else ""),
        )
    )
    budget = summary["budget"]
    if budget:
        items.append(("budget", wording.budget_text(budget)))
    return Section("run", "Run", [Facts(items)])


def _settings_text(settings: Settings) -> str:
    parts = [f"{fmt.plain(settings['trials_per_task_per_arm'])} trials per task per arm (cap)"]
    if settings["sprt"]:
        sprt = (
            f"sequential test alpha {fmt.plain(settings['alpha'])}, beta {fmt.plain(settings['beta'])}, "
            f"effect {fmt.plain(settings['effect'])}"
        )
        if settings["target"] is not None:
            sprt += f", target {fmt.plain(settings['target'])}"
        elif settings["direction"] != "both":
            sprt += f", one-sided: {settings['direction']}"
        parts.append(sprt)
    else:
        parts.append("fixed sample")
    parts.append(f"seed {settings['seed']}")
    return "; ".join(parts)


def _config_diff_section(report: Report, summary: RunSummary | None) -> Section | None:
    if summary is None or summary["mode"] != "ab":
        return None
    changes = summary["config_diff"]
    if not changes:
        return Section("configs", "What changed", [Text("The two configs are identical.")])
    rows = [
        (
            change["key"],
            fmt.clip(fmt.plain(change["control"]), CONFIG_VALUE_LIMIT),
            fmt.clip(fmt.plain(change["test"]), CONFIG_VALUE_LIMIT),
            change["text"],
        )
        for change in changes
    ]
    return Section(
        "configs", "What changed", [Table(("setting", "control", "test", "change"), rows, wrap=frozenset({1, 2, 3}))]
    )


def _arms_section(report: Report, summary: RunSummary | None) -> Section | None:
    if summary is None or not summary["arms"]:
        return None
    rows = []
    for arm, figures in summary["arms"].items():
        tokens = figures["mean_tokens"]
        rows.append(
            (
                arm,
                str(figures["experiment_id"]),
                figures["model"] or fmt.MISSING,
                f"{fmt.number(figures['successes'])}/{fmt.number(figures['trials'])}",
                fmt.with_interval(figures["success_rate"], figures["success_ci"]),
                f"{fmt.number(figures['errors'])} / {fmt.number(figures['infra_errors'])}",
                (
                    f"{fmt.number(tokens['input'], 0)} / {fmt.number(tokens['output'], 0)}"
                    if tokens is not None
                    else "unknown"
                ),
                fmt.usd(figures["cost_per_trial_usd"]),
                fmt.usd(figures["cost_per_success_usd"]),
                wording.spent_text(figures["spent_usd"], figures["trials_unpriced"]),
                fmt.seconds(figures["mean_latency_s"]),
                fmt.number(figures["mean_steps"], 1),
            )
        )
    headers = (
        "arm",
        "experiment",
        "model",
        "solved",
        wording.success_interval_header(summary),
        "errors / infra",
        "mean tokens in / out",
        "est. $/trial",
        "est. $/success",
        "est. $ spent",
        "mean latency",
        "mean steps",
    )
    blocks: list[Block] = [Table(headers, rows, numeric=frozenset({3, 4, 5, 6, 7, 8, 9, 10, 11}))]
    if summary["coverage"]:
        blocks.append(Bullets(summary["coverage"]))
    blocks.append(
        Text(
            (
                "Success intervals are time-uniform 95% confidence sequences, valid at the sequential test's "
                "data-dependent stop. Costs are estimates."
            )
            if "conf. seq." in wording.success_interval_header(summary)
            else "Success intervals are Wilson 95% intervals (fixed sample). Costs are estimates."
        )
    )
    return Section("arms", "Per arm", blocks)


def _comparison_section(report: Report, summary: RunSummary | None) -> Section | None:
    if summary is None:
        return None
    items: list[tuple[str, str]] = []
    pairs = summary["pairs"]
    if pairs:
        total = pairs["both"] + pairs["test_only"] + pairs["control_only"] + pairs["neither"]
        items.append(
            (
                "pairs",
                f"{total} complete: {pairs['test_only']} only test solved, {pairs['control_only']} "
                f"only control solved, {pairs['both']} both, {pairs['neither']} neither",
            )
        )
    mcnemar = wording.mcnemar_text(summary)
    if mcnemar is not None:
        items.append(("McNemar test", mcnemar))
    effect = summary["effect"]
    if effect:
        items.append(
            (
                "effect (test - control)",
                f"{fmt.signed(effect['estimate'])} "
                f"{fmt.interval([effect['lower'], effect['upper']], fmt.signed)} "
                f"· {effect['method']}",
            )
        )
    cost = summary["cost_ratio"]
    if cost:
        items.append(("est. cost ratio (test / control)", f"{wording.cost_ratio_text(cost)} · {cost['method']}"))
    metric = summary["metric"]
    if metric:
        from pytest_agentopt.report.metric_summary import metric_figure

        items.append(("decided metric", f"{metric_figure(metric)} · {metric['method']}"))
    test_text = wording.sequential_test_text(summary)
    if test_text is not None:
        used = summary["pairs_used"] if summary["mode"] == "ab" else summary.get("trials_used")
        unit = "pairs" if summary["mode"] == "ab" else "trials"
        items.append(("sequential test", f"{test_text}; {fmt.number(used)} {unit} used"))
        design = summary["design"]
        if design and design["power_at_cap"] is not None:
            items.append(("cap", wording.cap_text(design, summary["settings"])))

        note = consistency_note(summary)
        if note is not None:
            items.append(("why", note))
    elif summary["decided_by"] == "fixed":
        items.append(("analysis", f"fixed sample, {fmt.number(summary['pairs_used'])} pairs"))
    if not items:
        return None
    return Section("comparison", "Comparison", [Facts(items)])


def _drift_section(report: Report, summary: RunSummary | None) -> Section | None:
    """Which recorded features moved between the arms at equal outcome (the summary's ``drift``)."""
    drift = summary["drift"] if summary is not None else None
    if not drift:
        return None
    from pytest_agentopt.report.drift import amount_text, drift_text, relative_text, shift_interval_text

    blocks: list[Block] = [Text(drift_text(drift) + ".")]
    features = drift["features"]
    if features:
        headers = ["feature", "pairs", "control median", "test median", "shift", "adjusted interval", "relative"]
        headers += ["adjusted p", "moved"]
        rows = [
            [
                feature["name"],
                fmt.number(feature["pairs"]),
                amount_text(feature["control_median"]),
                amount_text(feature["test_median"]),
                amount_text(feature["effect"], signed=True),
                shift_interval_text(feature),
                relative_text(feature),
                fmt.p_value(feature["adjusted_p"]),
                "yes" if feature["moved"] else "no",
            ]
            for feature in features
        ]
        blocks.append(Table(headers, rows, numeric=frozenset({1, 2, 3, 4, 7})))
    blocks.append(Text(f"Method: {drift['method']}."))
    return Section("drift", "Behaviour drift", blocks)


def _bounds_cell(candidate: CandidateResult) -> str:
    """The LLR's bounds; under e-BH only the lower one, the only one in use (claims are made by e-value)."""
    bounds = candidate["bounds"]
    if not bounds:
        return "-"
    if candidate["multiplicity"] == "e-bh":
        return f"lower {fmt.signed(bounds[0], 2)}"
    return fmt.interval(bounds, lambda v: fmt.signed(v, 2))


def _candidates_section(report: Report, summary: RunSummary | None) -> Section | None:
    """Several candidates against one control: one row per candidate (its verdict, pairs, effect, test)."""
    if summary is None:
        return None
    candidates = summary.get("candidates")
    if not candidates:
        return None
    rows = []
    for candidate in candidates:
        effect = candidate["effect"]
        llr = candidate["llr"]
        rows.append(
            [
                candidate["experiment_id"],
                candidate["arm"],
                fmt.verdict_word(candidate["verdict"]) if candidate["verdict"] else "-",
                candidate["decided_by"] or "-",
                fmt.number(candidate["pairs_used"]),
                fmt.number(candidate["trials_started"]),
                fmt.number(candidate["trials_skipped"]),
                (
                    f"{fmt.signed(effect['estimate'])} {fmt.interval([effect['lower'], effect['upper']], fmt.signed)}"
                    if effect
                    else "unknown"
                ),
                ", ".join(f"{name} {fmt.signed(value, 2)}" for name, value in (llr or {}).items() if value is not None)
                or "-",
                _bounds_cell(candidate),
                f"{candidate['alpha']:.4g}",
            ]
        )
    headers = [
        "candidate",
        "arm",
        "verdict",
        "by",
        "pairs used",
        "trials",
        "skipped",
        "effect",
        "LLR",
        "bounds",
        "alpha",
    ]
    e_bh = any(candidate["multiplicity"] == "e-bh" for candidate in candidates)
    if e_bh:
        headers.append("e-values at stop")
        for row, candidate in zip(rows, candidates, strict=True):
            e_values = candidate["e_values"]
            pairs = e_values.items() if e_values is not None else ()
            row.append(", ".join(f"{name} {value:.4g}" for name, value in pairs if value is not None))
    table = Table(headers, rows, numeric=frozenset({4, 5, 6}))
    statement = family_error_statement("e-bh" if e_bh else "bonferroni", summary["settings"]["alpha"], len(rows))
    reasons = Bullets([f"{c['experiment_id']}: {c['verdict_reason']}" for c in candidates])
    return Section("candidates", "Candidates", [Text(f"Across the candidates: {statement}."), table, reasons])


def _llr_section(report: Report, summary: RunSummary | None) -> Section | None:
    path = _mapping(report.get("llr_path"))
    if not _rows(path.get("points")):
        return None
    decided = path.get("decided_at")
    points = _rows(path.get("points"))
    unit = "pairs" if any("pairs" in point for point in points) else "trials"
    observed = max((point[unit] for point in points if fmt.is_number(point.get(unit))), default=0)
    text = (
        f"The log-likelihood ratio after each of {observed} {unit}, between Wald's bounds "
        f"{fmt.interval(path.get('bounds'), lambda v: fmt.signed(v, 2))}; "
        + (f"the test decided after {decided} {unit}." if decided is not None else "the test did not decide.")
    )
    candidates = _mapping(path.get("candidates"))
    if candidates:
        decisions = "; ".join(
            f"{_mapping(c).get('experiment_id')}: "
            + (
                f"{fmt.verdict_word(_mapping(c).get('verdict'))} after {_mapping(c).get('decided_at')} {unit}"
                if _mapping(c).get("decided_at") is not None
                else "undecided"
            )
            for c in candidates.values()
        )
        text = (
            f"Each candidate's log-likelihood ratios (improvement and regression test, at its alpha) after each of "
            f"its pairs, between the bounds {fmt.interval(path.get('bounds'), lambda v: fmt.signed(v, 2))}; "
            f"{decisions}."
        )
        return Section("llr", "Sequential tests", [Chart("llr", path, None), Text(text)], secondary=True)
    verdict = (summary["verdict"] if summary is not None else None) or path.get("verdict")
    chart = Chart("llr", path, verdict if isinstance(verdict, str) else None)
    return Section("llr", "Sequential test", [chart, Text(text)], secondary=True)


def _task_cells(task: TaskRow, arm: str) -> list[str]:
    figures = task["arms"].get(arm)
    if figures is None or not figures["trials"]:
        return [fmt.MISSING, fmt.pct(figures["success_rate"] if figures is not None else None, 0), fmt.MISSING]
    return [
        f"{fmt.number(figures['successes'])}/{fmt.number(figures['trials'])}",
        fmt.pct(figures["success_rate"], 0),
        fmt.usd(figures["cost_usd"]),  # None: no trial had a known cost
    ]


def _tasks_section(report: Report, summary: RunSummary | None) -> Section | None:
    tasks = summary["tasks"] if summary is not None else []
    if summary is None or not tasks:
        return None
    arms = list(summary["arms"]) or sorted({arm for task in tasks for arm in task["arms"]})
    headers = ["task", "category"]
    for arm in arms:
        headers += [f"{arm} solved", f"{arm} rate", f"{arm} est. total $"]
    rows = []
    for task in tasks:
        row = [task["code"] or task["task_id"], task["category"] or fmt.MISSING]
        for arm in arms:
            row += _task_cells(task, arm)
        rows.append(row)
    numeric = frozenset(i for i in range(2, len(headers)))
    note = Text(
        "est. total $: the estimated cost of the task's scored trials in that arm added up (a total; the per-arm "
        "table and the Pareto front show means per trial)."
    )
    return Section("tasks", "Per task", [Table(headers, rows, numeric=numeric), note], secondary=True)


TRAJECTORY_HEADERS = (
    "trials",
    "mean steps",
    "mean tool calls",
    "step efficiency",
    "under optimal",
    "early termination",
    "token waste",
    "false done",
    "mean latency",
)


def _trajectory_section(report: Report, summary: RunSummary | None) -> Section | None:
    trajectory = _mapping(report.get("trajectory"))
    blocks: list[Block] = []
    for key, label in (("by_arm", "arm"), ("by_config", "config"), ("by_task", "task"), ("by_category", "category")):
        rows = _rows(trajectory.get(key))
        if not rows:
            continue
        blocks.append(Text(f"By {label}:"))
        blocks.append(
            Table(
                (label, *TRAJECTORY_HEADERS),
                [_trajectory_row(row) for row in rows],
                numeric=frozenset(range(1, len(TRAJECTORY_HEADERS) + 1)),
            )
        )
    if not blocks:
        return None
    blocks.append(
        Text(
            "Step efficiency: mean over solved trials of optimal / actual steps, capped at 100% (a trial at or "
            "under its task's optimal_steps counts as 100%). Under optimal: share of those trials that took fewer "
            "steps than optimal_steps (that task's optimal_steps is too high). Early termination: share of "
            "impossible-task trials correctly refused. Token waste: share of tokens spent on failed trials. "
            "False done: share of trials that claimed success but failed."
        )
    )
    return Section("trajectory", "Trajectory metrics", blocks, secondary=True)


def _group_label(row: Mapping[str, Any]) -> str:
    """A task by its code, a config by its experiment id and hash, anything else by its value."""
    if row.get("code"):
        return str(row["code"])
    if row.get("experiment_id"):
        return f"{row['experiment_id']} ({row.get('group')})"
    return fmt.plain(row.get("group"))


def _verdict_against(row: Mapping[str, Any]) -> str:
    if not row.get("verdict"):
        return fmt.MISSING
    control = row.get("verdict_control")
    return fmt.verdict_word(row["verdict"]) + (f" vs {control}" if control else "")


def _trajectory_row(row: Mapping[str, Any]) -> list[str]:
    return [
        _group_label(row),
        fmt.number(row.get("trials")),
        fmt.number(row.get("mean_steps"), 1),
        fmt.number(row.get("mean_tool_calls"), 1),
        fmt.pct(row.get("step_efficiency")),
        fmt.pct(row.get("under_optimal_rate")),
        fmt.pct(row.get("early_termination_rate")),
        fmt.pct(row.get("token_waste")),
        fmt.pct(row.get("false_done_rate")),
        fmt.seconds(row.get("mean_latency_s")),
    ]


# -- across runs ----------------------------------------------------------------------------------------------


def _pareto_section(report: Report, summary: RunSummary | None) -> Section | None:
    blocks = _pareto_blocks(_mapping(report.get("pareto")))
    return Section("pareto", "Pareto front: success against cost", blocks) if blocks else None


def _history_pareto_section(report: Report, summary: RunSummary | None) -> Section | None:
    """A run report's one history section: the front of every config run up to (and including) this run."""
    blocks = _pareto_blocks(_mapping(report.get("history_pareto")))
    if not blocks:
        return None
    scope = _mapping(report.get("history_scope"))
    count = scope.get("runs")
    runs = f"{fmt.number(count)} run{'' if count == 1 else 's'}"
    through = scope.get("through")
    where = f" under {scope.get('agent_dir')}" if scope.get("agent_dir") else ""
    if through:
        text = (
            f"History, not this run alone: every config of the {runs}{where} created up to and including this "
            f"one ({through}, {scope.get('created_at') or fmt.MISSING}); runs made later do not change it."
        )
    else:
        text = f"History, not this run alone: every config of the {runs}{where} when the report was made."
    replays = scope.get("replays")
    if isinstance(replays, int) and replays:
        text += f" {replays} trials that replay earlier ones (same config, task and seed) are counted once."
    text += " This run's own figures are in the sections above."
    return Section("history-pareto", "History: Pareto front of the configs tried so far", [Text(text), *blocks])


def _pareto_blocks(pareto: Mapping[str, Any]) -> list[Block]:
    points = _rows(pareto.get("points"))
    if not points:
        return []
    kpi = _mapping(pareto.get("kpi"))
    answers = {str(value) for value in kpi.get("answers") or []}
    rows = [
        (
            str(point.get("experiment_id", fmt.MISSING)),
            str(point.get("config_hash", fmt.MISSING)),
            str(point.get("model") or fmt.MISSING),
            fmt.number(point.get("trials")),
            fmt.with_interval(point.get("success_rate"), point.get("success_ci")),
            fmt.with_interval(point.get("cost_per_task_usd"), point.get("cost_ci"), fmt.usd),
            "yes" if point.get("on_front") else "no",
            fmt.pct(point.get("p_dominated"), 0),
            "yes" if point.get("meets_kpi", str(point.get("config_hash")) in answers) else "no",
        )
        for point in points
    ]
    headers = (
        "experiment",
        "config",
        "model",
        "trials",
        "success [95%]",
        "est. mean $ per trial [95%]",
        "on front",
        "P(dominated)",
        "meets KPI",
    )
    blocks: list[Block] = [Chart("pareto", pareto)]
    if kpi.get("statement"):
        blocks.append(Text(str(kpi["statement"])))
    blocks.append(Table(headers, rows, numeric=frozenset({3, 4, 5, 7})))
    if pareto.get("method"):
        blocks.append(Text(str(pareto["method"])))
    return blocks


def _runs_section(report: Report, summary: RunSummary | None) -> Section | None:
    runs = _rows(report.get("runs"))
    if not runs:
        return None
    rows = [
        (
            str(run.get("run_id", "")),
            str(run.get("created_at") or fmt.MISSING),
            str(run.get("control_experiment_id") or fmt.MISSING),
            str(run.get("experiment_id") or fmt.MISSING),
            fmt.verdict_word(run.get("verdict")) if run.get("verdict") else fmt.MISSING,
            str(run.get("verdict_reason") or ""),
        )
        for run in runs
    ]
    return Section(
        "runs", "Runs", [Table(("run", "date", "control", "test", "verdict", "reason"), rows, wrap=frozenset({5}))]
    )


def _history_section(report: Report, summary: RunSummary | None) -> Section | None:
    history = _rows(report.get("history"))
    if not history:
        return None
    rows = [
        (
            str(row.get("experiment_id", "")),
            " <- ".join(str(item) for item in row.get("lineage") or []),
            str(row.get("model") or fmt.MISSING),
            fmt.number(row.get("trials")),
            fmt.with_interval(row.get("success_rate"), row.get("success_ci")),
            fmt.usd(row.get("cost_per_task_usd")),
            _verdict_against(row),
            str(row.get("last_run") or fmt.MISSING),
            str(row.get("date") or fmt.MISSING),
        )
        for row in history
    ]
    headers = (
        "experiment",
        "lineage",
        "model",
        "trials",
        "success [95%]",
        "est. mean $ per trial",
        "verdict vs control",
        "last run",
        "date",
    )
    return Section(
        "history", "Experiment history", [Table(headers, rows, numeric=frozenset({3, 4, 5}), wrap=frozenset({1}))]
    )


def _guidelines_section(report: Report, summary: RunSummary | None) -> Section | None:
    guidelines = _rows(report.get("guidelines"))
    if not guidelines:
        return None
    rows = []
    for row in guidelines:
        effect = _mapping(row.get("effect"))
        cost = _mapping(row.get("cost_ratio"))
        rows.append(
            (
                fmt.clip(str(row.get("guideline", "")), CONFIG_VALUE_LIMIT),
                str(row.get("change", "")),
                f"{row.get('parent', '')} -> {row.get('child', '')}",
                fmt.number(row.get("pairs")),
                (
                    f"{fmt.signed(effect.get('estimate'))} "
                    f"{fmt.interval([effect.get('lower'), effect.get('upper')], fmt.signed)}"
                    if effect
                    else fmt.MISSING
                ),
                (
                    fmt.ratio(cost.get("estimate"))
                    + " "
                    + fmt.interval([cost.get("lower"), cost.get("upper")], fmt.ratio)
                    if cost
                    else fmt.MISSING
                ),
                fmt.number(row.get("runs")) if not isinstance(row.get("runs"), list) else str(len(row["runs"])),
                wording.also_changed(row) or fmt.MISSING,
            )
        )
    headers = (
        "guideline",
        "change",
        "parent -> child",
        "pairs",
        "effect on success",
        "est. cost ratio",
        "runs",
        "also changed",
    )
    blocks: list[Block] = [Table(headers, rows, numeric=frozenset({3, 4, 5, 6}), wrap=frozenset({0, 7}))]
    blocks.append(
        Text(
            "The effect is that of every change between the two configs together: when 'also changed' is not "
            "empty, it is not the guideline's effect alone."
        )
    )
    methods = sorted({str(_mapping(row.get("effect")).get("method")) for row in guidelines if row.get("effect")})
    if methods:
        blocks.append(Text("Effect: " + "; ".join(methods) + "."))
    return Section("guidelines", "Guideline impact", blocks)


def _task_clusters_section(report: Report, summary: RunSummary | None) -> Section | None:
    clusters = _rows(report.get("tasks_clusters"))
    if not clusters:
        return None
    rows = [
        (
            str(row.get("code") or row.get("task_id", "")),
            str(row.get("declared_category") or fmt.MISSING),
            str(row.get("cluster", "")),
            fmt.number(row.get("configs")),
            fmt.with_interval(row.get("min_rate"), _first(row, "min_ci", "min_rate_ci")),
            fmt.with_interval(row.get("max_rate"), _first(row, "max_ci", "max_rate_ci")),
            str(row.get("reason") or ""),
        )
        for row in clusters
    ]
    headers = ("task", "declared category", "cluster", "configs", "lowest rate [95%]", "highest rate [95%]", "why")
    return Section(
        "task-clusters",
        "Task clusters",
        [Table(headers, rows, numeric=frozenset({3, 4, 5}), wrap=frozenset({6}))],
        secondary=True,
    )


def _first(row: Mapping[str, Any], *keys: str) -> object:
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return None


def _failures_section(report: Report, summary: RunSummary | None) -> Section | None:
    failures = _rows(report.get("failures"))
    if not failures:
        return None
    rows = [
        (
            str(row.get("error_type") or fmt.MISSING),
            fmt.clip(str(row.get("signature", "")), MESSAGE_LIMIT),
            fmt.number(row.get("count")),
            fmt.pct(row.get("share"), 0),
            ", ".join(str(task) for task in row.get("tasks") or []),
            ", ".join(str(where) for where in row.get("experiments") or row.get("arms") or []),
            fmt.clip(str(row.get("example_message") or ""), MESSAGE_LIMIT),
        )
        for row in failures
    ]
    seen_in = "experiments" if any(row.get("experiments") for row in failures) else "arms"
    headers = ("error type", "signature", "count", "share", "tasks", seen_in, "example message")
    return Section(
        "failures",
        "Failure clusters",
        [Table(headers, rows, numeric=frozenset({2, 3}), wrap=frozenset({1, 4, 6}))],
        secondary=True,
    )


def _rows_of(value: object) -> list[Any]:
    """A list read from a summary on disk (a damaged one may hold anything there): its items, else none."""
    return list(value) if isinstance(value, list) else []


def _notes_section(report: Report, summary: RunSummary | None) -> Section | None:
    notes = list(summary["notes"]) if summary is not None else []
    notes += [str(note) for note in _rows_of(report.get("notes"))]
    if not notes:
        return None
    return Section("notes", "Notes", [Bullets(notes)])
