"""Run directories, the append-only trial ledger and the run manifest.

Layout: ``<agent-dir>/runs/<run-id>/`` holds ``manifest.json`` (what ran: configs, hashes, options, versions),
``trials.jsonl`` (one line per finished trial), ``decision.json`` (written once, when the sequential test
decides) and ``summary.json``. ``<agent-dir>/hashes.json`` is the project-wide prompt-component hash -> text map.

Appends are one ``os.write`` of a whole line on an ``O_APPEND`` descriptor, done only by the controller, so a
crash can at worst leave a torn last line; readers skip unparsable lines and say so.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from .errors import LedgerError
from .records import TrialRecord, is_trial_record

MANIFEST_SCHEMA = 1
MANIFEST = "manifest.json"
TRIALS = "trials.jsonl"
SUMMARY = "summary.json"
DECISION = "decision.json"
HASHES = "hashes.json"
# One ledger line per record; made once (``json.dumps`` with options builds an encoder per call).
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_timestamp(timestamp: float) -> str:
    """A ``time.time()`` value as ``2026-11-23T15:55:01.123Z`` (UTC, milliseconds truncated), like ``utc_now``.

    Cheaper than ``datetime.isoformat``: it runs twice per trial.
    """
    return f"{_iso_second(int(timestamp))}.{int(timestamp % 1 * 1000):03d}Z"


@functools.lru_cache(maxsize=8)
def _iso_second(second: int) -> str:
    """The whole-second part, formatted once per second: many trials start and finish within one."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def new_run_id(experiment_id: str) -> str:
    """``20261123-155501-exp_042-3fa2``: sortable by time, readable, unique."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{experiment_id}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class RunPaths:
    directory: Path

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST

    @property
    def trials(self) -> Path:
        return self.directory / TRIALS

    @property
    def summary(self) -> Path:
        return self.directory / SUMMARY

    @property
    def decision(self) -> Path:
        return self.directory / DECISION

    @property
    def run_id(self) -> str:
        return self.directory.name


def runs_dir(agent_dir: Path) -> Path:
    return agent_dir / "runs"


def resolve_run(reference: str, agent_dir: Path) -> RunPaths:
    """A run from its id (under ``<agent-dir>/runs/``) or a path to its directory."""
    candidates = [Path(reference), runs_dir(agent_dir) / reference]
    for candidate in candidates:
        if (candidate / MANIFEST).is_file():
            return RunPaths(candidate)
    known = sorted(p.name for p in runs_dir(agent_dir).glob("*") if (p / MANIFEST).is_file())
    hint = f" (runs in {runs_dir(agent_dir)}: {', '.join(known[-5:])})" if known else ""
    raise LedgerError(
        f"{reference}: no run with that id or path: expected a run id from {runs_dir(agent_dir)}/ or a run "
        f"directory containing {MANIFEST}{hint}"
    )


def iter_runs(agent_dir: Path) -> Iterator[RunPaths]:
    """Every run under ``<agent-dir>/runs/``, oldest first."""
    base = runs_dir(agent_dir)
    if not base.is_dir():
        return
    for directory in sorted(base.iterdir()):
        if (directory / MANIFEST).is_file():
            yield RunPaths(directory)


# ---------------------------------------------------------------------------------------------------------------
# JSON files
# ---------------------------------------------------------------------------------------------------------------


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that readers see the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=False, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LedgerError(f"{path}: missing") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LedgerError(f"{path}: unreadable JSON: {exc}") from None
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: expected a JSON object")
    return data


def read_manifest(paths: RunPaths) -> dict[str, Any]:
    manifest = read_json(paths.manifest)
    schema = manifest.get("schema")
    if not isinstance(schema, int) or schema > MANIFEST_SCHEMA:
        raise LedgerError(
            f"{paths.manifest}: manifest schema {schema!r} is not supported by this version "
            f"(supported: 1..{MANIFEST_SCHEMA}); upgrade pytest-agentopt"
        )
    return manifest


# ---------------------------------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------------------------------


class LedgerWriter:
    """Appends trial records to ``trials.jsonl``; one ``os.write`` per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._terminate_torn_line()

    def _terminate_torn_line(self) -> None:
        """After a crash mid-line, start the next record on its own line (the fragment stays, readers skip it)."""
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(size - 1)
            last = handle.read(1)
        if last != b"\n":
            self._write_all(b"\n")

    def append(self, record: Mapping[str, Any]) -> None:
        line = _LINE_ENCODER.encode(record) + "\n"
        self._write_all(line.encode("utf-8"))

    def _write_all(self, data: bytes) -> None:
        written = os.write(self._fd, data)
        while written < len(data):  # only on a full disk or a signal; a regular file takes it whole
            written += os.write(self._fd, data[written:])

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclass
class LedgerRead:
    records: list[TrialRecord] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# Record fields whose values repeat from line to line: each distinct value is kept once in memory.
_REPEATED_VALUES = frozenset(
    {
        "run_id",
        "experiment_id",
        "arm",
        "config_hash",
        "task_id",
        "task_code",
        "category",
        "outcome",
        "error_type",
        "model",
        "price_source",
        "worker",
    }
)


class _Deduplicator:
    """Shares equal keys and repeated values between the records of one read.

    ``json.loads`` gives every line its own key strings and its own copies of the run id, the task id, the
    model...: about 5 KB per record. Shared, a record costs about its dict (a resumed 200,000-trial run holds
    every record in memory).
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        strings = self._strings
        shared: dict[str, Any] = {}
        for key, value in record.items():
            key = strings.setdefault(key, key)
            if key in _REPEATED_VALUES and isinstance(value, str):
                value = strings.setdefault(value, value)
            elif key == "tokens" and isinstance(value, dict):
                value = {strings.setdefault(name, name): count for name, count in value.items()}
            shared[key] = value
        return shared


def read_ledger(path: Path) -> LedgerRead:
    """Every readable record of a ledger; unparsable lines (a torn last line after a crash) are reported.

    The file is read line by line (never whole), and equal strings are shared between records.
    """
    result = LedgerRead()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return result
    deduplicate = _Deduplicator()
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                value = None
            if is_trial_record(value):
                result.records.append(cast(TrialRecord, deduplicate(value)))
                continue
            torn = not raw.endswith(b"\n")  # only the last line can lack its newline
            where = "torn last line" if torn else "unreadable line"
            size = len(raw) if torn else len(raw) - 1
            result.problems.append(f"{path}:{number}: skipped a {where} ({size} bytes)")
    return result


def iter_ledger_records(paths: Iterable[RunPaths]) -> Iterator[TrialRecord]:
    for run in paths:
        yield from read_ledger(run.trials).records


# ---------------------------------------------------------------------------------------------------------------
# Project-wide prompt component map
# ---------------------------------------------------------------------------------------------------------------


def update_hash_dictionary(agent_dir: Path, components: Mapping[str, str]) -> None:
    """Merge ``{md5: text}`` into ``<agent-dir>/hashes.json`` (under a file lock: several runs may share it).

    When the file already has every component (the usual case: the configs ran before), nothing is written and
    no lock is needed: the file is only ever replaced whole, so a read without the lock sees a complete version.
    """
    path = agent_dir / HASHES
    if _has_components(_read_hash_dictionary(path), components):
        return
    from filelock import FileLock

    agent_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        existing = _read_hash_dictionary(path)
        if _has_components(existing, components):
            return
        existing.update(components)
        write_json_atomic(path, dict(sorted(existing.items())))


def _read_hash_dictionary(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _has_components(known: Mapping[str, Any], components: Mapping[str, str]) -> bool:
    return all(known.get(key) == text for key, text in components.items())
