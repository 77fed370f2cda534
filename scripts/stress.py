"""Stress test of a run's robustness: crashed workers, hung trials, killed controllers, concurrent resumes, a full
disk and Ctrl-C, each with a seed, each checked against the run nothing happened to.

Run ``python scripts/stress.py`` (about 15 minutes on 2 cores; ``--quick`` for one seed per scenario,
``--only NAME`` for one scenario, ``--write-docs`` to put the output in ``docs/stress.md``). Not part of the test
suite; ``tests/unit/test_stress_script.py`` checks its accounting on hand-made ledgers.

The suite: ``TASKS`` tasks whose outcome is drawn from the trial's seed (the test arm clearly better), so the run's
outcomes - and the verdict of the sequential test - are fixed by the run seed. A scenario picks, from its own seed,
the trials that crash their worker (``os._exit`` or ``SIGKILL``), that hang (interruptibly, or swallowing every
exception), and when to kill or interrupt the run; these reach the suite through an environment variable.

For each run the script reports:

* **finished**: every pytest process ended by itself (none had to be killed by the script's own time limit), none
  with an internal error (exit 3), and the run ends complete (after as many resumes as the scenario makes);
* **lost**: planned trials the run needed (every trial up to the sequential test's decision) that are not in the
  ledger at the end;
* **duplicated**: trials that are in the ledger more than once (a trial run twice is money spent twice);
* **verdict equal**: the run's verdict is the verdict of the *reference*: the plugin's own plan and sequential test
  fed, in planned order, the outcomes the suite gives each trial (a crashed trial as ``worker_crash``, a hung one
  as ``timeout``) - what an uninterrupted run with the same crashes gives.

Scenarios:

* ``crash-n2``, ``crash-n4``: trials crash their worker at random under ``--sprt -n 2`` / ``-n 4``;
* ``hang``: hung trials with ``--agent-timeout``, interruptible and not, under ``-n 2`` and without xdist (where a
  trial that cannot be interrupted ends the run with exit 2 and one line naming the reason and the resume command;
  the run is resumed);
* ``controller-kill``: the whole run (controller and workers) is killed with SIGKILL at a random moment, then
  resumed, until it completes;
* ``concurrent-resume``: a killed run is resumed twice at the same moment, then once more until it completes; the
  run-directory lock refuses the second resume (exit 4) and nothing runs twice;
* ``full-disk``: the run directory is on a small tmpfs that fills up during the run (needs root and ``mount``;
  skipped with a message otherwise); the session must end with exit 2 and one line naming the reason and the
  resume command; then space is freed and the run is resumed;
* ``interrupt``: SIGINT to the run's process group (what Ctrl-C in a terminal sends) at a random moment under
  ``-n 2``: the summary, the report and the resume command must be there; then resumed to the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tabulate import tabulate

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "stress.md"
FAULTS_ENV = "AGENTOPT_STRESS_FAULTS"
TASKS = 8
TRIALS = 30  # the cap: the test decides well before it
P_CONTROL, P_TEST = 0.35, 0.8
TIMEOUT_S = 1.0
RUN_LIMIT_S = 300.0
ALPHA, BETA, EFFECT = 0.05, 0.10, 0.15
SUITE = f'''
import json
import os
import random
import signal
import time

import pytest

FAULTS = {{
    (task, arm, trial): kind for task, arm, trial, kind in json.loads(os.environ.get("{FAULTS_ENV}", "[]"))
}}


@pytest.mark.parametrize("task", [f"t{{i}}" for i in range({TASKS})])
def test_task(task, agent_config, agent_trial):
    agent_trial.record_usage(input_tokens=1000, output_tokens=100)
    kind = FAULTS.get((task, agent_trial.arm, agent_trial.index))
    if kind == "exit":
        os._exit(1)
    if kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if kind == "hang":
        time.sleep(3600)
    if kind == "stubborn":
        while True:
            try:
                time.sleep(3600)
            except BaseException:
                pass
    time.sleep(0.02)
    p = {P_TEST} if agent_config.guidelines else {P_CONTROL}
    assert random.Random(agent_trial.seed).random() < p
'''
BASE_CONFIG = {"experiment_id": "base", "model_id": "gpt-4o-mini"}
TEST_CONFIG = {"experiment_id": "better", "parent": "base", "guidelines+": ["Check the coupon limits first"]}
COMMON = ("test_stress.py", "-p", "no:randomly", "-p", "no:cacheprovider")


# -- the reference ---------------------------------------------------------------------------------------------


def task_ids() -> list[str]:
    return [f"test_stress.py::test_task[t{i}]" for i in range(TASKS)]


def planned_outcome(seed: int, task_id: str, arm: str, trial: int, faults: Mapping[tuple[str, str, int], str]) -> str:
    """The outcome the suite gives a trial of a run with this seed (the suite's rule, and the injected faults)."""
    from pytest_agentopt.run.trial_order import trial_seed

    kind = faults.get((short_task(task_id), arm, trial))
    if kind in ("exit", "kill"):
        return "worker_crash"
    if kind in ("hang", "stubborn"):
        return "timeout"
    p = P_TEST if arm == "test" else P_CONTROL
    return "success" if random.Random(trial_seed(seed, task_id, trial)).random() < p else "failure"


def short_task(task_id: str) -> str:
    return task_id.rsplit("[", 1)[1].rstrip("]")


@dataclass(frozen=True)
class Reference:
    verdict: str
    needed: frozenset[tuple[str, str, int]]
    """Trials an uninterrupted run must have recorded: every planned one up to the decision (all without one)."""


def reference(seed: int, faults: Mapping[tuple[str, str, int], str], *, trials: int = TRIALS) -> Reference:
    """The verdict of the plugin's own plan and sequential test, fed the suite's outcomes in planned order."""
    from pytest_agentopt.run.feeding import SequentialFeeder
    from pytest_agentopt.run.trial_order import ARMS_AB, build_plan
    from pytest_agentopt.stats.sprt import PairedSequentialTest, SequentialSettings

    settings = SequentialSettings(alpha=ALPHA, beta=BETA, delta=EFFECT)
    feeder = SequentialFeeder(paired_test=PairedSequentialTest(settings, "both"))
    needed: set[tuple[str, str, int]] = set()
    for entry in build_plan(task_ids(), ARMS_AB, trials, seed):
        outcome = planned_outcome(seed, entry.task_id, entry.arm, entry.trial, faults)
        needed.add(entry.key)
        if feeder.add(entry.seq, task_id=entry.task_id, arm=entry.arm, trial=entry.trial, outcome=outcome):
            break
    verdict = feeder.decision.verdict if feeder.decision is not None else "inconclusive"
    return Reference(verdict, frozenset(needed))


# -- one scenario's accounting ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    scenario: str
    seed: int
    finished: bool
    lost: int
    duplicated: int
    verdict: str | None
    expected: str
    detail: str = ""
    skipped: str | None = None

    @property
    def verdict_equal(self) -> bool:
        return self.verdict == self.expected

    def row(self) -> list[str]:
        if self.skipped is not None:
            return [self.scenario, str(self.seed), "skipped", "-", "-", "-", self.skipped]
        return [
            self.scenario,
            str(self.seed),
            "yes" if self.finished else "NO",
            str(self.lost),
            str(self.duplicated),
            ("yes" if self.verdict_equal else f"NO ({self.verdict} vs {self.expected})"),
            self.detail,
        ]

    @property
    def ok(self) -> bool:
        return self.skipped is not None or (
            self.finished and self.lost == 0 and self.duplicated == 0 and self.verdict_equal
        )


HEADERS = ["scenario", "seed", "finished", "trials lost", "trials duplicated", "verdict equal", "what happened"]


def ledger_keys(run_dir: Path) -> list[tuple[str, str, int]]:
    """Every trial's key in the ledger, once per line (torn lines skipped)."""
    from pytest_agentopt.storage.ledger import read_ledger

    return [(r["task_id"], r["arm"], r["trial"]) for r in read_ledger(run_dir / "trials.jsonl").records]


def account(keys: Sequence[tuple[str, str, int]], needed: Iterable[tuple[str, str, int]]) -> tuple[int, int]:
    """(lost, duplicated): needed trials missing from the ledger, and ledger lines beyond the first per trial."""
    counts = Counter(keys)
    lost = sum(1 for key in needed if key not in counts)
    duplicated = sum(count - 1 for count in counts.values())
    return lost, duplicated


# -- running pytest --------------------------------------------------------------------------------------------


@dataclass
class Run:
    code: int | None
    """The exit status; None when the script had to kill it."""
    output: str
    seconds: float

    @property
    def ended_by_itself(self) -> bool:
        return self.code is not None and self.code != 3 and "INTERNALERROR" not in self.output


@dataclass
class Workdir:
    path: Path
    env: dict[str, str] = field(default_factory=dict)
    agent_dir_override: Path | None = None

    @property
    def agent_dir(self) -> Path:
        return self.agent_dir_override if self.agent_dir_override is not None else self.path / ".agentopt"

    def run_dir(self) -> Path | None:
        runs = sorted((self.agent_dir / "runs").glob("*"))
        return runs[0] if runs else None


def make_workdir(parent: Path, name: str, faults: Mapping[tuple[str, str, int], str]) -> Workdir:
    path = parent / name
    path.mkdir(parents=True)
    (path / "pytest.ini").write_text("[pytest]\n")
    (path / "base.json").write_text(json.dumps(BASE_CONFIG))
    (path / "better.json").write_text(json.dumps(TEST_CONFIG))
    (path / "test_stress.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_ADDOPTS", "PYTEST_PLUGINS"}}
    env[FAULTS_ENV] = json.dumps([[task, arm, trial, kind] for (task, arm, trial), kind in sorted(faults.items())])
    return Workdir(path, env)


