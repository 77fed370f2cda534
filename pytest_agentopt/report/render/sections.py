"""The ``report`` dict (see ``docs/reports.md``) as a :class:`~.document.Document`: formatting only, no statistics.

Every key of the report may be missing or None; a section appears only when its data is there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.report.render import wording
from pytest_agentopt.report.render.document import Block, Bullets, Chart, Document, Facts, Section, Table, Text, Verdict
from pytest_agentopt.report.verdict_text import consistency_note

Report = Mapping[str, Any]
CONFIG_VALUE_LIMIT = 300
MESSAGE_LIMIT = 200


def build_document(report: Report) -> Document:
    summary = _mapping(report.get("summary"))
    builders: list[Callable[[Report, Mapping[str, Any]], Section | None]] = [
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


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _rows(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return []
    return [row for row in value if isinstance(row, Mapping)]


def _title(report: Report, summary: Mapping[str, Any]) -> str:
    title = report.get("title")
    if isinstance(title, str) and title:
        return title
    if summary:
        return f"agentopt run {summary.get('run_id', '')}".strip()
    return "agentopt report"


def _footer(report: Report) -> list[str]:
    lines = []
    if report.get("generated_at"):
        lines.append(f"generated {report['generated_at']} by pytest-agentopt")
    source = report.get("source")
    if isinstance(source, str) and source:
        lines.append(f"source: {source}")
    elif isinstance(source, Sequence) and source:
        lines.append("source: " + ", ".join(str(item) for item in source))
    return lines


# -- one run --------------------------------------------------------------------------------------------------


def _verdict_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    if not summary:
        return None
    verdict = summary.get("verdict")
    reason = summary.get("verdict_reason")
    if verdict is None and not reason:
        reason = wording.single_config_text(_mapping(summary.get("arms")))
    gate = _mapping(summary.get("gate"))
    passed = gate.get("passed")
    block = Verdict(
        verdict=verdict if isinstance(verdict, str) else None,
        word=fmt.verdict_word(verdict if isinstance(verdict, str) else None),
        reason=str(reason) if reason is not None else None,
        decided_by=summary.get("decided_by"),
        gate_passed=passed if isinstance(passed, bool) else None,
        gate_reason=gate.get("reason"),
    )
    return Section("verdict", "Verdict", [block])


def _run_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    if not summary:
        return None
    arms = _mapping(summary.get("arms"))
    settings = _mapping(summary.get("settings"))
    items: list[tuple[str, str]] = [("run", str(summary.get("run_id", fmt.MISSING)))]
    if summary.get("mode") == "ab":
        control = _mapping(arms.get("control")).get("experiment_id")
        test = _mapping(arms.get("test")).get("experiment_id")
        items.append(("arms", f"control {control} vs test {test}"))
    else:
        items.append(("config", str(_mapping(arms.get("test")).get("experiment_id", fmt.MISSING))))
    items.append(("settings", _settings_text(settings)))
    items.append(
        (
            "trials",
            f"{fmt.number(summary.get('trials_started'))} run of {fmt.number(summary.get('trials_planned'))} "
            f"planned, {fmt.number(summary.get('trials_skipped'))} skipped after the stop, "
            f"{fmt.number(summary.get('trials_after_decision'))} after the decision",
        )
    )
    spend = _mapping(summary.get("spend"))
    if spend:
        items.append(
            (
                "estimated spend",
                f"{wording.spent_text(spend.get('usd'), spend.get('unpriced'))} on "
                f"{fmt.number(spend.get('trials'))} trials"
                + (f" ({fmt.number(spend.get('unpriced'))} without a known cost)" if spend.get("unpriced") else ""),
            )
        )
    budget = _mapping(summary.get("budget"))
    if budget:
        items.append(("budget", wording.budget_text(budget)))
    return Section("run", "Run", [Facts(items)])


def _settings_text(settings: Mapping[str, Any]) -> str:
    parts = [f"{fmt.plain(settings.get('trials_per_task_per_arm'))} trials per task per arm (cap)"]
    if settings.get("sprt"):
        sprt = (
            f"sequential test alpha {fmt.plain(settings.get('alpha'))}, beta {fmt.plain(settings.get('beta'))}, "
            f"effect {fmt.plain(settings.get('effect'))}"
        )
        if settings.get("target") is not None:
            sprt += f", target {fmt.plain(settings.get('target'))}"
        elif settings.get("direction") not in (None, "both"):
            sprt += f", one-sided: {settings.get('direction')}"
        parts.append(sprt)
    else:
        parts.append("fixed sample")
    if settings.get("seed") is not None:
        parts.append(f"seed {settings.get('seed')}")
    return "; ".join(parts)


def _config_diff_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    changes = _rows(summary.get("config_diff"))
    if summary.get("mode") != "ab":
        return None
    if not changes:
        return Section("configs", "What changed", [Text("The two configs are identical.")])
    rows = [
        (
            str(change.get("key", "")),
            fmt.clip(fmt.plain(change.get("control")), CONFIG_VALUE_LIMIT),
            fmt.clip(fmt.plain(change.get("test")), CONFIG_VALUE_LIMIT),
            str(change.get("text", "")),
        )
        for change in changes
    ]
    return Section(
        "configs", "What changed", [Table(("setting", "control", "test", "change"), rows, wrap=frozenset({1, 2, 3}))]
    )


def _arms_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    arms = _mapping(summary.get("arms"))
    if not arms:
        return None
    rows = []
    for arm, raw in arms.items():
        figures = _mapping(raw)
        tokens = _mapping(figures.get("mean_tokens"))
        rows.append(
            (
                str(arm),
                str(figures.get("experiment_id", fmt.MISSING)),
                str(figures.get("model") or fmt.MISSING),
                f"{fmt.number(figures.get('successes'))}/{fmt.number(figures.get('trials'))}",
                fmt.with_interval(figures.get("success_rate"), figures.get("success_ci")),
                f"{fmt.number(figures.get('errors'))} / {fmt.number(figures.get('infra_errors'))}",
                (
                    f"{fmt.number(tokens.get('input'), 0)} / {fmt.number(tokens.get('output'), 0)}"
                    if tokens
                    else "unknown"
                ),
                fmt.usd(figures.get("cost_per_trial_usd")),
                fmt.usd(figures.get("cost_per_success_usd")),
                wording.spent_text(figures.get("spent_usd"), figures.get("trials_unpriced")),
                fmt.seconds(figures.get("mean_latency_s")),
                fmt.number(figures.get("mean_steps"), 1),
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
    coverage = [str(statement) for statement in _rows_of(summary.get("coverage"))]
    if coverage:
        blocks.append(Bullets(coverage))
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


def _comparison_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    items: list[tuple[str, str]] = []
    pairs = _mapping(summary.get("pairs"))
    if pairs:
        total = sum(int(value) for value in pairs.values() if isinstance(value, int))
        items.append(
            (
                "pairs",
                f"{total} complete: {pairs.get('test_only', 0)} only test solved, {pairs.get('control_only', 0)} "
                f"only control solved, {pairs.get('both', 0)} both, {pairs.get('neither', 0)} neither",
            )
        )
    mcnemar = wording.mcnemar_text(summary)
    if mcnemar is not None:
        items.append(("McNemar test", mcnemar))
    effect = _mapping(summary.get("effect"))
    if effect:
        items.append(
            (
                "effect (test - control)",
                f"{fmt.signed(effect.get('estimate'))} "
                f"{fmt.interval([effect.get('lower'), effect.get('upper')], fmt.signed)} "
                f"· {effect.get('method', '')}",
            )
        )
    cost = _mapping(summary.get("cost_ratio"))
    if cost:
        items.append(
            (
                "est. cost ratio (test / control)",
                f"{wording.cost_ratio_text(cost)} · {cost.get('method', '')}",
            )
        )
    metric = _mapping(summary.get("metric"))
    if metric:
        from pytest_agentopt.report.metric_summary import metric_figure

        items.append(("decided metric", f"{metric_figure(metric)} · {metric.get('method', '')}"))
    test_text = wording.sequential_test_text(summary)
    if test_text is not None:
        used = summary.get("pairs_used") if summary.get("mode") == "ab" else summary.get("trials_used")
        unit = "pairs" if summary.get("mode") == "ab" else "trials"
        items.append(("sequential test", f"{test_text}; {fmt.number(used)} {unit} used"))
        design = _mapping(summary.get("design"))
        if design and design.get("power_at_cap") is not None:
            items.append(("cap", wording.cap_text(design, _mapping(summary.get("settings")))))

        note = consistency_note(summary)
        if note is not None:
            items.append(("why", note))
    elif summary.get("decided_by") == "fixed":
        items.append(("analysis", f"fixed sample, {fmt.number(summary.get('pairs_used'))} pairs"))
    if not items:
        return None
    return Section("comparison", "Comparison", [Facts(items)])


def _drift_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    """Which recorded features moved between the arms at equal outcome (the summary's ``drift``)."""
    drift = _mapping(summary.get("drift"))
    if not drift:
        return None
    from pytest_agentopt.report.drift import amount_text, drift_text, relative_text, shift_interval_text

    blocks: list[Block] = [Text(drift_text(drift) + ".")]
    features = _rows(drift.get("features"))
    if features:
        headers = ["feature", "pairs", "control median", "test median", "shift", "adjusted interval", "relative"]
        headers += ["adjusted p", "moved"]
        rows = [
            [
                str(feature.get("name", "")),
                fmt.number(feature.get("pairs")),
                amount_text(feature.get("control_median")),
                amount_text(feature.get("test_median")),
                amount_text(feature.get("effect"), signed=True),
                shift_interval_text(feature),
                relative_text(feature),
                fmt.p_value(feature.get("adjusted_p")),
                "yes" if feature.get("moved") else "no",
            ]
            for feature in features
        ]
        blocks.append(Table(headers, rows, numeric=frozenset({1, 2, 3, 4, 7})))
    blocks.append(Text(f"Method: {drift.get('method', '')}."))
    return Section("drift", "Behaviour drift", blocks)


def _candidates_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    """Several candidates against one control: one row per candidate (its verdict, pairs, effect, test)."""
    candidates = _rows(summary.get("candidates"))
    if not candidates:
        return None
    rows = []
    for candidate in candidates:
        effect = _mapping(candidate.get("effect"))
        llr = _mapping(candidate.get("llr"))
        rows.append(
            [
                str(candidate.get("experiment_id")),
                str(candidate.get("arm")),
                fmt.verdict_word(candidate.get("verdict")) if candidate.get("verdict") else "-",
                str(candidate.get("decided_by") or "-"),
                fmt.number(candidate.get("pairs_used")),
                fmt.number(candidate.get("trials_started")),
                fmt.number(candidate.get("trials_skipped")),
                (
                    f"{fmt.signed(effect.get('estimate'))} "
                    f"{fmt.interval([effect.get('lower'), effect.get('upper')], fmt.signed)}"
                    if effect
                    else "unknown"
                ),
                ", ".join(f"{name} {fmt.signed(value, 2)}" for name, value in llr.items() if value is not None) or "-",
                fmt.interval(candidate.get("bounds"), lambda v: fmt.signed(v, 2)) if candidate.get("bounds") else "-",
                f"{candidate.get('alpha', 0):.4g}",
            ]
        )
    table = Table(
        ["candidate", "arm", "verdict", "by", "pairs used", "trials", "skipped", "effect", "LLR", "bounds", "alpha"],
        rows,
        numeric=frozenset({4, 5, 6}),
    )
    reasons = Bullets([f"{c.get('experiment_id')}: {c.get('verdict_reason')}" for c in candidates])
    return Section("candidates", "Candidates", [table, reasons])


def _llr_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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
    verdict = summary.get("verdict") or path.get("verdict")
    chart = Chart("llr", path, verdict if isinstance(verdict, str) else None)
    return Section("llr", "Sequential test", [chart, Text(text)], secondary=True)


def _tasks_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    tasks = _rows(summary.get("tasks"))
    if not tasks:
        return None
    arms = list(_mapping(summary.get("arms"))) or sorted({arm for task in tasks for arm in _mapping(task.get("arms"))})
    headers = ["task", "category"]
    for arm in arms:
        headers += [f"{arm} solved", f"{arm} rate", f"{arm} est. total $"]
    rows = []
    for task in tasks:
        row = [str(task.get("code") or task.get("task_id", "")), str(task.get("category") or fmt.MISSING)]
        for arm in arms:
            figures = _mapping(_mapping(task.get("arms")).get(arm))
            trials = figures.get("trials") or 0
            row += [
                f"{fmt.number(figures.get('successes', 0))}/{fmt.number(trials)}" if trials else fmt.MISSING,
                fmt.pct(figures.get("success_rate"), 0),
                fmt.usd(figures.get("cost_usd")) if trials else fmt.MISSING,  # None: no trial had a known cost
            ]
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


def _trajectory_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _pareto_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    blocks = _pareto_blocks(_mapping(report.get("pareto")))
    return Section("pareto", "Pareto front: success against cost", blocks) if blocks else None


def _history_pareto_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _runs_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _history_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _guidelines_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _task_clusters_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _failures_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
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


def _notes_section(report: Report, summary: Mapping[str, Any]) -> Section | None:
    notes = [str(note) for note in _rows_of(summary.get("notes"))]
    notes += [str(note) for note in _rows_of(report.get("notes"))]
    if not notes:
        return None
    return Section("notes", "Notes", [Bullets(notes)])
