"""The benchmark's tasks: 6 trivial, 10 discriminative, 5 challenging and 5 impossible ones."""

from __future__ import annotations

from .challenging import CHALLENGING_TASKS
from .discriminative import DISCRIMINATIVE_TASKS
from .impossible import IMPOSSIBLE_TASKS
from .model import CATEGORIES, Category, Mistake, StoreSetup, Task, Trap, Verdict, evaluate
from .trivial import TRIVIAL_TASKS

TASKS: tuple[Task, ...] = TRIVIAL_TASKS + DISCRIMINATIVE_TASKS + CHALLENGING_TASKS + IMPOSSIBLE_TASKS
TASKS_BY_CODE: dict[str, Task] = {task.code: task for task in TASKS}
if len(TASKS_BY_CODE) != len(TASKS):  # pragma: no cover - a programming error in the task lists
    raise RuntimeError("duplicate task codes")

__all__ = [
    "CATEGORIES",
    "TASKS",
    "TASKS_BY_CODE",
    "Category",
    "Mistake",
    "StoreSetup",
    "Task",
    "Trap",
    "Verdict",
    "evaluate",
]
