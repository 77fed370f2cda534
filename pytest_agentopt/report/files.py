"""The report files of a run (``--agent-md``, ``--agent-html``, ``--agent-csv``, ``$GITHUB_STEP_SUMMARY``).

``build_run_report`` and ``build_runs_report`` gather the ``report`` dict (``docs/reports.md``) from the run
summary and the analysis API; ``write_reports`` renders and writes it. Reporting never raises: an unwritable path
or a failing analysis becomes a note. A note about a requested file that was not written starts with ``error:``
(the plugin then fails the run, see ``output_paths``); one about ``$GITHUB_STEP_SUMMARY``, which nobody asked for
by name, starts with ``warning:``. When no output is asked for nothing is imported or read.

A run's report describes that run: every section but one is computed from the run's own trials, read once (from
``records`` when the plugin passes the records it holds, else from the run's ledger). The one history section, the
Pareto front of every config tried so far, is labelled as such and covers only the runs created up to and
including this one (each config, task and seed counted once, see ``analysis.load_trials``), so regenerating the
report later, after more runs, gives the same figures.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar

from pytest_agentopt.storage.ledger import TRIALS, read_ledger, utc_now

if TYPE_CHECKING:
    from pytest_agentopt.report.render.csv import HasRecords
    from pytest_agentopt.report.report_dict import ReportDict
    from pytest_agentopt.storage.summary_schema import RunSummary
    from pytest_agentopt.storage.trial_record import TrialRecord

StrPath = str | os.PathLike[str]
T = TypeVar("T")
STEP_SUMMARY_MINIMUM = 2048  # below this much room left in $GITHUB_STEP_SUMMARY, append nothing
MAX_PROBLEM_NOTES = 5


class HistoryScope(TypedDict):
    """The runs a run's report counts as its history (``history_scope`` in the report, without ``run_ids``)."""

    run_ids: list[str]
    runs: int
    through: str | None
    created_at: str | None
    agent_dir: str


def write_run_reports(
    *,
    summary: RunSummary,
    run_dir: Path,
    agent_dir: Path,
    md_path: Path | None = None,
    html_path: Path | None = None,
    csv_path: Path | None = None,
    github_step_summary: StrPath | None = None,
    records: Sequence[TrialRecord] | None = None,
) -> list[str]:
    """Write the requested outputs of the run in ``run_dir``; returns notes on what was written or failed.

    ``github_step_summary``: the value of ``$GITHUB_STEP_SUMMARY`` (the Markdown is appended to that file).
    ``records``: the run's trial records when the caller holds them (the plugin does), in ledger order; they are
    used instead of reading the run's ledger again. ``None``: read the ledger.
    """
    step_summary = Path(github_step_summary) if github_step_summary else None
    if md_path is None and html_path is None and csv_path is None and step_summary is None:
        return []
    notes: list[str] = []
    try:
        report = None
        if md_path is not None or html_path is not None or step_summary is not None:
            report = build_run_report(summary=summary, run_dir=run_dir, agent_dir=agent_dir, records=records)
        write_reports(
            report,
            trials=lambda: records if records is not None else _run_records(run_dir),
            md_path=md_path,
            html_path=html_path,
            csv_path=csv_path,
            step_summary=step_summary,
            notes=notes,
            candidates=summary.get("candidates"),
        )
    except Exception as exc:  # reporting must never raise; say what went wrong instead
        notes.append(f"error: could not write the reports: {type(exc).__name__}: {exc}")
    return notes


def write_reports(
    report: ReportDict | None,
    *,
    trials: Callable[[], Iterable[Mapping[str, object]] | HasRecords],
    md_path: Path | None,
    html_path: Path | None,
    csv_path: Path | None,
    step_summary: Path | None,
    notes: list[str],
    candidates: object = None,
) -> bool:
    """Render ``report`` and write each requested file; I/O errors become notes. True when all were written.

    ``candidates``: the summary's ``candidates`` (a run with several): with ``csv_path`` they are written one row
    each beside it (``render.candidates_csv``)."""
    written = True
    # The renderers are imported only for the files asked for: together about 0.06 s CPU, which every run would
    # otherwise add to a start-up within 0.1 s of its 0.6 s budget (docs/performance.md).
    if csv_path is not None:
        from pytest_agentopt.report.render.csv import write_trials_csv

        rows = _attempt(notes, f"error: could not write {csv_path}", lambda: write_trials_csv(trials(), csv_path))
        if rows is not None:
            notes.append(f"wrote CSV of {rows} trials to {csv_path}")
        written &= rows is not None
        if isinstance(candidates, list) and candidates:
            from pytest_agentopt.report.render.candidates_csv import candidates_csv_path, write_candidates_csv

            path = candidates_csv_path(csv_path)
            count = _attempt(notes, f"error: could not write {path}", lambda: write_candidates_csv(candidates, path))
            if count is not None:
                notes.append(f"wrote CSV of {count} candidates to {path}")
            written &= count is not None
    if report is None:
        return written
    if md_path is not None:
        from pytest_agentopt.report.render.markdown import render_markdown

        written &= _write_text(md_path, render_markdown(report), "Markdown report", notes)
    if html_path is not None:
        from pytest_agentopt.report.render.html import render_html

        written &= _write_text(html_path, render_html(report), "HTML report", notes)
    if step_summary is not None:
        written &= _append_step_summary(step_summary, report, notes)
    return written


