"""The hash dictionary: ``<agent-dir>/hashes.json``, ``{md5: text}`` of every prompt component runs have used.

Shared by every run under one ``--agent-dir``, so it is merged under a file lock. Only the controller writes it, at
start-up (workers never import this module, nor ``filelock``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from pytest_agentopt.configs.strict_json import read_json_file
from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import HASHES, iter_runs, read_manifest, write_json_atomic


def update_hash_dictionary(agent_dir: Path, components: Mapping[str, str]) -> list[str]:
    """Merge ``{md5: text}`` into ``<agent-dir>/hashes.json`` (under a file lock: several runs may share it).

    When the file already has every component (the usual case: the configs ran before), nothing is written and
    no lock is needed: the file is only ever replaced whole, so a read without the lock sees a complete version.
    A file that cannot be read (damaged, edited by hand) is never silently replaced: it is kept aside as
    ``hashes.json.damaged-<time>``, the map is rebuilt from every run's manifest, and the returned notes say so.
    """
    path = agent_dir / HASHES
    known = _read_hash_dictionary(path)
    if isinstance(known, dict) and _has_components(known, components):
        return []

    agent_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        notes: list[str] = []
        existing = _read_hash_dictionary(path)
        if not isinstance(existing, dict):
            existing, note = _set_damaged_aside(agent_dir, path, existing)
            notes.append(note)
        elif _has_components(existing, components):
            return notes
        existing.update(components)
        write_json_atomic(path, dict(sorted(existing.items())))
    return notes


def _read_hash_dictionary(path: Path) -> dict[str, str] | str:
    """The map, ``{}`` when there is none yet, or what is wrong with the file."""
    try:
        loaded = read_json_file(path, error=LedgerError, what="prompt component map")
    except LedgerError as exc:
        if not path.exists():
            return {}
        return str(exc).removeprefix(f"{path}: ")
    if not isinstance(loaded, dict):
        return "not a JSON object"
    if not all(isinstance(text, str) for text in loaded.values()):
        return "a value is not a text"
    return loaded


def _set_damaged_aside(agent_dir: Path, path: Path, problem: str) -> tuple[dict[str, str], str]:
    """Move the damaged map aside and rebuild it from the runs' manifests; the note that says what happened."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.damaged-{stamp}-{secrets.token_hex(2)}")
    os.replace(path, aside)
    rebuilt: dict[str, str] = {}
    runs = 0
    for run in iter_runs(agent_dir):
        try:
            recorded = read_manifest(run).get("prompt_components")
        except LedgerError:
            continue
        if isinstance(recorded, dict):
            runs += 1
            rebuilt.update({k: v for k, v in recorded.items() if isinstance(k, str) and isinstance(v, str)})
    return rebuilt, (
        f"warning: {path} could not be read ({problem}): kept as {aside.name}; rebuilt from the manifests of {runs} "
        f"run{'s' if runs != 1 else ''} ({len(rebuilt)} prompt components)"
    )


def _has_components(known: Mapping[str, Any], components: Mapping[str, str]) -> bool:
    return all(known.get(key) == text for key, text in components.items())