def start(work: Workdir, args: Sequence[str]) -> subprocess.Popen[str]:
    """pytest in its own process group (so a signal reaches it and its workers, as from a terminal)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *COMMON, *args],
        cwd=work.path,
        env=work.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait(process: subprocess.Popen[str], limit_s: float = RUN_LIMIT_S) -> Run:
    started = time.monotonic()
    try:
        output, _ = process.communicate(timeout=limit_s)
        return Run(process.returncode, output, time.monotonic() - started)
    except subprocess.TimeoutExpired:
        kill_group(process, signal.SIGKILL)
        output, _ = process.communicate()
        return Run(None, output + f"\n[killed by the stress script after {limit_s:.0f} s]", time.monotonic() - started)


def run(work: Workdir, args: Sequence[str], limit_s: float = RUN_LIMIT_S) -> Run:
    return wait(start(work, args), limit_s)


def stopped_with_one_line(result: Run, run_id: str) -> bool:
    """A session that stopped on its own ended as it must: exit 2, and a line naming why and how to go on."""
    lines = [line for line in result.output.splitlines() if line.startswith("agentopt: ERROR: ")]
    return result.code == 2 and any(f"continue it with pytest --agent-resume {run_id}" in line for line in lines)


def kill_group(process: subprocess.Popen[str], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def wait_for_trials(work: Workdir, process: subprocess.Popen[str], count: int, limit_s: float = 120.0) -> bool:
    """Wait until the ledger has ``count`` lines (or the run ended); False if it ended first."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline and process.poll() is None:
        run_dir = work.run_dir()
        if run_dir is not None and (run_dir / "trials.jsonl").exists():
            with contextlib.suppress(OSError):
                if (run_dir / "trials.jsonl").read_bytes().count(b"\n") >= count:
                    return True
        time.sleep(0.05)
    return process.poll() is None


