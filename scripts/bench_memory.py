"""Memory and time of runs whose size is set by their output, their cap or their ledger.

Run ``python scripts/bench_memory.py`` (a few minutes on 2 cores; ``--quick`` for smaller sizes,
``--write-docs`` to put the output in ``docs/performance.md``). Not part of the test suite: the figures depend on
the machine; ``tests/unit/test_bench_memory_script.py`` smoke-tests the script on tiny sizes.

Every scenario is one pytest process tree in a fresh directory (``-p no:randomly -q``). A small probe plugin
(``-p agentopt_memprobe``) writes each process's peak resident set size (``VmHWM`` on Linux, else ``ru_maxrss``, at
``pytest_unconfigure``) and its role (controller or xdist worker); the script also times the whole command.
Linux keeps ``ru_maxrss`` across ``fork`` and ``exec``, so with it an xdist worker showed at least the controller's
resident size when the worker was started (209 MB for a worker that peaked at 86 MB, beside a controller holding
100,000 resumed records); ``VmHWM`` is the process's own peak. Figures measured before this change used
``ru_maxrss``.

1. **Captured output.** ``TASKS x TRIALS x 2`` trials under ``-n 2``, each printing ``KB`` kilobytes to stdout,
   and the same trials printing nothing: the controller's peak must not grow with the output.
2. **A large cap under ``--sprt``.** A clearly better test arm (the test decides after a few dozen pairs) on
   ``TASKS`` tasks with a cap of ``CAP`` trials per task per arm, and the same with a cap of 100, each without
   xdist (``-n 0``) and with it: what the never-run trials cost. The probe also counts the pytest ``Function``
   items each process made (the trials are made on demand, so this follows the trials that ran).
3. **Resuming a long ledger.** A run whose ledger already holds ``LEDGER`` finished trials (synthetic records of
   the planned trials, in planned order), resumed under ``-n 2`` with a few trials left to run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tabulate import tabulate

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
DOC_START = "<!-- bench_memory: start -->"
DOC_END = "<!-- bench_memory: end -->"
PROBE_MODULE = "agentopt_memprobe"
PROBE_ENV = "AGENTOPT_MEMPROBE_OUT"
PROBE_SOURCE = f'''
import json, os, resource

import _pytest.python

FUNCTIONS_MADE = [0]
_original_init = _pytest.python.Function.__init__


def _counting_init(self, *args, **kwargs):
    FUNCTIONS_MADE[0] += 1
    _original_init(self, *args, **kwargs)


_pytest.python.Function.__init__ = _counting_init


def pytest_unconfigure(config):
    path = os.environ.get("{PROBE_ENV}")
    if not path:
        return
    role = "worker" if hasattr(config, "workerinput") else "controller"
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:  # Linux: this process's own peak; ru_maxrss keeps the parent's peak across fork and exec
        with open("/proc/self/status", encoding="ascii") as status:
            peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        pass
    line = {{"role": role, "pid": os.getpid(), "peak_kb": peak_kb, "items_made": FUNCTIONS_MADE[0]}}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\\n")
'''
BASE_CONFIG = {"experiment_id": "base", "model_id": "gpt-4o-mini"}
TEST_CONFIG = {"experiment_id": "better", "parent": "base", "guidelines+": ["Check the coupon limits first"]}
SUITE = """
import random
import sys

import pytest

OUTPUT = "x" * {output_bytes}


@pytest.mark.parametrize("task", [f"t{{i}}" for i in range({tasks})])
def test_task(task, agent_config, agent_trial):
    if OUTPUT:
        sys.stdout.write(OUTPUT)
    rng = random.Random(agent_trial.seed)
    p = {p_test} if agent_config.guidelines else {p_control}
    agent_trial.record_usage(input_tokens=1000, output_tokens=200)
    assert rng.random() < p
