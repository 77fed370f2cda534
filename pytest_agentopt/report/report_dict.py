"""The ``report`` dict the Markdown and HTML renderers take (``docs/reports.md``): what ``report.files`` gathers.

Every key may be missing. ``summary`` is a :class:`~pytest_agentopt.storage.summary_schema.RunSummary` or ``None``
(no summary: the run did not finish, or its ``summary.json`` does not have the documented shape); the renderers
check a summary given to them once (``render.sections.build_document``), since ``render_markdown`` and
``render_html`` are public and take a plain dict. The analysis sections are the rows ``pytest_agentopt.analysis``
returns; the renderers read them defensively, as documented for hand-made reports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    from pytest_agentopt.storage.summary_schema import RunSummary

__all__ = ["ReportDict"]

AnalysisRows = list[dict[str, object]] | None
"""Rows of an analysis (``cluster_tasks``, ``cluster_failures``, ``trajectory_metrics``...), ``None`` when it
failed (a note says why)."""


class ReportDict(TypedDict, total=False):
    """The report's keys (``docs/reports.md``); any may be missing or ``None``."""

    title: str | None
    summary: RunSummary | None
    generated_at: str | None
    source: str | list[str] | None
    notes: list[str] | None
    llr_path: dict[str, object] | None
    trajectory: dict[str, AnalysisRows] | None
    pareto: dict[str, object] | None
    history_pareto: dict[str, object] | None
    history_scope: dict[str, object] | None
    tasks_clusters: AnalysisRows
    failures: AnalysisRows
    history: AnalysisRows
    guidelines: AnalysisRows
    runs: list[dict[str, object]] | None
