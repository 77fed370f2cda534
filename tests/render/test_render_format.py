"""``number_format``: the one way figures read, in the terminal, the history commands and the Markdown/HTML reports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pytest_agentopt import number_format as fmt
from pytest_agentopt.cli.pareto_cmd import _cells as pareto_cells


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0.0024, "$0.0024"),
        (0.5, "$0.5000"),
        (0.011, "$0.0110"),
        (3e-05, "$0.000030"),  # not "$0.0000", which reads as free
        (2.5e-07, "$0.00000025"),
        (0.000099999, "$0.000100"),  # rounded up to the next power of ten: one more digit, never fewer
        (0.0, "$0.0000"),
        (1.0, "$1.00"),
        (1234.567, "$1,234.57"),
        (-0.0024, "-$0.0024"),
        (None, "unknown"),
        (float("nan"), "unknown"),
    ],
)
def test_dollars_keep_two_significant_digits_below_a_cent(amount: float | None, text: str) -> None:
    assert fmt.usd(amount) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.23456, "1.23x"), (0.936, "0.94x"), (0.0451, "0.045x"), (12.345, "12.35x"), (None, "-")],
)
def test_ratios_read_with_two_decimals_or_two_significant_digits(value: float | None, text: str) -> None:
    assert fmt.ratio(value) == text


def test_an_interval_is_formatted_like_its_estimate() -> None:
    assert fmt.with_interval(0.8125, [0.647, 0.911]) == "81.2% [64.7%, 91.1%]"
    assert fmt.with_interval(0.0024, [0.0018, 0.0029], fmt.usd) == "$0.0024 [$0.0018, $0.0029]"
    assert fmt.with_interval(0.25, [-0.042, 0.529], fmt.signed) == "+0.250 [-0.042, +0.529]"
    assert fmt.with_interval(None, [0.1, 0.2], fmt.usd) == "unknown"
    assert fmt.with_interval(0.5, None) == "50.0%"


def test_the_history_commands_print_the_reports_figures() -> None:
    point = {
        "experiment_id": "cheap",
        "on_front": True,
        "config_hash": "0123456789abcdef",
        "model": "m",
        "trials": 40,
        "success_rate": 0.5,
        "success_ci": [0.35, 0.65],
        "cost_per_task_usd": 3e-05,
        "cost_ci": [2e-05, 4e-05],
        "p_dominated": 0.25,
        "meets_kpi": False,
    }
    cells = pareto_cells(point)
    assert cells[4] == fmt.with_interval(0.5, [0.35, 0.65]) == "50.0% [35.0%, 65.0%]"
    assert cells[5] == "$0.000030 [$0.000020, $0.000040]"
    assert cells[6] == "25%"


def test_importing_the_terminal_report_loads_no_renderer() -> None:
    """The plugin imports the terminal report at the end of every run: it must not pay for HTML, SVG, CSV, numpy
    (the renderers alone cost about 0.06 s of CPU; see report/files.py)."""
    code = (
        "import sys\n"
        "import pytest_agentopt.report.terminal\n"
        "render = 'pytest_agentopt.report.render.'\n"
        "heavy = (render + 'html', render + 'markdown', render + 'svg', render + 'csv', render + 'sections',\n"
        "         'pytest_agentopt.analysis', 'pytest_agentopt.configs.model', 'numpy')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"
