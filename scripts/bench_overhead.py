"""Performance benchmark of pytest-agentopt: per-trial overhead and xdist speed-up.

Run ``python scripts/bench_overhead.py`` (about 11 minutes; ``--quick`` for a rough look, ``--write-docs`` to refresh
``docs/performance.md``). Not part of the test suite: performance is measured here and never asserted in unit
tests, because the machines are noisy; ``tests/unit/test_bench_script.py`` smoke-tests the functions on tiny inputs.

What is measured
----------------
1. **Overhead per trivial trial.** The same number of trivial items, each run as its own pytest process
   (``sys.executable -m pytest -p no:randomly -q``), several repeats, interleaved and rotated
   so that a burst of load on the machine hits every command alike:

   - ``plain``: ``@pytest.mark.parametrize("i", range(N))`` with an empty body, no plugin options (the plugin is
     installed, so it is loaded but inactive) - the baseline of the ratio;
   - ``plain, plugin off``: the same with ``-p no:agentopt``: what the inactive plugin costs;
   - ``agentopt, marker``: ``@pytest.mark.agent_task`` on an empty test, ``tasks x trials x 2 arms = N`` items,
     fixed sample (no ``--sprt``), so every item runs and every trial is written to the ledger;
   - ``agentopt, agent_trial+usage``: the ``agent_trial`` fixture and one ``record_usage`` call per trial (prices
     estimated per trial), the shape of a real task;
   - ``first run: marker, --cache-clear``: the marker suite with pytest's cache cleared first, as the first run
     of new configs is: the plugin then validates them with pydantic (its largest start-up cost), which later
     runs take from the cache. Shown for information; the verdicts are about the runs after it.

   Reported: median, min and max wall time, the ratio of medians, the range of the per-repeat ratios (repeat i of
   the plugin over repeat i of the baseline, run back to back), the ratio of minima and the ratio of median CPU
   times (user + system of the child, much less sensitive to other load than wall time). The same commands are
   then timed *inside* the process (``pytest.main`` only, without interpreter start-up and ``import pytest``) at N
   and N/10 items; a straight line through the two sizes splits each run into a fixed cost and a cost per item.
   Where the extra time goes: ``python -X importtime`` (modules only the plugin run imports) and ``cProfile``
   (time by module, plugin minus baseline, and the plugin's own functions by cumulative time).
2. **Parallel speed-up.** A simulated agent (``time.sleep(latency)`` per trial, ``agent_trial`` fixture) run with
   ``-n WORKERS`` and ``-n 0``; the speed-up is the ratio of the median wall times. The same suite with zero
   latency gives the fixed cost of each mode (start-up, dispatch, reporting), and the trial ledger's timestamps
   split the ``-n WORKERS`` runs into time to the first trial, time until every worker has started one, the span
   of the trials and the tail after the last one.

Verdicts: PASS when every estimate of the ratio (of medians, of minima, of CPU medians; for the speed-up of
medians and of minima) meets the target, FAIL when none does, UNSETTLED when the machine's noise straddles it.

Fairness: every command runs in a fresh temporary directory with an empty ``pytest.ini`` (no addopts from the
repository), its own ``--agent-dir``, ``-p no:randomly -q``. pytest's cache provider stays on, as pytest has it by
default (every command pays for its writes alike), and the warm-up run fills it. By default the children get a
private, warmed bytecode cache (``PYTHONPYCACHEPREFIX``, ``PYTHONDONTWRITEBYTECODE`` unset, one discarded warm-up
run per command), as an installed package has; ``--inherit-bytecode-env`` runs them in this environment as is.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import pstats
import re
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tabulate import tabulate

OVERHEAD_TARGET = 1.3
SPEEDUP_TARGET = 5.0
BASE_ARGS = ("-p", "no:randomly", "-q")
FIRST_RUN = "first run: marker, --cache-clear"
ELAPSED_TAG = "AGENTOPT_BENCH_ELAPSED="
# Runs pytest.main in a fresh interpreter and prints how long pytest.main alone took: wall and CPU seconds.
INPROCESS_SNIPPET = (
    "import sys, time, pytest\n"
    "start, start_cpu = time.perf_counter(), time.process_time()\n"
    "code = pytest.main(sys.argv[1:])\n"
    f"print('\\n{ELAPSED_TAG}%.6f %.6f' % (time.perf_counter() - start, time.process_time() - start_cpu))\n"
    "sys.exit(int(code))\n"
)
BASE_CONFIG = {"experiment_id": "base", "model_id": "gpt-4o-mini"}
TEST_CONFIG = {"experiment_id": "exp", "parent": "base", "guidelines+": ["Check coupon limits first"]}
REPO_ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = REPO_ROOT / "docs" / "performance.md"


# -- plain data -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One pytest invocation of the benchmark: what it runs, where, and how many items must pass."""

    label: str
    args: tuple[str, ...]
    cwd: Path
    expected_passed: int
    agent_dir: Path | None = None

    def argv(self, *, in_process: bool = False, agent_dir: Path | None = None) -> list[str]:
        runner = ["-c", INPROCESS_SNIPPET] if in_process else ["-m", "pytest"]
        extra = [f"--agent-dir={agent_dir}"] if agent_dir is not None else []
        return [sys.executable, *runner, *self.args, *extra]

    def shell(self) -> str:
        agent_dir = ["--agent-dir=DIR"] if self.agent_dir is not None else []
        return shlex.join(["python", "-m", "pytest", *self.args, *agent_dir])


@dataclass(frozen=True)
class Timing:
    """One finished run: wall and CPU time, exit status and the number of passed items pytest reported."""

    wall_s: float
    cpu_s: float
    exit_code: int
    passed: int | None
    launched_at: float
    finished_at: float
    inner_s: float | None = None
    inner_cpu_s: float | None = None
    agent_dir: Path | None = None
    repeat: int = 0
    output_tail: str = ""

    def ok(self, expected_passed: int) -> bool:
        return self.exit_code == 0 and self.passed == expected_passed


