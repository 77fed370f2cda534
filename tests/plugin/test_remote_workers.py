"""Workers on other machines, on xdist's own transport: execnet socket servers on 127.0.0.1, and ssh workers
through a stand-in `ssh` command.

Each "machine" is an execnet socket server started from its own temporary directory, which holds a copy of the
suite (as a checkout at the same commit would) and nothing of the controller's: no configs, no run directory. The
controller runs in its own directory and reaches the servers with ``--tx socket=127.0.0.1:PORT//chdir=DIR``,
as docs/remote-workers.md tells users to. The servers share this machine's installed packages (the recipe's
"same packages on every machine"), not its files.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.remote_workers import SocketServer, SocketServerDidNotStartError, stop_socket_server
from scripts.remote_workers import start_socket_server as start_server
from tests.plugin.helpers import read_trials, write_configs
from tests.plugin.test_candidates_run import SUITE as CANDIDATES_SUITE
from tests.plugin.test_candidates_run import write_candidates

HANG_S = 240  # a run that hangs is a failure of this test, not of the suite

# One trial ends its worker (os._exit), as a native client's segfault or the OOM killer would; outcomes are drawn
# from the trial seed, so every run with the same seed has the same trials, and the test arm is clearly better.
SUITE = """
import os
import random

import pytest

@pytest.mark.agent_task(code="remote")
@pytest.mark.parametrize("task", [f"t{i}" for i in range(6)])
def test_task(task, agent_config, agent_trial):
    if (task, agent_trial.arm, agent_trial.index) == ("t2", "test", 1):
        os._exit(1)
    rng = random.Random(agent_trial.seed)
    assert rng.random() < (0.95 if agent_config.guidelines else 0.3)
"""
ARGS = ("--agent-config=configs/improved.json", "--sprt", "--agent-trials=20", "--agent-seed=3", "-p", "no:randomly")
# What only the controller writes into a run directory (the same whether its workers are local or remote).
CONTROLLER_FILES = {"manifest.json", "plan.json", "trials.jsonl", "decision.json", "summary.json", "session.lock"}


def start_socket_server(directory: Path) -> SocketServer:
    """A socket server in ``directory``; skipped (not failed) only when execnet's server cannot start here."""
    try:
        return start_server(directory)
    except SocketServerDidNotStartError as exc:
        pytest.skip(f"execnet's socket server did not start on 127.0.0.1 on this platform: {exc}")


@pytest.fixture
def machines(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., list[SocketServer]]]:
    """Start socket servers, each in a new directory holding a copy of the suite; all are stopped at the end."""
    started: list[SocketServer] = []

    def start(count: int, suite: str = SUITE) -> list[SocketServer]:
        servers = []
        for _ in range(count):
            directory = tmp_path_factory.mktemp("machine")
            (directory / "test_suite.py").write_text(suite)
            server = start_socket_server(directory)
            started.append(server)
            servers.append(server)
        return servers

    yield start
    for server in started:
        stop_socket_server(server)


def controller_suite(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SUITE)


