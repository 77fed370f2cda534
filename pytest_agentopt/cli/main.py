"""``agentopt``: entry point and sub-command dispatch.

Each sub-command lives in its own module and registers itself with :func:`register`; errors the user can fix
(:class:`~pytest_agentopt.errors.AgentoptUsageError`) print one line on stderr and exit 2, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pytest_agentopt.cli import (
    analyze_cmd,
    config_cmd,
    experiments_cmd,
    failures_cmd,
    guidelines_cmd,
    hypotheses_cmd,
    merge_cmd,
    pareto_cmd,
    plan_cmd,
    replay_cmd,
    report_cmd,
    sprt_cmd,
    tasks_cmd,
    watch_cmd,
)
from pytest_agentopt.errors import AgentoptUsageError

COMMANDS = (
    config_cmd,
    analyze_cmd,
    sprt_cmd,
    plan_cmd,
    replay_cmd,
    report_cmd,
    merge_cmd,
    experiments_cmd,
    hypotheses_cmd,
    pareto_cmd,
    guidelines_cmd,
    tasks_cmd,
    failures_cmd,
    watch_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentopt",
        description="pytest-agentopt: configs, sequential statistics and reports for LLM-agent experiments",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s (pytest-agentopt) {installed_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMANDS:
        module.register(sub)
    return parser


def installed_version() -> str:
    """The installed distribution's version (the package's own constant when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version("pytest-agentopt")
    except metadata.PackageNotFoundError:
        from pytest_agentopt import __version__

        return __version__


def main(argv: Sequence[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run parsed arguments: errors the user can fix print one line and exit 2."""
    try:
        result: int = args.handler(args)
    except AgentoptUsageError as exc:
        print(f"agentopt: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `agentopt ... | head`
        return 0
    except OSError as exc:  # the machine, not a bug: a file that cannot be read or written, a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"agentopt: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