@dataclass(frozen=True)
class Spread:
    median: float
    minimum: float
    maximum: float
    count: int


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator`` of two commands timed in interleaved repeats."""

    of_medians: float
    of_minima: float
    per_repeat_low: float
    per_repeat_high: float
    of_cpu_medians: float | None = None


@dataclass(frozen=True)
class Timeline:
    """A run's phases from its trial ledger, in seconds since the process was launched."""

    first_trial_s: float
    all_workers_started_s: float
    span_s: float
    tail_s: float
    workers: int


@dataclass
class Results:
    """Every timing of a set of commands, in the order they ran, and the runs that went wrong."""

    timings: dict[str, list[Timing]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def good(self, label: str) -> list[Timing]:
        return self.timings.get(label, [])


# -- suites -----------------------------------------------------------------------------------------------------


def write_configs(directory: Path) -> Path:
    """The two experiment configs and an empty ``pytest.ini``; returns the test config's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "pytest.ini").write_text("[pytest]\n")
    (directory / "base.json").write_text(json.dumps(BASE_CONFIG))
    test_config = directory / "exp.json"
    test_config.write_text(json.dumps(TEST_CONFIG))
    return test_config


def tasks_for(items: int, trials: int, arms: int = 2) -> int:
    if items <= 0 or trials <= 0 or items % (trials * arms):
        raise ValueError(f"{items} items is not a whole number of tasks x {trials} trials x {arms} arms")
    return items // (trials * arms)


def write_overhead_suite(directory: Path, *, items: int, trials: int) -> dict[str, Command]:
    """Write the trivial suites of part 1 and return their commands, baseline (``plain``) first."""
    config = write_configs(directory)
    tasks = tasks_for(items, trials)
    (directory / "test_plain.py").write_text(
        f'import pytest\n\n\n@pytest.mark.parametrize("i", range({items}))\ndef test_plain(i):\n    pass\n'
    )
    (directory / "test_marker.py").write_text(
        "import pytest\n\n\n@pytest.mark.agent_task\n"
        f'@pytest.mark.parametrize("task", range({tasks}))\ndef test_marker(task):\n    pass\n'
    )
    (directory / "test_usage.py").write_text(
        f'import pytest\n\n\n@pytest.mark.parametrize("task", range({tasks}))\n'
        "def test_usage(task, agent_trial):\n"
        '    agent_trial.record_usage(model="gpt-4o-mini", input_tokens=1200, output_tokens=300)\n'
    )
    agent = (f"--agent-config={config.name}", f"--agent-trials={trials}", "--agent-seed=1")
    return {
        "plain": Command("plain", ("test_plain.py", *BASE_ARGS), directory, items),
        "plain, plugin off": Command(
            "plain, plugin off", ("test_plain.py", *BASE_ARGS, "-p", "no:agentopt"), directory, items
        ),
        "agentopt, marker": Command(
            "agentopt, marker", ("test_marker.py", *BASE_ARGS, *agent), directory, items, agent_dir=directory
        ),
        "agentopt, agent_trial+usage": Command(
            "agentopt, agent_trial+usage", ("test_usage.py", *BASE_ARGS, *agent), directory, items, agent_dir=directory
        ),
        FIRST_RUN: Command(
            FIRST_RUN, ("test_marker.py", *BASE_ARGS, "--cache-clear", *agent), directory, items, agent_dir=directory
        ),
    }


def write_latency_suite(
    directory: Path, *, trials_total: int, trials: int, latency_s: float, workers: int
) -> dict[str, Command]:
    """Write the simulated-agent suites of part 2 and their commands, in the order ``LATENCY_ROLES`` names them."""
    config = write_configs(directory)
    tasks = tasks_for(trials_total, trials)
    for name, sleep in (("test_latency.py", latency_s), ("test_zero_latency.py", 0.0)):
        (directory / name).write_text(
            f'import time\n\nimport pytest\n\n\n@pytest.mark.parametrize("task", range({tasks}))\n'
            f"def test_agent(task, agent_trial):\n    time.sleep({sleep!r})\n"
        )
    (directory / "test_plain.py").write_text(
        f'import pytest\n\n\n@pytest.mark.parametrize("i", range({trials_total}))\ndef test_plain(i):\n    pass\n'
    )
    agent = (f"--agent-config={config.name}", f"--agent-trials={trials}", "--agent-seed=1")
    commands: dict[str, Command] = {}
    for suite, prefix in (("test_latency.py", f"{latency_s * 1000:g} ms"), ("test_zero_latency.py", "0 ms")):
        for n in (workers, 0):
            label = f"{prefix}, -n {n}"
            commands[label] = Command(
                label, (suite, *BASE_ARGS, *agent, "-n", str(n)), directory, trials_total, agent_dir=directory
            )
    floor = f"0 ms, -n {workers}, plugin off"
    commands[floor] = Command(
        floor, ("test_plain.py", *BASE_ARGS, "-p", "no:agentopt", "-n", str(workers)), directory, trials_total
    )
    return commands


LATENCY_ROLES = ("parallel", "serial", "zero_parallel", "zero_serial", "xdist_floor")


# -- running ----------------------------------------------------------------------------------------------------


def child_environment(pycache: Path | None) -> dict[str, str]:
    """This environment without pytest overrides; with a private bytecode cache when ``pycache`` is given."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS"}}
    env.pop("PYTEST_XDIST_AUTO_NUM_WORKERS", None)
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def parse_passed(output: str) -> int | None:
    """The number of passed items on pytest's final summary line, or None when there is none."""
    for line in reversed(output.strip().splitlines()):
        if " in " in line and re.search(r"\d+ (passed|failed|skipped|error)", line):
            match = re.search(r"(\d+) passed", line)
            return int(match.group(1)) if match else 0
    return None


def parse_inner_elapsed(output: str) -> tuple[float, float] | None:
    """(wall, CPU) seconds of ``pytest.main`` printed by ``INPROCESS_SNIPPET``."""
    for line in reversed(output.splitlines()):
        if line.startswith(ELAPSED_TAG):
            wall, cpu = line[len(ELAPSED_TAG) :].split()
            return float(wall), float(cpu)
    return None


