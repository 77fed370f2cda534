"""``load_trials``: ledger files into a :class:`~pytest_agentopt.analysis.table.TrialTable`.

Files are read in blocks of whole lines (about 8 MiB each) and each block is decoded into columns by
:func:`~pytest_agentopt.analysis.decode.decode_block`, so memory holds the columns plus one block of dicts, never
a million dicts. Parsing JSON is the cost (7-10 us a line with the standard library on the machines measured, see
``docs/analysis.md``), so when the input is large (>= 64 MiB, about 80,000 trials) and the machine has several
cores, blocks are decoded in worker processes (``fork``; only on Linux and only when this process runs a single
thread, since forking a threaded process can deadlock) and their columns merged here in order. The result is the
same either way.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from pytest_agentopt.analysis.decode import CategoryMerger, ColumnBlock, decode_block, decode_records, metrics_from_key
from pytest_agentopt.analysis.table import (
    ALL_COLUMNS,
    CATEGORICAL_COLUMNS,
    NUMERIC_COLUMNS,
    REQUIRED_COLUMNS,
    Categorical,
    IntArray,
    TrialTable,
)
from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import MANIFEST, TRIALS, RunPaths, iter_runs, manifest_run_id
from pytest_agentopt.storage.ledger_rule import FOREIGN, REPEATED, LeftOut, count_records
from pytest_agentopt.storage.trial_record import TOKEN_CLASSES

__all__ = [
    "REPLAY_KEY",
    "decoding_processes",
    "first_of_each_trial",
    "ledger_files",
    "load_trials",
    "table_from_records",
]

REPLAY_KEY = frozenset({"config_hash", "task_id", "seed"})
"""What makes two trials the same trial: a later one with these values replays the earlier one."""

RULE_COLUMNS = frozenset({"run_id", "task_id", "arm", "trial"})
"""What the rule of :mod:`pytest_agentopt.storage.ledger_rule` reads: always decoded, dropped after unless asked for."""
BLOCK_BYTES = 8 << 20
PARALLEL_MIN_BYTES = 64 << 20
MAX_WORKERS = 8

Source = str | os.PathLike[str]


@dataclass(frozen=True)
class _Range:
    path: Path
    start: int
    end: int


def ledger_files(source: Source | Iterable[Source], *, run_ids: Iterable[str] | None = None) -> list[Path]:
    """The ledger files of an agent directory (every run under ``runs/``, oldest first), run directories or files.

    ``run_ids`` keeps only the runs of an agent directory with those ids (files given directly are kept).
    """
    wanted = None if run_ids is None else set(run_ids)
    sources = [source] if isinstance(source, str | os.PathLike) else list(source)
    files: list[Path] = []
    for item in sources:
        path = Path(item)
        if path.is_file():
            files.append(path)
        elif (path / TRIALS).is_file() or (path / MANIFEST).is_file():
            if wanted is None or path.name in wanted:
                files.append(path / TRIALS)
        elif path.is_dir():
            files.extend(run.trials for run in iter_runs(path) if wanted is None or run.run_id in wanted)
        else:
            raise LedgerError(f"{path}: not found: expected an agent directory, a run directory or a trials.jsonl file")
    return [file for file in files if file.is_file()]


def _owner(path: Path) -> str | None:
    """The run id owning the records of ``path``: its run directory's, or ``None`` for a bare ledger file."""
    if path.name != TRIALS or not (path.parent / MANIFEST).is_file():
        return None
    return manifest_run_id(RunPaths(path.parent))


def load_trials(
    source: Source | Iterable[Source],
    *,
    run_ids: Iterable[str] | None = None,
    columns: Collection[str] | None = None,
    workers: int | None = None,
    replays: bool = False,
) -> TrialTable:
    """Every readable trial of ``source`` (see :func:`ledger_files`), in ledger order, each trial once.

    Torn and unreadable lines are skipped and listed in ``table.problems``, as are the records the rule
    of :mod:`pytest_agentopt.storage.ledger_rule` does not count (records of another run in a run's ledger, a
    trial recorded twice): the table holds what each run counted. ``run_ids`` also keeps only the trials of those
    runs when files are given directly. ``columns``: load only these ledger columns (plus the
    ones every record has), which is faster when an analysis needs few, e.g.
    :data:`~pytest_agentopt.analysis.aggregate.CONFIG_COLUMNS`; ``None`` loads all. ``workers``: processes that
    decode blocks (``None``: automatic, 1: this process only).

    A trial with the config hash, the task and the seed of a trial of an earlier run replays it (a run repeated
    with the same ``--agent-seed`` runs the same trials again): it adds no new evidence, and counting it again
    would narrow every interval for nothing. Only the first run's is kept, and ``table.replays`` says how many
    were left out; ``replays=True`` keeps them all.
    """
    wanted = None if run_ids is None else list(run_ids)
    selected = ALL_COLUMNS if columns is None else _check_columns(columns)
    if not replays:
        selected |= REPLAY_KEY
    files = ledger_files(source, run_ids=wanted)
    ranges = [part for path in files for part in _split(path)]
    merger = _Merger(selected | RULE_COLUMNS, owners={path: _owner(path) for path in files})
    with _gc_paused():
        for part, block in zip(ranges, _decode_all(ranges, selected | RULE_COLUMNS, workers), strict=True):
            merger.add(part.path, block)
        table = merger.table(selected)
    if wanted is not None and len(table):
        keep = set(wanted)
        table = table.where(table.categorical("run_id").lookup([run in keep for run in table.categories("run_id")]))
    if not replays and len(table):
        first = first_of_each_trial(table)
        if not first.all():
            dropped = int((~first).sum())
            table = table.where(first)
            table.replays = dropped
    return table


