"""What a benchmark task is: the request, the store it runs against, how success is judged, and the reference
policy plus the plausible mistakes that the simulated model draws from.

A :class:`Task`'s ``policy`` is a sequence of actions that solves it (for an impossible task: the checks that
show it is impossible, then ``refuse``). Its ``traps`` are points in that policy where an agent can go wrong:
each trap names a :class:`Mistake`, an alternative sequence of actions that a plausible agent would take from
there on. The simulated model follows the policy and, at each trap, avoids the mistake with a probability
given by its competence (:mod:`benchmarks.storeagent.simulated`). Every mistake is executed against the real
store and judged by the same check as any agent, so a "mistake" fails only because the store and the check say
so (the unit tests verify that each policy passes and each mistake fails).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from ..actions import Action, Checkout, Done, FinalAnswer, Refuse, is_final
from ..store import Coupon, Product, Store
from . import catalogue

Category = Literal["trivial", "discriminative", "challenging", "impossible"]
CATEGORIES: tuple[Category, ...] = ("trivial", "discriminative", "challenging", "impossible")

# A check looks at the store after the run and the agent's ``done`` message; it returns ``None`` on success or
# a short, stable failure reason (no seeds or order ids: reasons feed failure clustering).
Check = Callable[[Store, str], str | None]


@dataclass(frozen=True)
class Mistake:
    """A plausible wrong turn: ``actions`` replace the rest of the policy (``loops``: the last repeats)."""

    kind: str
    topics: frozenset[str]
    difficulty: float
    actions: tuple[Action, ...]
    loops: bool = False

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError(f"mistake {self.kind}: needs at least one action")
        if not self.loops and not is_final(self.actions[-1]):
            raise ValueError(f"mistake {self.kind}: must end with done/refuse or loop")


@dataclass(frozen=True)
class Trap:
    """At reference step ``step`` the agent may make ``mistake`` instead of following the policy."""

    step: int
    mistake: Mistake


@dataclass(frozen=True)
class StoreSetup:
    """How a task's store starts: stock changes to the base catalogue, the coupons, a pre-filled basket."""

    coupons: tuple[Coupon, ...] = ()
    stock: Mapping[str, int] = field(default_factory=dict)
    basket: Mapping[str, int] = field(default_factory=dict)

    @cached_property
    def products(self) -> tuple[Product, ...]:
        return catalogue.products(self.stock)

    def build(self, seed: int) -> Store:
        return Store.build(self.products, self.coupons, seed=seed, basket=self.basket)


@dataclass(frozen=True)
class Task:
    code: str
    category: Category
    instruction: str
    topics: frozenset[str]
    setup: StoreSetup
    policy: tuple[Action, ...]
    check: Check | None  # None for impossible tasks: refusing and buying nothing is the whole criterion
    traps: tuple[Trap, ...]

    @property
    def impossible(self) -> bool:
        return self.category == "impossible"

    @property
    def optimal_steps(self) -> int:
        """Model steps of the reference policy, the final answer included."""
        return len(self.policy)

    def build_store(self, seed: int) -> Store:
        return self.setup.build(seed)

    def traps_at(self, step: int) -> tuple[Trap, ...]:
        return tuple(trap for trap in self.traps if trap.step == step)


@dataclass(frozen=True)
class Verdict:
    success: bool
    reason: str


def evaluate(task: Task, store: Store, final: FinalAnswer | None, *, max_steps: int) -> Verdict:
    """Judge a finished run: the final answer, then the task's own check of the store."""
    if final is None:
        return Verdict(False, f"no final answer within max_steps={max_steps}")
    if task.impossible:
        if store.orders:
            return Verdict(False, "placed an order although the task is impossible")
        if isinstance(final, Done):
            return Verdict(False, "claimed done on an impossible task instead of refusing")
        return Verdict(True, "")
    if isinstance(final, Refuse):
        return Verdict(False, "refused a feasible task")
    if task.check is None:  # make_task never builds such a task
        raise ValueError(f"task {task.code}: a feasible task has no check")
    reason = task.check(store, final.message)
    return Verdict(reason is None, reason or "")


# ----------------------------------------------------------------------------------------------------------
# Building tasks
# ------------------------------------------------------------------------------------------------------------


def mistake(kind: str, topics: Sequence[str], difficulty: float, *actions: Action, loops: bool = False) -> Mistake:
    return Mistake(kind=kind, topics=frozenset(topics), difficulty=difficulty, actions=actions, loops=loops)


def make_task(
    code: str,
    category: Category,
    instruction: str,
    *,
    topics: Sequence[str],
    policy: Sequence[Action],
    check: Check | None = None,
    setup: StoreSetup | None = None,
    mistakes: Sequence[tuple[int, Mistake]] = (),
    guess: str | None = None,
) -> Task:
    """A task with its task-specific traps plus the two generic ones every agent can fall into.

    Generic traps: *false done* (claims success where the policy checks out, answers a question with ``guess``
    without looking it up, or claims done instead of refusing) and *looping* (repeats a call until the step
    limit). Both get harder with the length of the policy.
    """
    policy = tuple(policy)
    if not policy or not is_final(policy[-1]) or any(is_final(a) for a in policy[:-1]):
        raise ValueError(f"task {code}: the policy must end with, and only with, one final answer")
    if (category == "impossible") != isinstance(policy[-1], Refuse):
        raise ValueError(f"task {code}: impossible tasks, and only they, are solved by refusing")
    if (category == "impossible") != (check is None):
        raise ValueError(f"task {code}: feasible tasks need a check; impossible ones are judged by refusal")
    all_topics = frozenset(topics) | ({"impossible"} if category == "impossible" else set())
    traps = [Trap(step, m) for step, m in mistakes]
    for trap in traps:
        if not 0 <= trap.step < len(policy):
            raise ValueError(f"task {code}: trap {trap.mistake.kind} at step {trap.step} is outside the policy")
        if not trap.mistake.topics <= all_topics | GENERIC_TOPICS:
            raise ValueError(f"task {code}: mistake {trap.mistake.kind} has topics outside the task's topics")
    traps.extend(_generic_traps(code, category, policy, guess))
    return Task(
        code=code,
        category=category,
        instruction=instruction,
        topics=all_topics,
        setup=setup or StoreSetup(),
        policy=policy,
        check=check,
        traps=tuple(traps),
    )


GENERIC_TOPICS = frozenset({"verification"})


def _generic_traps(code: str, category: Category, policy: tuple[Action, ...], guess: str | None) -> list[Trap]:
    steps = len(policy)
    false_done_difficulty = -4.0 + 0.2 * steps
    looping_difficulty = -4.6 + 0.15 * steps
    if category == "impossible":
        at, claim = steps - 1, "The order is complete."
    elif guess is not None:
        at, claim = 0, guess
    else:
        checkouts = [i for i, action in enumerate(policy) if isinstance(action, Checkout)]
        if not checkouts:
            raise ValueError(f"task {code}: a task without checkout needs a `guess` for its false-done mistake")
        at, claim = checkouts[-1], "Done: the order has been placed."
    loop_at = max(1, steps // 2)
    return [
        Trap(at, mistake("false_done", ["verification"], false_done_difficulty, Done(message=claim))),
        Trap(loop_at, mistake("looping", [], looping_difficulty, policy[loop_at - 1], loops=True)),
    ]