def resume_until_done(
    work: Workdir, args: Sequence[str], runs: list[Run], *, attempts: int = 6, accept: Sequence[int] = (0, 1)
) -> None:
    """Resume the run until a session ends complete (exit 0/1), at most ``attempts`` times."""
    run_dir = work.run_dir()
    if run_dir is None:
        return
    for _ in range(attempts):
        result = run(work, ["--agent-resume", run_dir.name, *args])
        runs.append(result)
        if result.code in accept or not result.ended_by_itself:
            return


def verdict_of(work: Workdir) -> str | None:
    run_dir = work.run_dir()
    if run_dir is None or not (run_dir / "summary.json").exists():
        return None
    verdict: str | None = json.loads((run_dir / "summary.json").read_text(encoding="utf-8")).get("verdict")
    return verdict


def conclude(
    name: str, seed: int, work: Workdir, runs: Sequence[Run], ref: Reference, *, detail: str = "", done: bool = True
) -> Outcome:
    run_dir = work.run_dir()
    keys = ledger_keys(run_dir) if run_dir is not None else []
    lost, duplicated = account(keys, ref.needed)
    finished = done and bool(runs) and all(r.ended_by_itself for r in runs) and runs[-1].code in (0, 1)
    codes = ", ".join("killed" if r.code is None else str(r.code) for r in runs)
    return Outcome(name, seed, finished, lost, duplicated, verdict_of(work), ref.verdict, f"exits {codes}; {detail}")


