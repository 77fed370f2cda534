"""The report's two charts as SVG text: the Pareto scatter and the sequential test's LLR path.

Pure functions of plain data (the contract shapes of ``pareto_front`` and ``llr_path``); layout only. The SVG is
well-formed XML, styled with presentation attributes (no stylesheet, no font or script from anywhere), with a
``<title>``/``<desc>`` pair and axis labels for screen readers, and a ``<title>`` on every point as its tooltip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from pytest_agentopt import number_format as fmt

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
FONT = "font-family=\"system-ui, -apple-system, 'Segoe UI', sans-serif\""
FRONT_COLOUR = "#1f5fbf"
OTHER_COLOUR = "#8a8f98"
KPI_FILL = "#2e9e5b"
BETTER_COLOUR = "#1f7a3f"
WORSE_COLOUR = "#b3261e"
TARGET_COLOUR = "#1f5fbf"
MAX_LINE_POINTS = 1500
LABEL_CHAR_WIDTH = 6.6  # px per character at 11 px: enough to keep labels from overlapping


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class Box:
    """The plot area inside the chart's margins."""

    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Scale:
    """Maps data values in ``[lo, hi]`` to pixels in ``[start, end]``, linearly or on log10."""

    lo: float
    hi: float
    start: float
    end: float
    log: bool = False

    def __call__(self, value: float) -> float:
        lo, hi, value = (
            (math.log10(self.lo), math.log10(self.hi), math.log10(max(value, self.lo)))
            if self.log
            else (self.lo, self.hi, value)
        )
        share = (value - lo) / (hi - lo) if hi != lo else 0.5
        share = min(1.0, max(0.0, share))
        return self.start + share * (self.end - self.start)

    def ticks(self, count: int = 6) -> list[float]:
        if self.log:
            return _log_ticks(self.lo, self.hi)
        return _nice_ticks(self.lo, self.hi, count)


