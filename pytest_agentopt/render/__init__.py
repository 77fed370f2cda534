"""Reports people read: Markdown, self-contained HTML with inline SVG charts, and a CSV of every trial.

The renderers format the plain ``report`` dict described in ``docs/reports.md`` and compute nothing but layout;
the figures come from the run summary and ``pytest_agentopt.analysis``.
"""

from __future__ import annotations

from .csv import read_trials_csv, write_trials_csv
from .html import render_html
from .markdown import render_markdown
from .svg import llr_chart_svg, pareto_chart_svg

__all__ = [
    "llr_chart_svg",
    "pareto_chart_svg",
    "read_trials_csv",
    "render_html",
    "render_markdown",
    "write_trials_csv",
]
