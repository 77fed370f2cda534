"""Experiment configs: validation, inheritance, overrides, content hashes, diffs and secret redaction.

``from pytest_agentopt.configs import AgentConfig, load_config`` is the first documented import and keeps working
(``from pytest_agentopt import AgentConfig, load_config`` is the public one). The two are loaded on first use, on
purpose: the modules beside them (redaction, the config data) run in every xdist worker, which must not pay for
pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_agentopt.configs.model import AgentConfig, load_config

__all__ = ["AgentConfig", "load_config"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pytest_agentopt.configs import model

    return getattr(model, name)
