"""What the history commands (``experiments``, ``pareto``, ``guidelines``, ``tasks``, ``failures``) share.

The agent directory and filter options, loading the filtered trials, and tables that fit the terminal width.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import AgentoptUsageError
from ..options import DEFAULT_DIR

MIN_COLUMN_WIDTH = 8


def add_agent_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent-dir", default=DEFAULT_DIR, help=f"where runs are stored; default {DEFAULT_DIR}/")
    parser.add_argument("--json", action="store_true", help="print the table as JSON")


def add_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters (combined with AND)")
    group.add_argument("--experiment", action="append", metavar="ID", help="only this experiment id (repeatable)")
    group.add_argument("--model", action="append", metavar="MODEL", help="only trials that used this model")
    group.add_argument("--since", metavar="DATE", help="only trials started on or after DATE (ISO 8601, UTC)")
    group.add_argument("--task", action="append", metavar="CODE", help="only the task with this code (repeatable)")


def parse_since(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise AgentoptUsageError(
            f"--since {text}: expected an ISO 8601 date or time, e.g. 2026-11-23 or 2026-11-23T14:00"
        ) from None


def agent_dir(args: argparse.Namespace) -> Path:
    path = Path(args.agent_dir)
    if not path.is_dir():
        raise AgentoptUsageError(
            f"--agent-dir {path}: no such directory; run pytest with --agent-config first, or point --agent-dir at "
            "the directory holding runs/"
        )
    return path


def load_filtered(
    args: argparse.Namespace, *, columns: Collection[str] | None = None, source: Path | None = None
) -> Any:
    """The trials under ``--agent-dir`` (or ``source``) after the filter options; problems go to stderr.

    ``columns``: the ledger columns the command needs (``None``: all); the filters' columns are added.
    """
    from ..analysis import Field, FilterChain, Since

    if columns is not None:
        columns = {*columns, *_filter_columns(args)}
    table = _load(source if source is not None else agent_dir(args), columns)
    filters: list[Any] = []
    for name, values in (
        ("experiment_id", getattr(args, "experiment", None)),
        ("model", getattr(args, "model", None)),
        ("task_code", getattr(args, "task", None)),
    ):
        if values:
            filters.append(Field(name).isin(values))
    if getattr(args, "since", None):
        filters.append(Since(parse_since(args.since)))
    return FilterChain(*filters).apply(table)


def _filter_columns(args: argparse.Namespace) -> list[str]:
    flags = {"experiment": "experiment_id", "model": "model", "task": "task_code", "since": "started_at"}
    return [column for flag, column in flags.items() if getattr(args, flag, None)]


def _load(source: Path, columns: Collection[str] | None) -> Any:
    from ..analysis import load_trials

    table = load_trials(source, columns=columns)
    for problem in table.problems:
        print(f"note: {problem}", file=sys.stderr)
    return table


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def terminal_width() -> int:
    return shutil.get_terminal_size().columns


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Sequence[int] = (),
    width: int | None = None,
) -> str:
    """A tabulate table whose lines fit ``width`` (the terminal's by default).

    While the table is too wide, the widest column gives up one character. Columns in ``wrap`` (long text) may
    shrink down to ``MIN_COLUMN_WIDTH``; the others only down to their longest word, so figures never break.
    Headers wrap with their column (tabulate makes a column at least its header + 2 wide).
    """
    from tabulate import tabulate

    limit = terminal_width() if width is None else width
    cells = [[_cell(value) for value in row] for row in rows]
    text = tabulate(cells, headers=list(headers), tablefmt="simple", disable_numparse=True)
    if _widest_line(text) <= limit or not cells:
        return text
    columns = [[header, *(row[c] for row in cells)] for c, header in enumerate(headers)]
    widths = [max(len(column[0]) + 2, *(len(value) for value in column[1:])) for column in columns]
    # Floors: a figure or a header word never breaks; then, if that is not enough, long text columns may break
    # their header words too.
    word_floors = [_longest_word(column, header_only=c in wrap) for c, column in enumerate(columns)]
    last_resort = [MIN_COLUMN_WIDTH if c in wrap else floor for c, floor in enumerate(word_floors)]
    room = limit - 2 * (len(widths) - 1)
    for floors in (word_floors, last_resort):
        while sum(widths) > room:
            shrinkable = [c for c in range(len(widths)) if widths[c] > floors[c]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda c: widths[c])
            widths[widest] -= 1
    return tabulate(
        cells,
        headers=list(headers),
        tablefmt="simple",
        disable_numparse=True,
        maxcolwidths=widths,
        maxheadercolwidths=[max(1, w - 2) for w in widths],
    )


def _longest_word(column: list[str], *, header_only: bool) -> int:
    """The narrowest a column can be without breaking a word (tabulate pads headers by 2)."""
    header = max((len(word) for word in column[0].split()), default=0) + 2
    if header_only:
        return max(MIN_COLUMN_WIDTH, header)
    return max(header, *(len(word) for value in column[1:] for word in value.split() or [""]))


def print_wrapped(text: str) -> None:
    """Prose (statements, legends, methods) wrapped to the terminal width."""
    import textwrap

    print(textwrap.fill(text, width=max(20, terminal_width())))


def _widest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def percent(value: float | None, interval: Sequence[float | None] | None = None) -> str | None:
    """``81.2% [64.7, 91.1]``."""
    if value is None:
        return None
    text = f"{100 * value:.1f}%"
    if interval and None not in interval:
        text += f" [{100 * float(interval[0] or 0):.1f}, {100 * float(interval[1] or 0):.1f}]"
    return text


def dollars(value: float | None, interval: Sequence[float | None] | None = None) -> str | None:
    """``$0.0024 [0.0018, 0.0029]``."""
    if value is None:
        return None
    text = f"${value:.4f}"
    if interval and None not in interval:
        text += f" [{float(interval[0] or 0):.4f}, {float(interval[1] or 0):.4f}]"
    return text


def signed(value: float | None, interval: Sequence[float | None] | None = None) -> str | None:
    """``+0.250 [-0.042, +0.529]``."""
    if value is None:
        return None
    text = f"{value:+.3f}"
    if interval and None not in interval:
        text += f" [{float(interval[0] or 0):+.3f}, {float(interval[1] or 0):+.3f}]"
    return text


def ratio(value: float | None, interval: Sequence[float | None] | None = None) -> str | None:
    """``1.04x [0.65, 1.62]``."""
    if value is None:
        return None
    text = f"{value:.2f}x"
    if interval and None not in interval:
        text += f" [{float(interval[0] or 0):.2f}, {float(interval[1] or 0):.2f}]"
    return text


def empty_message(args: argparse.Namespace, what: str) -> str:
    """What to print when the (filtered) history has nothing to show; an empty history is not an error."""
    filtered = any(getattr(args, name, None) for name in ("experiment", "model", "since", "task"))
    return f"no {what} under {args.agent_dir}" + (" with these filters" if filtered else "")
