"""Reading Inspect AI evaluation logs (``.eval`` and ``.json``): the few fields a paired replay needs.

Inspect AI (``inspect_ai``) writes one log per evaluated task and model, in one of two documented formats:

* ``.eval`` (the default): a zip archive of JSON members. ``header.json`` holds the ``EvalLog`` without its
  samples (``version``, ``status``, ``eval``, ``results``, ``stats``); a log still being written has no header yet
  and its ``EvalSpec`` is in ``_journal/start.json`` under ``eval``. Each sample is the member
  ``samples/{id}_epoch_{epoch}.json`` (an ``EvalSample``), or, for a sample written in the chunked shape, the
  shell ``samples/{id}_epoch_{epoch}/sample.json`` (the same ``EvalSample`` fields without messages and events).
  A re-run sample appends a second member under the same name; as Inspect's own reader, the last one wins.
* ``.json`` (the older format): one JSON document, the whole ``EvalLog`` with its ``samples`` list.

In both, a sample (id and epoch) that appears twice counts once: the last one.

Of an ``EvalLog`` this reads ``status`` and of its ``eval`` (``EvalSpec``) ``eval_id``, ``task``, ``model``,
``dataset.name``, ``dataset.samples`` and ``config.epochs``. Of each ``EvalSample``: ``id`` (int or str),
``epoch`` (from 1), ``scores`` (scorer name to ``Score``, of which ``value``: a str, number or bool, or a list or
dict of them), ``model_usage`` (model name such as ``openai/gpt-4o`` to ``ModelUsage``: ``input_tokens``, which
excludes cached tokens, ``output_tokens``, ``input_tokens_cache_read``, ``input_tokens_cache_write``,
``reasoning_tokens``, and ``total_cost`` in dollars when Inspect computed one) and ``error`` (an ``EvalError``, or
a message). Everything else is ignored, so the reader is the standard library's ``zipfile`` and ``json`` rather
than ``inspect_ai`` itself (a large install, not needed to read six fields), plus the ``zstandard`` package for
the zstd-compressed members Inspect writes today when this Python's ``zipfile`` cannot decompress them (before
3.14). A log whose fields have the wrong types is refused with the file, the member and the field named.
"""

from __future__ import annotations

import json
import math
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "InspectLog",
    "InspectLogError",
    "InspectSample",
    "InspectUsage",
    "looks_like_inspect_log",
    "read_inspect_log",
]

ZIP_MAGIC = b"PK\x03\x04"
ZIP_ZSTANDARD = 93
"""The zip compression method of zstandard (APPNOTE 4.4.5); Inspect AI compresses .eval members with it."""
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")
HEADER_MEMBER = "header.json"
JOURNAL_START_MEMBER = "_journal/start.json"
_MONOLITH_SAMPLE = re.compile(r"samples/[^/]+_epoch_\d+\.json")
_CHUNKED_SAMPLE_SHELL = re.compile(r"samples/[^/]+_epoch_\d+/sample\.json")
_USAGE_COUNTS = (
    ("input_tokens", "input_tokens"),
    ("output_tokens", "output_tokens"),
    ("input_tokens_cache_read", "cache_read_tokens"),
    ("input_tokens_cache_write", "cache_write_tokens"),
    ("reasoning_tokens", "reasoning_tokens"),
)


class InspectLogError(ValueError):
    """A file that is not a readable Inspect AI log; the message names the file, the member and the field."""


@dataclass(frozen=True)
class InspectUsage:
    """One model's ``ModelUsage`` in a sample. ``input_tokens`` is Inspect's: cached tokens not included."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    total_cost: float | None = None
    """Dollars, when Inspect computed them (a model with a cost configured in Inspect)."""


@dataclass(frozen=True)
class InspectSample:
    id: int | str
    epoch: int
    scores: Mapping[str, Any]
    """Scorer name to the ``Score``'s ``value`` (``{}``: the sample was not scored)."""
    model_usage: Mapping[str, InspectUsage]
    error: str | None
    """The message of the error that halted the sample, if one did."""
    where: str
    """Where the sample is in its file (a zip member or ``samples[i]``), for messages."""


@dataclass(frozen=True)
class InspectLog:
    path: Path
    format: Literal["eval", "json"]
    status: str
    """``success`` for a finished evaluation; ``started``, ``cancelled`` or ``error`` otherwise."""
    eval_id: str
    task: str
    model: str
    dataset: str | None
    dataset_samples: int | None
    epochs: int | None
    samples: tuple[InspectSample, ...]


