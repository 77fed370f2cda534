"""Run directories, the append-only trial ledger and the run manifest.

Layout: ``<agent-dir>/runs/<run-id>/`` holds ``manifest.json`` (what ran: configs, hashes, options, versions),
``trials.jsonl`` (one line per finished trial), ``decision.json`` (written once, when the sequential test
decides) and ``summary.json``. ``<agent-dir>/hashes.json`` is the project-wide prompt-component hash -> text map.

Appends are one ``os.write`` of a whole line on an ``O_APPEND`` descriptor, done only by the controller, so a
crash can at worst leave a torn last line; readers skip unparsable lines and say so.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from filelock import FileLock

from pytest_agentopt.configs.strict_json import read_json_file
from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger_rule import LeftOut, count_records
from pytest_agentopt.storage.trial_record import TrialRecord, normalise_record, without_surrogates

MANIFEST_SCHEMA = 1
MANIFEST = "manifest.json"
TRIALS = "trials.jsonl"
SUMMARY = "summary.json"
DECISION = "decision.json"
HASHES = "hashes.json"
# How a lone surrogate can reach a parsed line: an escape (``\ud800``), or its UTF-8 form (ED A0..BF xx), which
# ``json.loads`` decodes with ``surrogatepass``.
_SURROGATE = re.compile(rb"\\[uU][dD][89a-fA-F]|\xed[\xa0-\xbf]")
# One ledger line per record; made once (``json.dumps`` with options builds an encoder per call).
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def utc_now() -> str:
    return iso_timestamp(time.time())


def iso_timestamp(timestamp: float) -> str:
    """A ``time.time()`` value as ``2026-11-23T15:55:01.123Z`` (UTC, milliseconds truncated)."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def new_run_id(experiment_id: str) -> str:
    """``20261123-155501-exp_042-3fa2``: sortable by time, readable, unique."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{experiment_id}-{secrets.token_hex(2)}"


RUN_ID_ATTEMPTS = 100


def create_run_directory(agent_dir: Path, experiment_id: str) -> Path:
    """A new, empty run directory under ``<agent-dir>/runs/``, created exclusively: two runs never share one.

    A run id that is taken (two runs started in the same second drew the same suffix, or a directory was copied
    there) is drawn again. Raises ``OSError`` when the directory cannot be created.
    """
    base = runs_dir(agent_dir)
    base.mkdir(parents=True, exist_ok=True)
    for _ in range(RUN_ID_ATTEMPTS):
        directory = base / new_run_id(experiment_id)
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        return directory
    raise FileExistsError(f"{base}: {RUN_ID_ATTEMPTS} new run ids in a row were taken")


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


FILE_MODE = 0o666
"""Files of a run are created with this mode less the umask (as ``open()`` creates files): one policy for the
ledger, the JSON files and the reports, so a shared ``--agent-dir`` gets the permissions its umask asks for."""


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON so that readers see the old or the new file, never half of one.

    The file gets :data:`FILE_MODE` less the umask. A lone surrogate in a string (which UTF-8 cannot encode) is
    written as its ``\\uXXXX`` escape, so writing never fails on text.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
            json.dump(data, handle, indent=2, sort_keys=False, ensure_ascii=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new file beside ``path`` for :func:`write_json_atomic` (``O_EXCL``, so never another writer's)."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), FILE_MODE), tmp
        except FileExistsError:
            continue


def read_json(path: Path, *, allow_non_finite: bool = True) -> dict[str, Any]:
    """A JSON object the plugin wrote (manifest, summary, decision), read strictly (``strict_json``): a damaged or
    hand-edited file is a :class:`LedgerError` naming the file and the field, never a traceback.

    ``allow_non_finite``: accept ``NaN`` and ``Infinity`` (a summary may hold an infinite log-likelihood ratio).
    """
    data = read_json_file(path, error=LedgerError, what="JSON file", allow_non_finite=allow_non_finite)
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: expected a JSON object")
    return data


def read_manifest(paths: RunPaths) -> dict[str, Any]:
    manifest = read_json(paths.manifest, allow_non_finite=False)  # it holds configs: never NaN
    schema = manifest.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        raise LedgerError(f"{paths.manifest}: field 'schema': expected the manifest's schema number, got {schema!r}")
    if schema > MANIFEST_SCHEMA:
        raise LedgerError(
            f"{paths.manifest}: manifest schema {schema!r} is not supported by this version "
            f"(supported: 1..{MANIFEST_SCHEMA}); upgrade pytest-agentopt"
        )
    return manifest


# ---------------------------------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------------------------------


class LedgerWriter:
    """Appends trial records to ``trials.jsonl``; one ``os.write`` per line.

    A line that cannot be written whole (a full disk, a quota, an I/O error) is cut off again, so the ledger keeps
    only whole records, and the ``OSError`` goes to the caller: the run then stops, and a resume reruns that trial.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
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
        """Append ``record``; a lone surrogate in its text (an agent's message) is replaced by U+FFFD first, in
        ``record`` itself, so what the run reports is what the ledger holds."""
        try:
            data = (_LINE_ENCODER.encode(record) + "\n").encode("utf-8")
        except UnicodeEncodeError:
            cast(dict[str, Any], record).update(without_surrogates(record))
            data = (_LINE_ENCODER.encode(record) + "\n").encode("utf-8")
        self._write_all(data)

    def _write_all(self, data: bytes) -> None:
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # only on a full disk or a signal; a regular file takes it whole
                written += os.write(self._fd, data[written:])
        except OSError:
            # No torn line: the ledger keeps whole records only (if even this fails, readers skip the fragment).
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)
            raise

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


