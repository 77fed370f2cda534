"""Seeded mutation fuzzing of everything the plugin and the ``agentopt`` command read: configs, ledgers, manifests.

Run ``python scripts/fuzz_inputs.py --help``. Each case starts from valid files (two configs, and a finished run
with its manifest, ledger and summary), mutates one of them with a seeded random generator, and reads the result
the way the plugin and the command do:

* **config** (the test config or its parent): ``build_context`` as a new run starts (validation, inheritance,
  the cache key), ``agentopt config show`` and ``agentopt config diff``;
* **manifest**: ``build_context`` as ``--agent-resume`` starts, then every history command and ``agentopt report``;
* **ledger**: the same, plus the summary the resumed run would print (``build_summary`` over the records resume
  keeps) and the CSV export;
* **summary** (``summary.json``, read only by the command): ``agentopt report``, ``agentopt plan --from-run`` and
  the history commands.

The property checked, for every case: a damaged file is either refused with a usage error that names it
(:class:`~pytest_agentopt.errors.AgentoptUsageError`: exit 4 under pytest, one ``agentopt: error:`` line from the
command) or read with every skipped line reported in a note; no other exception, ever. A ledger is never refused:
damage there costs lines, each said in a note, and the notes are checked against the lines that changed.

Mutations: byte-level (flip, insert, delete or duplicate bytes, insert 0xff or NUL, truncate) and structural
(a value replaced by another type, a huge or non-finite number, a lone surrogate, a 5,000-digit integer, a
nesting 10,000 deep, a formula-like string; a key deleted, renamed or duplicated).

``tests/unit/test_fuzz_inputs.py`` runs a fixed budget of cases in the default suite and a larger one under the
``slow`` marker; ``tests/plugin/test_fuzz_pytest.py`` runs cases through pytest itself (exit 4 or notes, never
exit 3). This script runs as many as asked (about a tenth of a second of CPU per case).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

KINDS = ("config", "parent", "manifest", "ledger", "summary")
BASE = {"experiment_id": "base", "model_id": "gpt-4o-mini", "temperature": 0.2, "params": {"tools": ["search"]}}
CHILD = {"experiment_id": "improved", "parent": "base", "guidelines+": ["Check coupon limits first"], "max_steps": 8}
_PLACEHOLDERS = {
    "__NAN__": "NaN",
    "__INF__": "-Infinity",
    "__OVERFLOW__": "1e999",
    "__BIGINT__": "9" * 5000,
    "__DEEP__": "[" * 10_000 + "]" * 10_000,
    "__SURROGATE__": '"\\ud800"',
}
HOSTILE: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2.5,
    10**30,
    "",
    "x",
    '=HYPERLINK("http://x")',
    [],
    {},
    [1, "a"],
    {"k": [None]},
    *_PLACEHOLDERS,
)


@dataclass(frozen=True)
class Workspace:
    """Valid files to mutate: ``configs/{base,improved}.json`` and one finished run under ``agent/runs/``."""

    root: Path

    @property
    def configs(self) -> Path:
        return self.root / "configs"

    @property
    def agent_dir(self) -> Path:
        return self.root / "agent"

    @property
    def run(self) -> Path:
        (run,) = (self.agent_dir / "runs").iterdir()
        return run

    def target(self, kind: str) -> Path:
        return {
            "config": self.configs / "improved.json",
            "parent": self.configs / "base.json",
            "manifest": self.run / "manifest.json",
            "ledger": self.run / "trials.jsonl",
            "summary": self.run / "summary.json",
        }[kind]


def make_workspace(root: Path, *, trials: int = 3, tasks: int = 3) -> Workspace:
    """A finished run written with the plugin's own writers (no pytest needed)."""
    from pytest_agentopt.report.summary import build_summary
    from pytest_agentopt.run.options import RunOptions
    from pytest_agentopt.run.trial_order import build_plan
    from pytest_agentopt.storage.ledger import LedgerWriter, create_run_directory, write_json_atomic
    from pytest_agentopt.storage.manifest import build_manifest
    from pytest_agentopt.storage.run_context import build_context
    from pytest_agentopt.storage.trial_record import TrialRecord

    workspace = Workspace(root)
    workspace.configs.mkdir(parents=True)
    (workspace.configs / "base.json").write_text(json.dumps(BASE, indent=2))
    (workspace.configs / "improved.json").write_text(json.dumps(CHILD, indent=2))
    options = RunOptions(config_path=workspace.configs / "improved.json", agent_dir=workspace.agent_dir, seed=7)
    context, _ = build_context(options)
    run_dir = create_run_directory(workspace.agent_dir, "improved")
    context.run_id, context.run_dir = run_dir.name, run_dir
    write_json_atomic(context.paths.manifest, build_manifest(context, rootdir=root, options={}))
    records = [_record(context.run_id, context.hashes, entry, seq) for seq, entry in enumerate(
        build_plan({f"suite.py::test_task[t{i}]" for i in range(tasks)}, context.arms, trials, context.seed)
    )]  # fmt: skip
    with LedgerWriter(context.paths.trials) as writer:
        for record in records:
            writer.append(record)
    summary = build_summary(
        records=cast(list[TrialRecord], records),
        context=context,
        feeder=None,
        plan_size=len(records),
        skipped_by_stop=0,
        interrupted=False,
        notes=[],
    )
    write_json_atomic(context.paths.summary, summary)
    return workspace