def run_controller(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """The controller as a user runs it (a subprocess, no ``--basetemp``: a remote worker parses the same
    command line, and must not take the controller's temporary directory for its own)."""
    return pytester.run(sys.executable, "-m", "pytest", *ARGS, *args, timeout=HANG_S)


def the_run(agent_dir: Path) -> Path:
    runs = sorted((agent_dir / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def decided_trials(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str, int, str]]]:
    """The summary, the decision, and the trials the decision was made on (up to its planned position)."""
    summary = json.loads((run_dir / "summary.json").read_text())
    decision = json.loads((run_dir / "decision.json").read_text())
    trials = sorted(
        (r["task_id"], r["arm"], r["trial"], r["outcome"]) for r in read_trials(run_dir) if r["seq"] <= decision["seq"]
    )
    return summary, decision, trials


def test_socket_workers_decide_as_local_workers_do_and_survive_a_dead_one(
    pytester: pytest.Pytester, machines: Callable[..., list[SocketServer]]
) -> None:
    controller_suite(pytester)
    local = run_controller(pytester, "-n", "2")
    assert local.ret == pytest.ExitCode.OK, local.stdout.str()
    local_run = the_run(pytester.path / ".agentopt")
    local_summary, local_decision, local_trials = decided_trials(local_run)
    assert local_summary["verdict"] == "better"

    # the same run on two "machines" (its own --agent-dir, so that each run is the only one in its directory)
    servers = machines(2)
    remote = run_controller(pytester, "--agent-dir=remote", "--dist=load", *(f"--tx={s.spec}" for s in servers))
    output = remote.stdout.str()
    assert remote.ret == pytest.ExitCode.OK, output
    run_dir = the_run(pytester.path / "remote")
    summary, decision, trials = decided_trials(run_dir)

    # same verdict on the same pairs
    assert summary["verdict"] == local_summary["verdict"]
    assert summary["pairs_used"] == local_summary["pairs_used"]
    assert (decision["seq"], decision["units"]) == (local_decision["seq"], local_decision["units"])
    assert trials == local_trials
    # without a stop flag, remote workers stop when dispatching does: what they held runs, beyond the decision
    assert summary["trials_after_decision"] <= 2 * 2  # the look-ahead window: two items per worker

    # the dead worker's trial is recorded; its server died with it, and the run went on with the other worker
    records = read_trials(run_dir)
    crashed = [r for r in records if r["outcome"] == "worker_crash"]
    assert [(r["task_id"], r["arm"], r["trial"]) for r in crashed] == [("test_suite.py::test_task[t2]", "test", 1)]
    assert crashed[0]["error_type"] == "unknown exit status"  # a remote worker's exit status cannot be read
    assert sum(server.process.poll() is not None for server in servers) == 1
    assert "cannot replace the crashed remote worker" in output
    assert "the run goes on with 1 worker(s)" in output
    assert {r["worker"] for r in records if r["outcome"] != "worker_crash"} <= {"gw0", "gw1"}

    # nothing of the workers in the controller's run directory, nor anywhere in its directory
    assert {path.name for path in run_dir.iterdir()} <= CONTROLLER_FILES
    assert {path.name for path in run_dir.iterdir()} == {path.name for path in local_run.iterdir()}
    assert not (pytester.path / "pytest").exists()
    assert not (pytester.path / "_pytest").exists()
    # the workers ran in their own directories (xdist sends them its pytest), which hold no config and no run
    for server in servers:
        assert (server.directory / "_pytest").is_dir()
        assert not (server.directory / "configs").exists()
        assert not (server.directory / ".agentopt").exists()
    survivor = next(server for server in servers if server.process.poll() is None)
    assert re.search(r"\d+ passed", survivor.output()), survivor.output()


def test_when_the_last_remote_worker_is_lost_the_run_stops_resumable(
    pytester: pytest.Pytester, machines: Callable[..., list[SocketServer]]
) -> None:
    controller_suite(pytester)
    (server,) = machines(1)
    result = run_controller(pytester, "--dist=load", f"--tx={server.spec}")
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    run_dir = the_run(pytester.path / ".agentopt")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert summary["verdict"] == "inconclusive"
    assert summary["stopped_by"].startswith(f"cannot replace the crashed remote worker gw0 ({server.spec}): ")
    assert summary["stopped_by"].endswith("; no worker is left")
    assert f"continue it with pytest --agent-resume {run_dir.name} " in output
    assert [r["outcome"] for r in read_trials(run_dir)].count("worker_crash") == 1
    assert "INTERNALERROR" not in output


def test_a_remote_worker_without_the_suite_is_named_with_its_directory(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory
) -> None:
    controller_suite(pytester)
    empty = tmp_path_factory.mktemp("machine-without-the-suite")
    server = start_socket_server(empty)
    try:
        result = run_controller(pytester, "--dist=load", f"--tx={server.spec}")
    finally:
        stop_socket_server(server)
    result.stdout.fnmatch_lines(
        [
            f"agentopt: warning: the remote worker gw0 collected no agent task in {empty.resolve()} on its machine: "
            "the suite must be there, at the controller's commit (the spec's chdir=; see docs/remote-workers.md)"
        ]
    )


def test_file_arguments_remote_workers_cannot_receive_are_refused_before_the_run(pytester: pytest.Pytester) -> None:
    controller_suite(pytester)
    # Nothing listens there: the arguments are refused before any worker is started.
    result = pytester.runpytest_inprocess(
        "test_suite.py", "--agent-config", "configs/improved.json", "--dist=load", "--tx=socket=127.0.0.1:9"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: test_suite.py, configs/improved.json: pytest-xdist cannot send file arguments to remote workers "
            "(--tx socket=, ssh= or chdir=)*select the tests with -k or -m*--agent-config=configs/test.json*"
            "docs/remote-workers.md"
        ]
    )
    assert not (pytester.path / ".agentopt").exists()