# -- the scenarios ---------------------------------------------------------------------------------------------

SPRT = ("--agent-config=better.json", "--sprt", f"--agent-trials={TRIALS}")


def pick_faults(rng: random.Random, count: int, kinds: Sequence[str], *, first_rounds: int = 2) -> dict[Any, str]:
    """``count`` distinct trials in the first rounds (which every run reaches), each with a kind of fault."""
    faults: dict[tuple[str, str, int], str] = {}
    while len(faults) < count:
        key = (f"t{rng.randrange(TASKS)}", rng.choice(("control", "test")), rng.randrange(first_rounds))
        faults[key] = rng.choice(list(kinds))
    return faults


def crash_scenario(workers: int) -> Callable[[Path, int], Outcome]:
    def scenario(scratch: Path, seed: int) -> Outcome:
        rng = random.Random(seed)
        faults = pick_faults(rng, 3, ("exit", "kill"))
        ref = reference(seed, faults)
        work = make_workdir(scratch, f"crash-n{workers}-{seed}", faults)
        runs = [run(work, [*SPRT, f"--agent-seed={seed}", "-n", str(workers)])]
        return conclude(f"crash-n{workers}", seed, work, runs, ref, detail=f"{len(faults)} crashes injected")

    return scenario


def hang_scenario(scratch: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    faults = pick_faults(rng, 3, ("hang", "stubborn"))
    ref = reference(seed, faults)
    outcomes = []
    for mode, workers in (("-n 2", ["-n", "2"]), ("no xdist", [])):
        work = make_workdir(scratch, f"hang-{seed}-{len(workers)}", faults)
        args = [f"--agent-timeout={TIMEOUT_S}"]
        runs = [run(work, [*SPRT, f"--agent-seed={seed}", *args, *workers])]
        if runs[-1].code == 2:  # without xdist a stuck trial ends the session: resume past it
            resume_until_done(work, [*args, *workers], runs, attempts=len(faults) + 1)
        outcome = conclude("hang", seed, work, runs, ref, detail=mode)
        run_dir = work.run_dir()
        stopped = [r for r in runs if r.code == 2]
        said = run_dir is not None and all(stopped_with_one_line(r, run_dir.name) for r in stopped)
        if not said:
            outcome.finished = False
            outcome.detail += " (a stopped session did NOT end with the line and the resume command)"
        outcomes.append(outcome)
    merged = outcomes[0]
    for other in outcomes[1:]:
        merged = Outcome(
            "hang",
            seed,
            merged.finished and other.finished,
            merged.lost + other.lost,
            merged.duplicated + other.duplicated,
            merged.verdict if merged.verdict != ref.verdict else other.verdict,
            ref.verdict,
            f"{merged.detail} | {other.detail}",
        )
    return merged


def kill_mid_run(work: Workdir, args: Sequence[str], rng: random.Random, *, most_lines: int) -> bool:
    """Start a run and SIGKILL it (controller and workers) after a random number of ledger lines; False if it
    ended before."""
    process = start(work, args)
    mid_run = wait_for_trials(work, process, rng.randrange(2, most_lines))
    if mid_run:
        time.sleep(rng.uniform(0, 0.5))
    kill_group(process, signal.SIGKILL)
    wait(process)
    return mid_run


def controller_kill_scenario(scratch: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    ref = reference(seed, {})
    work = make_workdir(scratch, f"kill-{seed}", {})
    args = ["-n", "2"]
    mid_run = kill_mid_run(work, [*SPRT, f"--agent-seed={seed}", *args], rng, most_lines=30)
    run_dir = work.run_dir()
    lines = len(ledger_keys(run_dir)) if run_dir is not None else 0
    runs: list[Run] = []
    resume_until_done(work, args, runs)
    outcome = conclude("controller-kill", seed, work, runs, ref)
    when = f"SIGKILL with {lines} trials in the ledger" if mid_run else "the run ended before the kill"
    outcome.detail = f"{when}; resumed: {outcome.detail}"
    return outcome


def concurrent_resume_scenario(scratch: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    ref = reference(seed, {})
    work = make_workdir(scratch, f"concurrent-{seed}", {})
    args = ["-n", "2"]
    kill_mid_run(work, [*SPRT, f"--agent-seed={seed}", *args], rng, most_lines=12)
    run_dir = work.run_dir()
    if run_dir is None:
        return Outcome("concurrent-resume", seed, False, 0, 0, None, ref.verdict, "no run directory")
    both = [start(work, ["--agent-resume", run_dir.name, *args]) for _ in range(2)]
    runs = [wait(p) for p in both]
    refused = sum(1 for r in runs if r.code == 4)
    final: list[Run] = []
    resume_until_done(work, args, final)
    outcome = conclude("concurrent-resume", seed, work, [*runs, *final], ref)
    # A refused resume (exit 4, naming the session that holds the run) is the expected behaviour, not a failure.
    outcome.finished = all(r.ended_by_itself for r in [*runs, *final]) and bool(final) and final[-1].code in (0, 1)
    outcome.detail = f"{refused} of 2 concurrent resumes refused; {outcome.detail}"
    return outcome


@contextlib.contextmanager
def small_tmpfs(path: Path, size_kb: int) -> Iterator[str | None]:
    """Mount a tmpfs of ``size_kb`` at ``path``; yields None, or why it could not."""
    path.mkdir(parents=True, exist_ok=True)
    mount = shutil.which("mount")
    if os.name != "posix" or mount is None or os.geteuid() != 0:
        yield "needs root and mount(8) for a small tmpfs"
        return
    completed = subprocess.run(
        [mount, "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)], capture_output=True, text=True
    )
    if completed.returncode != 0:
        yield f"cannot mount a tmpfs here: {completed.stderr.strip() or completed.returncode}"
        return
    try:
        yield None
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def full_disk_scenario(scratch: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    ref = reference(seed, {})
    work = make_workdir(scratch, f"disk-{seed}", {})
    disk = work.path / "disk"
    with small_tmpfs(disk, 1024) as problem:
        if problem is not None:
            return Outcome("full-disk", seed, False, 0, 0, None, ref.verdict, skipped=problem)
        # Fill the disk, then free room for the run directory and a few dozen ledger lines.
        filler = disk / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            handle.write(b"\0" * (1024 * 1024))
        room = 24 * 1024 + rng.randrange(16 * 1024)
        with filler.open("r+b") as handle:
            handle.truncate(max(0, filler.stat().st_size - room))
        work.agent_dir_override = disk / ".agentopt"
        args = ["-n", "2", f"--agent-dir={work.agent_dir}"]
        runs = [run(work, [*SPRT, f"--agent-seed={seed}", *args])]
        first = runs[0]
        filler.unlink()  # space again: the run must be resumable
        resume_until_done(work, args, runs, attempts=4)
        state = "no internal error" if first.ended_by_itself else "INTERNALERROR"
        run_dir = work.run_dir()
        said = run_dir is not None and stopped_with_one_line(first, run_dir.name)
        outcome = conclude("full-disk", seed, work, runs, ref)
        outcome.finished = outcome.finished and said
        line = "one line with the resume command" if said else "NO line with the resume command"
        outcome.detail = f"disk full during the first session (exit {first.code}, {state}, {line}); {outcome.detail}"
        return outcome


def interrupt_scenario(scratch: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    ref = reference(seed, {})
    work = make_workdir(scratch, f"interrupt-{seed}", {})
    args = ["-n", "2"]
    process = start(work, [*SPRT, f"--agent-seed={seed}", *args])
    # Anywhere from start-up (workers still starting) to well into the run.
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0.2, 3.0))
    else:
        wait_for_trials(work, process, rng.randrange(1, 40))
        time.sleep(rng.uniform(0, 0.3))
    kill_group(process, signal.SIGINT)
    interrupted = wait(process)
    run_dir = work.run_dir()
    if run_dir is None:
        # Interrupted before the run existed (pytest still starting): nothing ran, nothing to resume; start again.
        again = run(work, [*SPRT, f"--agent-seed={seed}", *args])
        outcome = conclude("interrupt", seed, work, [again], ref)
        outcome.finished = outcome.finished and interrupted.ended_by_itself
        outcome.detail = f"SIGINT before the run existed (exit {interrupted.code}), started again; {outcome.detail}"
        return outcome
    complete = interrupted.code in (0, 1)  # it had finished before the signal landed
    wrote_summary = run_dir is not None and (run_dir / "summary.json").exists()
    hint = run_dir is not None and f"--agent-resume {run_dir.name}" in interrupted.output
    report_ok = wrote_summary and (complete or hint)
    runs = [interrupted]
    if not complete:
        resume_until_done(work, args, runs)
    outcome = conclude("interrupt", seed, work, runs, ref)
    outcome.finished = outcome.finished and report_ok and interrupted.ended_by_itself
    what = "ended before the signal" if complete else f"exit {interrupted.code}"
    outcome.detail = (
        f"SIGINT: {what}, summary {'yes' if wrote_summary else 'NO'}, resume command "
        f"{'yes' if hint or complete else 'NO'}; {outcome.detail}"
    )
    return outcome


SCENARIOS: dict[str, Callable[[Path, int], Outcome]] = {
    "crash-n2": crash_scenario(2),
    "crash-n4": crash_scenario(4),
    "hang": hang_scenario,
    "controller-kill": controller_kill_scenario,
    "concurrent-resume": concurrent_resume_scenario,
    "full-disk": full_disk_scenario,
    "interrupt": interrupt_scenario,
}


# -- report ----------------------------------------------------------------------------------------------------


def report_lines(outcomes: Sequence[Outcome]) -> list[str]:
    table = tabulate([o.row() for o in outcomes], headers=HEADERS, tablefmt="github", disable_numparse=True)
    failing = sorted({o.scenario for o in outcomes if not o.ok})
    verdict = (
        "every run finished, 0 lost, 0 duplicated, same verdict"
        if not failing
        else (f"short of the target: {', '.join(failing)}")
    )
    return [table, "", f"Result: {verdict}."]


def machine_lines() -> list[str]:
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {platform.platform()}, cpu_count {os.cpu_count()}, load average at the start {load}",
        f"- python: {platform.python_implementation()} {platform.python_version()}",
    ]


def render_doc(
    command: str, duration_s: float, machine: Sequence[str], body: Sequence[str], compared: Sequence[str] = ()
) -> str:
    return "\n".join(
        [
            "# Stress test: crashes, hangs, kills, concurrent resumes, a full disk, Ctrl-C",
            "",
            "Generated by `scripts/stress.py --write-docs`; its docstring explains every scenario and column. The",
            "target: every run finishes, no trial is lost or run twice, and the verdict is the one the same run",
            "gives when nothing happens to it (see [timeouts-and-crashes.md](timeouts-and-crashes.md)).",
            "",
            f"Command: `{command}` (took {duration_s:.0f} s)",
            "",
            *machine,
            "",
            *body,
            *(["", *compared] if compared else []),
            "",
        ]
    )


def compared_lines(path: Path) -> list[str]:
    """What an earlier run of this script printed (``--compare FILE``): its command, machine, table and result."""
    lines = path.read_text(encoding="utf-8").splitlines()
    keep = [line for line in lines if line.startswith(("Command:", "- ", "|", "Result:"))]
    first_row = next((index for index, line in enumerate(keep) if line.startswith("|")), len(keep))
    table = [line for line in keep[first_row:] if line.startswith("|")]
    after = ["", *(line for line in keep[first_row:] if not line.startswith("|"))]  # a table ends at a blank line
    return [f"## Compared with an earlier run (`{path.name}`)", "", *keep[:first_row], "", *table, *after]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="seeds of each scenario")
    parser.add_argument("--quick", action="store_true", help="one seed per scenario")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append", help="run only this scenario")
    parser.add_argument("--write-docs", action="store_true", help=f"write the output to {DOC_PATH}")
    parser.add_argument("--compare", type=Path, help="the saved output of an earlier run, shown after this one")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    seeds = args.seeds[:1] if args.quick else args.seeds
    command = shlex.join(["python", "scripts/stress.py", *(sys.argv[1:] if argv is None else argv)])
    machine = machine_lines()
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="agentopt-stress-"))
    outcomes: list[Outcome] = []
    try:
        for name in args.only or list(SCENARIOS):
            for seed in seeds:
                outcome = SCENARIOS[name](scratch, seed)
                print(" | ".join(outcome.row()), flush=True)
                outcomes.append(outcome)
    finally:
        if args.keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    duration = time.perf_counter() - started
    body = report_lines(outcomes)
    compared = compared_lines(args.compare) if args.compare is not None else []
    print("\n".join(["", f"Command: {command} (took {duration:.0f} s)", *machine, "", *body, "", *compared]))
    if args.write_docs:
        DOC_PATH.write_text(render_doc(command, duration, machine, body, compared), encoding="utf-8")
        print(f"\nwrote {DOC_PATH}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