def _nice_step(span: float, count: int) -> float:
    raw = span / max(1, count)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _nice_ticks(lo: float, hi: float, count: int) -> list[float]:
    if hi <= lo:
        return [lo]
    step = _nice_step(hi - lo, count)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Powers of ten, with 2 and 5 (or more) between them when the axis spans few decades."""
    span = math.log10(hi) - math.log10(lo)
    multipliers: tuple[float, ...] = (1,) if span > 2.5 else (1, 2, 5) if span > 1.2 else (1, 1.5, 2, 3, 5, 7)
    decades = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    return [m * 10.0**d for d in decades for m in multipliers if lo * (1 - 1e-9) <= m * 10.0**d <= hi * (1 + 1e-9)]


def _nice_upper(value: float) -> float:
    if value <= 0:
        return 1.0
    step = _nice_step(value, 5)
    return math.ceil(value / step - 1e-9) * step


def _open(width: int, height: int, prefix: str, title: str, desc: str, standalone: bool) -> list[str]:
    namespace = f' xmlns="{SVG_NAMESPACE}"' if standalone else ""
    return [
        f'<svg{namespace} class="chart {prefix}-chart" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-labelledby="{prefix}-title {prefix}-desc" {FONT} font-size="12">',
        f'<title id="{prefix}-title">{_e(title)}</title>',
        f'<desc id="{prefix}-desc">{_e(desc)}</desc>',
        f'<rect class="background" x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _axes(
    box: Box,
    x: Scale,
    y: Scale,
    x_label: str,
    y_label: str,
    x_text: Callable[[float], str],
    y_text: Callable[[float], str],
) -> list[str]:
    parts = ['<g class="axes" stroke="#d0d4da" stroke-width="1">']
    for tick in x.ticks():
        px = x(tick)
        parts.append(f'<line class="grid" x1="{_n(px)}" y1="{_n(box.top)}" x2="{_n(px)}" y2="{_n(box.bottom)}"/>')
    for tick in y.ticks():
        py = y(tick)
        parts.append(f'<line class="grid" x1="{_n(box.left)}" y1="{_n(py)}" x2="{_n(box.right)}" y2="{_n(py)}"/>')
    parts.append(
        f'<rect x="{_n(box.left)}" y="{_n(box.top)}" width="{_n(box.right - box.left)}" '
        f'height="{_n(box.bottom - box.top)}" fill="none" stroke="#59606b"/>'
    )
    parts.append("</g>")
    parts.append('<g class="tick-labels" fill="#30343b" font-size="11">')
    for tick in x.ticks():
        parts.append(
            f'<text x="{_n(x(tick))}" y="{_n(box.bottom + 16)}" text-anchor="middle">{_e(x_text(tick))}</text>'
        )
    for tick in y.ticks():
        parts.append(f'<text x="{_n(box.left - 6)}" y="{_n(y(tick) + 4)}" text-anchor="end">{_e(y_text(tick))}</text>')
    parts.append("</g>")
    middle_x = (box.left + box.right) / 2
    middle_y = (box.top + box.bottom) / 2
    parts.append(
        f'<text class="axis-label x-label" x="{_n(middle_x)}" y="{_n(box.bottom + 38)}" text-anchor="middle" '
        f'fill="#30343b">{_e(x_label)}</text>'
    )
    parts.append(
        f'<text class="axis-label y-label" x="{_n(box.left - 48)}" y="{_n(middle_y)}" text-anchor="middle" '
        f'fill="#30343b" transform="rotate(-90 {_n(box.left - 48)} {_n(middle_y)})">{_e(y_label)}</text>'
    )
    return parts


def _message_chart(width: int, height: int, prefix: str, title: str, message: str, standalone: bool) -> str:
    parts = _open(width, height, prefix, title, message, standalone)
    parts.append(
        f'<text class="empty" x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" '
        f'fill="#59606b">{_e(message)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


# -- Pareto scatter -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    label: str
    cost: float
    success: float
    cost_ci: tuple[float, float] | None
    success_ci: tuple[float, float] | None
    on_front: bool
    tooltip: str


def _pair(value: object) -> tuple[float, float] | None:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        lower, upper = value
        if fmt.is_number(lower) and fmt.is_number(upper):
            return float(lower), float(upper)
    return None


def _pareto_points(pareto: Mapping[str, Any]) -> tuple[list[_Point], int]:
    points, undrawable = [], 0
    for row in pareto.get("points") or []:
        cost, success = row.get("cost_per_task_usd"), row.get("success_rate")
        if not (fmt.is_number(cost) and fmt.is_number(success)) or float(cost) < 0:
            undrawable += 1
            continue
        label = str(row.get("experiment_id") or row.get("config_hash") or "?")
        tooltip = (
            f"{label} ({row.get('config_hash', '')}, {row.get('model') or 'model unknown'}): success "
            f"{fmt.with_interval(success, row.get('success_ci'))}, est. mean cost per trial "
            f"{fmt.with_interval(cost, row.get('cost_ci'), fmt.usd)}, {fmt.number(row.get('trials'))} trials, "
            f"P(dominated) {fmt.pct(row.get('p_dominated'), 0)}"
        )
        points.append(
            _Point(
                label=label,
                cost=float(cost),
                success=float(success),
                cost_ci=_pair(row.get("cost_ci")),
                success_ci=_pair(row.get("success_ci")),
                on_front=bool(row.get("on_front")),
                tooltip=tooltip,
            )
        )
    return points, undrawable


def _cost_scale(points: Sequence[_Point], start: float, end: float, also: Sequence[float] = ()) -> Scale:
    """Log when the point estimates span more than 10x; ``also``: costs to keep in view (the KPI threshold)."""
    costs = [p.cost for p in points]
    ends = [v for p in points if p.cost_ci for v in p.cost_ci] + list(also)
    positive = [v for v in costs + ends if v > 0]
    if positive and min(costs) > 0 and max(costs) / min(costs) > 10:
        return Scale(_round_125(min(positive), down=True), _round_125(max(positive), down=False), start, end, log=True)
    return Scale(0.0, _nice_upper(max(costs + ends) * 1.05), start, end)


def _round_125(value: float, *, down: bool) -> float:
    """The nearest 1, 2 or 5 times a power of ten below (or above) ``value``: a log axis's tidy end."""
    decade = 10.0 ** math.floor(math.log10(value))
    steps = [m * decade for m in (1, 2, 5, 10)]
    if down:
        return max(step for step in steps if step <= value * (1 + 1e-12))
    return min(step for step in steps if step >= value * (1 - 1e-12))


