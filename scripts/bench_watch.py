"""What ``agentopt watch`` costs on a large ledger: the first frame, and a refresh after new trials.

Run ``python scripts/bench_watch.py`` (``--lines N``, default 1,000,000). It writes a synthetic paired ``--sprt``
run of N trial records (the plugin's own record shape, about 700 bytes a line) into a temporary directory, then
times, in this process: the first refresh (reading the whole ledger once), a refresh after 1,000 more trials
were appended (what each refresh of a running experiment reads), a refresh with nothing new, and one frame's
rendering. It prints the figures and the peak memory (``ru_maxrss``). Unix only (``resource``).

The forecast of the further pairs does not depend on the ledger's length but on the test's state and cap: it is
timed apart, on the same plan read only to its first 40 trials (20 pairs, the test far from a decision: the
costliest kind of state), as the first frame that computes it inline (``agentopt watch --once``); then as the
live view does, in the background: the frame that starts it and returns, and the time until a frame shows it.
The same forecast for three candidates (each test at alpha / 3, 20 pairs each, the same cap) is timed inline.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from pytest_agentopt.report.watch import WatchState, render_frame
from pytest_agentopt.report.watch_forecast import Forecaster
from pytest_agentopt.run.candidates import candidate_feeders
from pytest_agentopt.run.feeding import SequentialFeeder
from pytest_agentopt.run.trial_order import PlannedTrial, build_plan, trial_seed
from pytest_agentopt.storage.ledger import RunPaths

TASKS = 200
SEED = 1


def record(run_id: str, seq: int, task_id: str, arm: str, trial: int) -> dict[str, object]:
    success = (seq * 7919 + trial) % 3 != 0
    return {
        "schema": 1,
        "run_id": run_id,
        "experiment_id": "exp" if arm == "test" else "base",
        "arm": arm,
        "config_hash": "0123456789abcdef" if arm == "test" else "fedcba9876543210",
        "task_id": task_id,
        "task_code": None,
        "category": None,
        "optimal_steps": None,
        "impossible": False,
        "trial": trial,
        "seq": seq,
        "seed": trial_seed(SEED, task_id, trial),
        "outcome": "success" if success else "failure",
        "error_type": None if success else "AssertionError",
        "message": None if success else "the agent did not buy the cheapest GPU",
        "tokens": {"input": 6125, "output": 497, "cache_read": 0, "cache_write": 0, "reasoning": 0},
        "model": "gpt-4.1-mini",
        "cost_usd": 0.00245,
        "price_source": "genai-prices 0.0.30",
        "latency_s": 12.5,
        "steps": 4,
        "tool_calls": 3,
        "metrics": {},
        "attempts": 1,
        "worker": "gw3",
        "started_at": "2026-11-23T15:55:01.123Z",
        "finished_at": "2026-11-23T15:55:13.623Z",
        "after_decision": False,
    }


def write_run(directory: Path, lines: int, extra: int, trials: int | None = None) -> tuple[Path, list[bytes]]:
    run_dir = directory / "runs" / "20261123-155501-exp-0000"
    run_dir.mkdir(parents=True)
    run_id = run_dir.name
    manifest = {
        "schema": 1,
        "run_id": run_id,
        "arms": {"control": {"experiment_id": "base"}, "test": {"experiment_id": "exp"}},
        "run": {
            "seed": SEED,
            "trials": 10,
            "arms": ["control", "test"],
            "sprt": True,
            "alpha": 0.05,
            "beta": 0.1,
            "effect": 0.15,
            "target": None,
            "direction": "both",
            "cap_pairs": None,
        },
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (run_dir / "session.json").write_text("{}")
    if trials is None:
        trials = (lines + extra) // (2 * TASKS) + 1
    plan = build_plan([f"t{i:03d}" for i in range(TASKS)], ("control", "test"), trials, SEED)
    (run_dir / "plan.json").write_text(json.dumps({"tasks": TASKS, "trials": trials, "items": len(plan)}))

    def encoded(entry: PlannedTrial) -> bytes:
        line = record(run_id, entry.seq, entry.task_id, entry.arm, entry.trial)
        return (json.dumps(line, separators=(",", ":")) + "\n").encode()

    with (run_dir / "trials.jsonl").open("wb") as ledger:  # streamed: the bench's own memory stays small
        for entry in plan[:lines]:
            ledger.write(encoded(entry))
    return run_dir, [encoded(entry) for entry in plan[lines : lines + extra]]


def three_candidates() -> dict[str, SequentialFeeder]:
    """Three candidates' feeders (alpha / 3 each), 20 pairs in each test, none decided."""
    feeders = candidate_feeders(["a1", "a2", "a3"], alpha=0.05, beta=0.1, effect=0.15, direction="both").feeders
    for shift, feeder in enumerate(feeders.values()):
        test = feeder.paired_test
        assert test is not None
        for pair in range(20):
            test.add_pair(pair % 5 == shift, pair % 5 == 3)
        feeder.units = 20
    return feeders


def timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir, more = write_run(Path(tmp), args.lines, 1000)
        size = (run_dir / "trials.jsonl").stat().st_size
        state = WatchState.open(RunPaths(run_dir))
        first = timed(state.refresh)
        assert state.done == args.lines, state.done
        with (run_dir / "trials.jsonl").open("ab") as ledger:
            ledger.write(b"".join(more))
        incremental = timed(state.refresh)
        assert state.done == args.lines + len(more)
        idle = timed(state.refresh)
        frame = timed(lambda: render_frame(state))
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        early_dir, _ = write_run(Path(tmp) / "early", 40, 0, trials=(args.lines + 1000) // (2 * TASKS) + 1)
        early = WatchState.open(RunPaths(early_dir))
        early.refresh()
        forecast_s = timed(lambda: render_frame(early))
        expect = [line for line in render_frame(early) if line.startswith(("expect", "   "))]
        background = WatchState.open(RunPaths(early_dir))
        background.refresh()
        background.forecaster = Forecaster(background=True)
        started = time.perf_counter()
        starting_frame = timed(lambda: render_frame(background))
        background.forecaster.wait()
        shown_after = time.perf_counter() - started
        assert any(line.startswith("expect   ") and "more pairs" in line for line in render_frame(background))
        further = (json.loads((early_dir / "plan.json").read_text())["items"] - 40) // 2  # pairs to the cap
        feeders = three_candidates()
        candidates_s = timed(lambda: Forecaster().candidates(feeders, further))
    print(f"ledger: {args.lines:,} lines, {size / 1e6:,.0f} MB")
    print(f"first frame (reads the whole ledger once): {first:.2f} s ({1e6 * first / args.lines:.1f} us per line)")
    print(f"refresh after 1,000 new trials: {1000 * incremental:.1f} ms")
    print(f"refresh with nothing new: {1000 * idle:.2f} ms")
    print(f"rendering one frame: {1000 * frame:.2f} ms")
    print(f"peak memory of the process: {peak_mb:,.0f} MB")
    print(f"a frame that computes the forecast (20 pairs in the test, same plan): {forecast_s:.2f} s")
    print("\n".join(expect))
    print(
        f"in the background (the live view): the frame that starts it {1000 * starting_frame:.1f} ms, "
        f"the forecast shown {shown_after:.2f} s later"
    )
    print(f"the forecast for three candidates (20 pairs each, same cap), inline: {candidates_s:.2f} s")


if __name__ == "__main__":
    main()
