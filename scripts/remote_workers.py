"""Workers on other machines, measured: execnet socket servers on 127.0.0.1 against local ``-n 2`` workers.

Run ``python scripts/remote_workers.py`` (``--seeds N``, default 5; a few minutes on 2 cores). For each seed it runs
the same ``--sprt`` suite twice: with two local workers (``-n 2``), and with two execnet socket servers started
from their own temporary directories (each holding a copy of the suite, nothing of the controller's), reached with
``--dist load --tx socket=127.0.0.1:PORT//chdir=DIR``. It prints, per run, the verdict, the pairs the decision used,
the trials recorded beyond the decision's planned position and the wall time. The verdict and the pairs must be the
same (the planned order makes them depend on the seed only); remote workers get no stop flag, so they run the item
they hold when the test decides: a few more trials beyond the decision (docs/remote-workers.md).

The socket-server helpers are also used by ``tests/plugin/test_remote_workers.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import execnet

SOCKET_SERVER = Path(execnet.__file__).parent / "script" / "socketserver.py"
START_S = 30.0  # a loaded CI machine starts a Python process in well under this

# The server runs with a lifeline: a pipe whose other end only the starting process holds. When that process ends,
# however it ends (a CI job killed at its time limit included), the pipe closes and the server exits with it.
LIFELINE = """
import os, runpy, sys, threading

def watch(fd):
    while os.read(fd, 1):
        pass
    os._exit(0)

threading.Thread(target=watch, args=(int(sys.argv[1]),), daemon=True).start()
sys.argv = [sys.argv[2], "127.0.0.1:0"]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class SocketServerDidNotStartError(RuntimeError):
    """execnet's socket server printed no listening address in time (what it printed is the message)."""


@dataclass
class SocketServer:
    """An execnet socket server process and everything it printed (drained, so it never blocks on a full pipe)."""

    process: subprocess.Popen[str]
    directory: Path
    lifeline: int | None
    port: int = 0
    lines: list[str] = field(default_factory=list)

    @property
    def spec(self) -> str:
        """The ``--tx`` value that reaches this server, with the worker working in the server's directory."""
        return f"socket=127.0.0.1:{self.port}//chdir={self.directory}"

    def output(self) -> str:
        return "".join(self.lines)


def start_socket_server(directory: Path) -> SocketServer:
    """Start ``execnet/script/socketserver.py`` on 127.0.0.1 (an ephemeral port) with ``directory`` as its cwd.

    Raises :class:`SocketServerDidNotStartError` (after stopping the process) when it prints no address within
    ``START_S``.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "COV_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if os.name == "posix":
        keep, lifeline = os.pipe()  # ``keep`` goes to the server only; ``lifeline`` is not inherited
        command = [sys.executable, "-u", "-c", LIFELINE, str(keep), str(SOCKET_SERVER)]
        passed: tuple[int, ...] = (keep,)
    else:
        keep, lifeline, passed = -1, None, ()
        command = [sys.executable, "-u", str(SOCKET_SERVER), "127.0.0.1:0"]
    try:
        process = subprocess.Popen(
            command,
            cwd=directory,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            pass_fds=passed,
        )
    finally:
        if passed:
            os.close(keep)
    server = SocketServer(process, directory, lifeline)
    first: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if not server.lines:
                first.put(line)
            server.lines.append(line)
        first.put("")

    threading.Thread(target=drain, daemon=True).start()
    try:
        line = first.get(timeout=START_S)
    except queue.Empty:
        line = ""
    match = re.search(r"\('127\.0\.0\.1', (\d+)\)", line)
    if match is None:
        stop_socket_server(server)
        raise SocketServerDidNotStartError(line.strip() or f"nothing within {START_S:g} s")
    server.port = int(match.group(1))
    return server


def stop_socket_server(server: SocketServer) -> None:
    """End the server (if a worker's crash has not already) and close its pipes."""
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    if server.lifeline is not None:
        os.close(server.lifeline)
        server.lifeline = None
    with contextlib.suppress(OSError):
        if server.process.stdout is not None:
            server.process.stdout.close()


# -- the measurement ------------------------------------------------------------------------------------------

SUITE = """
import random
import time

import pytest

@pytest.mark.parametrize("task", [f"t{i}" for i in range(10)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    time.sleep(0.02)
    assert rng.random() < (0.8 if agent_config.guidelines else 0.5)
"""
CONFIGS = {
    "base.json": {"experiment_id": "base", "model_id": "gpt-4o-mini"},
    "improved.json": {"experiment_id": "improved", "parent": "base", "guidelines+": ["Check coupon limits first"]},
}
ARGS = ("--agent-config=configs/improved.json", "--sprt", "--agent-trials=40", "-p", "no:randomly", "-q")
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class RunFigures:
    exit_status: int
    verdict: str
    pairs_used: int | None
    after_decision: int
    wall_s: float


def run_once(controller: Path, agent_dir: str, extra: list[str]) -> RunFigures:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *ARGS, f"--agent-dir={agent_dir}", *extra],
        cwd=controller,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    wall = time.perf_counter() - started
    (run_dir,) = (controller / agent_dir / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    return RunFigures(
        result.returncode, summary["verdict"], summary["pairs_used"], summary["trials_after_decision"], wall
    )


def measure(seeds: int, root: Path) -> list[tuple[int, RunFigures, RunFigures]]:
    controller = root / "controller"
    (controller / "configs").mkdir(parents=True)
    (controller / "test_suite.py").write_text(SUITE)
    for name, data in CONFIGS.items():
        (controller / "configs" / name).write_text(json.dumps(data))
    rows = []
    for seed in range(1, seeds + 1):
        local = run_once(controller, f"local-{seed}", ["-n", "2", f"--agent-seed={seed}"])
        servers = []
        try:
            for machine in range(2):
                directory = root / f"machine-{seed}-{machine}"
                directory.mkdir()
                (directory / "test_suite.py").write_text(SUITE)
                servers.append(start_socket_server(directory))
            tx = [f"--tx={server.spec}" for server in servers]
            remote = run_once(controller, f"remote-{seed}", ["--dist=load", f"--agent-seed={seed}", *tx])
        finally:
            for server in servers:
                stop_socket_server(server)
        rows.append((seed, local, remote))
        print(f"seed {seed}: {line('local -n 2', local)}", flush=True)
        print(f"seed {seed}: {line('2 socket', remote)}", flush=True)
    return rows


def line(label: str, figures: RunFigures) -> str:
    return (
        f"{label:<10} exit {figures.exit_status}  {figures.verdict:<8} pairs {figures.pairs_used}  "
        f"beyond the decision {figures.after_decision}  wall {figures.wall_s:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    seeds = parser.parse_args().seeds
    with tempfile.TemporaryDirectory(prefix="agentopt-remote-") as directory:
        rows = measure(seeds, Path(directory))
    same = sum(local.verdict == remote.verdict and local.pairs_used == remote.pairs_used for _, local, remote in rows)
    local_after = [local.after_decision for _, local, _ in rows]
    remote_after = [remote.after_decision for _, _, remote in rows]
    print(f"same verdict and pairs: {same} of {len(rows)} seeds")
    print(
        f"trials beyond the decision: local {local_after} (mean {sum(local_after) / len(rows):.1f}), "
        f"remote {remote_after} (mean {sum(remote_after) / len(rows):.1f})"
    )


if __name__ == "__main__":
    main()
