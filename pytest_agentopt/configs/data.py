"""Experiment configs as JSON data: finding files, inheritance chains, merging, overrides, hashes and diffs.

Everything here works on plain JSON values and never imports pydantic, so that the history commands and the
xdist workers can read configs without it; validation is :mod:`pytest_agentopt.configs.model`'s job, and the
merge rules are documented there. Errors are :class:`ConfigError` naming the file and the field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_agentopt.configs.redaction import redact
from pytest_agentopt.configs.strict_json import read_json_file
from pytest_agentopt.errors import ConfigError

# The keys of a config, in the order of ``AgentConfig``'s fields (a test keeps the two in step).
FIELD_NAMES: tuple[str, ...] = (
    "experiment_id",
    "parent",
    "model_id",
    "provider",
    "guidelines",
    "system_prompt",
    "temperature",
    "max_steps",
    "params",
    "prices",
)
# Names, not behaviour: never inherited, and kept out of the content hash and of diffs.
NOT_INHERITED = frozenset({"experiment_id", "parent"})

ConfigChain = list[tuple[Path, dict[str, Any]]]
"""``[(child, raw), (parent, raw), ...]``: the files of an inheritance chain as parsed, the config's first."""


# ---------------------------------------------------------------------------------------------------------------
# Files and chains
# ---------------------------------------------------------------------------------------------------------------


def read_config_json(path: Path) -> dict[str, Any]:
    """Parse one config file: a JSON object (its keys and types are checked by ``configs``).

    Read strictly (:mod:`pytest_agentopt.configs.strict_json`): a file that is not UTF-8, not a regular file, or holds
    duplicate keys, NaN, an overlong integer or a lone surrogate is refused, naming the file and the field.
    """
    raw = read_json_file(path, error=ConfigError, what="config file")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a JSON object, got {json_type(raw)}")
    return raw


def load_chain(
    path: Path, check: Callable[[dict[str, Any], str], None] | None = None, *, notes: list[str] | None = None
) -> ConfigChain:
    """The inheritance chain of ``path``; ``check(raw, where)`` runs on each file before its parent is read.

    ``notes`` receives a line for every file skipped while a parent was looked up by experiment id.
    """
    chain: ConfigChain = []
    seen: dict[Path, int] = {}
    current: Path | None = path
    while current is not None:
        key = current.resolve()
        if key in seen:
            cycle = " -> ".join(str(p) for p, _ in chain[seen[key] :]) + f" -> {current}"
            raise ConfigError(f"{chain[-1][0]}: field 'parent': inheritance cycle: {cycle}")
        seen[key] = len(chain)
        raw = read_config_json(current)
        if check is not None:
            check(raw, str(current))
        chain.append((current, raw))
        parent = raw.get("parent")
        current = find_parent(current, parent, notes=notes) if parent is not None else None
    return chain


def merge_chain(chain: ConfigChain) -> dict[str, Any]:
    """The chain merged from the root down; a file without ``experiment_id`` takes its file name."""
    merged: dict[str, Any] = {}
    for file_path, raw in reversed(chain):
        merged = merge_config_dicts(merged, raw, where=str(file_path))
        if "experiment_id" not in raw:
            merged["experiment_id"] = file_path.stem
        merged["parent"] = raw.get("parent")
    return merged


def chain_lineage(chain: ConfigChain) -> tuple[str, ...]:
    """The experiment ids of the chain, the config's own first."""
    return tuple(str(raw.get("experiment_id", file_path.stem)) for file_path, raw in chain)


def find_config(reference: str, *, relative_to: Path | None, notes: list[str] | None = None) -> Path:
    """A config file from a path (relative to the current directory) or an experiment id (looked up in the folder
    of ``relative_to``); the message of a :class:`ConfigError` does not name where the reference came from."""
    as_path = Path(reference)
    if _is_file(as_path):
        return as_path
    if _looks_like_path(reference) or relative_to is None:
        raise ConfigError(f"no config file {reference}")
    found = _find_by_id(relative_to.parent, reference, notes)
    if found is None:
        raise ConfigError(_no_such_id(relative_to.parent, reference))
    return found


def find_parent(child: Path, reference: object, *, notes: list[str] | None = None) -> Path:
    """The file a child's ``parent`` field names: a path relative to the child's folder, or an id in it."""
    if not isinstance(reference, str) or not reference:
        raise ConfigError(
            f"{child}: field 'parent': must be a path or an experiment id (a non-empty string), got {reference!r}"
        )
    folder = child.parent
    if _looks_like_path(reference):
        candidate = folder / reference
        if _is_file(candidate):
            return candidate
        raise ConfigError(f"{child}: field 'parent': no config file {candidate}")
    found = _find_by_id(folder, reference, notes)
    if found is None:
        raise ConfigError(
            f"{child}: field 'parent': {_no_such_id(folder, reference)}; give an experiment id or a path such as "
            "'../other/base.json'"
        )
    return found