def run_timed(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout_s: float = 900.0) -> Timing:
    """Run one child process to completion; CPU time is the child's (and its reaped children's) user + system."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    launched = time.time()
    start = time.perf_counter()
    try:
        completed = subprocess.run(
            list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        completed = subprocess.CompletedProcess(list(argv), -1, _text(exc.stdout), _text(exc.stderr) + "\n[timed out]")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    output = completed.stdout + completed.stderr
    inner = parse_inner_elapsed(completed.stdout)
    return Timing(
        wall_s=wall,
        cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        exit_code=completed.returncode,
        passed=parse_passed(completed.stdout),
        launched_at=launched,
        finished_at=time.time(),
        inner_s=inner[0] if inner else None,
        inner_cpu_s=inner[1] if inner else None,
        output_tail="\n".join(output.strip().splitlines()[-12:]),
    )


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else (output or "")


def rotated(labels: Sequence[str], repeat: int) -> list[str]:
    """The run order of one repeat: rotated each time so no command always runs first or last."""
    shift = repeat % len(labels) if labels else 0
    return [*labels[shift:], *labels[:shift]]


def run_interleaved(
    commands: Mapping[str, Command],
    *,
    repeats: int,
    env: Mapping[str, str],
    scratch: Path,
    warmup: bool = True,
    in_process: bool = False,
    progress: bool = False,
) -> Results:
    """Run every command ``repeats`` times, interleaved; a run that fails or passes the wrong count is left out."""
    results = Results(timings={label: [] for label in commands})
    labels = list(commands)
    rounds = [-1, *range(repeats)] if warmup else list(range(repeats))
    for repeat in rounds:
        for label in rotated(labels, max(repeat, 0)):
            command = commands[label]
            agent_dir = _fresh_dir(scratch, "agentdir") if command.agent_dir is not None else None
            timing = run_timed(command.argv(in_process=in_process, agent_dir=agent_dir), cwd=command.cwd, env=env)
            timing = dataclasses.replace(timing, agent_dir=agent_dir, repeat=repeat)
            if progress:
                kind = "warm-up" if repeat < 0 else f"repeat {repeat + 1}/{repeats}"
                print(f"  [{kind}] {label}: {timing.wall_s:.2f} s", file=sys.stderr, flush=True)
            if not timing.ok(command.expected_passed):
                results.failures.append(
                    f"{label} (exit {timing.exit_code}, {timing.passed} passed, expected {command.expected_passed}):"
                    f"\n{timing.output_tail}"
                )
            elif repeat >= 0:
                results.timings[label].append(timing)
    return results


def _fresh_dir(parent: Path, prefix: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix + "-", dir=parent))


# -- statistics of timings --------------------------------------------------------------------------------------


def spread(values: Sequence[float]) -> Spread:
    if not values:
        raise ValueError("no timings to summarise")
    return Spread(statistics.median(values), min(values), max(values), len(values))


def ratio(numerator: Sequence[Timing], denominator: Sequence[Timing]) -> Ratio:
    """Ratios of two commands' wall times; per-repeat ratios pair the runs of the same repeat (back to back)."""
    top = [timing.wall_s for timing in numerator]
    bottom = [timing.wall_s for timing in denominator]
    by_repeat = {timing.repeat: timing.wall_s for timing in denominator}
    paired = [timing.wall_s / by_repeat[timing.repeat] for timing in numerator if timing.repeat in by_repeat]
    if not paired:
        raise ValueError("no paired timings")
    cpu_top = [timing.cpu_s for timing in numerator]
    cpu_bottom = [timing.cpu_s for timing in denominator]
    cpu_ratio = statistics.median(cpu_top) / statistics.median(cpu_bottom) if min(cpu_bottom) > 0 else None
    return Ratio(
        of_medians=statistics.median(top) / statistics.median(bottom),
        of_minima=min(top) / min(bottom),
        per_repeat_low=min(paired),
        per_repeat_high=max(paired),
        of_cpu_medians=cpu_ratio,
    )


def fixed_and_per_item(small: tuple[int, float], large: tuple[int, float]) -> tuple[float, float]:
    """The straight line through (items, seconds) at two sizes: (fixed seconds, seconds per item)."""
    (n_small, t_small), (n_large, t_large) = small, large
    if n_large == n_small:
        raise ValueError("two different sizes are needed")
    per_item = (t_large - t_small) / (n_large - n_small)
    return t_small - per_item * n_small, per_item


def verdict(estimates: Sequence[float | None], meets: Callable[[float], bool]) -> str:
    """PASS when every estimate meets the target, FAIL when none does, UNSETTLED when the noise straddles it.

    On a shared machine the ratio of medians alone flips from run to run; the ratio of minima and the CPU ratio
    are less sensitive to other load, so a verdict is given only when they agree.
    """
    known = [meets(value) for value in estimates if value is not None]
    if known and all(known):
        return "PASS"
    if known and not any(known):
        return "FAIL"
    return "UNSETTLED"


def overhead_verdict(found: Ratio) -> str:
    return verdict([found.of_medians, found.of_minima, found.of_cpu_medians], lambda value: value <= OVERHEAD_TARGET)


# -- where the time goes ----------------------------------------------------------------------------------------

_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)\s*$")


def parse_importtime(stderr: str) -> dict[str, int]:
    """``python -X importtime`` output -> module name: self time in microseconds."""
    modules: dict[str, int] = {}
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            modules[match.group(4)] = modules.get(match.group(4), 0) + int(match.group(1))
    return modules


def extra_imports(plugin: Mapping[str, int], baseline: Mapping[str, int]) -> list[tuple[str, int, int]]:
    """Top-level packages of the modules only the plugin run imports: (package, modules, self microseconds)."""
    by_package: dict[str, list[int]] = defaultdict(list)
    for module, self_us in plugin.items():
        if module not in baseline:
            by_package[module.split(".")[0]].append(self_us)
    rows = [(package, len(times), sum(times)) for package, times in by_package.items()]
    return sorted(rows, key=lambda row: -row[2])