"""
BASE_ARGS = ("-p", "no:randomly", "-q", "-p", PROBE_MODULE, "--agent-config=better.json", "--agent-seed=1")


@dataclass(frozen=True)
class Sizes:
    output_tasks: int = 20
    output_trials: int = 100
    output_kb: int = 100
    cap_tasks: int = 20
    cap: int = 10_000
    ledger: int = 200_000
    workers: int = 2

    @classmethod
    def quick(cls) -> Sizes:
        return cls(output_tasks=10, output_trials=20, output_kb=100, cap_tasks=20, cap=1_000, ledger=20_000)


@dataclass(frozen=True)
class Measured:
    label: str
    command: str
    wall_s: float
    exit_code: int
    controller_mb: float | None
    worker_mb: float | None
    trials_run: int
    tail: str
    items_made: int | None = None
    """pytest ``Function`` items made by the process that made the most (``None``: the probe said nothing)."""

    def row(self) -> list[str]:
        return [
            self.label,
            f"{self.wall_s:.1f}",
            _mb(self.controller_mb),
            _mb(self.worker_mb),
            str(self.trials_run),
            "-" if self.items_made is None else f"{self.items_made:,}",
            str(self.exit_code),
        ]


HEADERS = [
    "scenario",
    "wall s",
    "controller peak MB",
    "largest worker peak MB",
    "trials run",
    "items made (most in one process)",
    "exit",
]


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# -- suites and runs -------------------------------------------------------------------------------------------


def write_suite(directory: Path, *, tasks: int, output_bytes: int, p_control: float, p_test: float) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytest.ini").write_text("[pytest]\n")
    (directory / "base.json").write_text(json.dumps(BASE_CONFIG))
    (directory / "better.json").write_text(json.dumps(TEST_CONFIG))
    (directory / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
    (directory / "test_mem.py").write_text(
        SUITE.format(tasks=tasks, output_bytes=output_bytes, p_control=p_control, p_test=p_test)
    )


def child_environment(directory: Path, probe_out: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS"}}
    env["PYTHONPATH"] = os.pathsep.join([str(directory), *filter(None, [env.get("PYTHONPATH")])])
    env[PROBE_ENV] = str(probe_out)
    return env


def run_measured(label: str, directory: Path, args: Sequence[str], *, timeout_s: float = 1800.0) -> Measured:
    probe_out = directory / f"probe-{time.monotonic_ns()}.jsonl"
    argv = [sys.executable, "-m", "pytest", "test_mem.py", *BASE_ARGS, *args]
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            argv,
            cwd=directory,
            env=child_environment(directory, probe_out),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        code, output = completed.returncode, completed.stdout + completed.stderr
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        code, output = -1, f"{partial}\n[timed out after {timeout_s:.0f} s]"
    wall = time.perf_counter() - started
    peaks = read_probe(probe_out)
    made = read_items_made(probe_out)
    return Measured(
        label=label,
        command=shlex.join(["pytest", "test_mem.py", *BASE_ARGS[:3], *BASE_ARGS[5:], *args]),
        wall_s=wall,
        exit_code=code,
        controller_mb=peaks.get("controller"),
        worker_mb=peaks.get("worker"),
        trials_run=trials_run(output),
        items_made=made,
        tail="\n".join(output.strip().splitlines()[-6:]),
    )


def read_probe(path: Path) -> dict[str, float]:
    """The largest peak (MB) per role from the probe's lines."""
    peaks: dict[str, float] = {}
    if not path.exists():
        return peaks
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        megabytes = entry["peak_kb"] / 1024
        peaks[entry["role"]] = max(peaks.get(entry["role"], 0.0), megabytes)
    return peaks


def read_items_made(path: Path) -> int | None:
    """The most pytest ``Function`` items one process made, from the probe's lines (``None``: no line says)."""
    if not path.exists():
        return None
    counts = [
        entry["items_made"]
        for entry in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if "items_made" in entry
    ]
    return max(counts) if counts else None


