"""The exact command that continues an interrupted run: the user's own arguments, with ``--agent-resume RUN``.

A resumed run takes its configs, seed and sequential settings from its manifest and refuses command-line options
that would change them, so those are dropped; everything else (test paths, ``-k``/``-m``, ``-n``, ``--agent-dir``,
outputs, other plugins' options) is kept, since a resume must collect the same tests and find the same run.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

# Options a resume refuses or ignores because the manifest fixes them: (flag, takes a value).
RUN_FIXED_OPTIONS: dict[str, bool] = {
    "--agent-config": True,
    "--agent-control": True,
    "--agent-set": True,
    "--agent-seed": True,
    "--agent-trials": True,
    "--agent-alpha": True,
    "--agent-beta": True,
    "--agent-effect": True,
    "--agent-target": True,
    "--agent-direction": True,
    "--agent-resume": True,
    "--sprt": False,
}


def resume_command(args: Sequence[str], run_id: str) -> str:
    """``pytest --agent-resume RUN <the other arguments>``, quoted for a POSIX shell."""
    kept: list[str] = []
    skip_value = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        flag, has_value, _ = arg.partition("=")
        takes_value = RUN_FIXED_OPTIONS.get(flag)
        if takes_value is None:
            kept.append(arg)
        elif takes_value and not has_value:
            skip_value = True
    return shlex.join(["pytest", "--agent-resume", run_id, *kept])