def _is_file(path: Path) -> bool:
    """``path.is_file()``, false also for a name the system refuses (too long, a NUL byte): no such file."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _looks_like_path(reference: str) -> bool:
    return reference.endswith(".json") or "/" in reference or "\\" in reference


def _find_by_id(folder: Path, experiment_id: str, notes: list[str] | None = None) -> Path | None:
    """The config in ``folder`` named ``<id>.json``, or whose ``experiment_id`` is ``experiment_id``.

    A ``*.json`` file there that cannot be read as a config (not UTF-8, not JSON...) is not the one looked for
    unless it is named ``<id>.json``: it is skipped, with a line in ``notes``.
    """
    by_name = folder / f"{experiment_id}.json"
    if _is_file(by_name):
        return by_name
    for candidate in sorted(folder.glob("*.json")):
        try:
            found = _experiment_id_of(candidate)
        except ConfigError as exc:
            if notes is not None:
                notes.append(f"warning: skipped {exc} (while looking for experiment id {experiment_id!r})")
            continue
        if found == experiment_id:
            return candidate
    return None


def _experiment_id_of(path: Path) -> str | None:
    """The experiment id a config file declares (its file name when it declares none); ``None`` when the file is
    JSON but no config. Raises :class:`ConfigError` when it cannot be read."""
    data = read_json_file(path, error=ConfigError, what="config file")
    experiment_id = data.get("experiment_id", path.stem) if isinstance(data, dict) else None
    return experiment_id if isinstance(experiment_id, str) else None


def _readable_experiment_id(path: Path) -> str | None:
    try:
        return _experiment_id_of(path)
    except ConfigError:
        return None


def _no_such_id(folder: Path, experiment_id: str) -> str:
    known = [found for found in map(_readable_experiment_id, sorted(folder.glob("*.json"))) if found is not None]
    return (
        f"no config with experiment_id {experiment_id!r} in {folder}/ "
        f"(experiment ids there: {', '.join(known) if known else 'none'})"
    )


# ---------------------------------------------------------------------------------------------------------------
# Merging and overrides
# ---------------------------------------------------------------------------------------------------------------


def merge_config_dicts(base: Mapping[str, Any], child: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    """``child`` deep-merged over ``base`` with the ``KEY+`` / ``KEY-`` list forms (see ``configs``)."""
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
        raise ConfigError(f"{where}: field {dotted!r}: must be a list of items to {list_verb(sign)} {name!r}")
    if current is None:
        current = []
    if not isinstance(current, list):
        raise ConfigError(f"{where}: field {dotted!r}: {name!r} is {json_type(current)} in the parent, not a list")
    if sign == "+":
        return current + [item for item in items if item not in current]
    missing = [item for item in items if item not in current]
    if missing:
        raise ConfigError(
            f"{where}: field {dotted!r}: cannot remove {missing[0]!r}: it is not in the inherited {name!r} "
            f"({json.dumps(current)})"
        )
    return [item for item in current if item not in items]


def list_verb(sign: str) -> str:
    return "append to" if sign == "+" else "remove from"


def json_type(value: object) -> str:
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
# Hashes, prompt components and diffs of validated configs (as ``AgentConfig.model_dump(mode="json")``)
# ---------------------------------------------------------------------------------------------------------------


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def data_hash(data: Mapping[str, Any]) -> str:
    """A stable content hash: equal for configs that behave the same, whatever their ids and parents.

    It is the hash of the config as written to the manifest (secrets replaced by their fingerprints, see
    ``redaction``): a changed secret changes it, and the hash of a manifest's config is the hash it records.
    """
    content = {k: v for k, v in redact(data).items() if k not in NOT_INHERITED}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:16]


def text_hash(text: str) -> str:
    """MD5 of a prompt component (the keys of the manifest's ``prompt_components`` map)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def data_prompt_components(data: Mapping[str, Any]) -> dict[str, str]:
    """``{md5: text}`` for every system prompt part and guideline."""
    return {text_hash(text): text for text in (*data.get("system_prompt", ()), *data.get("guidelines", ()))}


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


def diff_config_data(control: Mapping[str, Any], test: Mapping[str, Any]) -> list[ConfigChange]:
    """The keys (dotted into objects) whose values differ, excluding ids and parents; secrets appear as their
    fingerprints (a changed secret is a change, shown without its value)."""
    before = {k: v for k, v in redact(control).items() if k not in NOT_INHERITED}
    after = {k: v for k, v in redact(test).items() if k not in NOT_INHERITED}
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