def _record(run_id: str, hashes: dict[str, str], entry: Any, seq: int) -> dict[str, Any]:
    success = (seq * 7) % 3 != 0
    return {
        "schema": 1,
        "run_id": run_id,
        "experiment_id": "improved" if entry.arm == "test" else "base",
        "arm": entry.arm,
        "config_hash": hashes[entry.arm],
        "task_id": entry.task_id,
        "task_code": entry.task_id[-3:-1],
        "category": "discriminative",
        "optimal_steps": 4,
        "impossible": False,
        "trial": entry.trial,
        "seq": seq,
        "seed": 1000 + entry.trial,
        "outcome": "success" if success else "failure",
        "error_type": None if success else "AssertionError",
        "message": None if success else "=SUM(A1) wrong item",
        "tokens": {"input": 1000, "output": 100, "cache_read": 0, "cache_write": 0, "reasoning": 0},
        "model": "gpt-4o-mini",
        "cost_usd": 0.001,
        "price_source": "config prices",
        "latency_s": 0.5,
        "steps": 5,
        "tool_calls": 3,
        "metrics": {"claimed_done": success, "label": "-x"},
        "attempts": 1,
        "worker": "main",
        "started_at": "2026-11-23T15:55:01.123Z",
        "finished_at": "2026-11-23T15:55:01.623Z",
        "after_decision": False,
    }


# ---------------------------------------------------------------------------------------------------------------
# Mutations
# ---------------------------------------------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, *, lines: bool = False) -> bytes:
    """One to three mutations of a JSON document (``lines``: of one or a few lines of a JSON Lines file)."""
    if lines:
        parts = data.split(b"\n")
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(parts))
            parts[index] = _mutate_document(parts[index], rng) if parts[index] else b'{"schema": 1}'
        return b"\n".join(parts)
    for _ in range(rng.randint(1, 2)):
        data = _mutate_document(data, rng)
    return data


def _mutate_document(data: bytes, rng: random.Random) -> bytes:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        value = None
    if value is not None and rng.random() < 0.7:
        return _structural(value, rng)
    return _bytes(data, rng)


def _structural(value: Any, rng: random.Random) -> bytes:
    operation = rng.choice(("replace", "replace", "delete", "rename", "duplicate"))
    by_depth: dict[int, list[Any]] = {}
    for depth, item in _containers(value):
        by_depth.setdefault(depth, []).append(item)
    # A depth first, then a container at it: the top-level keys are hit as often as the deepest ones.
    container = rng.choice(by_depth[rng.choice(list(by_depth))]) if by_depth else None
    if isinstance(container, dict) and container:
        key = rng.choice(list(container))
        if operation == "delete":
            del container[key]
        elif operation == "rename":
            container[key + rng.choice(("+", "-", "_", "x"))] = container.pop(key)
        elif operation == "duplicate":
            text = json.dumps(value)
            encoded = json.dumps(key)
            where = text.find(encoded + ":")
            if where >= 0:
                duplicate = f"{encoded}: {json.dumps(rng.choice(HOSTILE[:13]))}, "
                return _finish(text[:where] + duplicate + text[where:])
            container[key] = rng.choice(HOSTILE)
        else:
            container[key] = rng.choice(HOSTILE)
    elif isinstance(container, list) and container:
        container[rng.randrange(len(container))] = rng.choice(HOSTILE)
    else:
        value = rng.choice(HOSTILE)
    return _finish(json.dumps(value, ensure_ascii=True))


def _finish(text: str) -> bytes:
    for placeholder, literal in _PLACEHOLDERS.items():
        text = text.replace(json.dumps(placeholder), literal)
    return text.encode("utf-8")


