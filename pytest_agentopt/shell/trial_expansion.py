"""A cap in pairs, turned into trials per task once the number of tasks is known.

Under ``--sprt`` without ``--agent-trials``, the cap comes from the calibrated design: the least number of pairs
from which both error rates hold (``stats.design.PairedDesign.required_pairs``). Trials per task are then
``ceil(pairs / tasks)``, but the arm x trial expansion runs in ``pytest_generate_tests``, one test function at a
time, before the number of tasks is known. So the expansion parametrizes only trial 0 (both arms) there, and once
``pytest_collection_modifyitems`` sees every item (after ``-k`` / ``-m``), each trial-0 item is cloned into the
other trials. The clones are what pytest's own parametrization would have made (same parent, fixture closure
and parameters, the trial parameter replaced in the call spec and the id), so the number of collected items stays
proportional to the cap, and the expansion depends only on the collected items and the cap the controller sent:
identical on every xdist worker.

pytest has no public API for adding a parametrized item after collection; this uses ``CallSpec``'s fields
(``params``, ``indices``, ``_idlist``) and ``Function._fixtureinfo``, which pytest 8.3 to 9.x share.
``tests/plugin/test_derived_cap.py`` runs the result in-process and under xdist.

Usually the clones are not made here but one at a time, when a trial is about to run (``lazy_trials``, which
calls :func:`clone_for_trial`); :func:`expand` makes them all at collection only when an option can select or list
single trials (``-k``, ``--deselect``, ``--lf``, ``--sw``, ``--collect-only``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from pytest_agentopt.run.trial_order import Arm, TrialSlot


def trials_for(cap_pairs: int, tasks: int) -> int:
    """Trials per task and arm that give at least ``cap_pairs`` pairs over ``tasks`` tasks."""
    return max(1, math.ceil(cap_pairs / max(1, tasks)))


def clone_for_trial(item: pytest.Item, slot_arg: str, slot: TrialSlot, index: int) -> pytest.Item:
    """A copy of a trial-0 agent item for another trial: what parametrizing with ``slot`` (the ``index``-th
    value) would have made."""
    callspec: Any = item.callspec  # type: ignore[attr-defined]
    template: TrialSlot = callspec.params[slot_arg]
    idlist = list(callspec._idlist)
    if not idlist or idlist[-1] != template.id:
        raise pytest.UsageError(
            f"{item.nodeid}: cannot find the trial id {template.id!r} at the end of the test id; another plugin "
            "rewrote the ids (give --agent-trials=N to expand trials at collection instead)"
        )
    idlist[-1] = slot.id
    spec = dataclasses.replace(
        callspec,
        params={**callspec.params, slot_arg: slot},
        indices={**callspec.indices, slot_arg: index},
        _idlist=idlist,
    )
    originalname: str = item.originalname  # type: ignore[attr-defined]
    clone: pytest.Item = pytest.Function.from_parent(
        item.parent,
        name=f"{originalname}[{spec.id}]",
        callspec=spec,
        fixtureinfo=item._fixtureinfo,  # type: ignore[attr-defined]
        keywords={spec.id: True},
        originalname=originalname,
    )
    if len(item.own_markers) != len(clone.own_markers):
        # Markers another plugin added to the template at collection (``add_marker``) hold for its trials too.
        added = [mark for mark in item.own_markers if mark not in clone.own_markers]
        clone.own_markers.extend(added)
        clone.keywords.update((mark.name, mark) for mark in added)
    return clone


def expand(
    items: Sequence[pytest.Item],
    *,
    slot_of: Callable[[pytest.Item], TrialSlot | None],
    task_of: Callable[[pytest.Item, TrialSlot], str],
    slot_arg: str,
    arms: Sequence[Arm],
    cap_pairs: int,
) -> tuple[list[pytest.Item], int]:
    """The items with every trial-0 agent item cloned into trials ``1 .. R-1``, and ``R`` (trials per task)."""
    tasks = {task_of(item, slot) for item in items if (slot := slot_of(item)) is not None}
    trials = trials_for(cap_pairs, len(tasks))
    expanded: list[pytest.Item] = list(items)
    for item in items:
        slot = slot_of(item)
        if slot is None or slot.arm not in arms:
            continue
        arm_index = list(arms).index(slot.arm)
        expanded.extend(
            clone_for_trial(item, slot_arg, TrialSlot(slot.arm, trial), trial * len(arms) + arm_index)
            for trial in range(1, trials)
        )
    return expanded, trials