def first_of_each_trial(table: TrialTable) -> npt.NDArray[np.bool_]:
    """Per trial, whether it is no replay: no *earlier run* has a trial with its config hash, task and seed.

    Within one run such trials are not replays but the two arms of an A/A run (the same config as control and
    test), which both count.
    """
    config, task, seed = table.codes("config_hash"), table.codes("task_id"), table.array("seed")
    keep = np.ones(seed.size, dtype=bool)
    if not seed.size:
        return keep
    order = _key_order(config, task, seed)  # stable: equal keys keep their ledger order, the earliest first
    config, task, seed, run = config[order], task[order], seed[order], table.codes("run_id")[order]
    new_key = np.ones(order.size, dtype=bool)
    new_key[1:] = (config[1:] != config[:-1]) | (task[1:] != task[:-1]) | (seed[1:] != seed[:-1])
    if new_key.all():
        return keep  # no two trials share config, task and seed
    group_start = np.maximum.accumulate(np.where(new_key, np.arange(order.size), 0))
    keep[order] = run == run[group_start]  # the run that has the key first keeps all its trials with it
    return keep


def _key_order(config: IntArray, task: IntArray, seed: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
    """A stable order of the trials by (config, task, seed): one packed 64-bit key when the values fit (the plugin's
    seeds are below 2**31), which sorts several times faster than three keys."""
    if seed.min() >= 0 and seed.max() < 2**31 and config.max() < 2**16 and task.max() < 2**16:
        packed = (config.astype(np.int64) << 47) | (task.astype(np.int64) << 31) | seed
        return np.argsort(packed, kind="stable")
    return np.lexsort((seed, task, config))


def table_from_records(records: Iterable[Mapping[str, Any]], *, columns: Collection[str] | None = None) -> TrialTable:
    """The trials of records already in memory (``TrialRecord`` dicts, e.g. the plugin's records of the run that
    just finished), as :func:`load_trials` would load them from the ledger those records were written to.

    A value that is no trial record is skipped and listed in ``table.problems``.
    """
    selected = ALL_COLUMNS if columns is None else _check_columns(columns)
    merger = _Merger(
        selected | RULE_COLUMNS, problem=lambda index, size, last: f"record {index + 1}: skipped: not a trial record"
    )
    merger.add(Path("<records>"), decode_records(list(records), selected | RULE_COLUMNS))
    return merger.table(selected)


def decoding_processes(source: Source | Iterable[Source], *, workers: int | None = None) -> int:
    """How many processes :func:`load_trials` would decode ``source`` with (1: this process alone)."""
    return _worker_count([part for path in ledger_files(source) for part in _split(path)], workers)


def _check_columns(columns: Collection[str]) -> frozenset[str]:
    names = frozenset(columns)
    unknown = names - ALL_COLUMNS
    if unknown:
        raise ValueError(f"unknown columns {sorted(unknown)}; the ledger columns are {sorted(ALL_COLUMNS)}")
    tokens = frozenset(f"tokens_{token_class}" for token_class in TOKEN_CLASSES)
    if names & tokens:  # one usage object per record: its classes come together
        names |= tokens
    return names | REQUIRED_COLUMNS


# ---------------------------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------------------------


def _split(path: Path) -> list[_Range]:
    """Byte ranges of about ``BLOCK_BYTES`` that end just after a newline (or at the end of the file)."""
    block_bytes = BLOCK_BYTES
    size = path.stat().st_size
    parts: list[_Range] = []
    start = 0
    with path.open("rb") as handle:
        while start < size:
            handle.seek(min(size, start + block_bytes))
            handle.readline()
            end = min(size, handle.tell())
            parts.append(_Range(path, start, end))
            start = end
    return parts


def _read(part: _Range) -> bytes:
    with part.path.open("rb") as handle:
        handle.seek(part.start)
        return handle.read(part.end - part.start)


def _decode_range(part: _Range, columns: frozenset[str]) -> ColumnBlock:
    with _gc_paused():
        return decode_block(_read(part), columns)


def _decode_all(ranges: Sequence[_Range], columns: frozenset[str], workers: int | None) -> Iterator[ColumnBlock]:
    count = _worker_count(ranges, workers)
    if count <= 1:
        yield from (_decode_range(part, columns) for part in ranges)
        return
    with ProcessPoolExecutor(max_workers=count, mp_context=get_context("fork")) as pool:
        yield from pool.map(_decode_range, ranges, [columns] * len(ranges))


def _worker_count(ranges: Sequence[_Range], workers: int | None) -> int:
    if workers is not None and workers <= 1:
        return 1
    if not sys.platform.startswith("linux") or threading.active_count() > 1 or len(ranges) < 2:
        return 1
    if workers is not None:
        return min(workers, len(ranges))
    if sum(part.end - part.start for part in ranges) < PARALLEL_MIN_BYTES:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS, len(ranges)))


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Decoding makes many short-lived dicts; the cyclic collector would scan them again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------------------------
# Merging blocks into one table
# ---------------------------------------------------------------------------------------------------------------