def read_ledger(path: Path, *, owner: str | None = None) -> LedgerRead:
    """The records of a ledger that count, and a note for each line or record that does not.

    A line that is no trial record (a torn last line after a crash, invalid JSON, a record with wrong types: see
    :func:`~pytest_agentopt.storage.trial_record.normalise_record`) is skipped and listed; records of other runs than
    ``owner`` and repeated records of one trial are left out by the rule of :mod:`pytest_agentopt.storage.ledger_rule`.
    The file is read line by line (never whole), and equal strings are shared between records.
    """
    result = LedgerRead()
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return result
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger: {exc.strerror or exc}") from None
    deduplicate = _Deduplicator()
    records: list[TrialRecord] = []
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
            except (ValueError, RecursionError):  # invalid JSON or UTF-8, an overlong integer, deep nesting
                value = None
            record = normalise_record(value)
            if record is not None:
                # Only those bytes can put a lone surrogate in a string: then replace it (U+FFFD).
                if _SURROGATE.search(raw):
                    record = without_surrogates(record)
                records.append(cast(TrialRecord, deduplicate(cast(dict[str, Any], record))))
                continue
            torn = not raw.endswith(b"\n")  # only the last line can lack its newline
            where = "a torn last line" if torn else "an unreadable line"
            size = len(raw) if torn else len(raw) - 1
            result.problems.append(f"{path}:{number}: skipped {where} ({size} bytes)")
    left_out = LeftOut()
    keys = ((r["run_id"], r["task_id"], r["arm"], r["trial"], owner) for r in records)
    result.records = [
        record for record, reason in zip(records, count_records(keys), strict=True) if left_out.add(reason)
    ]
    note = left_out.note(path)
    if note is not None:
        result.problems.append(note)
    return result
    return result


def manifest_run_id(paths: RunPaths) -> str | None:
    """The run id the run's manifest records (the owner of its ledger's records), or ``None`` if unreadable."""
    try:
        run_id = read_json(paths.manifest).get("run_id")
    except LedgerError:
        return None
    return run_id if isinstance(run_id, str) else None


def read_run_ledger(paths: RunPaths) -> LedgerRead:
    """The counted records of a run (``read_ledger`` with the run's own id as the owner)."""
    return read_ledger(paths.trials, owner=manifest_run_id(paths))


def iter_ledger_records(paths: Iterable[RunPaths]) -> Iterator[TrialRecord]:
    for run in paths:
        yield from read_run_ledger(run).records


# ---------------------------------------------------------------------------------------------------------------
# Project-wide prompt component map
# ---------------------------------------------------------------------------------------------------------------


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
