"""Experiment configs: validation, inheritance, overrides, content hashes and diffs.

A config is a JSON file validated by :class:`AgentConfig`. A child names its ``parent`` (a path relative to the
child's folder, or an experiment id found in that folder) and is the parent deep-merged with the child's keys:

* objects (``params``, ``prices``) merge key by key, recursively;
* any other value, lists included, replaces the parent's value;
* ``"KEY+": [...]`` appends the listed items to the parent's list at ``KEY`` (items already present are not
  repeated) and ``"KEY-": [...]`` removes them (each must be present). Both work at any depth, e.g.
  ``"guidelines+": ["Check coupon limits first"]``;
* ``experiment_id`` and ``parent`` are never inherited; a file without ``experiment_id`` takes its file name.

Each file is validated on its own before merging, so an unknown key or a wrong type is reported against the file
that contains it. Everything here is pure: it reads files and returns values, and raises :class:`ConfigError`.
The JSON side (files, chains, merging, hashes, diffs) is :mod:`pytest_agentopt.configs.data`, which does not
import pydantic; this module adds the schema and validation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from pytest_agentopt.configs.data import (
    FIELD_NAMES,
    NOT_INHERITED,
    ConfigChain,
    ConfigChange,
    canonical_json,
    chain_lineage,
    data_hash,
    data_prompt_components,
    diff_config_data,
    find_config,
    find_parent,
    list_verb,
    load_chain,
    merge_chain,
    merge_config_dicts,
    text_hash,
)
from pytest_agentopt.configs.redaction import redact
from pytest_agentopt.configs.strict_json import loads_strict
from pytest_agentopt.errors import ConfigError

__all__ = [
    "FIELD_NAMES",
    "NOT_INHERITED",
    "AgentConfig",
    "ConfigChange",
    "ModelPrices",
    "ResolvedConfig",
    "apply_overrides",
    "canonical_json",
    "config_hash",
    "diff_configs",
    "find_config",
    "load_config",
    "load_parent",
    "merge_config_dicts",
    "parse_assignment",
    "prompt_components",
    "text_hash",
    "validate_config",
]

EXPERIMENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


class ModelPrices(BaseModel):
    """A price override for one model, in US dollars per million tokens.

    ``input`` is charged on uncached input tokens; ``cache_read`` and ``cache_write`` on cached ones (they default
    to ``input`` when not given); ``output`` on all output tokens, reasoning included.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]
    cache_read: Annotated[float, Field(ge=0)] | None = None
    cache_write: Annotated[float, Field(ge=0)] | None = None


class AgentConfig(BaseModel):
    """One fully resolved experiment config: what the ``agent_config`` fixture gives a task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    experiment_id: Annotated[str, Field(pattern=EXPERIMENT_ID_PATTERN)]
    parent: str | None = None
    model_id: Annotated[str, Field(min_length=1)]
    provider: str | None = None
    guidelines: list[str] = Field(default_factory=list)
    system_prompt: list[str] = Field(default_factory=list)
    temperature: Annotated[float, Field(ge=0, le=2)] = 0.0
    max_steps: Annotated[int, Field(ge=1)] = 20
    params: dict[str, Any] = Field(default_factory=dict)
    prices: dict[str, ModelPrices] = Field(default_factory=dict)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """``repr()`` and ``str()`` (what tracebacks and assertion messages show) with secrets redacted; the
        attributes and ``model_dump()`` keep the real values, which the agent needs."""
        for name, value in super().__repr_args__():
            yield name, redact({"params": value})["params"] if name == "params" else value


def _partial_model() -> type[BaseModel]:
    """The config model with every field optional: validates one file of an inheritance chain on its own."""
    fields: dict[str, Any] = {}
    for name, info in AgentConfig.model_fields.items():
        annotation: Any = info.annotation
        if info.metadata:
            annotation = Annotated[(annotation, *info.metadata)]
        fields[name] = (annotation | None, None)
    return create_model("PartialAgentConfig", __config__=ConfigDict(extra="forbid"), **fields)


_PartialAgentConfig = _partial_model()


@dataclass(frozen=True)
class ResolvedConfig:
    """A validated config with where it came from."""

    config: AgentConfig
    source: Path | None
    chain: tuple[Path, ...] = ()
    overrides: tuple[str, ...] = ()
    lineage: tuple[str, ...] = ()
    """The experiment ids of the inheritance chain, this config's first (resolved, not as written in files)."""
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", config_hash(self.config))

    @property
    def experiment_id(self) -> str:
        return self.config.experiment_id

    def describe(self) -> str:
        """``exp_042 (configs/exp_042.json)`` for messages and headers."""
        where = f" ({self.source})" if self.source is not None else ""
        return f"{self.experiment_id}{where}"


# ---------------------------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------------------------


def load_config(path: str | Path, *, notes: list[str] | None = None) -> ResolvedConfig:
    """Load, inherit and validate the config at ``path``; ``notes`` receives a line for each file skipped while a
    parent was looked up by experiment id (see ``config_data.load_chain``)."""
    path = Path(path)
    chain = _load_chain(path, notes)
    config = _validate_merged(merge_chain(chain), where=str(path), chain=[p for p, _ in chain])
    return ResolvedConfig(config=config, source=path, chain=tuple(p for p, _ in chain), lineage=chain_lineage(chain))


def load_parent(resolved: ResolvedConfig) -> ResolvedConfig | None:
    """The resolved parent of ``resolved``, or ``None`` when it has none."""
    if resolved.config.parent is None or resolved.source is None:
        return None
    return load_config(find_parent(resolved.source, resolved.config.parent))


