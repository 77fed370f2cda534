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

__all__ = ["conforms", "shape_problem", "typed_or_none"]

T = TypeVar("T")


def typed_or_none(value: object, typed: type[T]) -> T | None:
    """``value`` as the TypedDict ``typed`` when it has that shape (module doc), else ``None``."""
    return cast(T, value) if conforms(value, typed) else None


def conforms(value: object, annotation: object) -> bool:
    """Whether ``value`` (as ``json.load`` returns it) has the shape ``annotation`` describes."""
    return shape_problem(value, annotation) is None


def shape_problem(value: object, annotation: object, where: str = "") -> str | None:
    """What keeps ``value`` from having the shape ``annotation`` describes (``None``: nothing), naming the field:
    ``field 'settings.alpha': expected float, got 'x'``. ``where`` is the path of ``value`` in its file."""
    if annotation is Any or annotation is object:
        return None
    if is_typeddict(annotation):
        return _typed_dict_problem(value, cast(type, annotation), where)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Union or origin is types.UnionType:
        problems = [shape_problem(value, arg, where) for arg in args]
        if not all(problems):
            return None
        not_null = [problem for arg, problem in zip(args, problems, strict=True) if arg is not type(None)]
        if value is not None and len(not_null) == 1:
            return not_null[0]  # ``X | None`` holding something else than null: what is wrong with it as an X
        return _wrong(where, " or ".join(_name(arg) for arg in args), value)
    if origin is list:
        if not isinstance(value, list):
            return _wrong(where, "a list", value)
        return next((p for i, item in enumerate(value) if (p := shape_problem(item, args[0], f"{where}[{i}]"))), None)
    if origin is dict:
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        return next(
            (p for key, item in value.items() if (p := shape_problem(item, args[1], _join(where, str(key))))), None
        )
    return None if _is_scalar(value, annotation) else _wrong(where, _name(annotation), value)


def _is_scalar(value: object, annotation: object) -> bool:
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
    if get_origin(annotation) is Literal:
        return any(value == arg and type(value) is type(arg) for arg in get_args(annotation))
    raise TypeError(f"no JSON shape for the annotation {annotation!r}")


def _typed_dict_problem(value: object, typed: type, where: str) -> str | None:
    if not isinstance(value, dict):
        return _wrong(where, "an object", value)
    required, hints = _fields(typed)
    missing = sorted(required - value.keys())
    if missing:
        return f"field {_join(where, missing[0])!r}: missing"
    present = ((key, hint) for key, hint in hints.items() if key in value)
    return next((p for key, hint in present if (p := shape_problem(value[key], hint, _join(where, key)))), None)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _name(annotation: object) -> str:
    if annotation is None or annotation is type(None):
        return "null"
    if get_origin(annotation) is Literal:
        return " or ".join(repr(arg) for arg in get_args(annotation))
    return getattr(annotation, "__name__", str(annotation))


def _wrong(where: str, expected: str, value: object) -> str:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return f"field {where or '(the whole value)'!r}: expected {expected}, got {shown}"


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
