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
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from .errors import ConfigError

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


FIELD_NAMES: tuple[str, ...] = tuple(AgentConfig.model_fields)
# Names, not behaviour: never inherited, and kept out of the content hash and of diffs.
NOT_INHERITED = frozenset({"experiment_id", "parent"})


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


def load_config(path: str | Path) -> ResolvedConfig:
    """Load, inherit and validate the config at ``path``."""
    path = Path(path)
    chain = _load_chain(path)
    merged: dict[str, Any] = {}
    for file_path, raw in reversed(chain):
        merged = merge_config_dicts(merged, raw, where=str(file_path))
        if "experiment_id" not in raw:
            merged["experiment_id"] = file_path.stem
        merged["parent"] = raw.get("parent")
    config = _validate_merged(merged, where=str(path), chain=[p for p, _ in chain])
    lineage = tuple(str(raw.get("experiment_id", file_path.stem)) for file_path, raw in chain)
    return ResolvedConfig(config=config, source=path, chain=tuple(p for p, _ in chain), lineage=lineage)


def load_parent(resolved: ResolvedConfig) -> ResolvedConfig | None:
    """The resolved parent of ``resolved``, or ``None`` when it has none."""
    if resolved.config.parent is None or resolved.source is None:
        return None
    return load_config(_find_parent(resolved.source, resolved.config.parent))


def find_config(reference: str, *, relative_to: Path | None) -> Path:
    """A config file from a path (relative to the current directory) or an experiment id (looked up in the folder
    of ``relative_to``); the message of a :class:`ConfigError` does not name where the reference came from."""
    as_path = Path(reference)
    if as_path.is_file():
        return as_path
    if _looks_like_path(reference) or relative_to is None:
        raise ConfigError(f"no config file {reference}")
    found = _find_by_id(relative_to.parent, reference)
    if found is None:
        raise ConfigError(_no_such_id(relative_to.parent, reference))
    return found


def _looks_like_path(reference: str) -> bool:
    return reference.endswith(".json") or "/" in reference or "\\" in reference


