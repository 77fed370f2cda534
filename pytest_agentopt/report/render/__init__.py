"""Reports people read: Markdown, self-contained HTML with inline SVG charts, and a CSV of every trial.

The renderers format the plain ``report`` dict described in ``docs/reports.md`` and compute nothing but layout;
the figures come from the run summary and ``pytest_agentopt.analysis``. Import them from their modules
(``pytest_agentopt.report.render.html.render_html``, ``.markdown``, ``.svg``, ``.csv``): this package exports
nothing, so the terminal report, which uses :mod:`pytest_agentopt.report.render.wording` at the end of every run,
loads no renderer.
"""
