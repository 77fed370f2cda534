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
    if options.candidate_count > 1:
        return _validate_candidates(options, notes)
    assert options.config_path is not None
    test = apply_overrides(load_config(options.config_path, notes=notes), options.overrides)
    control_path = select_control(options, test_source=options.config_path, test_parent=test.config.parent, notes=notes)
    resolved = (
        {"test": test} if control_path is None else {"control": load_config(control_path, notes=notes), "test": test}
    )

    return {name: _arm(config) for name, config in resolved.items()}


def _arm(config: ResolvedConfig) -> ArmConfig:
    source = str(config.source) if config.source is not None else None
    return ArmConfig(config.config.model_dump(mode="json"), config.hash, source, tuple(config.lineage))


def _validate_candidates(options: RunOptions, notes: list[str] | None) -> dict[str, ArmConfig]:
    """Several candidates against one control: ``--agent-control``, else the candidates' common parent.

    ``--agent-set`` overrides apply to every candidate (never to the control).
    """
    from pytest_agentopt.run.trial_order import candidate_arms

    paths = options.candidate_paths
    candidates = [apply_overrides(load_config(path, notes=notes), options.overrides) for path in paths]
    if options.control is not None:
        control_path = select_control(options, test_source=paths[0], test_parent=None, notes=notes)
    else:
        control_path = common_parent(paths, [candidate.config.parent for candidate in candidates], notes=notes)
    assert control_path is not None
    control = load_config(control_path, notes=notes)
    arms = {"control": _arm(control)}
    for name, candidate, path in zip(candidate_arms(len(paths)), candidates, paths, strict=True):
        if candidate.hash == control.hash:
            raise AgentoptUsageError(
                f"{path}: this candidate is the control config itself ({control_path}); give candidates that differ "
                "from the control"
            )
        arms[name] = _arm(candidate)
    return arms


def common_parent(paths: tuple[Path, ...], parents: list[str | None], notes: list[str] | None = None) -> Path:
    """The config file every candidate names as its ``parent``; a usage error when they name none or different ones."""
    found: dict[Path, list[Path]] = {}
    orphans = [path for path, parent in zip(paths, parents, strict=True) if parent is None]
    if orphans:
        raise AgentoptUsageError(
            f"{', '.join(map(str, orphans))}: no 'parent' field, so the candidates have no common parent to use as "
            "the control arm; give --agent-control=PATH (or an experiment id)"
        )
    for path, parent in zip(paths, parents, strict=True):
        found.setdefault(find_parent(path, parent, notes=notes).resolve(), []).append(path)
    if len(found) > 1:
        described = "; ".join(
            f"{', '.join(map(str, children))} -> {parent}" for parent, children in sorted(found.items())
        )
        raise AgentoptUsageError(
            f"the candidates have no common parent ({described}); give --agent-control=PATH (or an experiment id) "
            "to compare them all with one control"
        )
    return next(iter(found))


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
