"""Deprecated: the import path the first documentation gave for the renderers; use
``from pytest_agentopt import render_html, render_markdown, ...``.

Kept so that scripts written against it keep working; it warns once and will be removed in a later release.
"""

from __future__ import annotations

import warnings

from pytest_agentopt.report.render.csv import read_trials_csv, write_trials_csv
from pytest_agentopt.report.render.html import render_html
from pytest_agentopt.report.render.markdown import render_markdown
from pytest_agentopt.report.render.svg import llr_chart_svg, pareto_chart_svg

warnings.warn(
    "pytest_agentopt.render is deprecated: import its functions from pytest_agentopt",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["llr_chart_svg", "pareto_chart_svg", "read_trials_csv", "render_html", "render_markdown", "write_trials_csv"]