def test_remote_workers_stop_running_a_candidate_once_it_has_decided(
    pytester: pytest.Pytester, machines: Callable[..., list[SocketServer]]
) -> None:
    """A remote worker sees no stop flag: the scheduler must stop handing it a decided candidate's items, which
    are reported skipped with that candidate's decision; the control runs on for the undecided ones."""
    write_candidates(pytester)
    servers = machines(2, CANDIDATES_SUITE)
    result = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        *(f"--agent-config=configs/{name}.json" for name in ("better", "equal", "worse")),
        "--sprt",
        "--agent-trials=10",
        "--agent-seed=3",
        "-p",
        "no:randomly",
        "-rs",
        "--dist=load",
        *(f"--tx={s.spec}" for s in servers),
        timeout=HANG_S,
    )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output  # the default gate: a candidate proven worse
    run_dir = the_run(pytester.path / ".agentopt")
    summary = json.loads((run_dir / "summary.json").read_text())
    candidates = {c["experiment_id"]: c for c in summary["candidates"]}
    assert {name: c["verdict"] for name, c in candidates.items()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    records = read_trials(run_dir)
    decisions = json.loads((run_dir / "decision.json").read_text())["candidates"]
    for name, candidate in candidates.items():
        decided_at = decisions[candidate["arm"]]["seq"]
        after = [r for r in records if r["experiment_id"] == name and r["seq"] > decided_at]
        assert len(after) == candidate["trials_after_decision"], name
        # ceil(2w / (K + 1)) + w for w workers and K candidates (docs/candidates-validation.md)
        assert len(after) <= math.ceil(2 * 2 / (3 + 1)) + 2, (name, len(after))
    decided_first = min(candidates.values(), key=lambda c: c["pairs_used"])
    assert decided_first["trials_started"] < len([r for r in records if r["experiment_id"] == "base"])
    result.stdout.fnmatch_lines(
        [
            "agentopt: * planned trials never ran (pytest counts them as deselected): "
            "candidate * decided '*' after * pairs"
        ]
    )
    assert "collected no agent task" not in output  # the candidates' items (test2-0...) are agent items too


def test_a_resumed_run_hands_remote_workers_none_of_a_candidate_decided_before_the_interruption(
    pytester: pytest.Pytester, machines: Callable[..., list[SocketServer]]
) -> None:
    """The first session (one process, in the controller's directory only) stops at planned position 68 (a
    control trial), after the candidate ``equal`` has decided (15 pairs, position 58); the resumed session on two
    remote workers must run none of ``equal``'s remaining trials: its decision comes from the ledger, before
    anything is handed out."""
    write_candidates(pytester)
    interrupting = CANDIDATES_SUITE.replace(
        "    draw = random.Random",
        "    import os\n"
        "    if agent_trial.seq == 68 and os.path.exists('interrupt'):\n"
        "        pytest.exit('interrupted')\n"
        "    draw = random.Random",
    )
    pytester.makepyfile(test_suite=interrupting)
    (pytester.path / "interrupt").write_text("")
    common = ("--sprt", "--agent-trials=10", "--agent-seed=3", "-p", "no:randomly")
    configs = [f"--agent-config=configs/{name}.json" for name in ("better", "equal", "worse")]
    first = pytester.run(sys.executable, "-m", "pytest", *configs, *common, timeout=HANG_S)
    assert first.ret == pytest.ExitCode.INTERRUPTED, first.stdout.str()
    run_dir = the_run(pytester.path / ".agentopt")
    decided = json.loads((run_dir / "decision.json").read_text())["candidates"]
    assert {d["experiment_id"] for d in decided.values()} == {"equal"}
    before = len(read_trials(run_dir))
    servers = machines(2, interrupting)  # no "interrupt" file on the machines
    resumed = pytester.run(
        sys.executable,
        "-m",
        "pytest",
        f"--agent-resume={run_dir.name}",
        "-p",
        "no:randomly",
        "-rs",
        "--dist=load",
        *(f"--tx={s.spec}" for s in servers),
        timeout=HANG_S,
    )
    assert resumed.ret == pytest.ExitCode.TESTS_FAILED, resumed.stdout.str()  # the gate: worse is proven worse
    new = read_trials(run_dir)[before:]
    assert new, resumed.stdout.str()
    assert [r for r in new if r["experiment_id"] == "equal"] == []
    resumed.stdout.fnmatch_lines(
        [
            "agentopt: * planned trials never ran (pytest counts them as deselected): "
            "candidate equal decided 'no_difference' after 15 pairs"
        ]
    )


@pytest.mark.slow
def test_workers_started_through_a_proxy_gateway_are_replaced_after_a_crash(
    pytester: pytest.Pytester, machines: Callable[..., list[SocketServer]]
) -> None:
    """``--px socket=...//id=m1 --tx 2*popen//via=m1``: each worker is its own process on the "machine", so the
    socket server outlives a worker's crash and xdist replaces the worker there (docs/remote-workers.md)."""
    controller_suite(pytester)
    (server,) = machines(1)
    result = run_controller(
        pytester, "--dist=load", f"--px=socket=127.0.0.1:{server.port}//id=m1", "--tx=2*popen//via=m1"
    )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, output
    run_dir = the_run(pytester.path / ".agentopt")
    summary, _, _ = decided_trials(run_dir)
    assert summary["verdict"] == "better"
    crashed = [r for r in read_trials(run_dir) if r["outcome"] == "worker_crash"]
    assert [(r["task_id"], r["arm"], r["trial"]) for r in crashed] == [("test_suite.py::test_task[t2]", "test", 1)]
    assert "replacing crashed worker" in output
    assert "cannot replace" not in output
    assert server.process.poll() is None  # the server lives on: only the worker's process ended
    assert {path.name for path in run_dir.iterdir()} <= CONTROLLER_FILES
    assert {path.name for path in server.directory.iterdir()} == {"test_suite.py"}  # no pytest sent: popen


# A stand-in for the ``ssh`` command, put first on PATH. execnet's ``ssh=`` gateway runs
# ``ssh -C [-F CONFIG] HOST... 'PYTHON -c "BOOTSTRAP"'`` (``execnet/gateway_io.py``, ``ssh_args``) and talks to the
# remote Python over the command's stdin and stdout. This one drops the ssh options, maps the host to a "machine"
# directory, and runs the remote command with ``sh -c`` there, with the environment of a fresh login (PATH and HOME
# only: nothing of the controller's, such as its PYTHONPATH), as a real ssh server does. An audit hook installed in
# that Python (``sitecustomize.py`` on the login's PYTHONPATH) records every file the worker opens or lists under
# the controller's directory.
FAKE_SSH = """#!{python}
import json, os, sys

HOSTS = json.loads({hosts!r})
LOG = {log!r}
OPTIONS_WITH_VALUE = {{"-F", "-p", "-l", "-i", "-o", "-J", "-E"}}

args = sys.argv[1:]
with open(LOG, "a") as log:
    log.write(json.dumps(args) + "\\n")
while args and args[0].startswith("-"):
    option = args.pop(0)
    if option in OPTIONS_WITH_VALUE:
        args.pop(0)
host, command = args[0].rpartition("@")[2], " ".join(args[1:])
if host not in HOSTS or not command:
    sys.stderr.write(f"ssh: Could not resolve hostname {{host}}\\n")
    sys.exit(255)
home = HOSTS[host]
os.chdir(home)
env = {{"PATH": os.environ["PATH"], "HOME": home, "PYTHONPATH": os.path.join(home, ".audit"),
        "PYTHONDONTWRITEBYTECODE": "1"}}
os.execve("/bin/sh", ["sh", "-c", command], env)
"""
AUDIT = """
import os, sys

_FORBIDDEN = {forbidden!r}
_log = open(os.path.join(os.path.dirname(__file__), "reads.log"), "a", buffering=1)

def _audit(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path == _FORBIDDEN or path.startswith(_FORBIDDEN + os.sep):
            _log.write(event + " " + path + "\\n")

sys.addaudithook(_audit)
"""


def install_fake_ssh(
    hosts: dict[str, str], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Put the stand-in ``ssh`` (knowing ``hosts``: name -> home directory) first on PATH; returns its call log."""
    bin_dir = tmp_path_factory.mktemp("fake-ssh-bin")
    log = bin_dir / "ssh.log"
    ssh = bin_dir / "ssh"
    ssh.write_text(FAKE_SSH.format(python=sys.executable, hosts=json.dumps(hosts), log=str(log)))
    ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ssh command is a POSIX executable script")
def test_a_remote_worker_that_cannot_be_started_is_a_usage_error_naming_its_spec(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ssh host that cannot be resolved, or a socket address where nothing listens: exit 4 with the spec, not
    xdist's internal error (exit 3)."""
    controller_suite(pytester)
    install_fake_ssh({}, tmp_path_factory, monkeypatch)
    with socket.socket() as probe:  # a port nothing listens on: bound, then closed
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    for spec in (f"ssh=ci@nohost//python={sys.executable}", f"socket=127.0.0.1:{closed_port}"):
        result = run_controller(pytester, "--dist=load", f"--tx={spec}")
        output = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, output
        assert f"ERROR: --tx {spec}: cannot start the remote worker (" in output
        assert "docs/remote-workers.md" in output
        assert "INTERNALERROR" not in output


@pytest.mark.skipif(os.name != "posix", reason="the stand-in ssh command is a POSIX executable script")
def test_ssh_workers_decide_as_local_workers_do_without_reading_the_controllers_files(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    controller_suite(pytester)
    local = run_controller(pytester, "-n", "2")
    assert local.ret == pytest.ExitCode.OK, local.stdout.str()
    local_summary, local_decision, local_trials = decided_trials(the_run(pytester.path / ".agentopt"))

    controller_dir = str(pytester.path.resolve())
    hosts: dict[str, str] = {}
    for host in ("m1", "m2"):
        home = tmp_path_factory.mktemp(f"ssh-{host}").resolve()
        (home / "suite").mkdir()
        (home / "suite" / "test_suite.py").write_text(SUITE)
        (home / ".audit").mkdir()
        (home / ".audit" / "sitecustomize.py").write_text(AUDIT.format(forbidden=controller_dir))
        hosts[host] = str(home)
    log = install_fake_ssh(hosts, tmp_path_factory, monkeypatch)

    specs = [f"--tx=ssh=ci@{host}//python={sys.executable}//chdir={home}/suite" for host, home in hosts.items()]
    remote = run_controller(pytester, "--agent-dir=remote", "--dist=load", *specs)
    output = remote.stdout.str()
    assert remote.ret == pytest.ExitCode.OK, output
    run_dir = the_run(pytester.path / "remote")
    summary, decision, trials = decided_trials(run_dir)

    # the ssh gateway went through the stand-in, once per worker and once more for the crashed one's replacement
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(calls) == 3, calls
    assert {call[1] for call in calls} == {"ci@m1", "ci@m2"}, calls
    assert all(call[0] == "-C" and call[2].startswith(f"{sys.executable} -c ") for call in calls), calls

    # same verdict on the same pairs as local workers with the same seed
    assert summary["verdict"] == local_summary["verdict"] == "better"
    assert summary["pairs_used"] == local_summary["pairs_used"]
    assert (decision["seq"], decision["units"]) == (local_decision["seq"], local_decision["units"])
    assert trials == local_trials
    assert summary["trials_after_decision"] <= 2 * 2

    # the worker that died is recorded, and xdist replaced it over ssh (each ssh worker is its own process)
    crashed = [r for r in read_trials(run_dir) if r["outcome"] == "worker_crash"]
    assert [(r["task_id"], r["arm"], r["trial"]) for r in crashed] == [("test_suite.py::test_task[t2]", "test", 1)]
    assert "replacing crashed worker" in output
    assert "cannot replace" not in output

    # no worker opened or listed anything under the controller's directory, nor wrote there
    for home_dir in hosts.values():
        reads = Path(home_dir, ".audit", "reads.log")
        assert reads.exists()  # the audit hook ran in the worker
        assert reads.read_text() == ""
        assert (Path(home_dir) / "suite" / "_pytest").is_dir()  # xdist sent its pytest to the worker's directory
    assert {path.name for path in run_dir.iterdir()} <= CONTROLLER_FILES
    assert not (pytester.path / "pytest").exists()
    assert not (pytester.path / "_pytest").exists()
