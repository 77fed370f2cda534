"""Workers on other machines (``--tx socket=HOST:PORT``, ``--tx ssh=HOST``, ``--tx popen//via=GATEWAY``).

A remote worker shares no file system with the controller: everything it needs travels in ``workerinput`` (the
run context, see ``storage/run_context.py``), and it is told nothing through files. The stop flag file is sent to
local workers only; a remote worker stops when the scheduler stops handing it items, and the item it already
holds runs and is recorded as after the decision (docs/remote-workers.md).

Two things pytest-xdist does with remote workers would end a run with an internal error (exit 3); this module
turns them into what a user can act on:

* xdist rewrites the command line's file arguments for remote workers relative to its rsync roots and fails on
  any other (``make_reltoroot``): :func:`check_remote_arguments` refuses such a run before anything is written,
  with exit 4 and what to do instead;
* xdist starts every worker at the session's start and ends the session with an internal error when a remote
  machine cannot be reached (ssh's host not found or login refused, a socket server not listening):
  :func:`refuse_unreachable_remote_workers` turns that into a usage error (exit 4) naming the ``--tx`` spec;
* xdist replaces a crashed worker by connecting again to the same gateway, which fails when the crash took the
  socket server with it (execnet's ``socketserver.py`` runs the worker in its own process):
  :func:`tolerate_lost_remote_workers` lets the run go on with the workers left, and ends it resumable when none
  is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytest

RECIPE = "docs/remote-workers.md"


def is_remote(spec: Any) -> bool:
    """Whether an execnet spec starts its worker on another machine (or may: ``socket``, ``ssh``, ``via``)."""
    return not getattr(spec, "popen", False) or bool(getattr(spec, "via", None))


def args_rewritten(spec: Any) -> bool:
    """Whether xdist rewrites the command line's file arguments for this spec (``workermanage.setup``)."""
    return not getattr(spec, "popen", False) or bool(getattr(spec, "chdir", None))


def unsendable_arguments(args: Iterable[str], roots: Sequence[Path]) -> list[str]:
    """The command-line arguments xdist refuses to send to a remote worker (``make_reltoroot``), in its own words:
    an argument whose path part (before ``::``) exists, as written, and is not as written inside one of ``roots``.

    An option and its value in one argument (``--agent-config=configs/test.json``) is no path; a relative path
    never lies inside the (absolute) roots.
    """
    refused = []
    for arg in args:
        path = Path(arg.split("::", 1)[0])
        try:
            exists = path.exists()
        except OSError:
            exists = False
        if exists and not any(path == root or path.is_relative_to(root) for root in roots):
            refused.append(arg)
    return refused


def rsync_roots(config: pytest.Config) -> list[Path]:
    """The directories xdist accepts file arguments under for remote workers (``NodeManager._getrsyncdirs``):
    pytest's own, and those of the deprecated ``--rsyncdir`` / ``rsyncdirs``."""
    import _pytest

    def directory(module_file: str) -> Path:
        path = Path(module_file)
        return path.parent if path.name == "__init__.py" else path

    candidates = [directory(pytest.__file__), directory(_pytest.__file__)]
    candidates += [Path(str(root)) for root in config.getoption("rsyncdir", None) or ()]
    candidates += [Path(str(root)) for root in config.getini("rsyncdirs") or ()]
    return [root.resolve() for root in candidates]


def check_remote_arguments(config: pytest.Config, specs: Sequence[Any]) -> None:
    """Refuse (exit 4) a run whose file arguments xdist could not send to its remote workers."""
    if not any(args_rewritten(spec) for spec in specs):
        return
    args = [str(arg) for arg in config.invocation_params.args or ()]
    refused = unsendable_arguments(args, rsync_roots(config))
    if not refused:
        return
    raise pytest.UsageError(
        f"{', '.join(refused)}: pytest-xdist cannot send file arguments to remote workers (--tx socket=, ssh= or "
        "chdir=): it accepts only files under its deprecated --rsyncdir roots, and each worker collects in its own "
        "directory; select the tests with -k or -m, or the testpaths ini option, and give options their file "
        f"with '=' (--agent-config=configs/test.json); see {RECIPE}"
    )


def refuse_unreachable_remote_workers(nodemanager: Any) -> bool:
    """Make a remote worker that cannot be started at the session's start a usage error (exit 4) naming its spec.

    Wraps ``NodeManager.setup_node``, which xdist calls once per ``--tx`` spec when the session starts; returns
    ``False`` (and changes nothing) when this xdist has no such method. A local worker is left to xdist.
    """
    original = getattr(nodemanager, "setup_node", None)
    if original is None or not callable(original):
        return False

    def setup_or_refuse(spec: Any, putevent: Any) -> Any:
        if not is_remote(spec):
            return original(spec, putevent)
        try:
            return original(spec, putevent)
        except Exception as exc:  # host not found, connection refused, ssh's login failed...
            raise pytest.UsageError(
                f"--tx {_spec_text(spec)}: cannot start the remote worker ({type(exc).__name__}: {exc}): check "
                "that the machine is reachable from here (ssh: that 'ssh HOST python -c pass' runs without a "
                "prompt; socket: that its server listens), and that the spec's python= exists there; see "
                f"{RECIPE}"
            ) from exc

    nodemanager.setup_node = setup_or_refuse
    return True


def tolerate_lost_remote_workers(dsession: Any, warn: Callable[[str], None]) -> bool:
    """Let an xdist run go on when a crashed remote worker cannot be replaced (its gateway is gone).

    Wraps ``DSession._clone_node``, the only place xdist replaces a crashed worker; returns ``False`` (and changes
    nothing) when this xdist has no such method. A local worker's replacement is left to xdist unchanged.
    """
    original = getattr(dsession, "_clone_node", None)
    if original is None or not callable(original):
        return False

    def clone_or_go_on(node: Any) -> Any:
        spec = node.gateway.spec
        if not is_remote(spec):
            return original(node)
        try:
            return original(node)
        except Exception as exc:  # the gateway cannot be reached: connection refused or reset, host not found...
            left = [other for other in getattr(dsession, "_active_nodes", ()) if other is not node]
            what = f"cannot replace the crashed remote worker {node.gateway.id} ({_spec_text(spec)}): " + (
                f"{type(exc).__name__}: {exc}".rstrip(": ")
            )
            if left:
                warn(f"agentopt: warning: {what}; the run goes on with {len(left)} worker(s)")
                return None
            reason = f"{what}; no worker is left"
            warn(f"agentopt: warning: {reason}")
            dsession.shouldstop = reason
            dsession.triggershutdown()
            return None

    dsession._clone_node = clone_or_go_on
    return True


def _spec_text(spec: Any) -> str:
    """The spec as the user wrote it, without the execution model xdist adds to every spec."""
    return str(getattr(spec, "_spec", spec)).replace("execmodel=main_thread_only//", "")
