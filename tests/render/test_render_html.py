"""The HTML report: one self-contained file, every section, every user string escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from pytest_agentopt.report.render.html import render_html
from tests.render.samples import INJECTION, ab_summary, full_report, pareto, pareto_point

VOID_ELEMENTS = {"meta", "br", "img", "link", "input", "hr"}


class Structure(HTMLParser):
    """Collects tags, ids, attribute values and text, and checks that elements nest properly."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.ids: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            self.attributes.append((name, value or ""))
            if name == "id" and value:
                self.ids.append(value)
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Structure:
    structure = Structure()
    structure.feed(html)
    structure.close()
    assert not structure.errors, structure.errors[:5]
    assert not structure.stack, structure.stack
    return structure


def svgs(html: str) -> list[ET.Element]:
    return [ET.fromstring(match) for match in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL)]


def test_it_is_one_well_nested_document_with_every_section() -> None:
    structure = parse(render_html(full_report()))
    expected = [
        "verdict",
        "run",
        "configs",
        "arms",
        "comparison",
        "llr",
        "pareto",
        "tasks",
        "trajectory",
        "task-clusters",
        "failures",
        "notes",
    ]
    sections = [identifier for identifier in structure.ids if identifier in expected]
    assert sections == expected
    assert len(structure.ids) == len(set(structure.ids))  # ids (the charts' included) are unique


def test_it_needs_nothing_from_the_network() -> None:
    html = render_html(full_report())
    structure = parse(html)
    assert "script" not in structure.tags
    assert not {"link", "iframe", "img", "object", "embed", "base"} & set(structure.tags)
    assert "http:" not in html
    assert "https:" not in html
    assert "@import" not in html
    assert "url(" not in html
    for name, value in structure.attributes:
        if name in ("href", "src", "xlink:href"):
            assert value.startswith("#"), (name, value)  # only links to the report's own sections
    assert "default-src 'none'" in html  # the browser itself refuses any fetch


def test_it_escapes_every_user_string() -> None:
    report, summary = full_report(), ab_summary()
    summary["verdict_reason"] = INJECTION
    summary["config_diff"][0]["test"] = [INJECTION]
    summary["arms"]["test"]["experiment_id"] = INJECTION
    report["summary"] = summary
    report["pareto"] = pareto([pareto_point(INJECTION, 0.5, 0.001, on_front=True)])
    failures = report["failures"]
    assert failures is not None
    failures[0]["example_message"] = INJECTION
    report["title"] = INJECTION
    html = render_html(report)
    structure = parse(html)
    assert "script" not in structure.tags
    assert "img" not in structure.tags
    assert not any(name.startswith("on") for name, _ in structure.attributes)
    text = "".join(structure.text)
    assert text.count('<script>alert("x")</script>') >= 5  # shown as text: title, verdict, diff, arms, failures
    for chart in svgs(html):  # the chart's labels and tooltips too
        assert chart.find(".//script") is None
    labels = [element.text for chart in svgs(html) for element in chart.iter("text")]
    assert INJECTION in labels


def test_it_shows_the_verdict_with_its_reason_and_the_gate() -> None:
    html = render_html({"summary": ab_summary(verdict="worse", gate_passed=False)})
    assert '<div class="verdict bad"><span class="word">WORSE</span>' in html
    assert '<span class="gate failed">gate FAILED</span> <span>regression proven: test is worse</span>' in html
    html = render_html({"summary": ab_summary()})
    assert '<span class="gate passed">gate passed</span>' in html


def test_it_inlines_both_charts_as_svg() -> None:
    charts = svgs(render_html(full_report()))
    assert [chart.get("class") for chart in charts] == ["chart llr-chart", "chart pareto-chart"]
    pareto_chart = charts[1]
    fronts = pareto_chart.findall(".//g[@class='point front']")
    assert {group.get("data-experiment") for group in fronts} == {"cheap", "exp_042", "big"}


def test_it_cuts_very_long_tables_with_a_note() -> None:
    html = render_html({"pareto": pareto([pareto_point(f"e{i}", 0.5, 0.001, on_front=False) for i in range(5_100)])})
    assert "Showing the first 5,000 of 5,100 rows." in html
    assert html.count("<tr>") == 5_001  # header + 5,000 rows