def trials_run(output: str) -> int:
    """Trials that ran, from pytest's final line (passed + agent_failed + agent_error + ...; not skipped)."""
    for line in reversed(output.strip().splitlines()):
        if re.search(r"\d+ (passed|agent_failed|skipped)", line) and " in " in line:
            counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", line)}
            return sum(value for word, value in counts.items() if word not in {"skipped", "deselected", "warnings"})
    return 0


# -- scenarios -------------------------------------------------------------------------------------------------


def output_scenario(scratch: Path, sizes: Sizes) -> list[Measured]:
    results = []
    trials = sizes.output_tasks * sizes.output_trials * 2
    for kb in (sizes.output_kb, 0):
        directory = scratch / f"output-{kb}"
        write_suite(directory, tasks=sizes.output_tasks, output_bytes=kb * 1024, p_control=0.5, p_test=0.5)
        results.append(
            run_measured(
                f"{trials} trials printing {kb} KB each, -n {sizes.workers}",
                directory,
                [f"--agent-trials={sizes.output_trials}", "-n", str(sizes.workers)],
            )
        )
    return results


def cap_scenario(scratch: Path, sizes: Sizes) -> list[Measured]:
    results = []
    for cap in (sizes.cap, 100):
        directory = scratch / f"cap-{cap}"
        write_suite(directory, tasks=sizes.cap_tasks, output_bytes=0, p_control=0.2, p_test=0.95)
        for workers in (0, sizes.workers):
            results.append(
                run_measured(
                    f"--sprt, {sizes.cap_tasks} tasks, cap {cap} ({sizes.cap_tasks * cap * 2:,} planned trials), "
                    f"decides early, -n {workers}",
                    directory,
                    ["--sprt", f"--agent-trials={cap}", "-n", str(workers)],
                )
            )
    return results


def resume_scenario(scratch: Path, sizes: Sizes) -> list[Measured]:
    directory = scratch / "resume"
    tasks = 20
    trials = sizes.ledger // (tasks * 2) + 1  # one round of 40 trials is left to run (at most 10,000 per task)
    write_suite(directory, tasks=tasks, output_bytes=0, p_control=0.5, p_test=0.5)
    first = run_measured("a first, one-trial run (makes the manifest)", directory, ["--agent-trials=1"])
    if first.exit_code != 0:
        raise RuntimeError(f"the seed run failed:\n{first.tail}")
    run_dir = next((directory / ".agentopt" / "runs").iterdir())
    write_synthetic_ledger(run_dir, trials=trials, records=sizes.ledger)
    return [
        run_measured(
            f"resume a {sizes.ledger}-line ledger ({tasks * 2} trials left), -n {sizes.workers}",
            directory,
            ["--agent-resume", run_dir.name, "-n", str(sizes.workers)],
        )
    ]


def write_synthetic_ledger(run_dir: Path, *, trials: int, records: int) -> None:
    """Make the run's manifest plan ``trials`` trials and its ledger hold the first ``records`` planned ones."""
    from pytest_agentopt.run.trial_order import build_plan, trial_seed

    manifest_path = run_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["run"]["trials"] = trials
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    ledger = run_dir / "trials.jsonl"
    templates = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_arm = {record["arm"]: record for record in templates}
    task_ids = sorted({record["task_id"] for record in templates})
    seed = manifest["run"]["seed"]
    rng = random.Random(1)
    plan = build_plan(task_ids, tuple(manifest["run"]["arms"]), trials, seed)
    with ledger.open("w", encoding="utf-8") as handle:
        for entry in plan[:records]:
            record = dict(by_arm[entry.arm])
            success = rng.random() < 0.5
            record.update(
                task_id=entry.task_id,
                trial=entry.trial,
                seq=entry.seq,
                seed=trial_seed(seed, entry.task_id, entry.trial),
                outcome="success" if success else "failure",
                error_type=None if success else "AssertionError",
                message=None if success else "assert False",
            )
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
    for name in ("summary.json", "decision.json"):
        (run_dir / name).unlink(missing_ok=True)


