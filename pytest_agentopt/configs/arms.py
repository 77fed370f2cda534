"""The run's arms: each arm's config validated (with pydantic) into JSON data, and the control arm chosen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentopt.configs.data import find_config, find_parent
from pytest_agentopt.configs.model import ResolvedConfig, apply_overrides, load_config
from pytest_agentopt.errors import AgentoptUsageError, ConfigError
from pytest_agentopt.run.options import RunOptions


@dataclass(frozen=True)
class ArmConfig:
    """An arm's validated config as JSON data (``AgentConfig.model_dump(mode="json")``) and where it came from."""

    data: dict[str, Any]
    hash: str
    source: str | None
    lineage: tuple[str, ...]


def validate_arms(options: RunOptions, notes: list[str] | None = None) -> dict[str, ArmConfig]:
    """Load and validate the arms' configs with pydantic; raises ConfigError / AgentoptUsageError for the user."""
    assert options.config_path is not None
    test = apply_overrides(load_config(options.config_path, notes=notes), options.overrides)
    control_path = select_control(options, test_source=options.config_path, test_parent=test.config.parent, notes=notes)
    resolved = (
        {"test": test} if control_path is None else {"control": load_config(control_path, notes=notes), "test": test}
    )

    def arm(config: ResolvedConfig) -> ArmConfig:
        source = str(config.source) if config.source is not None else None
        return ArmConfig(config.config.model_dump(mode="json"), config.hash, source, tuple(config.lineage))

    return {name: arm(config) for name, config in resolved.items()}


def select_control(
    options: RunOptions, *, test_source: Path, test_parent: str | None, notes: list[str] | None = None
) -> Path | None:
    """The control arm's config file: ``--agent-control``, else the test config's parent; none in single mode."""
    if options.single_config or options.target is not None:
        return None
    if options.control is not None:
        try:
            return find_config(options.control, relative_to=test_source, notes=notes)
        except ConfigError as exc:
            raise ConfigError(
                f"{options.given('--agent-control', options.control)}: {exc}; give a config file or an experiment "
                f"id from the test config's folder, or none for single-config mode"
            ) from None
    if test_parent is None:
        raise AgentoptUsageError(
            f"{test_source}: the test config has no 'parent', so there is no default control arm; give "
            "--agent-control=PATH (or an experiment id), or --agent-control=none for single-config mode"
        )
    return find_parent(test_source, test_parent, notes=notes)
