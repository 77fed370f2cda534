"""The HTML report of real runs (four configs) opens in headless Chromium with no network; its Pareto chart shows.

The page is shot twice: as written, and with the Pareto chart's drawing removed (an empty SVG of the same size, so
nothing else moves). The pixels that differ are the chart: there must be many, spread over a chart-sized box, in
the colours of the front's markers and of the shaded KPI region.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from pytest_agentopt.report.render.svg import FRONT_COLOUR
from tests.render.e2e_suite import run_suite, write_suite
from tests.render.png import decode_png


def chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot(browser: str, page: Path, tmp_path: Path, name: str) -> npt.NDArray[np.uint8]:
    png = tmp_path / f"{name}.png"
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # any attempt to reach a host would fail
        f"--user-data-dir={tmp_path / f'profile-{name}'}",
        f"--screenshot={png}",
        "--window-size=1200,2400",
        page.as_uri(),
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert png.is_file(), completed.stderr[-2000:]
    return decode_png(png.read_bytes())[:, :, :3]


def rgb(colour: str) -> npt.NDArray[np.int16]:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.int16)


def near(image: npt.NDArray[np.uint8], colour: npt.NDArray[np.int16], tolerance: int) -> npt.NDArray[np.bool_]:
    return bool_array(np.abs(image.astype(np.int16) - colour).max(axis=2) <= tolerance)


def bool_array(value: object) -> npt.NDArray[np.bool_]:
    return np.asarray(value, dtype=np.bool_)


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt-get install chromium)")
def test_the_pareto_chart_is_visible_in_headless_chromium(pytester: pytest.Pytester, tmp_path: Path) -> None:
    browser = chromium()
    assert browser is not None
    write_suite(pytester)
    assert run_suite(pytester, "improved", "--agent-trials=6", "--agent-seed=5").ret == pytest.ExitCode.OK
    page = pytester.path / "report.html"
    result = run_suite(pytester, "pricey_improved", "--agent-trials=6", "--agent-seed=6", f"--agent-html={page}")
    assert result.ret == pytest.ExitCode.OK
    html = page.read_text(encoding="utf-8")
    assert html.count('<g class="point ') == 4
    blank = tmp_path / "blank.html"
    chart = re.search(r'<svg class="chart pareto-chart"[^>]*>.*?</svg>', html, re.S)
    assert chart is not None
    opening = re.match(r"<svg[^>]*>", chart.group(0))
    assert opening is not None
    blank.write_text(html.replace(chart.group(0), opening.group(0) + "</svg>"), encoding="utf-8")

    shot = screenshot(browser, page, tmp_path, "report")
    without = screenshot(browser, blank, tmp_path, "blank")
    assert shot.shape == without.shape == (2400, 1200, 3)

    changed = np.argwhere((shot != without).any(axis=2))
    assert len(changed) > 5_000  # the chart drew a lot of pixels
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    assert right - left > 500  # as wide and as tall as the chart (760 x 480 CSS pixels)
    assert bottom - top > 300
    region = shot[top : bottom + 1, left : right + 1]
    front_markers = near(region, rgb(FRONT_COLOUR), 12).sum()
    assert front_markers > 100  # the filled front markers and their error bars
    kpi_shading = near(region, np.array([226, 241, 232], dtype=np.int16), 4).sum()  # #2e9e5b at 14% on white
    assert kpi_shading > 2_000


def png_bytes(image: npt.NDArray[np.uint8], filters: list[int]) -> bytes:
    """Encode ``image`` (height, width, 3) with the given filter type on each row (for testing the decoder)."""
    height, width, bpp = image.shape
    rows = image.reshape(height, width * bpp).astype(np.int32)
    raw = bytearray()
    previous = np.zeros(width * bpp, dtype=np.int32)
    for y, kind in enumerate(filters):
        row = rows[y]
        left = np.concatenate([np.zeros(bpp, dtype=np.int32), row[:-bpp]])
        corner = np.concatenate([np.zeros(bpp, dtype=np.int32), previous[:-bpp]])
        if kind == 0:
            predicted = np.zeros_like(row)
        elif kind == 1:
            predicted = left
        elif kind == 2:
            predicted = previous
        elif kind == 3:
            predicted = (left + previous) // 2
        else:
            estimate = left + previous - corner
            pa, pb, pc = np.abs(estimate - left), np.abs(estimate - previous), np.abs(estimate - corner)
            predicted = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, previous, corner))
        raw.append(kind)
        raw += ((row - predicted) % 256).astype(np.uint8).tobytes()
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b"")
    )


def test_the_png_decoder_reverses_every_filter_type() -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(10, 7, 3), dtype=np.uint8)
    filters = [0, 1, 2, 3, 4, 4, 3, 2, 1, 0]
    assert np.array_equal(decode_png(png_bytes(image, filters)), image)
