"""Reading the JSON files people write or edit (configs, manifests, summaries, the hash map), strictly.

``json.loads`` accepts input that is not JSON, or that crashes later far from the file that caused it:

* ``NaN`` and ``Infinity``, and numbers such as ``1e999`` that overflow to infinity (a config's ``params`` would
  reach the agent as ``None`` once pydantic serialises them);
* integers of any length (Python refuses to print one of more than 4,300 digits, so hashing it fails);
* duplicate keys (the last one wins without a word: the file does not say what it means);
* lone surrogates (``"\\ud800"``: such a string cannot be written back as UTF-8);
* nesting deep enough to exhaust the interpreter's stack.

It also reads whatever it is given: a FIFO blocks forever and ``/dev/zero`` never ends. The functions here
refuse all of this with a message that names the file and, where there is one, the field (``params.tools[2]``),
raised as the error class the caller chooses (a config error, a ledger error...), so the pytest shell turns it
into a usage error (exit 4) and the ``agentopt`` command into a one-line error.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

from pytest_agentopt.errors import AgentoptUsageError

MAX_FILE_BYTES = 64 << 20
"""The largest JSON file read (64 MiB: a config or a manifest is a few kilobytes; a summary of a large run less
than a megabyte)."""
MAX_DEPTH = 64
"""The deepest nesting of objects and lists accepted (configs and manifests use fewer than ten levels)."""
MAX_INT_DIGITS = 4300
"""The longest integer accepted: Python's own limit for converting integers to and from text."""

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


class _Refused:
    """A value the parser met that the file may not contain; the walk reports it with its field."""

    def __init__(self, problem: str) -> None:
        self.problem = problem


class _ObjectWithDuplicates(dict[str, Any]):
    """A JSON object in which some key appeared more than once."""

    duplicates: list[str]


def read_json_file(
    path: Path, *, error: type[AgentoptUsageError], what: str = "JSON file", allow_non_finite: bool = False
) -> Any:
    """The JSON value in ``path``; anything else raises ``error`` with a message that starts with the path.

    ``allow_non_finite``: read ``NaN``, ``Infinity`` and ``-Infinity`` as floats (Python's ``json`` writes them
    for non-finite floats, e.g. in a summary); everything else stays refused.
    """
    data = read_regular_file(path, error=error, what=what)
    return loads_strict(data, where=str(path), error=error, allow_non_finite=allow_non_finite)


def read_regular_file(path: Path, *, error: type[AgentoptUsageError], what: str = "file") -> bytes:
    """The bytes of ``path``, refusing (without blocking) FIFOs, devices, directories and files over the limit."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{path}: not a regular file ({_file_kind(mode)}); give the path of a {what}")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_FILE_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise error(f"{path}: cannot read the {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if size > MAX_FILE_BYTES:
        raise error(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB; this is not a {what}")
    return b"".join(chunks)


def loads_strict(
    data: bytes | str, *, where: str, error: type[AgentoptUsageError], allow_non_finite: bool = False
) -> Any:
    """Parse one JSON document (UTF-8 bytes, a byte-order mark allowed, or text); ``where`` starts each message."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(
                f"{where}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
            ) from None
    else:
        text = data
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=float if allow_non_finite else _constant,
            parse_float=_float,
            parse_int=_int,
        )
    except json.JSONDecodeError as exc:
        raise error(f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise error(f"{where}: nested too deeply (at most {MAX_DEPTH} levels of objects and lists)") from None
    except ValueError as exc:  # an integer the interpreter itself refuses to convert
        raise error(f"{where}: invalid JSON: {exc}") from None
    problem = find_problem(value)
    if problem is not None:
        field, message = problem
        raise error(f"{where}: {f'field {field!r}: ' if field else ''}{message}")
    return value


def find_problem(value: Any) -> tuple[str, str] | None:
    """The first field (dotted, ``[i]`` for list items; ``""`` for the document) holding what JSON files here may
    not hold, with what is wrong, or ``None``. Iterative: a deep value cannot exhaust the stack."""
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, field, depth = stack.pop()
        if depth > MAX_DEPTH:
            return field, f"nested too deeply (at most {MAX_DEPTH} levels of objects and lists)"
        if isinstance(item, _Refused):
            return field, item.problem
        if isinstance(item, str):
            if not _is_utf8(item):
                return field, "contains a lone surrogate (an invalid \\uD800-\\uDFFF escape); it is not text"
        elif isinstance(item, dict):
            if isinstance(item, _ObjectWithDuplicates):
                key = item.duplicates[0]
                return _join(field, key), "duplicate key: it appears more than once in the same object"
            children = []
            for key, child in item.items():
                if not _is_utf8(key):
                    return field, f"key {key!r} contains a lone surrogate; it is not text"
                children.append((child, _join(field, key), depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend((child, f"{field}[{index}]", depth + 1) for index, child in reversed(list(enumerate(item))))
    return None


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):
        return result
    seen: set[str] = set()
    duplicates: list[str] = []
    for key, _ in pairs:
        if key in seen:
            duplicates.append(key)
        seen.add(key)
    marked = _ObjectWithDuplicates(result)
    marked.duplicates = duplicates
    return marked


def _constant(name: str) -> _Refused:
    return _Refused(f"{name} is not a JSON number (give a finite number, or null)")


def _float(text: str) -> float | _Refused:
    value = float(text)
    if math.isfinite(value):
        return value
    return _Refused(f"{_clip(text)} is too large for a number (it would become infinity)")


def _int(text: str) -> int | _Refused:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        return _Refused(f"an integer of {digits} digits (at most {MAX_INT_DIGITS})")
    return int(text)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"