def profile_area(filename: str, function: str) -> str:
    """A readable bucket for a profiled function: plugin module, pytest module, package, stdlib or builtin."""
    if filename == "~":
        name = re.sub(r" at 0x[0-9a-f]+", "", function.strip("<>").removeprefix("built-in method "))
        method = re.fullmatch(r"method '(\w+)' of '([\w.]+)' objects", name)
        return "builtin " + (f"{method.group(2)}.{method.group(1)}" if method else name)
    if filename.startswith("<frozen"):
        return "import machinery"
    path = filename.replace("\\", "/")
    if "/pytest_agentopt/" in path:
        return "pytest_agentopt/" + path.split("/pytest_agentopt/", 1)[1]
    if "site-packages/" in path:
        rest = path.split("site-packages/", 1)[1]
        head, _, tail = rest.partition("/")
        return f"{head}/{tail}" if head in {"_pytest", "xdist", "pluggy"} else head
    match = re.search(r"/lib/python3\.\d+/(.+)$", path)
    if match:
        return "stdlib " + match.group(1).split("/")[0]
    return path.rsplit("/", 1)[-1]


def load_profile(path: Path) -> dict[tuple[str, int, str], tuple[int, float, float]]:
    """A cProfile dump -> (file, line, function): (calls, own seconds, cumulative seconds)."""
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return {key: (value[1], value[2], value[3]) for key, value in raw.items()}


def time_by_area(profile: Mapping[tuple[str, int, str], tuple[int, float, float]]) -> dict[str, float]:
    areas: dict[str, float] = defaultdict(float)
    for (filename, _, function), (_, own, _) in profile.items():
        areas[profile_area(filename, function)] += own
    return dict(areas)


def area_differences(plugin: Mapping[str, float], baseline: Mapping[str, float]) -> list[tuple[str, float, float]]:
    """(area, plugin seconds, baseline seconds), largest increase first."""
    rows = [(area, plugin.get(area, 0.0), baseline.get(area, 0.0)) for area in set(plugin) | set(baseline)]
    return sorted(rows, key=lambda row: row[2] - row[1])


def plugin_functions(
    profile: Mapping[tuple[str, int, str], tuple[int, float, float]], limit: int
) -> list[tuple[str, int, float, float]]:
    """pytest-agentopt's functions by cumulative time: (where, calls, own seconds, cumulative seconds)."""
    rows = [
        (f"{profile_area(filename, function).split('/', 1)[1]}:{line} {function}", calls, own, cumulative)
        for (filename, line, function), (calls, own, cumulative) in profile.items()
        if "/pytest_agentopt/" in filename.replace("\\", "/")
    ]
    return sorted(rows, key=lambda row: -row[3])[:limit]


def ledger_records(agent_dir: Path) -> list[dict[str, Any]]:
    """Every trial line of the run(s) under ``agent_dir`` (a torn last line is skipped)."""
    records: list[dict[str, Any]] = []
    for ledger in sorted(agent_dir.glob("runs/*/trials.jsonl")):
        for line in ledger.read_text().splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                records.append(json.loads(line))
    return records


def timeline(records: Iterable[Mapping[str, Any]], *, launched_at: float, finished_at: float) -> Timeline | None:
    """Phases of a run from its ledger's ``started_at`` / ``finished_at`` / ``worker`` fields."""
    starts: list[float] = []
    ends: list[float] = []
    first_by_worker: dict[str, float] = {}
    for record in records:
        start = _epoch(record.get("started_at"))
        end = _epoch(record.get("finished_at"))
        if start is None or end is None:
            continue
        starts.append(start)
        ends.append(end)
        worker = str(record.get("worker"))
        first_by_worker[worker] = min(first_by_worker.get(worker, start), start)
    if not starts:
        return None
    return Timeline(
        first_trial_s=min(starts) - launched_at,
        all_workers_started_s=max(first_by_worker.values()) - launched_at,
        span_s=max(ends) - min(starts),
        tail_s=finished_at - max(ends),
        workers=len(first_by_worker),
    )


def _epoch(stamp: object) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


# -- the two parts ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    items: int = 2000
    trials: int = 10
    repeats: int = 5
    inprocess_repeats: int = 5
    latency_trials: int = 800
    latency_ms: float = 100.0
    workers: int = 8
    latency_repeats: int = 3
    profile: bool = True
    warm_bytecode: bool = True
    progress: bool = True


def overhead_part(settings: Settings, scratch: Path, env: Mapping[str, str]) -> list[str]:
    """Part 1: run and measure; returns the report lines, the verdict lines (one per plugin variant) last."""
    commands = write_overhead_suite(scratch / "overhead", items=settings.items, trials=settings.trials)
    results = run_interleaved(
        commands, repeats=settings.repeats, env=env, scratch=scratch / "runs", progress=settings.progress
    )
    lines = [
        f"## 1. Overhead: {settings.items} trivial trials "
        f"({settings.items // (2 * settings.trials)} tasks x {settings.trials} trials x 2 arms, fixed sample)",
        "",
        "Commands (each in a fresh pytest process, from the suite's directory):",
        "",
        *[f"    {label:<28} {command.shell()}" for label, command in commands.items()],
        "",
        f"Wall and CPU time, {settings.repeats} interleaved repeats after one warm-up run of each:",
        "",
        *timing_table(results, commands),
        "",
    ]
    lines += _failure_lines(results)
    baseline = results.good("plain")
    verdict_lines: list[str] = []
    ratio_rows: list[list[object]] = []
    for label in [label for label in commands if label != "plain"]:
        runs = results.good(label)
        if not runs or not baseline:
            ratio_rows.append([label, "n/a", "", "", "", ""])
            if label.startswith("agentopt"):
                verdict_lines.append(f"overhead ({label}): NOT MEASURED  (no successful run, see above)")
            continue
        found = ratio(runs, baseline)
        ratio_rows.append(
            [
                label,
                f"{found.of_medians:.3f}",
                f"{found.per_repeat_low:.3f} .. {found.per_repeat_high:.3f}",
                f"{found.of_minima:.3f}",
                f"{found.of_cpu_medians:.3f}" if found.of_cpu_medians is not None else "n/a",
                overhead_verdict(found) if label.startswith("agentopt") else "",
            ]
        )
        if label.startswith("agentopt"):
            verdict_lines.append(
                f"overhead ({label}): {overhead_verdict(found)}  ratio of medians {found.of_medians:.2f} "
                f"(per repeat {found.per_repeat_low:.2f}..{found.per_repeat_high:.2f}), of minima "
                f"{found.of_minima:.2f}, of CPU medians {found.of_cpu_medians or float('nan'):.2f}; "
                f"target <= {OVERHEAD_TARGET}"
            )
    lines += [
        "Ratios to `plain` (wall time unless said):",
        "",
        *tabulate(
            ratio_rows,
            headers=[
                "run",
                "ratio of medians",
                "per-repeat ratios",
                "ratio of minima",
                "CPU ratio",
                "verdict (<= 1.3)",
            ],
            tablefmt="github",
        ).splitlines(),
        "",
    ]
    lines += inprocess_section(settings, commands, env, scratch)
    lines += import_section(commands, env)
    if settings.profile:
        lines += profile_section(settings, commands, env, scratch)
    return [*lines, *verdict_lines]


