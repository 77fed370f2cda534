"""The run's configs, validated once per content: later runs of the same configs skip pydantic.

Validating a config needs pydantic, whose import is the largest part of the plugin's start-up (about a tenth of
a second, and tens of thousands of objects the garbage collector then scans for the rest of the session). The
controller therefore remembers what validation produced, in pytest's cache (``.pytest_cache``; nothing is
remembered with ``-p no:cacheprovider``, ``--cache-clear`` forgets it), under a key that is a hash of
everything the result depends on:

* every file of the test config's inheritance chain and of the control's, each with its path and parsed JSON;
* the ``--agent-set`` overrides and the options that choose the control arm;
* the validation code itself (the bytes of ``configs.py``, ``config_data.py``, ``redaction.py`` and
  ``strict_json.py``) and the pydantic version.

A changed file, another checkout, an upgrade: another key, so validation runs again. Only configs that passed
validation are stored, so every bad config still gets its exit-4 message from pydantic; an unreadable or
malformed cache entry is ignored.

Configs that hold a secret (an API key in ``params``, see ``redaction``) are never stored: the cache is a file
in the project, and storing them redacted would lose the value the agent needs. They are validated on every run
(the warning about the secret says how to move it to an environment variable); entries with a secret written by
an earlier version are dropped when the cache is next written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

from .config_data import ConfigChain, canonical_json, data_hash, find_config, find_parent, load_chain
from .errors import AgentoptUsageError, ConfigError
from .options import RunOptions
from .redaction import secret_paths

CACHE_KEY = "agentopt/validated-configs"
CACHE_FORMAT = 1
MAX_ENTRIES = 32
_VALIDATION_SOURCES = ("configs.py", "config_data.py", "redaction.py", "strict_json.py")


class Cache(Protocol):
    """What the plugin uses of pytest's ``config.cache``."""

    def get(self, key: str, default: Any) -> Any: ...

    def set(self, key: str, value: object) -> None: ...


@dataclass(frozen=True)
class ArmConfig:
    """An arm's validated config as JSON data (``AgentConfig.model_dump(mode="json")``) and where it came from."""

    data: dict[str, Any]
    hash: str
    source: str | None
    lineage: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "hash": self.hash, "source": self.source, "lineage": list(self.lineage)}

    @classmethod
    def from_json(cls, value: object) -> ArmConfig | None:
        """The stored arm, or ``None`` when the entry is not one this version wrote (or was tampered with)."""
        if not isinstance(value, dict) or set(value) != {"data", "hash", "source", "lineage"}:
            return None
        data, digest, source, lineage = (value.get(k) for k in ("data", "hash", "source", "lineage"))
        if not (
            isinstance(data, dict)
            and isinstance(digest, str)
            and (source is None or isinstance(source, str))
            and isinstance(lineage, list)
            and all(isinstance(item, str) for item in lineage)
            and data_hash(data) == digest
        ):
            return None
        return cls(data=data, hash=digest, source=source, lineage=tuple(lineage))


def resolve_arms(options: RunOptions, cache: Cache | None, notes: list[str] | None = None) -> dict[str, ArmConfig]:
    """The validated config of each arm (``control`` first when there is one), from ``cache`` when it can be.

    ``notes`` receives a line for each file skipped while a config was looked up by experiment id.
    """
    key = inputs_key(options, notes) if cache is not None else None
    if cache is not None and key is not None:
        remembered = _lookup(cache, key)
        if remembered is not None:
            return remembered
    arms = validate_arms(options, notes)
    if cache is not None and key is not None:
        _store(cache, key, None if any(secret_paths(arm.data) for arm in arms.values()) else arms)
    return arms


def validate_arms(options: RunOptions, notes: list[str] | None = None) -> dict[str, ArmConfig]:
    """Load and validate the arms' configs with pydantic; raises ConfigError / AgentoptUsageError for the user."""
    from .configs import ResolvedConfig, apply_overrides, load_config

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


def inputs_key(options: RunOptions, notes: list[str] | None = None) -> str | None:
    """A hash of everything validation reads, or ``None`` when the files do not even form chains (the
    validating path then reports what is wrong)."""
    assert options.config_path is not None
    try:
        test_chain = load_chain(options.config_path, notes=notes)
        parent = test_chain[0][1].get("parent")
        control_path = select_control(
            options,
            test_source=options.config_path,
            test_parent=parent if isinstance(parent, str) else None,
            notes=notes,
        )
        control_chain = load_chain(control_path, notes=notes) if control_path is not None else None
        code = validation_fingerprint()
    except (ConfigError, AgentoptUsageError, OSError, metadata.PackageNotFoundError):
        return None
    inputs = {
        "format": CACHE_FORMAT,
        "code": code,
        "test": _chain_json(test_chain),
        "overrides": list(options.overrides),
        "control": _chain_json(control_chain) if control_chain is not None else None,
    }
    return hashlib.sha256(canonical_json(inputs).encode("utf-8")).hexdigest()


def validation_fingerprint() -> str:
    """What the validated data depends on besides the files: this package's validation code and pydantic."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for name in _VALIDATION_SOURCES:
        digest.update((folder / name).read_bytes())
    digest.update(metadata.version("pydantic").encode("utf-8"))
    return digest.hexdigest()


def _chain_json(chain: ConfigChain) -> list[list[Any]]:
    return [[str(path), raw] for path, raw in chain]


def _lookup(cache: Cache, key: str) -> dict[str, ArmConfig] | None:
    entries = cache.get(CACHE_KEY, None)
    entry = entries.get(key) if isinstance(entries, dict) else None
    if not isinstance(entry, dict) or not entry or set(entry) - {"control", "test"} or "test" not in entry:
        return None
    arms = {name: ArmConfig.from_json(value) for name, value in entry.items()}
    if any(arm is None for arm in arms.values()):
        return None
    return {name: arm for name, arm in arms.items() if arm is not None}


def _has_secret(entry: object) -> bool:
    """Whether a stored entry holds a config with a secret (one written before secrets were kept out)."""
    if not isinstance(entry, dict):
        return False
    return any(
        isinstance(arm, dict) and isinstance(arm.get("data"), dict) and secret_paths(arm["data"])
        for arm in entry.values()
    )


def _store(cache: Cache, key: str, arms: dict[str, ArmConfig] | None) -> None:
    """Remember ``arms`` under ``key`` (``None``: remember nothing, only drop the entries that hold a secret)."""
    entries = cache.get(CACHE_KEY, None)
    entries = entries if isinstance(entries, dict) else {}
    kept = {old: entry for old, entry in entries.items() if not _has_secret(entry)}
    if arms is None:
        if len(kept) < len(entries):
            cache.set(CACHE_KEY, kept)
        return
    kept.pop(key, None)
    kept[key] = {name: arm.to_json() for name, arm in arms.items()}
    while len(kept) > MAX_ENTRIES:  # the oldest first (JSON objects keep their order)
        kept.pop(next(iter(kept)))
    cache.set(CACHE_KEY, kept)  # pytest warns (and goes on) when it cannot write its cache
