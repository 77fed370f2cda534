"""A report as a neutral document: sections of tables, facts and charts, with every figure already formatted.

``sections.build_document`` turns the ``report`` dict into this; the Markdown and HTML renderers only lay it out
(and escape it), so both outputs always show the same numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Verdict:
    verdict: str | None
    word: str
    reason: str | None
    decided_by: str | None
    gate_passed: bool | None
    gate_reason: str | None


@dataclass(frozen=True)
class Facts:
    """Label: value lines."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()  # column indexes to right-align
    wrap: frozenset[int] = frozenset()  # columns of long text that may wrap (the others stay on one line)

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.headers):
                raise ValueError(f"a row of {len(row)} cells under {len(self.headers)} headers: {row!r}")


@dataclass(frozen=True)
class Chart:
    """An SVG chart (HTML only; Markdown shows the table beside it)."""

    kind: Literal["pareto", "llr"]
    data: Mapping[str, Any]
    verdict: str | None = None


Block = Verdict | Facts | Text | Bullets | Table | Chart


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    blocks: Sequence[Block]
    secondary: bool = False  # detail a reader opens on demand (collapsed in Markdown)


@dataclass(frozen=True)
class Document:
    title: str
    sections: Sequence[Section]
    footer: Sequence[str] = field(default_factory=tuple)