def _attempt(notes: list[str], failure: str, action: Callable[[], T]) -> T | None:
    try:
        return action()
    except OSError as exc:
        notes.append(f"{failure}: {exc.strerror or exc}")
        return None


def _write_text(path: Path, text: str, what: str, notes: list[str]) -> bool:
    def write() -> bool:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return True

    if _attempt(notes, f"error: could not write {path}", write):
        notes.append(f"wrote {what} to {path}")
        return True
    return False


def _append_step_summary(path: Path, report: ReportDict, notes: list[str]) -> bool:
    """Append the Markdown to GitHub's job summary, within the room its 1 MiB limit leaves."""
    from pytest_agentopt.report.render.markdown import DEFAULT_LIMIT, GITHUB_STEP_SUMMARY_LIMIT, render_markdown

    where = f"$GITHUB_STEP_SUMMARY ({path})"
    try:
        existing = path.stat().st_size
    except FileNotFoundError:
        existing = 0
    except OSError as exc:
        notes.append(f"warning: could not append to {where}: {exc.strerror or exc}")
        return False
    separator = "\n" if existing else ""
    room = min(DEFAULT_LIMIT, GITHUB_STEP_SUMMARY_LIMIT - existing) - len(separator) - 1
    if room < STEP_SUMMARY_MINIMUM:
        notes.append(f"warning: {where} already holds {existing} bytes of GitHub's 1 MiB: the summary was not appended")
        return False
    text = separator + render_markdown(report, max_bytes=room) + "\n"

    def append() -> bool:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
        return True

    if _attempt(notes, f"warning: could not append to {where}", append):
        notes.append(f"appended the Markdown summary to {where}")
        return True
    return False


# -- gathering the report -------------------------------------------------------------------------------------


def _run_records(run_dir: Path) -> list[TrialRecord]:
    return list(read_ledger(run_dir / TRIALS).records)


def _section(notes: list[str], name: str, compute: Callable[[], T]) -> T | None:
    """One analysis of the report; if it fails the others still render and a note says why."""
    try:
        return compute()
    except Exception as exc:  # a broken analysis must not cost the user the rest of the report
        notes.append(f"the report has no {name}: {type(exc).__name__}: {exc}")
        return None


def _problems(problems: Iterable[str]) -> list[str]:
    listed = list(problems)
    shown = listed[:MAX_PROBLEM_NOTES]
    if len(listed) > len(shown):
        shown.append(f"... and {len(listed) - len(shown)} more unreadable ledger lines")
    return shown


def build_run_report(
    *,
    summary: RunSummary | None,
    run_dir: Path,
    agent_dir: Path,
    records: Sequence[TrialRecord] | None = None,
) -> ReportDict:
    """The report of one run: its summary, LLR path, trajectory metrics, task and failure clusters, and - labelled
    as history - the Pareto front of the runs up to this one.

    ``summary``: ``None`` when the run has none (it did not finish) or it does not have the documented shape.
    ``records``: the run's trial records, when the caller has them; ``None`` reads the run's ledger (once).
    """
    from pytest_agentopt import analysis  # with a report only: about 0.25 s (numpy, scipy.stats)

    notes: list[str] = []
    if records is None:
        records = _section(notes, "ledger", lambda: _run_records(run_dir)) or []
    run_records = records
    table = _section(notes, "trial table", lambda: analysis.table_from_records(run_records))
    scope = _section(notes, "history", lambda: history_scope(agent_dir, run_dir))
    # The history feeds only the Pareto front: load just its columns, of the runs up to this one.
    history = (
        _section(
            notes,
            "history",
            lambda: analysis.load_trials(agent_dir, run_ids=scope["run_ids"], columns=analysis.CONFIG_COLUMNS),
        )
        if scope is not None and scope["run_ids"]
        else None
    )
    report: ReportDict = {
        "title": _run_title(summary, run_dir),
        "summary": summary,
        "generated_at": utc_now(),
        "source": str(run_dir),
        "notes": notes,
    }
    if summary is not None and summary["settings"]["sprt"] and records:
        settings, planned = summary["settings"], summary["trials_planned"]
        several = summary.get("candidates") or []
        if several:
            report["llr_path"] = _section(
                notes,
                "sequential test paths",
                lambda: analysis.candidates_llr_path(
                    run_records,
                    candidates={c["arm"]: c["experiment_id"] for c in several},
                    alpha=settings["alpha"],
                    beta=settings["beta"],
                    effect=settings["effect"],
                    direction=settings["direction"] or "both",
                    plan_size=planned,
                ),
            )
        else:
            report["llr_path"] = _section(
                notes,
                "sequential test path",
                lambda: analysis.llr_path(
                    run_records,
                    alpha=settings["alpha"],
                    beta=settings["beta"],
                    effect=settings["effect"],
                    direction=settings["direction"] or "both",
                    target=settings["target"],
                    plan_size=planned,
                ),
            )
    if table is not None and len(table):
        report["trajectory"] = {
            "by_arm": _section(notes, "trajectory metrics by arm", lambda: analysis.trajectory_metrics(table, "arm")),
            "by_task": _section(
                notes, "trajectory metrics by task", lambda: analysis.trajectory_metrics(table, "task")
            ),
            "by_category": _section(
                notes, "trajectory metrics by category", lambda: analysis.trajectory_metrics(table, "category")
            ),
        }
        report["failures"] = _section(notes, "failure clusters", lambda: analysis.cluster_failures(table))
        report["tasks_clusters"] = _section(notes, "task clusters", lambda: analysis.cluster_tasks(table))
    if history is not None and len(history) and scope is not None:
        notes.extend(_problems(p for p in history.problems if str(run_dir) not in p))
        report["history_pareto"] = _section(notes, "Pareto front", lambda: analysis.pareto_front(history))
        report["history_scope"] = {
            **{key: value for key, value in scope.items() if key != "run_ids"},
            "replays": history.replays,
        }
    return report


