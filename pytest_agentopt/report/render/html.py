"""The report as one self-contained HTML file: inline CSS, inline SVG charts, no script, nothing fetched.

A Content-Security-Policy of ``default-src 'none'`` makes "nothing is fetched" a property the browser enforces,
and every string from the data (experiment ids, messages, guideline text) is escaped.
"""

from __future__ import annotations

from html import escape

from pytest_agentopt.report.render.document import Bullets, Chart, Document, Facts, Section, Table, Text, Verdict
from pytest_agentopt.report.render.sections import build_document
from pytest_agentopt.report.render.svg import llr_chart_svg, pareto_chart_svg
from pytest_agentopt.report.report_dict import ReportDict

HTML_ROW_CAP = 5000
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
DECIDED_BY = {"sprt": "the sequential test", "fixed": "the fixed-sample analysis"}
VERDICT_TONE = {
    "better": "good",
    "not_worse": "good",
    "meets_target": "good",
    "no_difference": "neutral",
    "not_better": "neutral",
    "inconclusive": "neutral",
    "worse": "bad",
    "below_target": "bad",
}

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2024;
  background: #f6f7f9; }
header, main, footer { max-width: 1160px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 18px; }
h1 { font-size: 22px; margin: 0 0 6px; word-break: break-word; }
h2 { font-size: 17px; margin: 0 0 10px; }
nav { font-size: 13px; margin-bottom: 10px; }
nav a { color: #1f5fbf; text-decoration: none; margin-right: 12px; white-space: nowrap; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 8px; padding: 14px 18px; margin: 14px 0; }
details > summary { cursor: pointer; font-weight: 600; font-size: 17px; margin-bottom: 8px; }
.verdict { border-left: 6px solid #8a8f98; padding: 8px 14px; background: #f3f4f6; border-radius: 4px; }
.verdict.good { border-color: #1f7a3f; background: #eaf6ee; }
.verdict.bad { border-color: #b3261e; background: #fbeceb; }
.verdict .word { font-size: 22px; font-weight: 700; letter-spacing: .02em; }
.verdict .by { color: #59606b; margin-left: 8px; }
.verdict p { margin: 6px 0 0; }
.gate { display: inline-block; margin-top: 8px; padding: 2px 10px; border-radius: 12px; font-weight: 600; }
.gate.passed { background: #d7efdf; color: #14532d; }
.gate.failed { background: #f8d4d1; color: #7f1d1d; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { font-weight: 600; color: #30343b; }
dl.facts dd { margin: 0; word-break: break-word; }
.table-wrap { overflow-x: auto; margin: 6px 0 10px; }
table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
th, td { border-bottom: 1px solid #e4e7eb; padding: 4px 7px; text-align: left; vertical-align: top;
  white-space: nowrap; }
td.wrap { white-space: normal; min-width: 14em; word-break: break-word; }
th { background: #f0f2f5; font-weight: 600; white-space: normal; vertical-align: bottom; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
figure { margin: 6px 0 10px; }
figure svg { max-width: 100%; height: auto; }
p.note { color: #59606b; font-size: 13px; margin: 4px 0 8px; }
ul.notes { margin: 0; padding-left: 20px; }
footer { color: #59606b; font-size: 12px; padding-bottom: 24px; }
"""


def render_html(report: ReportDict) -> str:
    """The report (keys in ``docs/reports.md``) as one HTML document."""
    document = build_document(report)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(document.title)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{escape(document.title)}</h1>",
            _navigation(document),
            "</header>",
            "<main>",
            *(_section(section) for section in document.sections),
            "</main>",
            "<footer>" + "<br>".join(escape(line) for line in document.footer) + "</footer>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _navigation(document: Document) -> str:
    links = "".join(f'<a href="#{escape(s.anchor)}">{escape(s.title)}</a>' for s in document.sections)
    return f"<nav>{links}</nav>"


def _section(section: Section) -> str:
    body = "\n".join(_block(block) for block in section.blocks)
    anchor, title = escape(section.anchor), escape(section.title)
    if section.secondary:
        return f'<section id="{anchor}"><details open><summary>{title}</summary>\n{body}\n</details></section>'
    return f'<section id="{anchor}"><h2>{title}</h2>\n{body}\n</section>'


def _block(block: object) -> str:
    if isinstance(block, Verdict):
        return _verdict(block)
    if isinstance(block, Facts):
        items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in block.items)
        return f'<dl class="facts">{items}</dl>'
    if isinstance(block, Bullets):
        return '<ul class="notes">' + "".join(f"<li>{escape(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Text):
        return f'<p class="note">{escape(block.text)}</p>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Chart):
        svg = (
            pareto_chart_svg(block.data, standalone=False)
            if block.kind == "pareto"
            else llr_chart_svg(block.data, verdict=block.verdict, standalone=False)
        )
        return f'<figure class="{escape(block.kind)}">{svg}</figure>'
    raise TypeError(f"unknown block {block!r}")


def _verdict(block: Verdict) -> str:
    tone = VERDICT_TONE.get(block.verdict or "", "neutral")
    by = DECIDED_BY.get(block.decided_by or "", block.decided_by or "")
    parts = [
        f'<div class="verdict {tone}">',
        f'<span class="word">{escape(block.word)}</span>',
        f'<span class="by">decided by {escape(by)}</span>' if by else "",
        f'<p class="reason">{escape(block.reason)}</p>' if block.reason else "",
    ]
    if block.gate_passed is True:
        parts.append('<span class="gate passed">gate passed</span>')
    elif block.gate_passed is False:
        parts.append(f'<span class="gate failed">gate FAILED</span> <span>{escape(block.gate_reason or "")}</span>')
    elif block.gate_reason:
        parts.append(f"<span>gate {escape(block.gate_reason)}</span>")
    parts.append("</div>")
    return "".join(parts)


def _table(block: Table) -> str:
    def cls(index: int) -> str:
        if index in block.numeric:
            return ' class="num"'
        return ' class="wrap"' if index in block.wrap else ""

    head = "".join(f"<th{cls(i)}>{escape(header)}</th>" for i, header in enumerate(block.headers))
    shown = block.rows[:HTML_ROW_CAP]
    body = "\n".join(
        "<tr>" + "".join(f"<td{cls(i)}>{escape(cell)}</td>" for i, cell in enumerate(row)) + "</tr>" for row in shown
    )
    note = (
        f'<p class="note">Showing the first {len(shown):,} of {len(block.rows):,} rows.</p>'
        if len(block.rows) > len(shown)
        else ""
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table></div>{note}'
