"""Reports people read: Markdown, self-contained HTML with inline SVG charts, and a CSV of every trial.

The renderers format the plain ``report`` dict described in ``docs/reports.md`` and compute nothing but layout;
the figures come from the run summary and ``pytest_agentopt.analysis``.

The renderers are imported on first use (``from pytest_agentopt.report.render import render_html`` still works):
the plugin's terminal report imports :mod:`pytest_agentopt.number_format` at the end of every run and must
not pay for the HTML, Markdown and SVG modules it does not use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentopt.report.render.csv import read_trials_csv, write_trials_csv
    from pytest_agentopt.report.render.html import render_html
    from pytest_agentopt.report.render.markdown import render_markdown
    from pytest_agentopt.report.render.svg import llr_chart_svg, pareto_chart_svg

_EXPORTS = {
    "llr_chart_svg": "svg",
    "pareto_chart_svg": "svg",
    "read_trials_csv": "csv",
    "render_html": "html",
    "render_markdown": "markdown",
    "write_trials_csv": "csv",
}

__all__ = [
    "llr_chart_svg",
    "pareto_chart_svg",
    "read_trials_csv",
    "render_html",
    "render_markdown",
    "write_trials_csv",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
