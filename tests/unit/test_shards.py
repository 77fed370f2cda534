"""The pure part of sharding: parsing ``I/N`` and dealing whole tasks to shards."""

from __future__ import annotations

import pytest

from pytest_agentopt.run.shards import Shard, plan_digest


def test_a_shard_is_parsed_from_i_slash_n() -> None:
    assert Shard.parse(" 2/4 ") == Shard(2, 4)
    assert str(Shard(2, 4)) == "2/4"


@pytest.mark.parametrize("text", ["0/2", "3/2", "x", "1/0", "/2", "1/", "1.5/2", "-1/2"])
def test_a_bad_shard_says_what_would_be_valid(text: str) -> None:
    with pytest.raises(ValueError, match="I/N"):
        Shard.parse(text)


@pytest.mark.parametrize(("tasks", "count"), [(26, 4), (5, 2), (3, 5), (1, 1)])
def test_the_shards_split_the_tasks_into_disjoint_shares_differing_by_one_task_at_most(tasks: int, count: int) -> None:
    task_ids = [f"t{i:02d}" for i in range(tasks)]
    shares = [Shard(index, count).tasks(reversed(task_ids)) for index in range(1, count + 1)]
    assert set().union(*shares) == set(task_ids)
    assert sum(len(share) for share in shares) == tasks
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


def test_the_split_depends_only_on_the_task_ids() -> None:
    assert Shard(1, 2).tasks(["b", "a", "c"]) == Shard(1, 2).tasks(["c", "b", "a", "a"]) == {"a", "c"}


def test_the_plan_digest_tells_different_plans_apart() -> None:
    assert plan_digest(["a", "b"], 4) == plan_digest(["b", "a"], 4)
    assert plan_digest(["a", "b"], 4) != plan_digest(["a", "b"], 5)
    assert plan_digest(["a", "b"], 4) != plan_digest(["a", "c"], 4)