def pareto_chart_svg(pareto: Mapping[str, Any], *, width: int = 760, height: int = 480, standalone: bool = True) -> str:
    """Success rate against estimated mean cost per trial, one point per config, with both 95% intervals.

    Points on the front are filled and joined by a line; the KPI region (at least the threshold success at no more
    than the threshold cost) is shaded; the cost axis turns logarithmic when the costs span more than 10x.
    """
    title = "Pareto front: success rate against estimated mean cost per trial"
    points, undrawable = _pareto_points(pareto)
    if not points:
        return _message_chart(width, height, "pareto", title, "no config with a known cost to draw", standalone)
    box = Box(left=72, top=28, right=width - 24, bottom=height - 64)
    kpi = pareto.get("kpi") or {}
    threshold = kpi.get("threshold_cost")
    x = _cost_scale(points, box.left, box.right, [float(threshold)] if fmt.is_number(threshold) else [])
    y = Scale(0.0, 1.0, box.bottom, box.top)
    front = sorted((p for p in points if p.on_front), key=lambda p: (p.cost, p.success))
    desc = (
        f"{len(points)} configs; {len(front)} on the Pareto front ("
        + ", ".join(p.label for p in front)
        + "). Error bars: 95% intervals of success (vertical) and cost (horizontal)."
        + (f" {undrawable} configs without a known cost are not drawn." if undrawable else "")
    )
    parts = _open(width, height, "pareto", title, desc, standalone)
    parts += _kpi_region(kpi, box, x, y)
    scale_name = "log scale" if x.log else "linear scale"
    x_title = f"estimated mean cost per trial, USD ({scale_name})"
    parts += _axes(box, x, y, x_title, "success rate", fmt.usd, lambda v: fmt.pct(v, 0))
    if len(front) > 1:
        coordinates = " ".join(f"{_n(x(p.cost))},{_n(y(p.success))}" for p in front)
        parts.append(
            f'<polyline class="front-line" points="{coordinates}" fill="none" stroke="{FRONT_COLOUR}" '
            'stroke-width="2" stroke-dasharray="6 3"/>'
        )
    placed: list[tuple[float, float, float, float]] = []
    for point in sorted(points, key=lambda p: not p.on_front):  # front labels get the best places
        parts += _point(point, x, y, box, placed)
    parts += _pareto_legend(box, width)
    parts.append("</svg>")
    return "\n".join(parts)


def _kpi_region(kpi: Mapping[str, Any], box: Box, x: Scale, y: Scale) -> list[str]:
    threshold_success, threshold_cost = kpi.get("threshold_success"), kpi.get("threshold_cost")
    if not (fmt.is_number(threshold_success) and fmt.is_number(threshold_cost)):
        return []
    right = x(float(threshold_cost))
    top, bottom = y(1.0), y(float(threshold_success))
    if right <= box.left or bottom <= top:
        return []
    label = f"KPI: success >= {fmt.pct(threshold_success, 0)} at <= {fmt.usd(threshold_cost)} per trial"
    return [
        f'<rect class="kpi-region" x="{_n(box.left)}" y="{_n(top)}" width="{_n(right - box.left)}" '
        f'height="{_n(bottom - top)}" fill="{KPI_FILL}" fill-opacity="0.14" stroke="{KPI_FILL}" '
        'stroke-opacity="0.5" stroke-dasharray="4 3">',
        f"<title>{_e(label)}</title></rect>",
        f'<text class="kpi-label" x="{_n(box.left + 4)}" y="{_n(top + 13)}" fill="{KPI_FILL}" '
        f'font-size="11">{_e(label)}</text>',
    ]