def history_scope(agent_dir: Path, run_dir: Path) -> HistoryScope:
    """The runs a run's report counts as its history: those created up to and including it (in the order of
    ``analysis.load_runs``), so that later runs never change the report of an earlier one."""
    from pytest_agentopt import analysis  # with a report only: about 0.25 s (numpy, scipy.stats)

    runs = analysis.load_runs(agent_dir)
    position = next((i for i, run in enumerate(runs) if Path(run.path).resolve() == run_dir.resolve()), None)
    kept = runs if position is None else runs[: position + 1]
    return {
        "run_ids": [run.run_id for run in kept],
        "runs": len(kept),
        "through": runs[position].run_id if position is not None else None,
        "created_at": runs[position].created_at if position is not None else None,
        "agent_dir": str(agent_dir),
    }


def _run_title(summary: RunSummary | None, run_dir: Path) -> str:
    if summary is None:
        return f"agentopt run {run_dir.name}"
    arms = summary["arms"]
    test = arms["test"]["experiment_id"] if "test" in arms else None
    control = arms["control"]["experiment_id"] if "control" in arms else None
    who = f"{test} vs {control}" if control else str(test or "")
    run_id = summary["run_id"] or run_dir.name
    return f"agentopt: {who} (run {run_id})" if who else f"agentopt run {run_id}"


def build_runs_report(run_dirs: Sequence[Path], *, agent_dir: Path) -> ReportDict:
    """The comparison of several runs: their verdicts, experiment history, guideline impact, Pareto front."""
    from pytest_agentopt import analysis  # with a report only: about 0.25 s (numpy, scipy.stats)

    notes: list[str] = []
    wanted = {directory.resolve() for directory in run_dirs}
    runs = [
        info
        for info in (_section(notes, "run list", lambda: analysis.load_runs(agent_dir)) or [])
        if Path(info.path).resolve() in wanted
    ]
    table = _section(notes, "trial table", lambda: analysis.load_trials(list(run_dirs)))
    report: ReportDict = {
        "title": f"agentopt: {len(run_dirs)} runs",
        "runs": [info.as_dict() for info in runs],
        "generated_at": utc_now(),
        "source": [directory.name for directory in run_dirs],
        "notes": notes,
    }
    if table is None or not len(table):
        notes.append("the runs have no trials")
        return report
    notes.extend(_problems(table.problems))
    if table.replays:
        notes.append(
            f"{table.replays} trials replay trials of an earlier run (same config, task and seed: a run repeated "
            "with the same --agent-seed) and are counted once"
        )
    report["history"] = _section(notes, "experiment history", lambda: analysis.experiment_history(runs, table))
    report["guidelines"] = _section(notes, "guideline impact", lambda: analysis.guideline_impact(runs, table))
    report["pareto"] = _section(notes, "Pareto front", lambda: analysis.pareto_front(table))
    report["tasks_clusters"] = _section(notes, "task clusters", lambda: analysis.cluster_tasks(table))
    report["failures"] = _section(notes, "failure clusters", lambda: analysis.cluster_failures(table))
    report["trajectory"] = {
        "by_config": _section(
            notes, "trajectory metrics by config", lambda: analysis.trajectory_metrics(table, "config")
        ),
        "by_category": _section(
            notes, "trajectory metrics by category", lambda: analysis.trajectory_metrics(table, "category")
        ),
    }
    return report