def timing_table(results: Results, commands: Mapping[str, Command]) -> list[str]:
    rows: list[list[object]] = []
    for label in commands:
        runs = results.good(label)
        if not runs:
            rows.append([label, "no successful run", "", "", "", ""])
            continue
        wall = spread([run.wall_s for run in runs])
        cpu = spread([run.cpu_s for run in runs])
        per_item = wall.median / commands[label].expected_passed * 1e6
        rows.append(
            [label, f"{wall.median:.3f}", f"{wall.minimum:.3f}", f"{wall.maximum:.3f}", f"{cpu.median:.3f}",
             f"{per_item:.0f}"]
        )  # fmt: skip
    table = tabulate(
        rows,
        headers=["run", "median s", "min s", "max s", "CPU median s", "median us/item"],
        tablefmt="github",
    )
    return table.splitlines()


def inprocess_section(
    settings: Settings, commands: Mapping[str, Command], env: Mapping[str, str], scratch: Path
) -> list[str]:
    """``pytest.main`` alone at N and N/10 items: fixed cost and cost per item of each command."""
    small_items = settings.items // 10
    small_ok = small_items % (2 * settings.trials) == 0
    sizes = {settings.items: commands}
    if small_ok:
        sizes[small_items] = write_overhead_suite(scratch / "overhead-small", items=small_items, trials=settings.trials)
    wall: dict[tuple[str, int], float] = {}
    cpu: dict[tuple[str, int], float] = {}
    failures: list[str] = []
    for size, size_commands in sizes.items():
        results = run_interleaved(
            size_commands,
            repeats=settings.inprocess_repeats,
            env=env,
            scratch=scratch / "runs",
            warmup=False,
            in_process=True,
            progress=settings.progress,
        )
        failures += results.failures
        for label in size_commands:
            runs = [run for run in results.good(label) if run.inner_s is not None and run.inner_cpu_s is not None]
            if runs:
                wall[(label, size)] = statistics.median(run.inner_s or 0.0 for run in runs)
                cpu[(label, size)] = statistics.median(run.inner_cpu_s or 0.0 for run in runs)
    lines = [
        f"In-process: `pytest.main` alone (no interpreter start-up, no `import pytest`), median of "
        f"{settings.inprocess_repeats}, wall and CPU (`time.process_time`, robust to other load); fixed cost and "
        f"cost per item from a line through the CPU times at {small_items} and {settings.items} items:",
        "",
        *tabulate(
            inprocess_rows(list(commands), wall, cpu, small=small_items if small_ok else None, large=settings.items),
            headers=[
                "run",
                "wall s",
                "wall ratio",
                "CPU s",
                "CPU ratio",
                "fixed CPU ms",
                "CPU us/item",
                "extra us/item",
            ],
            tablefmt="github",
        ).splitlines(),
        "",
    ]
    return lines + [f"FAILED RUN: {failure}" for failure in failures]


def inprocess_rows(
    labels: Sequence[str],
    wall: Mapping[tuple[str, int], float],
    cpu: Mapping[tuple[str, int], float],
    *,
    small: int | None,
    large: int,
) -> list[list[object]]:
    """One row per command: times at ``large`` items, ratios to ``plain``, and the fixed / per-item CPU split."""
    base_wall, base_cpu = wall.get(("plain", large)), cpu.get(("plain", large))
    base_per_item: float | None = None
    if small is not None and ("plain", small) in cpu and base_cpu is not None:
        base_per_item = fixed_and_per_item((small, cpu[("plain", small)]), (large, base_cpu))[1]
    rows: list[list[object]] = []
    for label in labels:
        if (label, large) not in wall:
            continue
        row: list[object] = [
            label,
            f"{wall[(label, large)]:.3f}",
            f"{wall[(label, large)] / base_wall:.3f}" if base_wall else "n/a",
            f"{cpu[(label, large)]:.3f}",
            f"{cpu[(label, large)] / base_cpu:.3f}" if base_cpu else "n/a",
        ]
        if small is not None and (label, small) in cpu:
            fixed, per_item = fixed_and_per_item((small, cpu[(label, small)]), (large, cpu[(label, large)]))
            extra = f"{(per_item - base_per_item) * 1e6:+.0f}" if base_per_item is not None else "n/a"
            row += [f"{fixed * 1000:.0f}", f"{per_item * 1e6:.0f}", extra]
        else:
            row += ["n/a", "n/a", "n/a"]
        rows.append(row)
    return rows


def import_section(commands: Mapping[str, Command], env: Mapping[str, str]) -> list[str]:
    """Modules imported by the plugin run only (``-X importtime`` self times, one run each)."""
    tables: list[str] = []
    baseline = _importtime(commands["plain"], env)
    for label in ("agentopt, marker", "agentopt, agent_trial+usage"):
        if label not in commands or baseline is None:
            continue
        plugin = _importtime(commands[label], env)
        if plugin is None:
            tables.append(f"{label}: the -X importtime run failed")
            continue
        rows = extra_imports(plugin, baseline)
        total_ms = sum(row[2] for row in rows) / 1000
        tables += [
            f"Imports only in `{label}` (`python -X importtime`, self time incl. compiling; total "
            f"{total_ms:.0f} ms in {sum(row[1] for row in rows)} modules; baseline imports "
            f"{sum(baseline.values()) / 1000:.0f} ms in all):",
            "",
            *tabulate(
                [[package, count, f"{self_us / 1000:.1f}"] for package, count, self_us in rows[:12]],
                headers=["top-level package", "modules", "self ms"],
                tablefmt="github",
            ).splitlines(),
            "",
        ]
    return tables


