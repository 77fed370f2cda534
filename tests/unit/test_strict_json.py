"""Strict reading of the JSON files people write: every refusal names the file and the field."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from pytest_agentopt.configs.strict_json import MAX_DEPTH, MAX_INT_DIGITS, loads_strict, read_json_file
from pytest_agentopt.errors import ConfigError


def refusal(text: str | bytes) -> str:
    with pytest.raises(ConfigError) as caught:
        loads_strict(text, where="c.json", error=ConfigError)
    return str(caught.value)


def test_it_reads_plain_json_and_a_byte_order_mark() -> None:
    assert loads_strict(b'\xef\xbb\xbf{"a": [1, 2.5, "\\u00e9"]}', where="c.json", error=ConfigError) == {
        "a": [1, 2.5, "é"]
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b'{"a": "\xff"}', "c.json: not UTF-8 text (byte 0xff at offset 7); save it as UTF-8"),
        ('{"a": 1,}', "c.json: invalid JSON at line 1, column 9"),
        ('{"params": {"t": 1, "t": 2}}', "c.json: field 'params.t': duplicate key"),
        ('{"params": {"x": NaN}}', "c.json: field 'params.x': NaN is not a JSON number"),
        ('{"params": {"x": [1, -Infinity]}}', "c.json: field 'params.x[1]': -Infinity is not a JSON number"),
        ('{"params": {"x": 1e999}}', "c.json: field 'params.x': 1e999 is too large for a number"),
        ('{"a": ' + "9" * (MAX_INT_DIGITS + 1) + "}", f"c.json: field 'a': an integer of {MAX_INT_DIGITS + 1} digits"),
        ('{"guidelines": ["ok", "\\ud800"]}', "c.json: field 'guidelines[1]': contains a lone surrogate"),
        ('{"params": {"\\udc00": 1}}', "c.json: field 'params': key '\\udc00' contains a lone surrogate"),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "c.json: field '" + "[0]" * MAX_DEPTH + "': nested too deeply"),
        ("[" * 100_000, "c.json: nested too deeply"),
    ],
    ids=[
        "utf8",
        "syntax",
        "duplicate",
        "nan",
        "infinity",
        "overflow",
        "long-int",
        "surrogate",
        "key",
        "deep",
        "deeper",
    ],
)
def test_it_refuses_what_is_not_json_text_naming_the_field(text: str | bytes, expected: str) -> None:
    assert refusal(text).startswith(expected)


def test_a_valid_surrogate_pair_is_text() -> None:
    assert loads_strict('"\\ud83d\\ude00"', where="c.json", error=ConfigError) == "\N{GRINNING FACE}"


def test_non_finite_numbers_are_read_only_when_asked_for() -> None:
    value = loads_strict('{"llr": -Infinity}', where="s.json", error=ConfigError, allow_non_finite=True)
    assert value == {"llr": float("-inf")}


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs or /dev/zero")
def test_a_fifo_or_a_device_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "config.json"
    os.mkfifo(fifo)
    outcome: list[str] = []
    reader = threading.Thread(target=lambda: outcome.append(_read_error(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader before failing, so no thread is left behind
        with open(fifo, "wb"):
            pass
        pytest.fail("reading a FIFO blocked")
    assert outcome == [f"{fifo}: not a regular file (a FIFO); give the path of a config file"]
    assert (
        _read_error(Path("/dev/zero"))
        == "/dev/zero: not a regular file (a character device); give the path of a config file"
    )
    assert _read_error(tmp_path) == f"{tmp_path}: not a regular file (a directory); give the path of a config file"
    assert _read_error(tmp_path / "absent.json") == f"{tmp_path / 'absent.json'}: no such config file"


def _read_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        read_json_file(path, error=ConfigError, what="config file")
    return str(caught.value)