def _point(point: _Point, x: Scale, y: Scale, box: Box, placed: list[tuple[float, float, float, float]]) -> list[str]:
    colour = FRONT_COLOUR if point.on_front else OTHER_COLOUR
    cx, cy = x(point.cost), y(point.success)
    kind = "front" if point.on_front else "dominated"
    parts = [f'<g class="point {kind}" data-experiment="{_e(point.label)}">', f"<title>{_e(point.tooltip)}</title>"]
    if point.success_ci is not None:
        top, bottom = y(point.success_ci[1]), y(point.success_ci[0])
        parts.append(
            f'<path class="errorbar errorbar-success" d="M{_n(cx)},{_n(top)}V{_n(bottom)}'
            f'M{_n(cx - 4)},{_n(top)}h8M{_n(cx - 4)},{_n(bottom)}h8" stroke="{colour}" stroke-width="1.3" '
            'fill="none"/>'
        )
    if point.cost_ci is not None:
        left, right = x(point.cost_ci[0]), x(point.cost_ci[1])
        parts.append(
            f'<path class="errorbar errorbar-cost" d="M{_n(left)},{_n(cy)}H{_n(right)}'
            f'M{_n(left)},{_n(cy - 4)}v8M{_n(right)},{_n(cy - 4)}v8" stroke="{colour}" stroke-width="1.3" '
            'fill="none"/>'
        )
    fill = colour if point.on_front else "#ffffff"
    parts.append(
        f'<circle class="marker" cx="{_n(cx)}" cy="{_n(cy)}" r="5.5" fill="{fill}" stroke="{colour}" stroke-width="2"/>'
    )
    lx, ly, anchor = _label_place(point.label, cx, cy, box, placed)
    weight = ' font-weight="600"' if point.on_front else ""
    parts.append(
        f'<text class="point-label" x="{_n(lx)}" y="{_n(ly)}" text-anchor="{anchor}" fill="#1d2024" '
        f'font-size="11"{weight}>{_e(point.label)}</text>'
    )
    parts.append("</g>")
    return parts


def _label_place(
    label: str, cx: float, cy: float, box: Box, placed: list[tuple[float, float, float, float]]
) -> tuple[float, float, str]:
    """The first of eight spots around the point whose box overlaps no label placed before, inside the plot."""
    width, height = LABEL_CHAR_WIDTH * min(len(label), 40) + 2, 12.0
    candidates = [(9, -8), (9, 14), (-9, -8), (-9, 14), (9, -22), (-9, -22), (9, 28), (-9, 28)]
    chosen = None
    for dx, dy in candidates:
        left = cx + dx if dx > 0 else cx + dx - width
        rect = (left, cy + dy - height + 2, left + width, cy + dy + 2)
        inside = box.left <= rect[0] and rect[2] <= box.right + 20 and box.top - 14 <= rect[1] and rect[3] <= box.bottom
        if inside and not any(_overlap(rect, other) for other in placed):
            chosen = (dx, dy, rect)
            break
    if chosen is None:
        dx, dy = candidates[0]
        left = cx + dx
        chosen = (dx, dy, (left, cy + dy - height + 2, left + width, cy + dy + 2))
    dx, dy, rect = chosen
    placed.append(rect)
    return cx + dx, cy + dy, "start" if dx > 0 else "end"


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _pareto_legend(box: Box, width: int) -> list[str]:
    y = box.bottom + 54
    x0 = box.left
    return [
        f'<g class="legend" font-size="11" fill="#30343b" transform="translate({_n(x0)},{_n(y)})">',
        f'<circle cx="0" cy="-4" r="5" fill="{FRONT_COLOUR}" stroke="{FRONT_COLOUR}" stroke-width="2"/>',
        '<text x="10" y="0">on the Pareto front (joined)</text>',
        f'<circle cx="200" cy="-4" r="5" fill="#ffffff" stroke="{OTHER_COLOUR}" stroke-width="2"/>',
        '<text x="210" y="0">dominated</text>',
        f'<rect x="300" y="-10" width="14" height="10" fill="{KPI_FILL}" fill-opacity="0.14" stroke="{KPI_FILL}"/>',
        '<text x="320" y="0">KPI region</text>',
        '<text x="410" y="0">bars: 95% intervals</text>',
        "</g>",
    ]


# -- LLR path -------------------------------------------------------------------------------------------------