def _load_chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """``[(child, raw), (parent, raw), ...]`` with each file validated on its own."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: dict[Path, int] = {}
    current: Path | None = path
    while current is not None:
        key = current.resolve()
        if key in seen:
            cycle = " -> ".join(str(p) for p, _ in chain[seen[key] :]) + f" -> {current}"
            raise ConfigError(f"{chain[-1][0]}: field 'parent': inheritance cycle: {cycle}")
        seen[key] = len(chain)
        raw = read_config_file(current)
        chain.append((current, raw))
        parent = raw.get("parent")
        current = _find_parent(current, parent) if parent is not None else None
    return chain


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse one config file and validate its keys and types (without inheritance)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a JSON object, got {_json_type(raw)}")
    _validate_file(raw, where=str(path))
    return raw


def _find_parent(child: Path, reference: object) -> Path:
    if not isinstance(reference, str) or not reference:
        raise ConfigError(
            f"{child}: field 'parent': must be a path or an experiment id (a non-empty string), got {reference!r}"
        )
    folder = child.parent
    if _looks_like_path(reference):
        candidate = folder / reference
        if candidate.is_file():
            return candidate
        raise ConfigError(f"{child}: field 'parent': no config file {candidate}")
    found = _find_by_id(folder, reference)
    if found is None:
        raise ConfigError(
            f"{child}: field 'parent': {_no_such_id(folder, reference)}; give an experiment id or a path such as "
            "'../other/base.json'"
        )
    return found


def _find_by_id(folder: Path, experiment_id: str) -> Path | None:
    """The config in ``folder`` named ``<id>.json``, or whose ``experiment_id`` is ``experiment_id``."""
    by_name = folder / f"{experiment_id}.json"
    if by_name.is_file():
        return by_name
    for candidate in sorted(folder.glob("*.json")):
        if _experiment_id_of(candidate) == experiment_id:
            return candidate
    return None


def _experiment_id_of(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    experiment_id = data.get("experiment_id", path.stem) if isinstance(data, dict) else None
    return experiment_id if isinstance(experiment_id, str) else None


def _no_such_id(folder: Path, experiment_id: str) -> str:
    known = [found for found in map(_experiment_id_of, sorted(folder.glob("*.json"))) if found is not None]
    return (
        f"no config with experiment_id {experiment_id!r} in {folder}/ "
        f"(experiment ids there: {', '.join(known) if known else 'none'})"
    )


# ---------------------------------------------------------------------------------------------------------------
# Merging and overrides
# ---------------------------------------------------------------------------------------------------------------


def merge_config_dicts(base: Mapping[str, Any], child: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """``child`` deep-merged over ``base`` with the ``KEY+`` / ``KEY-`` list forms (see the module doc)."""
    return _merge(dict(base), child, where=where, prefix="", top=True)


def _merge(base: dict[str, Any], child: Mapping[str, Any], *, where: str, prefix: str, top: bool) -> dict[str, Any]:
    result = dict(base)
    if top:
        for key in NOT_INHERITED:
            result.pop(key, None)
    for key, value in child.items():
        dotted = f"{prefix}{key}"
        if key.endswith(("+", "-")) and len(key) > 1:
            name, sign = key[:-1], key[-1]
            result[name] = _extend_or_remove(result.get(name), value, sign, where=where, dotted=dotted)
        elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = _merge(dict(result[key]), value, where=where, prefix=f"{dotted}.", top=False)
        else:
            result[key] = _strip_list_forms(value, where=where, dotted=dotted)
    return result


def _strip_list_forms(value: Any, *, where: str, dotted: str) -> Any:
    """Apply ``KEY+``/``KEY-`` inside a new object that has nothing to merge with (they act on empty lists)."""
    if isinstance(value, Mapping):
        return _merge({}, value, where=where, prefix=f"{dotted}.", top=False)
    return value


def _extend_or_remove(current: Any, items: Any, sign: str, *, where: str, dotted: str) -> list[Any]:
    name = dotted[:-1]
    if not isinstance(items, list):
        raise ConfigError(f"{where}: field {dotted!r}: must be a list of items to {_verb(sign)} {name!r}")
    if current is None:
        current = []
    if not isinstance(current, list):
        raise ConfigError(f"{where}: field {dotted!r}: {name!r} is {_json_type(current)} in the parent, not a list")
    if sign == "+":
        return current + [item for item in items if item not in current]
    missing = [item for item in items if item not in current]
    if missing:
        raise ConfigError(
            f"{where}: field {dotted!r}: cannot remove {missing[0]!r}: it is not in the inherited {name!r} "
            f"({json.dumps(current)})"
        )
    return [item for item in current if item not in items]


def _verb(sign: str) -> str:
    return "append to" if sign == "+" else "remove from"


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
        value: Any = json.loads(text)
    except json.JSONDecodeError:
        value = text
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"--agent-set {assignment}: value must be finite")
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
                raise ConfigError(f"{where}: field {key!r}: must be a list of items to {_verb(key[-1])} {name!r}")
            continue
        plain[key] = value
    try:
        _PartialAgentConfig.model_validate(plain)
    except ValidationError as exc:
        raise ConfigError(_validation_message(exc, where=where)) from None


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


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "null"
    return "an object"


# ---------------------------------------------------------------------------------------------------------------
# Hashes and diffs
# ---------------------------------------------------------------------------------------------------------------


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def config_hash(config: AgentConfig) -> str:
    """A stable content hash: equal for configs that behave the same, whatever their ids and parents."""
    data = {k: v for k, v in config.model_dump(mode="json").items() if k not in NOT_INHERITED}
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    """MD5 of a prompt component (the original design's ``hashes.dict`` keys)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def prompt_components(config: AgentConfig) -> dict[str, str]:
    """``{md5: text}`` for every guideline and system prompt part."""
    return {text_hash(text): text for text in (*config.system_prompt, *config.guidelines)}


@dataclass(frozen=True)
class ConfigChange:
    key: str
    before: Any
    after: Any

    def describe(self) -> str:
        if isinstance(self.before, list) and isinstance(self.after, list):
            added = [item for item in self.after if item not in self.before]
            removed = [item for item in self.before if item not in self.after]
            parts = [f"+{json.dumps(item, ensure_ascii=False)}" for item in added]
            parts += [f"-{json.dumps(item, ensure_ascii=False)}" for item in removed]
            if parts:
                return f"{self.key}: " + ", ".join(parts)
        return f"{self.key}: {_short(self.before)} -> {_short(self.after)}"


def diff_configs(control: AgentConfig, test: AgentConfig) -> list[ConfigChange]:
    """The keys (dotted into objects) whose values differ, excluding ids and parents."""
    before = {k: v for k, v in control.model_dump(mode="json").items() if k not in NOT_INHERITED}
    after = {k: v for k, v in test.model_dump(mode="json").items() if k not in NOT_INHERITED}
    return list(_diff(before, after, prefix=""))


def _diff(before: Mapping[str, Any], after: Mapping[str, Any], *, prefix: str) -> Iterable[ConfigChange]:
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            yield from _diff(old, new, prefix=f"{prefix}{key}.")
        else:
            yield ConfigChange(f"{prefix}{key}", old, new)


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 3] + "..."
