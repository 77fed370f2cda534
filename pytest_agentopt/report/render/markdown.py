"""The report as GitHub-flavoured Markdown: pipe tables, no images, small enough for a job summary.

GitHub refuses a step summary over 1 MiB, so long tables are cut (with a note saying so) until the text fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape as html_escape

from pytest_agentopt.report.render.document import Bullets, Chart, Document, Facts, Section, Table, Text, Verdict
from pytest_agentopt.report.render.sections import build_document
from pytest_agentopt.report.report_dict import ReportDict

GITHUB_STEP_SUMMARY_LIMIT = 1024 * 1024
DEFAULT_LIMIT = GITHUB_STEP_SUMMARY_LIMIT - 16 * 1024  # room for a line or two someone else appends
ROW_CAPS = (2000, 500, 100, 25, 5)
# Characters with a meaning inside a line of GFM: emphasis, code, links, raw HTML, entities, table cells, GitHub's
# math (`$`) and strike-through. A backslash makes each of them literal (CommonMark: any ASCII punctuation).
SPECIAL = frozenset("\\`*_[]<>|~&$")
DECIDED_BY = {"sprt": "the sequential test", "fixed": "the fixed-sample analysis"}


def escape(text: str) -> str:
    """``text`` as literal inline Markdown: one line, every special character backslash-escaped."""
    flat = " ".join(str(text).split())
    return "".join("\\" + char if char in SPECIAL else char for char in flat)


def render_markdown(report: ReportDict, *, max_bytes: int = DEFAULT_LIMIT) -> str:
    """The report (keys in ``docs/reports.md``) as Markdown of at most ``max_bytes`` UTF-8 bytes."""
    document = build_document(report)
    text = ""
    for cap in ROW_CAPS:
        text = _render(document, cap)
        if len(text.encode("utf-8")) <= max_bytes:
            return text
    return _cut(text, max_bytes)


def _cut(text: str, max_bytes: int) -> str:
    """The last resort when even short tables do not fit: whole lines up to the limit, then a note."""
    note = "\n\n_The report was cut here to stay under the size limit._\n"
    budget = max(0, max_bytes - len(note.encode("utf-8")))
    kept: list[str] = []
    used = 0
    for line in text.splitlines(keepends=True):
        size = len(line.encode("utf-8"))
        if used + size > budget:
            break
        kept.append(line)
        used += size
    result = "".join(kept) + note
    return result if len(result.encode("utf-8")) <= max_bytes else ""


def _render(document: Document, row_cap: int) -> str:
    lines = [f"# {escape(document.title)}", ""]
    for section in document.sections:
        lines += _section(section, row_cap)
    if document.footer:
        lines.append("<sub>" + " · ".join(escape(line) for line in document.footer) + "</sub>")
        lines.append("")
    return "\n".join(lines)


def _section(section: Section, row_cap: int) -> list[str]:
    body: list[str] = []
    for block in section.blocks:
        body += _block(block, row_cap)
    if not body:
        return []
    if section.secondary:
        return [
            f"<details><summary><strong>{html_escape(section.title)}</strong></summary>",
            "",
            *body,
            "</details>",
            "",
        ]
    return [f"## {escape(section.title)}", "", *body]


def _block(block: object, row_cap: int) -> list[str]:
    if isinstance(block, Verdict):
        return _verdict(block)
    if isinstance(block, Facts):
        return [f"- **{escape(label)}**: {escape(value)}" for label, value in block.items] + [""]
    if isinstance(block, Bullets):
        return [f"- {escape(item)}" for item in block.items] + [""]
    if isinstance(block, Text):
        return [escape(block.text), ""]
    if isinstance(block, Table):
        return [*table(block, row_cap), ""]
    if isinstance(block, Chart):
        return []  # charts are drawn in the HTML report; the table beside them has the same figures
    raise TypeError(f"unknown block {block!r}")


def _verdict(block: Verdict) -> list[str]:
    by = (
        f" (decided by {DECIDED_BY.get(block.decided_by or '', escape(str(block.decided_by)))})"
        if block.decided_by
        else ""
    )
    lines = [f"**Verdict: {escape(block.word)}**{by}" + (f": {escape(block.reason)}" if block.reason else ""), ""]
    if block.gate_passed is True:
        lines += ["Gate: **passed**", ""]
    elif block.gate_passed is False:
        lines += [f"Gate: **FAILED**: {escape(block.gate_reason or 'see the verdict')}", ""]
    elif block.gate_reason:
        lines += [f"Gate: {escape(block.gate_reason)}", ""]
    return lines


def table(block: Table, row_cap: int) -> list[str]:
    """A GFM pipe table (header, delimiter row, body), cut to ``row_cap`` rows with a note."""
    headers = [escape(header) for header in block.headers]
    delimiter = ["---:" if index in block.numeric else "---" for index in range(len(headers))]
    shown: Sequence[Sequence[str]] = block.rows[:row_cap]
    lines = [_row(headers), _row(delimiter)]
    lines += [_row([escape(cell) or " " for cell in row]) for row in shown]
    if len(block.rows) > len(shown):
        lines += [
            "",
            f"_Showing the first {len(shown):,} of {len(block.rows):,} rows (cut to keep the summary small)._",
        ]
    return lines


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"