SCENARIOS = {"output": output_scenario, "cap": cap_scenario, "resume": resume_scenario}


# -- report ----------------------------------------------------------------------------------------------------


def machine_lines() -> list[str]:
    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, {platform.machine()}, cpu_count {os.cpu_count()}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
        f"- packages: pytest {version('pytest')}, pytest-xdist {version('pytest-xdist')}, "
        f"pytest-agentopt {version('pytest-agentopt')}",
        f"- load average (1, 5, 15 min) at the start: {load}",
    ]


def report_lines(results: Sequence[Measured]) -> list[str]:
    table = tabulate([result.row() for result in results], headers=HEADERS, tablefmt="github", disable_numparse=True)
    lines = [table, "", "Commands (in each scenario's directory):", ""]
    lines.extend(f"    {result.command}" for result in results)
    failed = [result for result in results if result.exit_code not in (0, 1)]
    for result in failed:
        tail = ["    " + line for line in result.tail.splitlines()]
        lines.extend(["", f"{result.label}: exit {result.exit_code}; last lines:", *tail])
    return lines


FLOOR = (
    "What bounds these figures. The captured output of a trial is dropped once no report can show it (it is kept "
    "with `-rP`, `-rA` or JUnit `junit_logging`), so memory does not grow with the agents' output. A planned trial "
    "becomes a pytest item only when it is about to run (one item per task and arm is collected; "
    "[design.md](design.md#items-made-on-demand)), so the items a process makes follow the trials that ran (the "
    '"items made" column: each process\'s `Function` objects, the collected trial-0 items included). What still '
    "grows with the plan:",
    "",
    "- every process holds the plan, one small entry per planned trial (about 230 bytes each in a single process); "
    "under xdist each worker also computes and sends a node id per planned trial at start-up (xdist's protocol: the "
    "controller schedules by index into the complete collection each worker sends, and has no message to extend "
    "it), and execnet's serializer holds about 0.7 KB per id while it builds that message, so a worker peaks at "
    "about 0.9 KB per planned trial; the controller keeps one copy of the ids, whatever the number of workers;",
    "- the trials a stopped run never reached are told to pytest once, as deselected (a stand-in of about 90 bytes "
    "each, not a report: [design.md](design.md#stop-and-skip)); the controller keeps every trial record of the run "
    "(about 1.4 KB each once their repeated strings are shared; a resumed 200,000-line ledger is read line by line, "
    "its finished trials are counted as deselected without an item each, and reach the workers as one string per "
    "task). A run's summary holds its records' features once more for the drift report, and the permutation test "
    "one chunk of sign flips at a time. So size caps to what a run may really need (a run that plans 50,000 trials "
    "or more says so at start-up, `shell/collection_size.py`);",
    "- with `-k`, `--deselect`, `--lf`, `--sw` or `--collect-only` every planned trial is a collected item in every "
    "collecting process, as before: about 3 KB each (pytest's item about 2.7 KB).",
)


def render_doc_block(
    command: str, duration_s: float, machine: Sequence[str], body: Sequence[str], compared: Sequence[str] = ()
) -> str:
    return "\n".join(
        [
            DOC_START,
            "## Memory: output, large caps and long ledgers",
            "",
            "Generated by `scripts/bench_memory.py --write-docs` (its docstring explains each scenario); "
            "`scripts/bench_overhead.py --write-docs` keeps this section.",
            "",
            *FLOOR,
            "",
            f"Command: `{command}` (took {duration_s:.0f} s)",
            "",
            *machine,
            "",
            *body,
            *(["", *compared] if compared else []),
            DOC_END,
        ]
    )


def compared_lines(path: Path) -> list[str]:
    """What an earlier run of this script printed (``--compare FILE``): its command, machine and table."""
    lines = path.read_text(encoding="utf-8").splitlines()
    keep = [line for line in lines if line.startswith(("Command:", "- ", "|"))]
    first_row = next((index for index, line in enumerate(keep) if line.startswith("|")), len(keep))
    return [f"### Compared with an earlier run (`{path.name}`)", "", *keep[:first_row], "", *keep[first_row:]]


