"""Shards of a run: ``--agent-shard I/N`` runs a deterministic share of the planned trials (pure, no pytest).

A shard owns whole tasks, never single trials: both arms of every pair, and every trial of a task, run in the
same shard, so a shard's ledger holds only complete pairs and ``agentopt merge`` rebuilds exactly the trials of
the unsharded run. The tasks are taken in sorted order and dealt round-robin (the first to shard 1, the second to
shard 2, ...), so the shares differ by one task at most and depend only on the collected task ids: every shard
(and every xdist worker of a shard) computes the same split. Each trial keeps the planned position (``seq``) and
the seed it has in the unsharded run with the same ``--agent-seed``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

SHARD_FORMAT = "I/N with 1 <= I <= N, e.g. 1/4 for the first of four shards"


@dataclass(frozen=True, slots=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``"2/4"`` -> ``Shard(2, 4)``; :class:`ValueError` saying what is wrong otherwise."""
        index_text, slash, count_text = text.strip().partition("/")
        if not slash:
            raise ValueError(f"must be {SHARD_FORMAT}")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            raise ValueError(f"must be {SHARD_FORMAT}") from None
        if count < 1:
            raise ValueError(f"the number of shards N must be at least 1 ({SHARD_FORMAT})")
        if not 1 <= index <= count:
            raise ValueError(f"the shard I must be from 1 to {count} ({SHARD_FORMAT})")
        return cls(index, count)

    def tasks(self, task_ids: Iterable[str]) -> set[str]:
        """This shard's share of ``task_ids``: every ``count``-th task in sorted order, from the ``index``-th."""
        return set(sorted(set(task_ids))[self.index - 1 :: self.count])


def plan_digest(task_ids: Iterable[str], trials: int) -> str:
    """A fingerprint of what the unsharded run plans (the sorted task ids and trials per task): shards merge only
    when they share it."""
    text = "\n".join([str(trials), *sorted(set(task_ids))])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