def _importtime(command: Command, env: Mapping[str, str]) -> dict[str, int] | None:
    with tempfile.TemporaryDirectory(prefix="agentdir-") as agent_dir:
        argv = command.argv(agent_dir=Path(agent_dir) if command.agent_dir is not None else None)
        completed = subprocess.run(
            [argv[0], "-X", "importtime", *argv[1:]],
            cwd=command.cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
    if completed.returncode != 0:
        return None
    return parse_importtime(completed.stderr)


def profile_section(
    settings: Settings, commands: Mapping[str, Command], env: Mapping[str, str], scratch: Path
) -> list[str]:
    """cProfile of the baseline and the plugin runs: extra time by module, and the plugin's hot functions."""
    profiles: dict[str, dict[tuple[str, int, str], tuple[int, float, float]]] = {}
    for label in ("plain", "agentopt, marker", "agentopt, agent_trial+usage"):
        if label not in commands:
            continue
        command = commands[label]
        dump = scratch / f"profile-{len(profiles)}.prof"
        agent_dir = _fresh_dir(scratch / "runs", "agentdir") if command.agent_dir is not None else None
        argv = command.argv(agent_dir=agent_dir)
        completed = subprocess.run(
            [argv[0], "-m", "cProfile", "-o", str(dump), *argv[1:]],
            cwd=command.cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode == 0 and dump.exists():
            profiles[label] = load_profile(dump)
    if "plain" not in profiles:
        return ["cProfile: the baseline run failed", ""]
    items = settings.items
    baseline_areas = time_by_area(profiles["plain"])
    lines = [
        "cProfile (one run each; the profiler inflates small Python functions, so read the proportions): "
        "time by module, plugin run minus `plain`, largest increases first:",
        "",
    ]
    for label in [label for label in profiles if label != "plain"]:
        areas = time_by_area(profiles[label])
        rows = [
            [area, f"{(mine - base) * 1000:+.0f}", f"{(mine - base) / items * 1e6:+.1f}", f"{mine * 1000:.0f}",
             f"{base * 1000:.0f}"]
            for area, mine, base in area_differences(areas, baseline_areas)[:15]
        ]  # fmt: skip
        total_mine, total_base = sum(areas.values()), sum(baseline_areas.values())
        lines += [
            f"`{label}`: profiled total {total_mine:.2f} s vs {total_base:.2f} s "
            f"({(total_mine - total_base) / items * 1e6:+.0f} us per item)",
            "",
            *tabulate(
                rows,
                headers=["module or builtin (own time)", "extra ms", "extra us/item", "plugin ms", "plain ms"],
                tablefmt="github",
            ).splitlines(),
            "",
            f"`{label}`: pytest-agentopt's functions by cumulative time (includes what they call):",
            "",
            *tabulate(
                [
                    [
                        where,
                        calls,
                        f"{cumulative * 1000:.0f}",
                        f"{cumulative / calls * 1e6:.1f}",
                        f"{cumulative / items * 1e6:.1f}",
                    ]
                    for where, calls, _, cumulative in plugin_functions(profiles[label], 18)
                ],
                headers=["function", "calls", "cum ms", "us/call", "us/item"],
                tablefmt="github",
            ).splitlines(),
            "",
        ]
    return lines


def latency_part(settings: Settings, scratch: Path, env: Mapping[str, str]) -> list[str]:
    """Part 2: ``-n WORKERS`` against ``-n 0`` on a sleeping agent, and the fixed cost of each mode."""
    latency_s = settings.latency_ms / 1000
    commands = write_latency_suite(
        scratch / "latency",
        trials_total=settings.latency_trials,
        trials=settings.trials,
        latency_s=latency_s,
        workers=settings.workers,
    )
    results = run_interleaved(
        commands, repeats=settings.latency_repeats, env=env, scratch=scratch / "runs", progress=settings.progress
    )
    role = dict(zip(LATENCY_ROLES, commands, strict=True))
    lines = [
        f"## 2. Speed-up: {settings.latency_trials} trials of a simulated agent sleeping "
        f"{settings.latency_ms:g} ms, -n {settings.workers} vs -n 0",
        "",
        "Commands (`plugin off`: a plain parametrized test of as many items, `-p no:agentopt`: xdist's own floor):",
        "",
        *[f"    {label:<22} {command.shell()}" for label, command in commands.items()],
        "",
        f"{settings.latency_repeats} interleaved repeats after one warm-up run of each:",
        "",
        *timing_table(results, commands),
        "",
        *_failure_lines(results),
    ]
    timelines = [[label, *_timeline_cells(results.good(label))] for label in commands if results.good(label)]
    lines += [
        "Phases from the trial ledger (medians; seconds since launch; span = first trial start to last trial end):",
        "",
        *tabulate(
            [row for row in timelines if row[1] != "n/a"],
            headers=["run", "workers", "first trial at", "all workers busy at", "trial span", "tail after last"],
            tablefmt="github",
        ).splitlines(),
        "",
    ]
    if not all(results.good(label) for label in commands):
        return [*lines, "speed-up: NOT MEASURED  (some runs failed, see above)"]
    wall = {name: statistics.median(run.wall_s for run in results.good(label)) for name, label in role.items()}
    cpu = {name: statistics.median(run.cpu_s for run in results.good(label)) for name, label in role.items()}
    span = {
        name: statistics.median(phases.span_s for run in results.good(role[name]) if (phases := run_timeline(run)))
        for name in ("parallel", "serial")
        if any(run_timeline(run) for run in results.good(role[name]))
    }
    workers, trials_total, latency_s = settings.workers, settings.latency_trials, settings.latency_ms / 1000
    speedup = wall["serial"] / wall["parallel"]
    fastest = {name: min(run.wall_s for run in results.good(role[name])) for name in ("serial", "parallel")}
    speedup_of_minima = fastest["serial"] / fastest["parallel"]
    lines += [
        f"- xdist start-up: the zero-latency run takes {wall['zero_parallel']:.2f} s with -n {workers} and "
        f"{wall['zero_serial']:.2f} s with -n 0; plain pytest-xdist (plugin off) takes {wall['xdist_floor']:.2f} s "
        f"with -n {workers}.",
        f"- CPU (robust to other load): zero-latency -n {workers} {cpu['zero_parallel']:.2f} s with the plugin, "
        f"{cpu['xdist_floor']:.2f} s without: the plugin adds {cpu['zero_parallel'] - cpu['xdist_floor']:.2f} s "
        f"to the controller and {workers} workers together (at most "
        f"{(cpu['zero_parallel'] - cpu['xdist_floor']) / workers * 1000:.0f} ms per worker: imports, activation, "
        f"collecting and running {trials_total} trials). pytest-xdist's own CPU alone needs at least "
        f"{cpu['xdist_floor'] / (os.cpu_count() or 1):.2f} s of wall time on {os.cpu_count()} CPUs.",
    ]
    if len(span) == 2 and span["parallel"] > 0:
        fixed_parallel = wall["parallel"] - span["parallel"]
        fixed_serial = wall["serial"] - span["serial"]
        needed = break_even_trials(
            fixed_parallel=fixed_parallel,
            fixed_serial=fixed_serial,
            per_trial_parallel=span["parallel"] / trials_total,
            per_trial_serial=span["serial"] / trials_total,
            target=SPEEDUP_TARGET,
        )
        lines += [
            f"- Once the workers run: the trials span {span['parallel']:.2f} s with -n {workers} (ideal "
            f"{trials_total * latency_s / workers:.2f} s) and {span['serial']:.2f} s with -n 0 (sleeping alone "
            f"{trials_total * latency_s:.2f} s): span speed-up {span['serial'] / span['parallel']:.2f}x; outside "
            f"the span (start-up and tail) -n {workers} spends {fixed_parallel:.2f} s, -n 0 {fixed_serial:.2f} s.",
            f"- With these costs, -n {workers} reaches {SPEEDUP_TARGET:g}x from about {needed:.0f} trials of "
            f"{settings.latency_ms:g} ms (about {needed * latency_s:.0f} s of latency on one process).",
        ]
    return [
        *lines,
        "",
        f"speed-up: {verdict([speedup, speedup_of_minima], lambda value: value >= SPEEDUP_TARGET)}  "
        f"medians -n {workers} {wall['parallel']:.2f} s vs -n 0 {wall['serial']:.2f} s = {speedup:.2f}x, "
        f"minima {speedup_of_minima:.2f}x; target >= {SPEEDUP_TARGET:g}x on {os.cpu_count()} CPUs",
    ]


def break_even_trials(
    *, fixed_parallel: float, fixed_serial: float, per_trial_parallel: float, per_trial_serial: float, target: float
) -> float:
    """Trials n from which (fixed_serial + n x per_trial_serial) / (fixed_parallel + n x per_trial_parallel) >= target.

    0 when every n reaches it, infinity when none does (the parallel per-trial cost is too high).
    """
    gain_per_trial = per_trial_serial - target * per_trial_parallel
    shortfall = target * fixed_parallel - fixed_serial
    if shortfall <= 0:
        return 0.0 if gain_per_trial >= 0 else float("inf")
    if gain_per_trial <= 0:
        return float("inf")
    return shortfall / gain_per_trial


def _timeline_cells(runs: Sequence[Timing]) -> list[object]:
    found = [phases for run in runs if (phases := run_timeline(run)) is not None]
    if not found:
        return ["n/a", "", "", "", ""]
    return [
        max(phases.workers for phases in found),
        f"{statistics.median(p.first_trial_s for p in found):.2f}",
        f"{statistics.median(p.all_workers_started_s for p in found):.2f}",
        f"{statistics.median(p.span_s for p in found):.2f}",
        f"{statistics.median(p.tail_s for p in found):.2f}",
    ]


def run_timeline(run: Timing) -> Timeline | None:
    if run.agent_dir is None:
        return None
    return timeline(ledger_records(run.agent_dir), launched_at=run.launched_at, finished_at=run.finished_at)


def _failure_lines(results: Results) -> list[str]:
    lines: list[str] = []
    for failure in results.failures:
        lines += ["FAILED RUN (left out of the figures):", *[f"    {line}" for line in failure.splitlines()], ""]
    return lines


# -- report -----------------------------------------------------------------------------------------------------


def load_average() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def machine_lines(env: Mapping[str, str], *, load_at_start: str) -> list[str]:
    versions = ", ".join(f"{name} {_version(name)}" for name in ("pytest", "pytest-xdist", "pluggy", "pytest-agentopt"))
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    bytecode = (
        f"private warmed cache (PYTHONPYCACHEPREFIX={env['PYTHONPYCACHEPREFIX']})"
        if "PYTHONPYCACHEPREFIX" in env
        else ("not written (PYTHONDONTWRITEBYTECODE set)" if env.get("PYTHONDONTWRITEBYTECODE") else "default")
    )
    return [
        f"- date: {datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, {platform.machine()}, nproc {affinity} (cpu_count {os.cpu_count()})",
        f"- python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"- packages: {versions}",
        f"- load average (1, 5, 15 min): {load_at_start} at the start, {load_average()} at the end",
        f"- bytecode for the child processes: {bytecode}",
    ]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def final_summary(overhead: Sequence[str], latency: Sequence[str]) -> list[str]:
    picked = [line for line in [*overhead, *latency] if line.startswith(("overhead (", "speed-up: "))]
    return ["## Summary", "", *[f"    {line}" for line in picked]]


MEMORY_SECTION = "<!-- bench_memory: start -->"


def keep_memory_section(page: str, previous: str) -> str:
    """``page`` followed by the memory section of the ``previous`` page, if it had one (bench_memory.py's)."""
    start = previous.find(MEMORY_SECTION)
    if start == -1:
        return page
    return page.rstrip("\n") + "\n\n" + previous[start:]


def render_markdown(command: str, machine: Sequence[str], body: Sequence[str], duration_s: float) -> str:
    return "\n".join(
        [
            "# Performance of pytest-agentopt",
            "",
            "Generated by `scripts/bench_overhead.py --write-docs`; rerun it to refresh this page (it replaces the",
            "whole file but the memory section, which `scripts/bench_memory.py --write-docs` writes). The script's",
            "docstring explains each figure; the targets are the plugin's performance budget.",
            "",
            "## What it measures",
            "",
            f"1. **Overhead per trivial trial**: wall time of the plugin run over a plain parametrized pytest run "
            f"of the same number of trivial items (target <= {OVERHEAD_TARGET}). Both run as separate pytest "
            "processes, interleaved; medians, minima, the per-repeat ratios and CPU-time ratios are shown because "
            "the machines are shared and noisy. Then `pytest.main` alone at two sizes (fixed cost vs cost per "
            "item), the modules only the plugin run imports, and a cProfile of where the extra time goes."
            " The target is about trivial trials (`agentopt, marker`). `agentopt, agent_trial+usage` adds what "
            "recording a task's usage costs: mostly genai-prices' own price calculation (about 0.2 ms per "
            "`calc_price` call on this machine) and importing genai-prices and numpy, which a task that takes "
            "seconds does not notice.",
            f"2. **Parallel speed-up** on a simulated agent that sleeps per trial: `-n 8` over `-n 0` (target >= "
            f"{SPEEDUP_TARGET:g} on 2 cores), with the zero-latency runs that isolate xdist's start-up cost and the "
            "trial ledger's timestamps that show when the workers got going.",
            "",
            "Verdicts: PASS when the ratio of medians, the ratio of minima and the CPU-time ratio (for the speed-up: "
            "the ratio of medians and of minima) all meet the target, FAIL when none does, UNSETTLED when the "
            "machine's noise puts them on both sides; the ratio of medians alone flips between runs on a shared "
            "machine.",
            "",
            "Performance is measured here and never asserted in the unit tests (noisy machines); "
            "`tests/unit/test_bench_script.py` only smoke-tests the script on tiny inputs.",
            "",
            "## How to rerun",
            "",
            "    . /work/venv/bin/activate   # or any environment with pytest-agentopt installed",
            "    python scripts/bench_overhead.py --write-docs        # full run, about 11 minutes",
            "    python scripts/bench_overhead.py --quick             # rough figures in about a minute",
            "    python scripts/bench_overhead.py --help              # sizes, repeats, workers, latency",
            "",
            "Run it on an otherwise idle machine: other processes inflate the wall times (the load average at "
            "the time is printed below; the CPU-time ratios are the least affected figure).",
            "",
            "## Latest output",
            "",
            f"Command: `{command}` (took {duration_s / 60:.1f} min)",
            "",
            *machine,
            "",
            *[f"#{line}" if line.startswith("## ") else line for line in body],  # nested under "Latest output"
            "",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> tuple[Settings, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--items", type=int, default=2000, help="trivial items in part 1 (default 2000)")
    parser.add_argument("--trials", type=int, default=10, help="trials per task per arm (default 10)")
    parser.add_argument(
        "--repeats", type=int, default=9, help="interleaved repeats of part 1 (default 9: the machines are noisy)"
    )
    parser.add_argument("--inprocess-repeats", type=int, default=5, help="repeats of the in-process timings")
    parser.add_argument("--latency-trials", type=int, default=800, help="trials in part 2 (default 800)")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="simulated agent latency (default 100)")
    parser.add_argument("--workers", type=int, default=8, help="xdist workers in part 2 (default 8)")
    parser.add_argument("--latency-repeats", type=int, default=3, help="interleaved repeats of part 2 (default 3)")
    parser.add_argument("--no-profile", action="store_true", help="skip the cProfile section")
    parser.add_argument("--only", choices=("overhead", "speedup"), help="run one part only")
    parser.add_argument("--quick", action="store_true", help="400 items, 2 repeats, 80 trials: rough figures")
    parser.add_argument(
        "--inherit-bytecode-env", action="store_true", help="no private bytecode cache for the child processes"
    )
    parser.add_argument("--write-docs", action="store_true", help=f"write the output to {DOC_PATH}")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    args = parser.parse_args(argv)
    settings = Settings(
        items=400 if args.quick else args.items,
        trials=args.trials,
        repeats=2 if args.quick else args.repeats,
        inprocess_repeats=1 if args.quick else args.inprocess_repeats,
        latency_trials=80 if args.quick else args.latency_trials,
        latency_ms=args.latency_ms,
        workers=args.workers,
        latency_repeats=1 if args.quick else args.latency_repeats,
        profile=not args.no_profile,
        warm_bytecode=not args.inherit_bytecode_env,
    )
    return settings, args


@contextlib.contextmanager
def scratch_directory(keep: bool) -> Iterator[Path]:
    if keep:
        path = Path(tempfile.mkdtemp(prefix="agentopt-bench-"))
        print(f"scratch directory: {path}", file=sys.stderr)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="agentopt-bench-") as name:
        yield Path(name)


def run_benchmark(settings: Settings, scratch: Path, *, only: str | None = None) -> tuple[list[str], list[str]]:
    """Both parts; returns (machine lines, report body) as plain lines of text."""
    env = child_environment(scratch / "pycache" if settings.warm_bytecode else None)
    load_at_start = load_average()
    overhead = overhead_part(settings, scratch, env) if only in (None, "overhead") else []
    latency = latency_part(settings, scratch, env) if only in (None, "speedup") else []
    body = [*overhead, "", *latency, "", *final_summary(overhead, latency)]
    return machine_lines(env, load_at_start=load_at_start), body


def main(argv: Sequence[str] | None = None) -> int:
    settings, args = parse_args(argv)
    command = shlex.join(["python", "scripts/bench_overhead.py", *(sys.argv[1:] if argv is None else argv)])
    started = time.perf_counter()
    with scratch_directory(args.keep) as scratch:
        machine, body = run_benchmark(settings, scratch, only=args.only)
    duration = time.perf_counter() - started
    print("\n".join([f"Command: {command} (took {duration:.0f} s)", *machine, "", *body]))
    if args.write_docs:
        DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
        previous = DOC_PATH.read_text(encoding="utf-8") if DOC_PATH.exists() else ""
        DOC_PATH.write_text(keep_memory_section(render_markdown(command, machine, body, duration), previous))
        print(f"\nwrote {DOC_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
