"""A value read from a JSON file is checked once against the TypedDict that describes it."""

from __future__ import annotations

import json
from typing import Literal, NotRequired, TypedDict

import pytest

from pytest_agentopt.stats.paired import EffectInterval
from pytest_agentopt.storage.summary_schema import RunSummary, Spend
from pytest_agentopt.storage.typed_json import conforms, shape_problem, typed_or_none


class Inner(TypedDict):
    kind: Literal["a", "b"]
    share: float


class Outer(TypedDict):
    name: str
    count: int
    flag: bool
    inner: Inner | None
    values: list[float]
    by_arm: dict[str, Inner]
    note: NotRequired[str]


GOOD: dict[str, object] = {
    "name": "x",
    "count": 3,
    "flag": False,
    "inner": {"kind": "a", "share": 1},
    "values": [1, 2.5],
    "by_arm": {"test": {"kind": "b", "share": 0.5}},
}


def test_a_value_of_the_typed_shape_conforms_with_optional_and_unknown_keys() -> None:
    assert conforms(GOOD, Outer)
    assert conforms({**GOOD, "note": "n", "added_by_a_later_version": [1]}, Outer)
    assert conforms({**GOOD, "inner": None}, Outer)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("name", None),  # not a string
        ("count", True),  # a bool is not an int here
        ("count", 2.0),  # nor is a float
        ("flag", 0),
        ("inner", {"kind": "c", "share": 1.0}),  # not one of the literals
        ("inner", {"kind": "a"}),  # a required key missing
        ("values", [1, "2"]),
        ("values", (1, 2)),  # JSON has lists, not tuples
        ("by_arm", {"test": 1}),
        ("note", 3),
    ],
)
def test_one_field_of_the_wrong_shape_makes_the_whole_value_none(key: str, value: object) -> None:
    damaged = {**GOOD, key: value}
    assert not conforms(damaged, Outer)
    assert typed_or_none(damaged, Outer) is None


def test_a_missing_required_key_or_a_non_object_does_not_conform() -> None:
    assert not conforms({k: v for k, v in GOOD.items() if k != "count"}, Outer)
    assert typed_or_none([GOOD], Outer) is None
    assert typed_or_none(None, Spend) is None


def test_not_required_is_read_from_annotations_written_as_strings() -> None:
    """``stats/paired.py`` has ``from __future__ import annotations``: Python 3.11 lists its ``NotRequired`` key
    ``n`` among ``__required_keys__``; the check reads the annotation instead."""
    effect = {"estimate": 0.1, "lower": 0.0, "upper": 0.2, "method": "Newcombe"}
    assert conforms(effect, EffectInterval)
    assert conforms({**effect, "n": 40}, EffectInterval)


def test_an_annotation_without_a_json_shape_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="no JSON shape"):
        conforms((1, 2), tuple[int, int])


def test_a_section_read_back_from_json_is_returned_as_it_is() -> None:
    assert not conforms({}, RunSummary)
    assert typed_or_none(json.loads(json.dumps({"usd": None, "trials": 2, "unpriced": 2})), Spend) == {
        "usd": None,
        "trials": 2,
        "unpriced": 2,
    }


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({**GOOD, "count": "3"}, "field 'count': expected int, got '3'"),
        ({**GOOD, "inner": {"kind": "a"}}, "field 'inner.share': missing"),
        ({**GOOD, "inner": {"kind": "z", "share": 1.0}}, "field 'inner.kind': expected 'a' or 'b', got 'z'"),
        ({**GOOD, "values": [1.0, None]}, "field 'values[1]': expected float, got None"),
        ({**GOOD, "by_arm": {"test": []}}, "field 'by_arm.test': expected an object, got []"),
        ([1], "field '(the whole value)': expected an object, got [1]"),
        (GOOD, None),
    ],
)
def test_the_problem_names_the_first_field_that_does_not_fit(value: object, problem: str | None) -> None:
    assert shape_problem(value, Outer) == problem
