"""pytest-agentopt: sequential A/B testing of LLM agents inside pytest.

The public API - what tasks, conftest files and scripts import - is what this module exports (``__all__``,
documented in ``docs/api.md``)::

    from pytest_agentopt import AgentConfig, AgentTrial, FakeLLM, TokenUsage

Everything else is internal and may move between releases. The names are loaded on first use, on purpose: pytest
imports this package in every process through the plugin's entry point, and most runs need none of them at start-up
(configs pull in pydantic, the fake server the HTTP stack).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig, load_config
    from pytest_agentopt.errors import ConfigError
    from pytest_agentopt.fake_llm import (
        ErrorReply,
        FakeLLM,
        FakeUsage,
        RecordedRequest,
        TextReply,
        ToolCall,
        ToolCallReply,
    )
    from pytest_agentopt.recording.agent_trial import AgentTrial
    from pytest_agentopt.recording.pricing import estimate_cost
    from pytest_agentopt.recording.usage import TokenUsage, normalize_usage
    from pytest_agentopt.report.render.csv import read_trials_csv, write_trials_csv
    from pytest_agentopt.report.render.html import render_html
    from pytest_agentopt.report.render.markdown import render_markdown
    from pytest_agentopt.report.render.svg import llr_chart_svg, pareto_chart_svg

__version__ = "0.1.0"

_EXPORTS = {
    "AgentConfig": "pytest_agentopt.configs.model",
    "AgentTrial": "pytest_agentopt.recording.agent_trial",
    "ConfigError": "pytest_agentopt.errors",
    "ErrorReply": "pytest_agentopt.fake_llm",
    "FakeLLM": "pytest_agentopt.fake_llm",
    "FakeUsage": "pytest_agentopt.fake_llm",
    "RecordedRequest": "pytest_agentopt.fake_llm",
    "TextReply": "pytest_agentopt.fake_llm",
    "TokenUsage": "pytest_agentopt.recording.usage",
    "ToolCall": "pytest_agentopt.fake_llm",
    "ToolCallReply": "pytest_agentopt.fake_llm",
    "estimate_cost": "pytest_agentopt.recording.pricing",
    "load_config": "pytest_agentopt.configs.model",
    "normalize_usage": "pytest_agentopt.recording.usage",
    "read_trials_csv": "pytest_agentopt.report.render.csv",
    "write_trials_csv": "pytest_agentopt.report.render.csv",
    "render_html": "pytest_agentopt.report.render.html",
    "render_markdown": "pytest_agentopt.report.render.markdown",
    "llr_chart_svg": "pytest_agentopt.report.render.svg",
    "pareto_chart_svg": "pytest_agentopt.report.render.svg",
}

__all__ = [
    "AgentConfig",
    "AgentTrial",
    "ConfigError",
    "ErrorReply",
    "FakeLLM",
    "FakeUsage",
    "RecordedRequest",
    "TextReply",
    "TokenUsage",
    "ToolCall",
    "ToolCallReply",
    "__version__",
    "estimate_cost",
    "llr_chart_svg",
    "load_config",
    "normalize_usage",
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
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
