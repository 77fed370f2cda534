"""The statistics package is import-light: it is imported at plugin start-up in every xdist worker."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module", ["pytest_agentopt.stats", "pytest_agentopt.stats.intervals", "pytest_agentopt.stats.sprt"]
)
def test_it_imports_without_numpy_scipy_or_pytest(module: str) -> None:
    # Relative to the parent package, whose own imports are not this package's business.
    code = (
        "import sys, pytest_agentopt; before = set(sys.modules); "
        f"import {module}; "
        "added = set(sys.modules) - before; "
        "print(','.join(sorted(m for m in added if m.split('.')[0] in ('numpy', 'scipy', 'pytest'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_it_re_exports_the_hot_path_names() -> None:
    import pytest_agentopt.stats as stats

    for name in (
        "PairedSequentialTest",
        "TargetSequentialTest",
        "SequentialSettings",
        "wilson_interval",
        "exact_mcnemar_p",
        "paired_difference_interval",
        "wald_bounds",
        "paired_llr",
    ):
        assert hasattr(stats, name)


def test_the_cost_ratio_of_a_paired_run_is_computed_without_numpy_or_scipy() -> None:
    """Every paired run that records costs computes the cost ratio's confidence sequence at its end: importing
    numpy and scipy.special for it cost such a run about 0.35 s of start-up (docs/performance.md)."""
    code = (
        "import sys; from pytest_agentopt.stats.cost_ratio import paired_cost_ratio; "
        "ratio = paired_cost_ratio([(1.0 + i % 3, 2.0 + i % 5) for i in range(40)], 0.05); "
        "assert ratio is not None and ratio['lower'] is not None, ratio; "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy'))))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
