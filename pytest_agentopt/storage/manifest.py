"""The per-run manifest: what ran, with which configs, options and versions (schema in ``docs/ledger.md``)."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from pytest_agentopt.configs.data import data_prompt_components
from pytest_agentopt.configs.redaction import redact, redact_assignment
from pytest_agentopt.storage.ledger import MANIFEST_SCHEMA, read_json, utc_now, write_json_atomic
from pytest_agentopt.storage.run_context import RunContext

_VERSIONED = ("pytest-agentopt", "pytest", "pytest-xdist", "pydantic", "genai-prices", "numpy", "scipy")


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def git_commit(folder: Path) -> str | None:
    """The commit of the repository holding the suite (with ``+dirty`` when it has local changes)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}+dirty" if dirty else commit


def build_manifest(context: RunContext, *, rootdir: Path, options: dict[str, Any]) -> dict[str, Any]:
    components: dict[str, str] = {}
    arms: dict[str, Any] = {}
    for arm in context.configs:
        data = context.configs.raw(arm)  # validated JSON data: no pydantic needed here
        parts = data_prompt_components(data)
        components.update(parts)
        arms[arm] = {
            "experiment_id": data["experiment_id"],
            "config_hash": context.hashes[arm],
            "lineage": context.lineages.get(arm) or [data["experiment_id"]],
            "source": context.sources.get(arm),
            "config": redact(data),  # secrets as fingerprints: the agent had the values, the file never does
            "prompt_components": sorted(parts),
        }
    return {
        "schema": MANIFEST_SCHEMA,
        "run_id": context.run_id,
        "created_at": utc_now(),
        "experiment_id": context.configs.raw("test")["experiment_id"],
        "control_experiment_id": context.configs.raw("control")["experiment_id"] if context.paired else None,
        "arms": arms,
        "overrides": [redact_assignment(override) for override in context.overrides],
        "prompt_components": dict(sorted(components.items())),
        "run": context.run_settings(),
        "options": options,
        "versions": versions(),
        "git_commit": git_commit(rootdir),
        "resumes": [],
    }


def write_manifest(context: RunContext, manifest: dict[str, Any]) -> None:
    write_json_atomic(context.paths.manifest, manifest)


def note_resume(context: RunContext) -> dict[str, Any]:
    """Append this session to the resumed run's manifest and return the manifest."""
    manifest = read_json(context.paths.manifest)
    manifest.setdefault("resumes", []).append({"at": utc_now(), "finished_trials": len(context.resumed)})
    write_json_atomic(context.paths.manifest, manifest)
    return manifest


def note_extension(context: RunContext) -> None:
    """A resume that extends the run (``--agent-trials`` above its cap): the manifest takes the new cap before the
    first new trial runs, so a later resume, even of a session killed mid-way, plans the extended run."""
    manifest = read_json(context.paths.manifest)
    if manifest["run"]["trials"] == context.trials:
        return
    manifest.setdefault("extensions", []).append(
        {
            "at": utc_now(),
            "from_trials": manifest["run"]["trials"],
            "to_trials": context.trials,
            "finished_trials": len(context.resumed),
        }
    )
    manifest["run"]["trials"] = context.trials
    write_json_atomic(context.paths.manifest, manifest)
