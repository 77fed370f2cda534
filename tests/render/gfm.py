"""A checker of GitHub-flavoured Markdown pipe tables, following the GFM spec's table extension.

A table is a header row, a delimiter row (cells of ``:?-+:?``) with the same number of cells, then body rows up
to the first blank line. A pipe preceded by a backslash is cell text, not a separator.
"""

from __future__ import annotations

import re

DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def split_row(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    return [cell.strip() for cell in UNESCAPED_PIPE.split(text)]


def is_delimiter_row(line: str) -> bool:
    return "|" in line and all(DELIMITER_CELL.match(cell) for cell in split_row(line))


def tables(markdown: str) -> list[list[list[str]]]:
    """Every table as rows of cells (header first); raises AssertionError on a row GFM would not read as ours."""
    lines = markdown.splitlines()
    found = []
    index = 1
    while index < len(lines):
        if not is_delimiter_row(lines[index]):
            index += 1
            continue
        header = split_row(lines[index - 1])
        delimiter = split_row(lines[index])
        assert len(header) == len(delimiter), f"header and delimiter differ: {lines[index - 1]!r}"
        assert index < 2 or not lines[index - 2].strip(), f"a table must follow a blank line: {lines[index - 1]!r}"
        rows = [header]
        index += 1
        while index < len(lines) and lines[index].strip():
            cells = split_row(lines[index])
            assert lines[index].lstrip().startswith("|"), f"a body row must start with a pipe: {lines[index]!r}"
            assert len(cells) == len(header), f"{len(cells)} cells under {len(header)} headers: {lines[index]!r}"
            rows.append(cells)
            index += 1
        found.append(rows)
    return found


def unescape(cell: str) -> str:
    """The text a cell renders (backslash escapes of ASCII punctuation removed)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", cell)
