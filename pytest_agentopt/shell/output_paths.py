"""The files a run is asked to write (``--agent-json``, ``--agent-md``, ``--agent-html``, ``--agent-csv``): checked
before the first paid trial, and a write that still fails at the end fails the run.

A pipeline that asks for a file reads it afterwards; a run that ends with exit 0 and no file breaks the pipeline
one step later, with a less clear message. So a path that cannot be written is a usage error at start-up (exit 4,
before any agent session is paid for), and a write that fails at the end anyway (the disk filled up, the directory
went away) makes the run exit 1 with ``agentopt: FAILED: could not write ...`` (documented in
``docs/exit-codes.md``). Missing parent directories are fine: they are created when the file is written.
"""

from __future__ import annotations

import os
from pathlib import Path

from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import RunOptions

__all__ = ["ERROR_PREFIX", "check_output_paths", "requested_outputs", "unwritable_reason"]

ERROR_PREFIX = "error: "
"""How a note about an output that was asked for and not written starts (it fails the run)."""


def requested_outputs(options: RunOptions) -> list[tuple[str, Path]]:
    """``(flag, path)`` of every output file the run was asked to write."""
    outputs = (
        ("--agent-json", options.json_path),
        ("--agent-md", options.md_path),
        ("--agent-html", options.html_path),
        ("--agent-csv", options.csv_path),
    )
    return [(flag, path) for flag, path in outputs if path is not None]


def unwritable_reason(path: Path) -> str | None:
    """Why ``path`` cannot be written (``None`` when it can, as far as can be told before writing)."""
    if path.is_dir():
        return "is a directory; give a file name"
    if path.exists() and not os.access(path, os.W_OK):
        return "exists and is not writable"
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        return f"{ancestor} is not a directory"
    if not os.access(ancestor, os.W_OK | os.X_OK):
        return f"cannot create files in {ancestor} (no write permission)"
    return None


def check_output_paths(options: RunOptions) -> None:
    """Raise :class:`AgentoptUsageError` naming the option when an output file cannot be written."""
    for flag, path in requested_outputs(options):
        reason = unwritable_reason(path)
        if reason is not None:
            raise AgentoptUsageError(
                f"{options.given(flag, path)}: {reason}; the run would end without the file, so nothing was run"
            )
