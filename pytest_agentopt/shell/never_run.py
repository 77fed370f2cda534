"""Planned trials that never ran because the run stopped: told to pytest once, as deselected, not one by one.

A ``--sprt`` run plans trials up to its cap and usually decides after a few dozen pairs, so most planned trials
never run (399,916 of 400,000 at ``--agent-trials 10000`` on 20 tasks). A skipped report for each of them cost the
controller three hook calls and a report that pytest's terminal keeps to the end (about 1 KB and 0.4 ms per
never-run trial; ``-v`` printed a line each). Instead the controller calls pytest's public ``pytest_deselected``
hook once with a light stand-in per never-run trial: the terminal counts them ("42 passed, 399,916 deselected"),
pytester's ``assert_outcomes(deselected=...)`` reads that count, JUnit XML has no test case for them (as for any
deselected test), and the plugin prints one line that says how many planned trials never ran and why, also
under ``-q``. The count is the summary's ``trials_skipped``.

A stand-in holds a reference to the node ids it was made from and its index: its node id is computed when asked
for (a plugin that reads the deselected items' ids gets the right ones), and it costs about 90 bytes while the
terminal keeps it, less than the node id itself.

pytest's progress figure counts reported items against ``session.testscollected``; deselected items are not
collected tests in pytest's own counting (``testscollected`` is the number selected), so the count of never-run
trials is taken off it before the terminal writes the final figure (which then reads 100 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, overload

import pytest


class NeverRunTrial:
    """A planned trial that never ran: its node id (and a location made from it), computed when asked for."""

    __slots__ = ("_index", "_nodeids")

    def __init__(self, nodeids: Sequence[str], index: int) -> None:
        self._nodeids = nodeids
        self._index = index

    @property
    def nodeid(self) -> str:
        return self._nodeids[self._index]

    @property
    def location(self) -> tuple[str, int | None, str]:
        path, _, domain = self.nodeid.partition("::")
        return path, None, domain

    def __repr__(self) -> str:
        return f"<NeverRunTrial {self.nodeid}>"


class NodeIdSource(Protocol):
    """What :class:`NodeIdsFrom` reads (``lazy_trials.LazyTrialItems`` is one)."""

    def __len__(self) -> int: ...

    def nodeid(self, position: int) -> str: ...


class NodeIdsFrom(Sequence[str]):
    """The node ids of ``source`` (anything with ``nodeid(position)`` and ``len``) from ``start`` on."""

    def __init__(self, source: NodeIdSource, start: int) -> None:
        self._source = source
        self._start = start

    def __len__(self) -> int:
        return max(0, len(self._source) - self._start)

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError(index)
        return self._source.nodeid(self._start + position)


def deselect_never_run(config: pytest.Config, session: pytest.Session | None, nodeids: Sequence[str]) -> int:
    """Tell pytest, in one ``pytest_deselected`` call, that the trials of ``nodeids`` never ran; their count.

    ``session.testscollected`` loses them too, so that pytest's progress ends at 100 %. When that leaves no
    test (a resumed run whose decision was already in its ledger), pytest's exit 5 is turned into 0 by the
    controller, as for any run whose trials all came from the ledger.
    """
    count = len(nodeids)
    if not count:
        return 0
    config.hook.pytest_deselected(items=[NeverRunTrial(nodeids, index) for index in range(count)])
    if session is not None:
        session.testscollected = max(0, session.testscollected - count)
    return count


def never_ran_line(count: int, reason: str | None) -> str:
    """The terminal's line about the planned trials that never ran (pytest shows them as deselected)."""
    why = reason.removeprefix("agentopt: ") if reason else "the run stopped"
    trials = "trial" if count == 1 else "trials"
    return f"agentopt: {count:,} planned {trials} never ran (pytest counts them as deselected): {why}"