def _load_chain(path: Path, notes: list[str] | None = None) -> ConfigChain:
    """The inheritance chain with each file validated on its own (before its parent is read)."""
    return load_chain(path, check=lambda raw, where: _validate_file(raw, where=where), notes=notes)


# ---------------------------------------------------------------------------------------------------------------
# Merging and overrides
# ---------------------------------------------------------------------------------------------------------------


def apply_overrides(resolved: ResolvedConfig, assignments: Sequence[str]) -> ResolvedConfig:
    """Apply ``KEY=VALUE`` overrides (dotted keys, JSON values, ``KEY+=[...]`` to append) to a config."""
    if not assignments:
        return resolved
    data = resolved.config.model_dump(mode="json")
    for assignment in assignments:
        where = f"--agent-set {assignment}"
        key, value = parse_assignment(assignment)
        data = merge_config_dicts(data, _nest(key, value), where=where)
        data["experiment_id"] = resolved.config.experiment_id
        data["parent"] = resolved.config.parent
        _validate_merged(data, where=where, chain=[])
    config = _validate_merged(data, where="--agent-set", chain=[])
    return ResolvedConfig(
        config=config,
        source=resolved.source,
        chain=resolved.chain,
        overrides=(*resolved.overrides, *assignments),
        lineage=resolved.lineage,
    )


def parse_assignment(assignment: str) -> tuple[str, Any]:
    """``'params.tools=["a"]'`` -> ``("params.tools", ["a"])``; a value that is not JSON is a string."""
    key, sep, text = assignment.partition("=")
    key = key.strip()
    if not sep or not key or key.strip(".+-") == "":
        raise ConfigError(
            f"--agent-set {assignment}: expected KEY=VALUE with a dotted KEY and a JSON VALUE, "
            "e.g. --agent-set temperature=0.3 or --agent-set 'guidelines+=[\"Be brief\"]'"
        )
    if key.split(".")[0].rstrip("+-") in NOT_INHERITED:
        raise ConfigError(f"--agent-set {assignment}: {key.split('.')[0]!r} cannot be overridden")
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return key, text  # not JSON: the text itself
    except (ValueError, RecursionError):
        pass  # JSON that Python refuses (a huge integer, deep nesting): the strict reader says what is wrong
    # Read again strictly: NaN, duplicate keys, lone surrogates... are refused with the field named.
    value: Any = loads_strict(text, where=f"--agent-set {assignment}", error=ConfigError)
    return key, value


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    parts = dotted.split(".")
    nested: dict[str, Any] = {parts[-1]: value}
    for part in reversed(parts[:-1]):
        nested = {part: nested}
    return nested


# ---------------------------------------------------------------------------------------------------------------
# Validation and messages
# ---------------------------------------------------------------------------------------------------------------


def _validate_file(raw: Mapping[str, Any], *, where: str) -> None:
    plain: dict[str, Any] = {}
    for key, value in raw.items():
        if key.endswith(("+", "-")) and len(key) > 1:
            name = key[:-1]
            if name not in FIELD_NAMES:
                raise ConfigError(_unknown_key_message(where, key))
            if not isinstance(value, list):
                raise ConfigError(f"{where}: field {key!r}: must be a list of items to {list_verb(key[-1])} {name!r}")
            continue
        plain[key] = value
    try:
        _PartialAgentConfig.model_validate(plain)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, where=where)) from None


def validate_config(data: Mapping[str, Any], *, where: str) -> AgentConfig:
    """A resolved config given as data (e.g. from a manifest); :class:`ConfigError` starting with ``where``."""
    return _validate_merged(data, where=where, chain=[])


def _validate_merged(data: Mapping[str, Any], *, where: str, chain: Sequence[Path]) -> AgentConfig:
    try:
        return AgentConfig.model_validate(data)
    except ValidationError as exc:
        message = _validation_message(exc, where=where)
        if len(chain) > 1:
            message += " (inheritance chain: " + " -> ".join(str(p) for p in chain) + ")"
        raise ConfigError(message) from None


def _validation_message(exc: ValidationError, *, where: str) -> str:
    problems: list[str] = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            top = str(error["loc"][0])
            if len(error["loc"]) == 1:
                problems.append(_unknown_key_message(where, top).split(": ", 1)[1])
            else:
                problems.append(f"field {loc!r}: unknown key")
            continue
        if error["type"] == "missing":
            problems.append(f"field {loc!r}: required, missing (set it here or in a parent config)")
            continue
        got = error.get("input")
        problems.append(f"field {loc!r}: {error['msg']} (got {json.dumps(got, default=str)})")
    return f"{where}: " + "; ".join(problems)


def _unknown_key_message(where: str, key: str) -> str:
    valid = ", ".join(FIELD_NAMES)
    return (
        f"{where}: field {key!r}: unknown key; valid keys are {valid} (and KEY+ / KEY- for lists); "
        "the agent's own settings go under 'params'"
    )


# ---------------------------------------------------------------------------------------------------------------
# Hashes and diffs (of the validated data: ``config_data`` has the functions)
# ---------------------------------------------------------------------------------------------------------------


def config_hash(config: AgentConfig) -> str:
    """A stable content hash: equal for configs that behave the same, whatever their ids and parents."""
    return data_hash(config.model_dump(mode="json"))


def prompt_components(config: AgentConfig) -> dict[str, str]:
    """``{md5: text}`` for every guideline and system prompt part."""
    return data_prompt_components(config.model_dump(mode="json"))


def diff_configs(control: AgentConfig, test: AgentConfig) -> list[ConfigChange]:
    """The keys (dotted into objects) whose values differ, excluding ids and parents."""
    return diff_config_data(control.model_dump(mode="json"), test.model_dump(mode="json"))