def _containers(value: Any) -> Iterator[tuple[int, Any]]:
    """Every object and list in ``value``, with its depth."""
    stack = [(0, value)]
    while stack:
        depth, item = stack.pop()
        if isinstance(item, dict):
            yield depth, item
            stack.extend((depth + 1, child) for child in item.values())
        elif isinstance(item, list):
            yield depth, item
            stack.extend((depth + 1, child) for child in item)


def _bytes(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    operation = rng.choice(("flip", "insert", "delete", "duplicate", "truncate", "garbage"))
    at = rng.randrange(len(buffer) + 1)
    if operation == "flip" and buffer:
        buffer[min(at, len(buffer) - 1)] ^= 1 << rng.randrange(8)
    elif operation == "insert":
        buffer[at:at] = bytes([rng.choice((0x00, 0xFF, 0x22, 0x5C, 0x7B, 0x5D, 0x2C, 0x0A))])
    elif operation == "delete":
        del buffer[at : at + rng.randint(1, 16)]
    elif operation == "duplicate":
        buffer[at:at] = buffer[at : at + rng.randint(1, 64)]
    elif operation == "truncate":
        del buffer[at:]
    else:
        buffer[at:at] = rng.choice((b"\xff\xfe", b"\xed\xa0\x80", b"\\ud800", b"NaN", b"\x00\x00", b"9" * 5000))
    return bytes(buffer)


# ---------------------------------------------------------------------------------------------------------------
# Reading the mutated files as the plugin and the command do
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    kind: str
    refused: str | None
    """The usage error's message when the input was refused."""
    notes: tuple[str, ...]


class PropertyError(AssertionError):
    """A case broke the property: an exception other than a usage error, or a damaged line without a note."""


def check_case(workspace: Workspace, kind: str) -> Outcome:
    """Read the (already mutated) workspace for ``kind``; raise :class:`PropertyError` on a broken property."""
    from pytest_agentopt.errors import AgentoptUsageError
    from pytest_agentopt.run.options import RunOptions
    from pytest_agentopt.storage.run_context import build_context

    if kind in ("config", "parent"):
        options = RunOptions(config_path=workspace.configs / "improved.json", agent_dir=workspace.agent_dir)
        config_error = _usage_error(lambda: build_context(options))
        _command(["config", "show", str(workspace.configs / "improved.json")])
        _command(["config", "diff", str(workspace.configs / "base.json"), str(workspace.configs / "improved.json")])
        return Outcome(kind, config_error, ())
    if kind == "summary":
        _command(["plan", "--p0", "0.5", "--from-run", str(workspace.run), "--agent-dir", str(workspace.agent_dir)])
        _command(["report", str(workspace.run)])
        _command(["experiments", "--agent-dir", str(workspace.agent_dir), "--json"])
        return Outcome(kind, None, ())
    options = RunOptions(resume=str(workspace.run), agent_dir=workspace.agent_dir)
    notes: list[str] = []
    refused: str | None = None
    try:
        context, notes = build_context(options)
    except AgentoptUsageError as exc:
        if kind == "ledger":
            raise PropertyError(f"a damaged ledger must never refuse a resume: {exc}") from exc
        refused = str(exc)
    except Exception as exc:
        raise PropertyError(f"build_context raised {_describe(exc)}") from exc
    else:
        _summary_and_csv(context, workspace)
    if kind == "ledger":
        _check_ledger_notes(workspace, notes)
    for command in (["experiments"], ["pareto", "--bootstrap", "20"], ["guidelines"], ["tasks"], ["failures"]):
        for output in ([], ["--json"]):
            _command([*command, "--agent-dir", str(workspace.agent_dir), *output])
    _command(["report", str(workspace.run)])
    return Outcome(kind, refused, tuple(notes))


def _usage_error(action: Callable[[], object]) -> str | None:
    from pytest_agentopt.errors import AgentoptUsageError

    try:
        action()
    except AgentoptUsageError as exc:
        return str(exc)
    except Exception as exc:
        raise PropertyError(f"raised {_describe(exc)}") from exc
    return None


@functools.cache
def _parser() -> argparse.ArgumentParser:
    from pytest_agentopt.cli.main import build_parser

    return build_parser()  # once: building it costs more than most commands


def _command(argv: list[str]) -> int:
    """``agentopt ARGS`` in this process: only exit status 0, 1 or 2 (a one-line error), never a traceback."""
    from pytest_agentopt.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = run(_parser().parse_args(argv))
    except Exception as exc:
        raise PropertyError(f"agentopt {' '.join(argv)} raised {_describe(exc)}") from exc
    if status not in (0, 1, 2):
        raise PropertyError(f"agentopt {' '.join(argv)} exited {status}")
    if status == 2 and not err.getvalue().startswith("agentopt: error: "):
        raise PropertyError(f"agentopt {' '.join(argv)} exited 2 without its one-line error: {err.getvalue()!r}")
    return status


def _summary_and_csv(context: Any, workspace: Workspace) -> None:
    """What the resumed run would report from the records it kept."""
    from pytest_agentopt.report.render.csv import write_trials_csv
    from pytest_agentopt.report.summary import build_summary
    from pytest_agentopt.report.terminal import render_summary

    try:
        summary = build_summary(
            records=context.resumed,
            context=context,
            feeder=None,
            plan_size=len(context.resumed),
            skipped_by_stop=0,
            interrupted=False,
            notes=[],
        )
        render_summary(summary, verbosity=1, width=120, details={})
        json.dumps(summary)
        write_trials_csv(context.resumed, workspace.root / "out.csv")
    except Exception as exc:
        raise PropertyError(f"the resumed run's report raised {_describe(exc)}") from exc


def _check_ledger_notes(workspace: Workspace, notes: list[str]) -> None:
    """Every line of the ledger that is not a record the run counts is named in a note."""
    from pytest_agentopt.storage.ledger import read_ledger

    ledger = workspace.target("ledger")
    read = read_ledger(ledger)
    lines = ledger.read_bytes().split(b"\n")
    expected = sum(1 for line in lines if line.strip()) - len(read.records)
    said = sum(1 for note in notes if ": skipped " in note)
    said += sum(_count_not_counted(note) for note in notes if ": not counted: " in note)
    if said < expected:
        raise PropertyError(f"{expected} ledger lines were not counted but the notes name {said}: {notes}")


def _count_not_counted(note: str) -> int:
    text = note.split(": not counted: ", 1)[1]
    return sum(int(part.split(" ", 1)[0]) for part in text.split(", "))


def _describe(exc: BaseException) -> str:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"{type(exc).__name__}: {str(exc)[:200]}{where}"


# ---------------------------------------------------------------------------------------------------------------
# Running cases
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    seed: int
    case: int
    kind: str
    problem: str
    mutated: bytes


def run_cases(
    template: Workspace, *, cases: int, seed: int, scratch: Path, first: int = 0
) -> tuple[dict[str, int], list[Failure]]:
    """Cases ``first`` to ``first + cases - 1``: mutated copies of ``template``, kinds in turn; counts per outcome
    and the failures. A case is the same whenever it runs (its generator is seeded with the seed and its number)."""
    counts = {"refused": 0, "read": 0, "read with notes": 0}
    failures: list[Failure] = []
    for case in range(first, first + cases):
        kind = KINDS[case % len(KINDS)]
        rng = random.Random(f"{seed}:{case}")
        copy = scratch / f"case-{case}"
        shutil.copytree(template.root, copy)
        workspace = Workspace(copy)
        target = workspace.target(kind)
        mutated = mutate(target.read_bytes(), rng, lines=kind == "ledger")
        target.write_bytes(mutated)
        try:
            outcome = check_case(workspace, kind)
        except PropertyError as exc:
            failures.append(Failure(seed, case, kind, str(exc), mutated))
        else:
            key = "refused" if outcome.refused else ("read with notes" if outcome.notes else "read")
            counts[key] += 1
        finally:
            shutil.rmtree(copy, ignore_errors=True)
    return counts, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=2000, help="number of mutated cases (default 2000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    parser.add_argument(
        "--first", type=int, default=0, help="number of the first case (to rerun one: --first N --cases 1)"
    )
    parser.add_argument("--keep", type=Path, help="write each failing case's mutated file into this folder")
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        template = make_workspace(Path(folder) / "template")
        counts, failures = run_cases(template, cases=args.cases, seed=args.seed, scratch=Path(folder), first=args.first)
    print(f"fuzz_inputs: {args.cases} cases, seed {args.seed}, {time.monotonic() - started:.1f} s")
    print(
        "  " + ", ".join(f"{name}: {count}" for name, count in counts.items()) + f", property broken: {len(failures)}"
    )
    for failure in failures:
        print(f"  case {failure.case} ({failure.kind}): {failure.problem}")
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"case-{failure.seed}-{failure.case}-{failure.kind}").write_bytes(failure.mutated)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
