"""The two SVG charts: well-formed, accessible, and every point, interval, bound and region where it belongs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from pytest_agentopt.report.render.svg import MAX_LINE_POINTS, llr_chart_svg, pareto_chart_svg
from tests.render.samples import llr_path, pareto, pareto_point

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # raises on anything that is not well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def markers(root: ET.Element) -> dict[str, tuple[float, float]]:
    """Experiment id -> marker centre."""
    centres = {}
    for group in root.iterfind(".//svg:g", NS):
        if (group.get("class") or "").startswith("point "):
            circle = group.find("svg:circle", NS)
            assert circle is not None
            centres[str(group.get("data-experiment"))] = (float(circle.get("cx", "")), float(circle.get("cy", "")))
    return centres


def numbers(text: str) -> list[float]:
    return [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", text)]


def test_the_pareto_chart_is_accessible_svg() -> None:
    root = parse(pareto_chart_svg(pareto()))
    title = root.findtext("svg:title", namespaces=NS)
    assert title == "Pareto front: success rate against estimated mean cost per trial"
    assert "3 on the Pareto front (cheap, exp_042, big)" in str(root.findtext("svg:desc", namespaces=NS))
    assert root.get("role") == "img"
    labels = [element.text for element in root.iterfind(".//svg:text", NS)]
    assert "success rate" in labels
    assert any(label and label.startswith("estimated mean cost per trial, USD") for label in labels)


def test_every_point_has_both_intervals_as_error_bars_around_its_marker() -> None:
    root = parse(pareto_chart_svg(pareto()))
    centres = markers(root)
    assert set(centres) == {"cheap", "exp_041", "exp_042", "big"}
    for group in root.iterfind(".//svg:g", NS):
        if not (group.get("class") or "").startswith("point "):
            continue
        cx, cy = centres[str(group.get("data-experiment"))]
        success_bar = group.find("svg:path[@class='errorbar errorbar-success']", NS)
        cost_bar = group.find("svg:path[@class='errorbar errorbar-cost']", NS)
        assert success_bar is not None
        assert cost_bar is not None
        x, top, bottom = numbers(str(success_bar.get("d")))[:3]
        assert x == pytest.approx(cx, abs=0.1)
        assert top < cy < bottom  # success interval above and below the estimate (y grows downwards)
        left, y, right = numbers(str(cost_bar.get("d")))[:3]
        assert y == pytest.approx(cy, abs=0.1)
        assert left < cx < right
        assert group.findtext("svg:title", namespaces=NS)  # the tooltip with the figures


def test_front_points_are_highlighted_and_joined_in_order_of_cost() -> None:
    root = parse(pareto_chart_svg(pareto()))
    centres = markers(root)
    line = root.find(".//svg:polyline[@class='front-line']", NS)
    assert line is not None
    vertices = [tuple(map(float, pair.split(","))) for pair in str(line.get("points")).split()]
    expected = [centres["cheap"], centres["exp_042"], centres["big"]]
    assert vertices == [pytest.approx(point, abs=0.1) for point in expected]
    dominated = root.find(".//svg:g[@data-experiment='exp_041']/svg:circle", NS)
    front = root.find(".//svg:g[@data-experiment='big']/svg:circle", NS)
    assert dominated is not None
    assert front is not None
    assert dominated.get("fill") == "#ffffff"  # hollow
    assert front.get("fill") != "#ffffff"  # filled


def test_the_kpi_region_holds_exactly_the_configs_that_meet_it() -> None:
    root = parse(pareto_chart_svg(pareto()))
    region = root.find(".//svg:rect[@class='kpi-region']", NS)
    assert region is not None
    x, y = float(region.get("x", "")), float(region.get("y", ""))
    right, bottom = x + float(region.get("width", "")), y + float(region.get("height", ""))
    inside = {name for name, (cx, cy) in markers(root).items() if x <= cx <= right and y <= cy <= bottom}
    assert inside == {"exp_042"}  # the KPI's answer; "cheap" is cheap enough but below the success threshold


def test_the_cost_axis_is_logarithmic_when_costs_span_more_than_tenfold() -> None:
    spread = [
        pareto_point("a", 0.5, 0.001, on_front=True),
        pareto_point("b", 0.6, 0.01, on_front=True),
        pareto_point("c", 0.7, 0.1, on_front=True),
    ]
    root = parse(pareto_chart_svg(pareto(spread)))
    centres = markers(root)
    assert centres["b"][0] - centres["a"][0] == pytest.approx(centres["c"][0] - centres["b"][0], abs=0.2)
    assert "log scale" in ET.tostring(root, encoding="unicode")
    narrow = [
        pareto_point("a", 0.5, 0.001, on_front=True),
        pareto_point("b", 0.6, 0.002, on_front=True),
        pareto_point("c", 0.7, 0.004, on_front=True),
    ]
    root = parse(pareto_chart_svg(pareto(narrow)))
    centres = markers(root)
    assert 2 * (centres["b"][0] - centres["a"][0]) == pytest.approx(centres["c"][0] - centres["b"][0], abs=0.2)
    assert "linear scale" in ET.tostring(root, encoding="unicode")


def test_configs_without_a_known_cost_are_counted_but_not_drawn() -> None:
    unpriced = pareto_point("unpriced", 0.9, 0.001, on_front=True)
    unpriced["cost_per_task_usd"] = None
    root = parse(pareto_chart_svg(pareto([pareto_point("a", 0.5, 0.001, on_front=True), unpriced])))
    assert set(markers(root)) == {"a"}
    assert "1 configs without a known cost are not drawn" in str(root.findtext("svg:desc", namespaces=NS))
    empty = parse(pareto_chart_svg(pareto([unpriced])))
    assert empty.find(".//svg:text[@class='empty']", NS) is not None


def test_labels_of_points_at_the_same_place_do_not_overlap() -> None:
    same = [pareto_point(name, 0.5, 0.001, on_front=False) for name in ("first", "second", "third")]
    root = parse(pareto_chart_svg(pareto(same)))
    positions = {(label.get("x"), label.get("y")) for label in root.iterfind(".//svg:text[@class='point-label']", NS)}
    assert len(positions) == 3


def polyline(root: ET.Element, name: str) -> list[tuple[float, float]]:
    line = root.find(f".//svg:polyline[@class='llr llr-{name}']", NS)
    assert line is not None
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in str(line.get("points")).split())]


def bound_y(root: ET.Element, name: str) -> float:
    line = root.find(f".//svg:line[@class='bound {name}']", NS)
    assert line is not None
    return float(line.get("y1", ""))


def test_the_llr_chart_draws_both_tests_between_the_bounds_and_marks_the_decision() -> None:
    root = parse(llr_chart_svg(llr_path(), verdict="better"))
    better, worse = polyline(root, "better"), polyline(root, "worse")
    assert len(better) == len(worse) == 50  # the origin and 49 pairs
    upper, lower = bound_y(root, "upper"), bound_y(root, "lower")
    assert upper < lower  # the upper bound is drawn higher
    assert better[-1][1] < upper  # 0.06 * 49 = 2.94 crossed the upper bound 2.89
    assert upper < worse[-1][1] < lower  # -2.205 stayed inside
    decision = root.find(".//svg:g[@class='decision']/svg:line", NS)
    assert decision is not None
    assert float(decision.get("x1", "")) == pytest.approx(better[-1][0], abs=0.1)
    texts = [element.text or "" for element in root.iterfind(".//svg:text", NS)]
    assert "decided BETTER after 49 pairs" in texts
    assert any(text.startswith("upper bound +2.89") for text in texts)
    assert "pairs" in texts  # the x axis label
    assert "log-likelihood ratio" in texts


def test_the_llr_chart_of_a_target_run_counts_trials() -> None:
    path = {
        "points": [{"trials": n, "target": 0.1 * n} for n in range(1, 31)],
        "bounds": [-2.2, 2.9],
        "decided_at": None,
    }
    root = parse(llr_chart_svg(path))
    assert len(polyline(root, "target")) == 31
    assert root.find(".//svg:polyline[@class='llr llr-better']", NS) is None
    assert root.find(".//svg:g[@class='decision']", NS) is None
    assert "trials" in [element.text for element in root.iterfind(".//svg:text", NS)]


def test_a_one_sided_run_draws_only_the_test_it_ran() -> None:
    path = llr_path()
    for point in path["points"]:
        point["worse"] = None
    root = parse(llr_chart_svg(path, verdict="better"))
    assert root.find(".//svg:polyline[@class='llr llr-worse']", NS) is None
    assert len(polyline(root, "better")) == 50


def test_long_paths_are_thinned_but_keep_the_decision_point() -> None:
    path = llr_path(pairs=20_000, decided_at=12_345)
    root = parse(llr_chart_svg(path))
    vertices = polyline(root, "better")
    assert len(vertices) <= MAX_LINE_POINTS + 3
    decision = root.find(".//svg:g[@class='decision']/svg:line", NS)
    assert decision is not None
    assert any(x == pytest.approx(float(decision.get("x1", "")), abs=0.05) for x, _ in vertices)


def test_an_empty_path_gives_a_chart_that_says_so() -> None:
    root = parse(llr_chart_svg({"points": [], "bounds": None, "decided_at": None}))
    assert root.findtext(".//svg:text[@class='empty']", namespaces=NS) == "no sequential test path to draw"


def test_inline_charts_leave_out_the_namespace() -> None:
    assert 'xmlns="' not in pareto_chart_svg(pareto(), standalone=False)
    assert 'xmlns="' not in llr_chart_svg(llr_path(), standalone=False)