class _Merger:
    """Blocks, in order, into one table: arrays concatenated, categories merged, problems numbered per file."""

    def __init__(
        self,
        columns: frozenset[str],
        problem: Callable[[int, int, bool], str] | None = None,
        owners: Mapping[Path, str | None] | None = None,
    ) -> None:
        self._columns = columns
        self._problem = problem
        self._owners = owners or {}
        self._segments: list[tuple[Path, int]] = []
        """``(file, rows)`` in order, consecutive blocks of one file merged."""
        self._numeric: dict[str, list[npt.NDArray[Any]]] = {name: [] for name in NUMERIC_COLUMNS if name in columns}
        self._codes: dict[str, list[npt.NDArray[np.int32]]] = {n: [] for n in CATEGORICAL_COLUMNS if n in columns}
        self._categories = {name: CategoryMerger() for name in self._codes}
        self._problems: list[str] = []
        self._line_offset: dict[Path, int] = {}

    def add(self, path: Path, block: ColumnBlock) -> None:
        offset = self._line_offset.get(path, 0)
        for index, size, last in block.bad_lines:
            if self._problem is not None:
                self._problems.append(self._problem(offset + index, size, last))
                continue
            where = "a torn last line" if last else "an unreadable line"
            self._problems.append(f"{path}:{offset + index + 1}: skipped {where} ({size} bytes)")
        self._line_offset[path] = offset + block.lines
        if not block.size:
            return
        if self._segments and self._segments[-1][0] == path:
            self._segments[-1] = (path, self._segments[-1][1] + block.size)
        else:
            self._segments.append((path, block.size))
        for name, array in block.numeric.items():
            self._numeric[name].append(array)
        for name, (codes, categories) in block.categorical.items():
            self._codes[name].append(self._categories[name].add(codes, categories))

    def table(self, columns: frozenset[str]) -> TrialTable:
        """The merged table, with the ledger rule applied, holding ``columns`` (plus the required ones)."""
        if not self._codes["run_id"]:
            return TrialTable.empty(self._problems, columns)
        numeric = {name: np.concatenate(parts) for name, parts in self._numeric.items()}
        categorical: dict[str, Categorical] = {}
        for name, parts in self._codes.items():
            categories: tuple[Any, ...] = tuple(self._categories[name].categories)
            if name == "metrics":
                categories = tuple(metrics_from_key(key) for key in categories)
            categorical[name] = Categorical(np.concatenate(parts), categories)
        counted = self._counted(numeric, categorical)
        keep = columns | REQUIRED_COLUMNS
        table = TrialTable(
            {name: array for name, array in numeric.items() if name in keep},
            {name: column for name, column in categorical.items() if name in keep},
            self._problems,
        )
        return table if counted is None else table.where(counted)

    def _counted(
        self, numeric: Mapping[str, npt.NDArray[Any]], categorical: Mapping[str, Categorical]
    ) -> npt.NDArray[np.bool_] | None:
        """Which rows count (``None``: all), by ``count_records`` on the table's codes; notes into the problems."""
        runs = categorical["run_id"]
        code_of = {value: code for code, value in enumerate(runs.categories)}
        owners: list[int | None] = []
        for path, rows in self._segments:
            owner = self._owners.get(path)
            owners.extend([None if owner is None else code_of.get(owner, -1)] * rows)
        keys = zip(
            runs.codes.tolist(),
            categorical["task_id"].codes.tolist(),
            categorical["arm"].codes.tolist(),
            numeric["trial"].tolist(),
            owners,
            strict=True,
        )
        reasons = list(count_records(keys))
        start = 0
        for path, rows in self._segments:
            part = reasons[start : start + rows]
            note = LeftOut(part.count(FOREIGN), part.count(REPEATED)).note(path)
            if note is not None:
                self._problems.append(note)
            start += rows
        flags = [reason is None for reason in reasons]
        return None if all(flags) else np.array(flags, dtype=bool)