def looks_like_inspect_log(path: Path) -> bool:
    """Whether ``path`` is an Inspect log rather than a CSV or JSON Lines stream: a zip, an indented JSON document
    with an ``eval`` key near its start, or a one-line object holding ``eval`` and ``version``."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(ZIP_MAGIC):
        return True
    first_line = head.decode("utf-8", errors="replace").lstrip().partition("\n")[0].strip()
    if not first_line.startswith("{"):
        return False
    try:
        value = json.loads(first_line)
    except json.JSONDecodeError:  # an indented JSON document, as Inspect writes its .json logs: "eval" comes early
        return b'"eval"' in head
    return isinstance(value, dict) and "eval" in value and "version" in value


def read_inspect_log(path: Path) -> InspectLog:
    """The log at ``path``, ``.eval`` or ``.json`` by content (a zip is ``.eval``), with its samples in Inspect's
    order (by epoch, then id)."""
    with path.open("rb") as handle:
        magic = handle.read(len(ZIP_MAGIC))
    if magic == ZIP_MAGIC:
        return _read_eval_zip(path)
    return _read_json_document(path)


def _read_eval_zip(path: Path) -> InspectLog:
    try:
        with zipfile.ZipFile(path) as archive:
            names = {info.filename for info in archive.infolist()}
            if HEADER_MEMBER in names:
                header = _member_object(path, archive, HEADER_MEMBER)
            elif JOURNAL_START_MEMBER in names:
                header = {"status": "started", **_member_object(path, archive, JOURNAL_START_MEMBER)}
            else:
                raise InspectLogError(
                    f"{path}: a zip without {HEADER_MEMBER} or {JOURNAL_START_MEMBER}; not an Inspect AI .eval log"
                )
            samples = [
                _sample(path, member, _member_object(path, archive, member)) for member in _sample_members(archive)
            ]
    except InspectLogError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError, struct.error) as exc:
        # A damaged archive fails in many places of zipfile: a bad offset is an OSError or a ValueError from seek,
        # a flipped flag an "encrypted" RuntimeError or an unsupported-method NotImplementedError (a RuntimeError).
        raise InspectLogError(f"{path}: not a readable .eval log (zip: {exc})") from None
    return _log(path, "eval", header, HEADER_MEMBER if HEADER_MEMBER in names else JOURNAL_START_MEMBER, samples)


def _sample_members(archive: zipfile.ZipFile) -> Iterator[str]:
    """Sample member names, each once (a name written twice is read once: ``open`` gives the last entry)."""
    for name in dict.fromkeys(info.filename for info in archive.infolist()):
        if _MONOLITH_SAMPLE.fullmatch(name) or _CHUNKED_SAMPLE_SHELL.fullmatch(name):
            yield name


def _member_object(path: Path, archive: zipfile.ZipFile, member: str) -> dict[str, Any]:
    info = archive.getinfo(member)
    if info.compress_type == ZIP_ZSTANDARD and not _zipfile_reads_zstd():
        raw = _zstd_member(path, info)
    else:
        with archive.open(info) as handle:
            raw = handle.read()
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InspectLogError(f"{path}: member {member}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InspectLogError(f"{path}: member {member}: expected a JSON object, got {type(value).__name__}")
    return value


def _zipfile_reads_zstd() -> bool:
    """Whether the standard library's ``zipfile`` decompresses zstd members itself (Python 3.14 and later)."""
    return getattr(zipfile, "ZIP_ZSTANDARD", None) == ZIP_ZSTANDARD


def _zstd_member(path: Path, info: zipfile.ZipInfo) -> bytes:
    """A zstd-compressed member (method 93, what Inspect writes since it moved off deflate) decompressed with the
    ``zstandard`` package, for Pythons whose ``zipfile`` cannot: the raw bytes after the member's local header,
    checked against the central directory's CRC-32."""
    try:
        import zstandard
    except ImportError:
        raise InspectLogError(
            f"{path}: member {info.filename} is compressed with zstandard (newer Inspect AI logs are), which this "
            "Python's zipfile cannot read: pip install 'pytest-agentopt[inspect]' (or use Python 3.14 or later)"
        ) from None
    with path.open("rb") as handle:
        handle.seek(info.header_offset)
        local_header = handle.read(_LOCAL_HEADER.size)
        if len(local_header) != _LOCAL_HEADER.size or not local_header.startswith(ZIP_MAGIC):
            raise zipfile.BadZipFile(f"member {info.filename}: bad local header")
        *_, name_length, extra_length = _LOCAL_HEADER.unpack(local_header)
        handle.seek(name_length + extra_length, 1)
        compressed = handle.read(info.compress_size)
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(compressed, read_across_frames=True)
        raw = reader.read()
    except zstandard.ZstdError as exc:
        raise zipfile.BadZipFile(f"member {info.filename}: {exc}") from None
    if zlib.crc32(raw) != info.CRC or len(raw) != info.file_size:
        raise zipfile.BadZipFile(f"member {info.filename}: CRC-32 or size differs from the central directory")
    return raw