def parse_saved_output(text: str) -> tuple[str, float, list[str], list[str]]:
    """The command, duration, machine lines and body of this script's printed output (``--render-saved``)."""
    lines = text.splitlines()
    match = next(
        (re.match(r"Command: (.*) \(took (\d+) s\)$", line) for line in lines if line.startswith("Command:")), None
    )
    if match is None:
        raise ValueError("not this script's output: no 'Command: ... (took N s)' line")
    start = next(index for index, line in enumerate(lines) if line.startswith("Command:")) + 1
    machine = []
    while start < len(lines) and lines[start].startswith("- "):
        machine.append(lines[start])
        start += 1
    body = []
    for line in lines[start:]:
        if line.startswith("### Compared with"):
            break
        body.append(line)
    while body and not body[0].strip():
        body.pop(0)
    while body and not body[-1].strip():
        body.pop()
    return match.group(1), float(match.group(2)), machine, body


def replace_doc_block(text: str, block: str) -> str:
    """``text`` with its memory block replaced by ``block`` (appended when it has none)."""
    start, end = text.find(DOC_START), text.find(DOC_END)
    if start != -1 and end > start:
        return text[:start] + block + text[end + len(DOC_END) :]
    return text.rstrip("\n") + "\n\n" + block + "\n"


@contextmanager
def scratch_directory(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="agentopt-memory-"))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


def parse_args(argv: Sequence[str] | None) -> tuple[Sizes, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="run only this scenario")
    parser.add_argument("--cap", type=int, help="the cap of the --sprt scenario (default 10000)")
    parser.add_argument("--ledger", type=int, help="records in the resumed ledger (default 200000)")
    parser.add_argument("--output-kb", type=int, help="kilobytes printed per trial (default 100)")
    parser.add_argument("--workers", type=int, help="xdist workers (default 2)")
    parser.add_argument("--write-docs", action="store_true", help=f"write the output into {DOC_PATH}")
    parser.add_argument(
        "--compare", type=Path, help="the saved output of an earlier run (e.g. of older code), shown after this one"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--render-saved",
        type=Path,
        help="measure nothing: take the figures from this script's saved output (e.g. with --write-docs)",
    )
    args = parser.parse_args(argv)
    sizes = Sizes.quick() if args.quick else Sizes()
    overrides: Mapping[str, Any] = {
        key: value
        for key, value in (
            ("cap", args.cap),
            ("ledger", args.ledger),
            ("output_kb", args.output_kb),
            ("workers", args.workers),
        )
        if value is not None
    }
    if overrides:
        sizes = Sizes(**{**sizes.__dict__, **overrides})
    return sizes, args


def main(argv: Sequence[str] | None = None) -> int:
    sizes, args = parse_args(argv)
    if args.render_saved is not None:
        command, duration, machine, body = parse_saved_output(args.render_saved.read_text(encoding="utf-8"))
    else:
        command = shlex.join(["python", "scripts/bench_memory.py", *(sys.argv[1:] if argv is None else argv)])
        machine = machine_lines()
        started = time.perf_counter()
        results: list[Measured] = []
        with scratch_directory(args.keep) as scratch:
            for name in args.only or list(SCENARIOS):
                results.extend(SCENARIOS[name](scratch, sizes))
        duration = time.perf_counter() - started
        body = report_lines(results)
    compared = compared_lines(args.compare) if args.compare is not None else []
    print("\n".join([f"Command: {command} (took {duration:.0f} s)", *machine, "", *body, "", *compared]))
    if args.write_docs:
        block = render_doc_block(command, duration, machine, body, compared)
        DOC_PATH.write_text(replace_doc_block(DOC_PATH.read_text(encoding="utf-8"), block), encoding="utf-8")
        print(f"\nwrote {DOC_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
