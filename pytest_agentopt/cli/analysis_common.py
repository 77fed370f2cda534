"""What the history commands (``experiments``, ``pareto``, ``guidelines``, ``tasks``, ``failures``) share.

The agent directory and filter options, loading the filtered trials, and tables that fit the terminal width.
Figures are formatted by :mod:`pytest_agentopt.number_format`, as in every other report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Collection, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pytest_agentopt import number_format as fmt
from pytest_agentopt.errors import AgentoptUsageError
from pytest_agentopt.run.options import DEFAULT_DIR

MIN_COLUMN_WIDTH = 8
HEADER_PADDING = 2  # tabulate makes a column at least its header + 2 wide
COLUMN_GAP = 2  # spaces between two columns in tabulate's "simple" format


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
    from pytest_agentopt.analysis import Field, FilterChain, Since

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
    from pytest_agentopt.analysis import load_trials

    table = load_trials(source, columns=columns)
    for problem in table.problems:
        print(f"note: {problem}", file=sys.stderr)
    if table.replays:
        print(f"note: {replay_note(table.replays)}", file=sys.stderr)
    return table


def load_runs_noting(args: argparse.Namespace) -> Any:
    """The runs under ``--agent-dir`` (``analysis.load_runs``); a run whose summary cannot be read is noted on
    stderr, its verdict unknown."""
    from pytest_agentopt.analysis import load_runs

    runs = load_runs(agent_dir(args))
    for info in runs:
        if info.summary_problem is not None:
            print(f"note: {info.summary_problem}: the run's verdict is unknown", file=sys.stderr)
    return runs


def replay_note(count: int) -> str:
    return (
        f"{count} trial{'s' if count != 1 else ''} replay earlier ones (same config, task and seed: a run repeated "
        "with the same --agent-seed) and are counted once"
    )


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))


def terminal_width() -> int | None:
    """The width output must fit: ``$COLUMNS``, else the terminal's; ``None`` (no limit) when stdout is no terminal.

    Piped into ``cat``, a file or a CI log, the terminal size falls back to 80 columns, which would wrap the
    tables for nothing: there the lines keep their natural length.
    """
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def render_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    wrap: Collection[int] = (),
    width: int | None = None,
) -> str:
    """A tabulate table whose lines fit ``width`` (default :func:`terminal_width`; no limit when that is None).

    While the table is too wide, the widest column gives up one character, wrapping its cells at spaces. No cell
    breaks inside a word (an experiment id, a model, a figure) except in the columns listed in ``wrap`` (prose:
    messages, guidelines, reasons), which may, if that is not enough, shrink down to ``MIN_COLUMN_WIDTH``; as a
    last resort, header words break. A table whose cells' words alone are wider than ``width`` is printed wider.
    """
    limit = terminal_width() if width is None else width
    titles = [str(header) for header in headers]
    cells = [[_cell(value) for value in row] for row in rows]
    text = _tabulate(titles, cells)
    if limit is None or not cells or _widest_line(text) <= limit:
        return text
    columns = [[header, *(row[c] for row in cells)] for c, header in enumerate(titles)]
    widths = [max(len(column[0]) + HEADER_PADDING, *(len(value) for value in column[1:])) for column in columns]
    word_floors = [max(_longest_word(column[:1]) + HEADER_PADDING, _longest_word(column[1:])) for column in columns]
    prose_floors = [MIN_COLUMN_WIDTH if c in wrap else floor for c, floor in enumerate(word_floors)]
    # Last: header words break too (a label stays readable in pieces; a broken id cannot be copied).
    label_floors = [
        floor if c in wrap else max(_longest_word(column[1:]), HEADER_PADDING + 1)
        for c, (floor, column) in enumerate(zip(prose_floors, columns, strict=True))
    ]
    room = limit - COLUMN_GAP * (len(widths) - 1)
    for floors in (word_floors, prose_floors, label_floors):
        while sum(widths) > room:
            shrinkable = [c for c in range(len(widths)) if widths[c] > floors[c]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda c: widths[c])
            widths[widest] -= 1
    wrapped_titles = [_wrap(title, max(1, widths[c] - HEADER_PADDING)) for c, title in enumerate(titles)]
    wrapped_cells = [[_wrap(value, widths[c]) for c, value in enumerate(row)] for row in cells]
    return _tabulate(wrapped_titles, wrapped_cells)


def _tabulate(headers: list[str], cells: list[list[str]]) -> str:
    from tabulate import tabulate

    return tabulate(cells, headers=headers, tablefmt="simple", disable_numparse=True)


def _wrap(text: str, width: int) -> str:
    """``text`` in lines of at most ``width``, broken at spaces only (never at a hyphen: ids hold hyphens); a word
    longer than ``width`` is broken only where its column allowed it (its floor is below its longest word)."""
    import textwrap

    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width=width, break_on_hyphens=False)) or text


def _longest_word(texts: list[str]) -> int:
    return max((len(word) for text in texts for word in text.split()), default=0)


def print_wrapped(text: str) -> None:
    """Prose (statements, legends, methods) wrapped to the terminal's width, between words only."""
    import textwrap

    width = terminal_width()
    if width is None:
        print(text)
        return
    print(textwrap.fill(text, width=max(20, width), break_long_words=False, break_on_hyphens=False))


def _widest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def _cell(value: Any) -> str:
    return fmt.MISSING if value is None else str(value)


def empty_message(args: argparse.Namespace, what: str) -> str:
    """What to print when the (filtered) history has nothing to show; an empty history is not an error."""
    filtered = any(getattr(args, name, None) for name in ("experiment", "model", "since", "task"))
    return f"no {what} under {args.agent_dir}" + (" with these filters" if filtered else "")
