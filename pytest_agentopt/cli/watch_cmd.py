"""``agentopt watch [RUN]``: a running experiment as it goes, from its run directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from pytest_agentopt.run.options import DEFAULT_DIR

CLEAR = "\033[H\033[J"


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "watch",
        help="a running experiment as it goes: trials, each arm's success and spend, the LLR, the verdict",
        description=(
            "Show a run as it goes (from another terminal, or another machine that sees the run directory): "
            "trials done of planned, each arm's success and estimated spend, the sequential test's LLR against "
            "its bounds, how many pairs remain at most, the expected further pairs, sessions and time until it "
            "decides (at the observed rates and under its hypotheses; the time at the recent pace; with several "
            "candidates, each candidate's and the run's, computed in the background), and the "
            "verdict when it comes. The ledger is read incrementally (only what was appended since the last "
            "refresh). Refreshes every --interval seconds until the run ends; --once prints one frame."
        ),
    )
    parser.add_argument("run", nargs="?", metavar="RUN", help="a run id or run directory; default the newest run")
    parser.add_argument(
        "--agent-dir", type=Path, default=Path(DEFAULT_DIR), metavar="DIR", help=f"default {DEFAULT_DIR}/"
    )
    parser.add_argument("--once", action="store_true", help="print one frame and exit")
    parser.add_argument("--interval", type=float, default=2.0, metavar="S", help="seconds between refreshes; default 2")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_agentopt.errors import AgentoptUsageError
    from pytest_agentopt.report.watch import WatchState, newest_run, render_frame
    from pytest_agentopt.report.watch_forecast import Forecaster
    from pytest_agentopt.storage.ledger import resolve_run

    if not args.interval > 0:
        raise AgentoptUsageError(f"--interval {args.interval}: must be a positive number of seconds, e.g. 2")
    if args.run is not None:
        paths = resolve_run(args.run, args.agent_dir)
    else:
        found = newest_run(args.agent_dir)
        if found is None:
            raise AgentoptUsageError(
                f"--agent-dir {args.agent_dir}: no run in {args.agent_dir}/runs/; give RUN or the --agent-dir "
                "the run writes to"
            )
        paths = found
    state = WatchState.open(paths)
    # A refresh never waits for the forecast's DP (seconds of CPU from an early state): it runs in a thread, and a
    # later frame shows it. One frame (--once) computes it before it prints.
    state.forecaster = Forecaster(background=not args.once)
    tty = sys.stdout.isatty()
    while True:
        state.refresh()
        ended = state.finished() or not state.owned()
        frame = "\n".join(render_frame(state))
        print((CLEAR if tty and not args.once else "") + frame, flush=True)
        if args.once or ended:
            return 0
        if not tty:
            print(flush=True)
        time.sleep(args.interval)
