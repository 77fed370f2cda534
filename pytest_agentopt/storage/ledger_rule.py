"""Which records of a ledger count: one rule for resume, the run's reports and every history or analysis reader.

A run's ledger (``runs/<id>/trials.jsonl``) can hold records that must not be counted:

* **records of another run**: a ledger copied into another run directory, or appended to by a session of another
  run that shared the directory by mistake. Only records whose ``run_id`` is the run's own (its manifest's
  ``run_id``) count; a ledger read without its run directory (a bare file) has no owner, and then every run's
  records count;
* **a trial recorded twice**: two sessions that ran the same trial (before run directories were locked), or a run
  directory copied beside the original, so that the history holds the same run twice. The first record of each
  trial, identified by ``(run_id, task_id, arm, trial)``, counts; later ones do not.

Resuming a run rebuilds its sequential state from the records this rule keeps, so the run's report, the history
commands (``agentopt experiments``, ``pareto``...) and ``load_trials`` count exactly the trials the run counted.
Every reader calls :func:`count_records`; what it left out is reported as a note.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator
from dataclasses import dataclass

FOREIGN = "foreign"
REPEATED = "repeated"


def count_records(
    keys: Iterable[tuple[Hashable, Hashable, Hashable, Hashable, Hashable | None]],
) -> Iterator[str | None]:
    """For each record, in ledger order, ``None`` when it counts, else why not (:data:`FOREIGN`, :data:`REPEATED`).

    ``keys``: ``(run_id, task_id, arm, trial, owner)`` per record, where ``owner`` is the run id of the run whose
    ledger holds the record (``None`` when unknown). Any hashable values work as long as equal values mean the same
    run, task, arm and trial (the analysis table passes its categorical codes).
    """
    seen: set[tuple[Hashable, Hashable, Hashable, Hashable]] = set()
    for run_id, task_id, arm, trial, owner in keys:
        if owner is not None and run_id != owner:
            yield FOREIGN
            continue
        key = (run_id, task_id, arm, trial)
        if key in seen:
            yield REPEATED
            continue
        seen.add(key)
        yield None


@dataclass
class LeftOut:
    """How many records :func:`count_records` left out, for one note."""

    foreign: int = 0
    repeated: int = 0

    def add(self, reason: str | None) -> bool:
        """Count ``reason``; whether the record counts."""
        if reason == FOREIGN:
            self.foreign += 1
        elif reason == REPEATED:
            self.repeated += 1
        return reason is None

    def note(self, where: object) -> str | None:
        """``<where>: not counted: 3 records of other runs, 2 repeated records of a trial (the first counts)``."""
        parts = []
        if self.foreign:
            parts.append(f"{self.foreign} record{'s' if self.foreign != 1 else ''} of other runs")
        if self.repeated:
            parts.append(
                f"{self.repeated} repeated record{'s' if self.repeated != 1 else ''} of a trial (the first counts)"
            )
        return f"{where}: not counted: {', '.join(parts)}" if parts else None
