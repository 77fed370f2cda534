"""The public API: what ``pytest_agentopt`` exports, that it costs nothing at import, and that docs/api.md lists it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pytest_agentopt

DOCS = Path(__file__).resolve().parents[2] / "docs" / "api.md"


@pytest.mark.parametrize("name", [name for name in pytest_agentopt.__all__ if name != "__version__"])
def test_every_exported_name_is_importable_and_documented(name: str) -> None:
    value = getattr(pytest_agentopt, name)
    assert getattr(value, "__name__", name) == name
    assert re.search(rf"`{re.escape(name)}[`(]", DOCS.read_text()), f"docs/api.md does not describe {name}"


def test_the_fixture_type_is_the_exported_type() -> None:
    from pytest_agentopt.recording.agent_trial import AgentTrial

    assert pytest_agentopt.AgentTrial is AgentTrial


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = pytest_agentopt.no_such_name


def test_importing_the_package_loads_none_of_the_exports() -> None:
    code = (
        "import sys, pytest_agentopt\n"
        "print(sorted(m for m in ('pydantic', 'pytest_agentopt.fake_llm.server', 'genai_prices') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("usage", ["TokenUsage", "normalize_usage"]),
        ("pricing", ["estimate_cost"]),
        ("recorder", ["TrialRecorder"]),
        ("render", ["render_html", "render_markdown", "read_trials_csv", "write_trials_csv", "llr_chart_svg"]),
    ],
)
def test_the_first_documented_import_paths_still_work_and_warn(module: str, names: list[str]) -> None:
    sys.modules.pop(f"pytest_agentopt.{module}", None)
    with pytest.warns(DeprecationWarning, match=f"pytest_agentopt.{module} is deprecated"):
        old = importlib.import_module(f"pytest_agentopt.{module}")
    for name in names:
        assert getattr(old, name) is getattr(pytest_agentopt, "AgentTrial" if name == "TrialRecorder" else name)


def test_the_configs_package_still_gives_the_config_type() -> None:
    from pytest_agentopt.configs import AgentConfig, load_config

    assert (AgentConfig, load_config) == (pytest_agentopt.AgentConfig, pytest_agentopt.load_config)
