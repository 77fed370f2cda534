"""A warning at start-up when a run's plan alone costs a lot of memory and time.

A planned trial becomes a pytest item only when it is about to run (``lazy_trials``), and the trials a stopped run
never reached are told to pytest once, as deselected (``never_run``), but each planned trial still costs every
process an entry in the plan and, under xdist, a node id at start-up (xdist schedules by index into a collection
that every worker sends complete before the first item runs; execnet's serializer holds about 0.7 KB per id while
it builds the message). With ``-k``, ``--deselect``, ``--lf``, ``--sw`` or ``--collect-only`` every planned trial
is also a collected item in every collecting process. A large cap is therefore paid for in part even when the
sequential test decides after a few dozen pairs (docs/performance.md measures it).
"""

from __future__ import annotations

LARGE_COLLECTION = 50_000
"""Planned trials from which the start-up says what the plan costs."""

BYTES_PER_ITEM = 3_050
"""Measured peak memory per collected agent item (pytest's item about 2.7 KB, the plugin's share about 0.35 KB),
in every collecting process: ``scripts/bench_memory.py``, docs/performance.md."""

BYTES_PER_PLANNED_TRIAL = 330
"""Measured peak memory per planned trial when items are made on demand, in the controller of a run that stops
early (about 230 bytes without xdist, 330 with it: the plan, and under xdist the one node id list the scheduler
keeps): ``scripts/bench_memory.py`` at caps of 100 and 10,000 on 20 tasks, docs/performance.md."""

WORKER_BYTES_PER_PLANNED_TRIAL = 900
"""Measured peak memory per planned trial in each xdist worker when items are made on demand: the node ids it
sends at start-up, most of it execnet's serializer (``scripts/bench_memory.py``, docs/performance.md)."""


def large_collection_warning(
    *, items: int, tasks: int, required_pairs: int | None, made_on_demand: bool = False
) -> str | None:
    """One sentence when ``items`` planned trials cost much memory; ``required_pairs`` is the calibrated design's cap
    in pairs (``None``: no calibrated cap to suggest); ``made_on_demand``: trials become items only when they run."""
    if items < LARGE_COLLECTION:
        return None
    if made_on_demand:
        megabytes = items * BYTES_PER_PLANNED_TRIAL / 1e6
        worker_megabytes = items * WORKER_BYTES_PER_PLANNED_TRIAL / 1e6
        text = (
            f"this run plans {items:,} trials: each becomes a pytest item only when it runs, but every planned trial "
            f"costs an entry in the plan of each process (about {megabytes:,.0f} MB) and, under xdist, a node id that "
            f"each worker sends at start-up (about {worker_megabytes:,.0f} MB at a worker's peak), whether or not "
            "the sequential test decides early"
        )
    else:
        megabytes = items * BYTES_PER_ITEM / 1e6
        text = (
            f"this run plans {items:,} trials: each is a pytest item in every collecting process (each xdist "
            f"worker, or the single process; -k, --deselect, --lf, --sw and --collect-only collect every trial), "
            f"about {megabytes:,.0f} MB each before the first trial runs, whether or not the sequential test "
            "decides early"
        )
    if required_pairs is not None and tasks and required_pairs < items // 2:
        per_task = -(-required_pairs // tasks)
        text += (
            f"; the calibrated design delivers its error rates with {required_pairs} pairs ({per_task} trials per "
            "task here): leave --agent-trials out to use that cap"
        )
    return text
