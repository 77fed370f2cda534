"""The planned order of trials: which task, arm and trial runs at each sequence number.

The order is trial-major: round ``k`` runs trial ``k`` of every task, the tasks in a shuffle seeded by the run
seed and ``k``, and the control and test trials of a pair adjacent (control first; with several candidates the
control trial and every candidate's trial of the same task and trial index are adjacent, in arm order). Never
blocks of consecutive trials of one task: a sequential test that stops early must already have seen the hard
tasks.

The plan depends only on the sorted task ids, the arms, the number of trials and the run seed, so every xdist
worker (and a resumed run) computes the same plan.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Arm = str
"""``control``, ``test``, and with several candidates ``test2``, ``test3``... (see :func:`candidate_arms`)."""
ARMS_AB: tuple[Arm, ...] = ("control", "test")
ARMS_SINGLE: tuple[Arm, ...] = ("test",)


def candidate_arms(count: int) -> tuple[Arm, ...]:
    """The candidates' arm names: ``test`` for the first (as in a run with one candidate), then ``test2``..."""
    return tuple("test" if index == 1 else f"test{index}" for index in range(1, count + 1))


def is_candidate_arm(arm: str) -> bool:
    """Whether ``arm`` is one of the names :func:`candidate_arms` gives (``test``, ``test2``, ``test3``...)."""
    suffix = arm.removeprefix("test")
    return arm.startswith("test") and (suffix == "" or (suffix.isdigit() and suffix[0] != "0" and int(suffix) >= 2))


@dataclass(frozen=True, slots=True)
class TrialSlot:
    """One arm x trial parameter of an agent task (the parametrize value; the task is the test itself)."""

    arm: Arm
    trial: int

    @property
    def id(self) -> str:
        return f"{self.arm}-{self.trial}"


@dataclass(frozen=True, slots=True)
class PlannedTrial:
    seq: int
    task_id: str
    arm: Arm
    trial: int

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.task_id, self.arm, self.trial)


def slots(arms: Sequence[Arm], trials: int) -> list[TrialSlot]:
    """The parametrize values for one task, in a stable order (the plan, not this order, decides execution)."""
    return [TrialSlot(arm, trial) for trial in range(trials) for arm in arms]


def build_plan(task_ids: Iterable[str], arms: Sequence[Arm], trials: int, seed: int) -> list[PlannedTrial]:
    """The trial-major planned order (see the module doc)."""
    tasks = sorted(set(task_ids))
    plan: list[PlannedTrial] = []
    for trial in range(trials):
        order = list(tasks)
        random.Random(_derive(seed, "round", trial)).shuffle(order)
        for task_id in order:
            for arm in arms:
                plan.append(PlannedTrial(len(plan), task_id, arm, trial))
    return plan


def trial_seed(run_seed: int, task_id: str, trial: int) -> int:
    """The seed a task sees in trial ``trial``: the same for both arms of a pair, so both see the same randomness."""
    return _derive(run_seed, "trial", task_id, trial) % (2**31 - 1)


def _derive(*parts: object) -> int:
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")
