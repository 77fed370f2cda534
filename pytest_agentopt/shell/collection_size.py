"""A warning at start-up when a run's collection alone costs a lot of memory.

Every planned trial is one pytest item in every collecting process (each xdist worker, or the single process),
run or not: xdist schedules by index into a collection that every worker sends complete, and identical, before
the first item runs, and has no message to extend it later. A large cap is therefore paid for in full at start-up,
even when the sequential test decides after a few dozen pairs (docs/performance.md measures it).
"""

from __future__ import annotations

LARGE_COLLECTION = 50_000
"""Planned items from which the start-up says what the collection costs (about 150 MB in every process)."""

BYTES_PER_ITEM = 3_050
"""Measured peak memory per agent item (pytest's item about 2.7 KB, the plugin's share about 0.35 KB):
``scripts/bench_memory.py``, docs/performance.md."""


def large_collection_warning(*, items: int, tasks: int, required_pairs: int | None) -> str | None:
    """One sentence when ``items`` planned trials cost much memory in every process; ``required_pairs`` is the
    calibrated design's cap in pairs (``None``: no calibrated cap to suggest)."""
    if items < LARGE_COLLECTION:
        return None
    megabytes = items * BYTES_PER_ITEM / 1e6
    text = (
        f"this run plans {items:,} trials: each is a pytest item in every collecting process (each xdist worker, "
        f"or the single process), about {megabytes:,.0f} MB each before the first trial runs, whether or not the "
        "sequential test decides early"
    )
    if required_pairs is not None and tasks and required_pairs < items // 2:
        per_task = -(-required_pairs // tasks)
        text += (
            f"; the calibrated design delivers its error rates with {required_pairs} pairs ({per_task} trials per "
            "task here): leave --agent-trials out to use that cap"
        )
    return text