def _read_json_document(path: Path) -> InspectLog:
    try:
        document = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InspectLogError(f"{path}: neither a .eval log (zip) nor a .json log (JSON: {exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("eval"), dict):
        raise InspectLogError(f"{path}: a JSON document without an 'eval' object; not an Inspect AI log")
    raw_samples = document.get("samples")
    if raw_samples is None:
        raw_samples = []
    if not isinstance(raw_samples, list):
        raise InspectLogError(f"{path}: field 'samples' is a {type(raw_samples).__name__}; expected a list")
    samples = []
    for index, raw in enumerate(raw_samples):
        where = f"samples[{index}]"
        if not isinstance(raw, dict):
            raise InspectLogError(f"{path}: {where}: expected a JSON object, got {type(raw).__name__}")
        samples.append(_sample(path, where, raw))
    return _log(path, "json", document, "the document", samples)


def _log(
    path: Path, kind: Literal["eval", "json"], header: Mapping[str, Any], where: str, samples: list[InspectSample]
) -> InspectLog:
    spec = header.get("eval")
    if not isinstance(spec, dict):
        raise InspectLogError(f"{path}: {where}: field 'eval' is missing; not an Inspect AI log")
    dataset = _object(spec.get("dataset"))
    config = _object(spec.get("config"))
    latest = {(sample.id, sample.epoch): sample for sample in samples}  # a sample logged twice: the last one counts
    ordered = sorted(latest.values(), key=lambda sample: (sample.epoch, _id_order(sample.id)))
    return InspectLog(
        path=path,
        format=kind,
        status=_text(path, where, "status", header.get("status", "started")),
        eval_id=_text(path, where, "eval.eval_id", spec.get("eval_id", "")),
        task=_text(path, where, "eval.task", spec.get("task")),
        model=_text(path, where, "eval.model", spec.get("model")),
        dataset=_optional_text(path, where, "eval.dataset.name", dataset.get("name")),
        dataset_samples=_optional_count(path, where, "eval.dataset.samples", dataset.get("samples")),
        epochs=_optional_count(path, where, "eval.config.epochs", config.get("epochs")),
        samples=tuple(ordered),
    )


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _id_order(sample_id: int | str) -> tuple[int, int, str]:
    """Ids in Inspect's order: numbers by value before text (Inspect zero-fills numbers to sort them as text)."""
    return (0, sample_id, "") if isinstance(sample_id, int) else (1, 0, sample_id)


def _sample(path: Path, where: str, raw: Mapping[str, Any]) -> InspectSample:
    prefix = f"{path}: {where}"
    sample_id = raw.get("id")
    if isinstance(sample_id, bool) or not isinstance(sample_id, int | str) or sample_id == "":
        raise InspectLogError(f"{prefix}: field 'id' is {sample_id!r}; expected a sample id (a number or text)")
    epoch = raw.get("epoch")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
        raise InspectLogError(f"{prefix}: field 'epoch' is {epoch!r}; expected a whole number >= 1")
    return InspectSample(
        id=sample_id,
        epoch=epoch,
        scores=_scores(prefix, raw.get("scores")),
        model_usage=_model_usage(prefix, raw.get("model_usage")),
        error=_error_message(prefix, raw.get("error")),
        where=where,
    )


def _scores(prefix: str, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InspectLogError(f"{prefix}: field 'scores' is a {type(raw).__name__}; expected an object of scores")
    values = {}
    for name, score in raw.items():
        if not isinstance(score, dict) or "value" not in score:
            raise InspectLogError(f"{prefix}: field 'scores.{name}' has no 'value'; expected a Score object")
        values[name] = score["value"]
    return values


def _model_usage(prefix: str, raw: Any) -> dict[str, InspectUsage]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InspectLogError(f"{prefix}: field 'model_usage' is a {type(raw).__name__}; expected an object")
    usage = {}
    for model, fields in raw.items():
        field = f"model_usage.{model}"
        if not isinstance(fields, dict):
            raise InspectLogError(f"{prefix}: field '{field}' is {fields!r}; expected a ModelUsage object")
        counts = {}
        for name, attribute in _USAGE_COUNTS:
            value = fields.get(name)
            if value is None:
                value = 0
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InspectLogError(f"{prefix}: field '{field}.{name}' is {value!r}; expected a token count >= 0")
            counts[attribute] = value
        cost = fields.get("total_cost")
        if cost is not None and (
            isinstance(cost, bool) or not isinstance(cost, int | float) or not math.isfinite(cost) or cost < 0
        ):
            raise InspectLogError(f"{prefix}: field '{field}.total_cost' is {cost!r}; expected dollars >= 0")
        usage[model] = InspectUsage(**counts, total_cost=None if cost is None else float(cost))
    return usage


def _error_message(prefix: str, raw: Any) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        return str(raw.get("message") or "error")
    raise InspectLogError(f"{prefix}: field 'error' is {raw!r}; expected an EvalError object")


def _text(path: Path, where: str, field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InspectLogError(f"{path}: {where}: field '{field}' is {value!r}; expected text")
    return value


def _optional_text(path: Path, where: str, field: str, value: Any) -> str | None:
    return None if value is None else _text(path, where, field, value)


def _optional_count(path: Path, where: str, field: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InspectLogError(f"{path}: {where}: field '{field}' is {value!r}; expected a whole number >= 0")
    return value
