"""Checking a value read from a JSON file against the TypedDict that describes it, once, where it is read.

The run's files are written by the plugin but live in directories people copy, edit and sometimes damage. A
reader that takes a section of such a file (``summary.json``'s ``spend``, ``settings``, ``arms``...) calls
:func:`typed_or_none` with the section's TypedDict: it gets the section typed, so that every later read is checked
by mypy, or ``None`` when the value does not have that shape, which the reader shows as unknown. Nothing is
converted: a value either has the shape or it does not.

The shape is the TypedDict's annotations, read at run time: ``str``, ``int`` (not ``bool``), ``float`` (an
``int`` too, as in Python's typing), ``bool``, ``None``, ``object``/``Any`` (anything), ``Literal``, unions,
``list[X]``, ``dict[str, X]`` and nested TypedDicts, whose required keys must be present (``NotRequired`` and
``total=False`` keys may be missing). Keys the type does not name are allowed, so a file written by a later
version still reads.
"""

from __future__ import annotations

import functools
import types
from typing import (
    Any,
    Literal,
    NotRequired,
    Required,
    TypeVar,
    Union,
    cast,
    get_args,
    get_origin,
    get_type_hints,
    is_typeddict,
)

__all__ = ["conforms", "typed_or_none"]

T = TypeVar("T")


def typed_or_none(value: object, typed: type[T]) -> T | None:
    """``value`` as the TypedDict ``typed`` when it has that shape (module doc), else ``None``."""
    return cast(T, value) if conforms(value, typed) else None


def conforms(value: object, annotation: object) -> bool:
    """Whether ``value`` (as ``json.load`` returns it) has the shape ``annotation`` describes."""
    if annotation is Any or annotation is object:
        return True
    if annotation is None or annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if is_typeddict(annotation):
        return _conforms_to_typed_dict(value, cast(type, annotation))
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return any(value == arg and type(value) is type(arg) for arg in args)
    if origin is Union or origin is types.UnionType:
        return any(conforms(value, arg) for arg in args)
    if origin is list:
        return isinstance(value, list) and all(conforms(item, args[0]) for item in value)
    if origin is dict:
        return isinstance(value, dict) and all(
            conforms(key, args[0]) and conforms(item, args[1]) for key, item in value.items()
        )
    raise TypeError(f"no JSON shape for the annotation {annotation!r}")


def _conforms_to_typed_dict(value: object, typed: type) -> bool:
    if not isinstance(value, dict):
        return False
    required, hints = _fields(typed)
    if not required <= value.keys():
        return False
    return all(conforms(value[key], hint) for key, hint in hints.items() if key in value)


@functools.cache
def _fields(typed: type) -> tuple[frozenset[str], dict[str, object]]:
    """The TypedDict's required keys and field types (``Required``/``NotRequired`` removed).

    The required keys are read from the annotations, not only from ``__required_keys__``: in a module with
    ``from __future__ import annotations`` Python 3.11 cannot see a ``NotRequired[...]`` written as a string and
    counts the key as required.
    """
    required = set(getattr(typed, "__required_keys__", frozenset()))
    hints: dict[str, object] = {}
    for key, hint in get_type_hints(typed, include_extras=True).items():
        while get_origin(hint) in (NotRequired, Required):
            if get_origin(hint) is NotRequired:
                required.discard(key)
            else:
                required.add(key)
            (hint,) = get_args(hint)
        hints[key] = hint
    return frozenset(required), hints
