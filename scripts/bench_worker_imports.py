"""What each xdist worker imports before it runs its first item: the plugin's share of a worker's start-up.

Run ``python scripts/bench_worker_imports.py [--processes N]`` (default 31). Each of N fresh Python processes
imports what every worker imports anyway (pytest, xdist), then times what an active pytest-agentopt worker adds
(the entry point, the worker's activation and the items plugin), and counts the modules it adds. Prints the
medians, and the plugin's share as a ratio of pytest + xdist's own import time. An ``-n 8`` run pays this in 8
processes at once, on top of the controller's own start-up.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

PROBE = """
import sys, time
t0 = time.perf_counter()
import pytest, xdist
t1 = time.perf_counter()
before = set(sys.modules)
import pytest_agentopt.plugin
from pytest_agentopt.activation import activate_worker
import pytest_agentopt.items
t2 = time.perf_counter()
added = sorted(set(sys.modules) - before)
print(t1 - t0, t2 - t1, len(added), ",".join(name for name in added if not name.startswith("pytest_agentopt")))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=31)
    args = parser.parse_args()
    base, plugin, modules = [], [], []
    others = ""
    for _ in range(args.processes):
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
        fields = out.split()
        base.append(float(fields[0]))
        plugin.append(float(fields[1]))
        modules.append(int(fields[2]))
        others = fields[3] if len(fields) > 3 else ""
    print(f"pytest + xdist imports: median {1000 * statistics.median(base):.1f} ms")
    print(
        f"pytest-agentopt worker imports: median {1000 * statistics.median(plugin):.1f} ms, "
        f"{statistics.median(modules):.0f} modules; ratio to pytest + xdist: "
        f"{statistics.median(plugin) / statistics.median(base):.2f}"
    )
    print(f"standard-library modules it adds: {others or 'none'}")


if __name__ == "__main__":
    main()