SERIES = (
    ("better", BETTER_COLOUR, "LLR of the improvement test"),
    ("worse", WORSE_COLOUR, "LLR of the regression test"),
)
TARGET_SERIES = ("target", TARGET_COLOUR, "LLR of the target test")
CANDIDATE_COLOURS = ("#1f5fbf", "#1f7a3f", "#b3261e", "#b7791f", "#6b4fbb", "#0f766e", "#be185d", "#4b5563")
"""One colour per candidate (cycled); its regression test's line is dashed."""


def _series_specs(path: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """The lines to draw: the path's own ``series`` (several candidates: two per candidate, one colour each), the
    target test's, or the paired test's two."""
    custom = path.get("series")
    if isinstance(custom, list) and custom:
        specs = []
        for index, item in enumerate(custom):
            if isinstance(item, list | tuple) and len(item) == 2:
                colour = CANDIDATE_COLOURS[(index // 2) % len(CANDIDATE_COLOURS)]
                specs.append((str(item[0]), colour, str(item[1])))
        return specs
    return [TARGET_SERIES] if any("target" in row for row in rows) else list(SERIES)


def _thin(points: Sequence[tuple[float, float]], keep: float | None) -> list[tuple[float, float]]:
    """At most about MAX_LINE_POINTS vertices; the first, the last and the decision point are always kept."""
    if len(points) <= MAX_LINE_POINTS:
        return list(points)
    step = math.ceil(len(points) / MAX_LINE_POINTS)
    kept = [p for i, p in enumerate(points) if i % step == 0 or i == len(points) - 1 or p[0] == keep]
    return kept


def llr_chart_svg(
    path: Mapping[str, Any],
    *,
    verdict: str | None = None,
    width: int = 760,
    height: int = 380,
    standalone: bool = True,
) -> str:
    """Each test's log-likelihood ratio against pairs (or trials), Wald's two bounds, and where it decided."""
    title = "Sequential test: log-likelihood ratio between its bounds"
    rows = [row for row in path.get("points") or [] if isinstance(row, Mapping)]
    unit = "pairs" if any("pairs" in row for row in rows) else "trials"
    series_specs = _series_specs(path, rows)
    bounds = _pair(path.get("bounds"))
    lines: list[tuple[str, str, str, list[tuple[float, float]]]] = []
    for key, colour, name in series_specs:
        values = [
            (float(row[unit]), float(row[key]))
            for row in rows
            if fmt.is_number(row.get(unit)) and fmt.is_number(row.get(key))
        ]
        if values:
            if values[0][0] > 0:
                values.insert(0, (0.0, 0.0))  # every LLR starts at 0 before the first observation
            lines.append((key, colour, name, values))
    if not lines or bounds is None:
        return _message_chart(width, height, "llr", title, "no sequential test path to draw", standalone)
    decided = path.get("decided_at")
    decided_at = float(decided) if fmt.is_number(decided) else None
    all_x = [px for *_, values in lines for px, _ in values]
    all_y = [py for *_, values in lines for _, py in values] + list(bounds)
    span = max(all_y) - min(all_y) or 1.0
    box = Box(left=64, top=24, right=width - 150, bottom=height - 62)
    x = Scale(0.0, max(max(all_x), 1.0), box.left, box.right)
    y = Scale(min(all_y) - 0.08 * span, max(all_y) + 0.08 * span, box.bottom, box.top)
    word = fmt.verdict_word(verdict) if verdict else None
    desc = (
        f"{', '.join(name for _, _, name, _ in lines)} after each of {int(max(all_x))} {unit}; bounds "
        f"{fmt.signed(bounds[0], 2)} and {fmt.signed(bounds[1], 2)}; "
        + (f"decided {word or ''} after {int(decided_at)} {unit}." if decided_at is not None else "no decision.")
    )
    parts = _open(width, height, "llr", title, desc, standalone)
    parts += _axes(box, x, y, unit, "log-likelihood ratio", lambda v: f"{v:g}", lambda v: f"{v:g}")
    for name, value, accepts in (("upper", bounds[1], "accept H1"), ("lower", bounds[0], "accept H0")):
        py = y(value)
        parts.append(
            f'<line class="bound {name}" x1="{_n(box.left)}" y1="{_n(py)}" x2="{_n(box.right)}" y2="{_n(py)}" '
            'stroke="#30343b" stroke-width="1.5" stroke-dasharray="7 4"/>'
        )
        parts.append(
            f'<text class="bound-label" x="{_n(box.right + 6)}" y="{_n(py + 1)}" fill="#30343b" font-size="11">'
            f"{_e(f'{name} bound {fmt.signed(value, 2)}')}"
            f'<tspan x="{_n(box.right + 6)}" dy="13" fill="#59606b">{accepts}</tspan></text>'
        )
    zero = y(0.0)
    parts.append(
        f'<line class="zero" x1="{_n(box.left)}" y1="{_n(zero)}" x2="{_n(box.right)}" y2="{_n(zero)}" '
        'stroke="#9aa0a8" stroke-width="1"/>'
    )
    for key, colour, name, values in lines:
        coordinates = " ".join(f"{_n(x(px))},{_n(y(py))}" for px, py in _thin(values, decided_at))
        dash = ' stroke-dasharray="6 3"' if key.endswith(".worse") else ""
        parts.append(
            f'<polyline class="llr llr-{_e(key)}" points="{coordinates}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}><title>{_e(name)}</title></polyline>'
        )
    if decided_at is not None:
        parts += _decision_marker(decided_at, word, unit, lines, x, y, box)
    legend = path.get("legend")
    if isinstance(legend, list) and legend:  # several candidates: one entry per candidate, not per line
        entries: list[tuple[str, str, str, list[tuple[float, float]]]] = [
            ("", CANDIDATE_COLOURS[index % len(CANDIDATE_COLOURS)], str(name), []) for index, name in enumerate(legend)
        ]
        entries.append(("", "#30343b", "solid: improvement test, dashed: regression test", []))
        parts += _llr_legend(entries, box)
    else:
        parts += _llr_legend(lines, box)
    parts.append("</svg>")
    return "\n".join(parts)


def _decision_marker(
    decided_at: float,
    word: str | None,
    unit: str,
    lines: Iterable[tuple[str, str, str, list[tuple[float, float]]]],
    x: Scale,
    y: Scale,
    box: Box,
) -> list[str]:
    px = x(decided_at)
    label = f"decided{' ' + word if word else ''} after {int(decided_at)} {unit}"
    anchor = "end" if px > (box.left + box.right) / 2 else "start"
    offset = -5 if anchor == "end" else 5
    parts = [
        '<g class="decision">',
        f'<line x1="{_n(px)}" y1="{_n(box.top)}" x2="{_n(px)}" y2="{_n(box.bottom)}" stroke="#6b4fbb" '
        'stroke-width="1.5" stroke-dasharray="3 3"/>',
        f'<text x="{_n(px + offset)}" y="{_n(box.top + 14)}" text-anchor="{anchor}" fill="#6b4fbb" '
        f'font-size="11" font-weight="600">{_e(label)}</text>',
    ]
    for _, colour, _, values in lines:
        at = [py for qx, py in values if qx == decided_at]
        if at:
            parts.append(
                f'<circle cx="{_n(px)}" cy="{_n(y(at[-1]))}" r="4.5" fill="{colour}" stroke="#ffffff" '
                'stroke-width="1.5"/>'
            )
    parts.append("</g>")
    return parts


def _llr_legend(lines: Sequence[tuple[str, str, str, list[tuple[float, float]]]], box: Box) -> list[str]:
    parts = [
        f'<g class="legend" font-size="11" fill="#30343b" transform="translate({_n(box.left)},{_n(box.bottom + 54)})">'
    ]
    offset = 0.0
    for _, colour, name, _ in lines:
        parts.append(
            f'<line x1="{_n(offset)}" y1="-4" x2="{_n(offset + 22)}" y2="-4" stroke="{colour}" stroke-width="2"/>'
        )
        parts.append(f'<text x="{_n(offset + 28)}" y="0">{_e(name)}</text>')
        offset += 40 + LABEL_CHAR_WIDTH * len(name)
    parts.append("</g>")
    return parts
