"""The real pages in headless Debian Chromium: maps render offline, the selection tools select exactly.

Screenshots land in ``tests/artifacts/`` for a person to look at. Skipped where
/usr/bin/chromium is absent, except in CI (CI=true), where it must run. The app is
started and driven with :mod:`benchmarks.page`, as the workspace benchmark does.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import shapely

from benchmarks import page as driver

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = driver.CHROMIUM
CHROMIUM_ARGS = driver.CHROMIUM_ARGS
ARTIFACTS = ROOT / "tests" / "artifacts"

pytestmark = pytest.mark.browser
if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="needs Debian chromium at /usr/bin/chromium")]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "terrain.db"  # a fresh plan store, seeded with the demo
    with driver.running_app(f"sqlite:///{store}") as url:
        yield url


def test_overview_map_renders_offline_in_chromium(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested_hosts: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.on("request", lambda request: requested_hosts.add(urlparse(request.url).hostname or ""))
        page.goto(app_url, wait_until="domcontentloaded")
        page.get_by_text("Data overview").first.wait_for(timeout=60_000)
        frame = page.frame_locator(driver.MAP_FRAME).first
        frame.locator(".territory-label").first.wait_for(timeout=120_000)
        time.sleep(2)  # let the canvas finish drawing ~3,100 polygons
        drawn = painted_share(frame.locator("#map").screenshot())
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=False)
        browser.close()
    assert drawn > 0.3, f"the map's polygons cover only {drawn:.0%} of the map"
    assert requested_hosts <= {"127.0.0.1", ""}, f"the page fetched from {requested_hosts}"


def painted_share(png: bytes) -> float:
    """Share of a map screenshot's pixels that are not the map's background (#eef3f7)."""
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    background = np.array([0xEE, 0xF3, 0xF7])
    return float((np.abs(pixels - background).sum(axis=2) > 12).mean())


def load_layer(url_path: str) -> tuple[list[str], list, np.ndarray]:
    """Unit ids, shapely polygons and inside points (lon, lat) of the map's polygon file."""
    layer = json.loads((ROOT / "static" / url_path.removeprefix("/app/static/")).read_text())

    def ring(flat: list[float]) -> np.ndarray:
        return np.reshape(flat, (-1, 2))[:, ::-1]  # the file holds lat, lon

    polygons = [
        shapely.MultiPolygon([shapely.Polygon(ring(part[0]), [ring(r) for r in part[1:]]) for part in shape])
        for shape in layer["shapes"]
    ]
    return layer["ids"], polygons, ring(layer["points"])


def on_map(frame, expression: str):
    """Evaluate JavaScript ``expression`` inside the map's frame, with ``m`` the map's state."""
    return frame.locator("body").evaluate(f"() => {{ const m = window.terrainMap; return {expression}; }}")


def map_selection(frame, ids: list[str]) -> set[str]:
    return {ids[u] for u in on_map(frame, "[...m.selected]")}


def drawn(frame) -> list[tuple[float, float]]:
    """Lon/lat of the last click, or the corners of the last shape, as the map received them."""
    return [(lng, lat) for lat, lng in on_map(frame, "m.lastShape")]


def pixels(frame, lonlats: list[tuple[float, float]]) -> np.ndarray:
    """Page pixels of ``lonlats`` on the map now."""
    box = frame.locator("#map").bounding_box()
    points = on_map(
        frame, f"{[[lat, lng] for lng, lat in lonlats]}.map(p => m.map.latLngToContainerPoint(p))"
    )
    return np.array([[box["x"] + 1 + p["x"], box["y"] + 1 + p["y"]] for p in points])  # 1 px border


def inside(shape: shapely.Geometry, ids: list[str], points: np.ndarray) -> set[str]:
    return {ids[i] for i in np.flatnonzero(shapely.contains_xy(shape, points[:, 0], points[:, 1]))}


def drag(page, path: list[tuple[float, float]], *, shift: bool = False) -> None:
    """Press at the first point, move through the others, release at the last."""
    if shift:
        page.keyboard.down("Shift")
    page.mouse.move(*path[0])
    page.mouse.down()
    for point in path[1:]:
        page.mouse.move(*point, steps=3)
    page.mouse.up()
    if shift:
        page.keyboard.up("Shift")


def test_workspace_selection_tools_select_exactly_what_they_say_every_time(app_url):
    """Click, rectangle, lasso and polygon, five times each at other places: 20 of 20, no retries."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested_hosts: set[str] = set()
    failed: list[str] = []
    outcomes = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 1600})
        page.on("request", lambda request: requested_hosts.add(urlparse(request.url).hostname or ""))
        page.on("requestfailed", lambda request: failed.append(request.url))
        driver.open_workspace(page, app_url)
        frame = page.frame_locator(driver.MAP_FRAME).first
        ids, polygons, points = load_layer(on_map(frame, "m.url"))
        side = page.get_by_text(re.compile(r"^\d+ unit\(s\) selected"))
        labels_shown = frame.locator(".territory-label").evaluate_all(
            "els => els.filter(e => getComputedStyle(e).visibility === 'visible').length"
        )
        colours = frame.locator(".leaflet-overlay-pane canvas").first.evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " const seen = new Map(); let total = 0;"
            " for (let i = 0; i < d.length; i += 4 * 7) { if (d[i + 3] < 180) continue; total++;"
            "  const k = (d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4);"
            "  seen.set(k, (seen.get(k) || 0) + 1); }"
            " return [...seen.values()].filter(n => n > 0.002 * total).length; }"
        )

        def px(fx: float, fy: float) -> tuple[float, float]:
            """A point of the map, where the user sees it once the page is idle."""
            driver.settle(page, quiet_s=0.5)
            box = frame.locator("#map").bounding_box()
            return box["x"] + box["width"] * fx, box["y"] + box["height"] * fy

        def check(tool: str, pointer: list, expected: set[str], *, ends_only: bool = False) -> None:
            """The map received the pointer where it was and selected ``expected`` (what is inside)."""
            got = map_selection(frame, ids)
            received = pixels(frame, drawn(frame))
            if ends_only:
                received = received[[0, -1]]
            where = len(received) == len(pointer) and np.abs(received - np.array(pointer)).max() < 2.0
            # Python got the same selection: the side panel counts it.
            synced = driver.wait_for(lambda: side.first.inner_text().startswith(f"{len(got)} unit(s) "), 30)
            outcomes.append(
                (tool, bool(got) and got == expected and synced and where, len(got), len(expected))
            )

        for k in range(5):
            dx = 0.08 * k
            frame.get_by_role("button", name="Clear").click()
            frame.get_by_role("button", name="Click").click()
            pointer = [px(0.30 + dx, 0.40)]
            page.mouse.click(*pointer[0])
            under = shapely.Point(drawn(frame)[0])
            check("click", pointer, {ids[i] for i, polygon in enumerate(polygons) if polygon.contains(under)})

            frame.get_by_role("button", name="Rectangle").click()
            (x0, y0), (x1, y1) = px(0.25 + dx, 0.30), px(0.33 + dx, 0.45)
            drag(page, [(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
            check(
                "rectangle",
                [(x0, y1), (x0, y0), (x1, y0), (x1, y1)],
                inside(shapely.Polygon(drawn(frame)), ids, points),
            )

            frame.get_by_role("button", name="Lasso").click()
            path = [
                px(0.30 + dx + 0.06 * np.cos(a), 0.62 + 0.08 * np.sin(a)) for a in np.linspace(0, 6.0, 24)
            ]
            drag(page, path)
            check(
                "lasso",
                [path[0], path[-1]],
                inside(shapely.Polygon(drawn(frame)), ids, points),
                ends_only=True,
            )

            frame.get_by_role("button", name="Polygon").click()
            corners = [px(0.52 + dx / 2, 0.30), px(0.60 + dx / 2, 0.33), px(0.58 + dx / 2, 0.46)]
            corners.append(px(0.50 + dx / 2, 0.42))
            for corner in corners[:-1]:
                page.mouse.click(*corner)
            page.mouse.dblclick(*corners[-1])
            check("polygon", corners, inside(shapely.Polygon(drawn(frame)), ids, points))

        # Shift adds to the selection; Move then gives every selected unit the chosen territory.
        before = map_selection(frame, ids)
        frame.get_by_role("button", name="Rectangle").click()
        (x0, y0), (x1, y1) = px(0.70, 0.35), px(0.76, 0.45)
        drag(page, [(x0, y0), (x1, y1)], shift=True)
        added = inside(shapely.Polygon(drawn(frame)), ids, points)
        union = map_selection(frame, ids)
        driver.wait_for(lambda: side.first.inner_text().startswith(f"{len(union)} unit(s) "), 30)
        renders = driver.map_renders(page)
        page.get_by_role("button", name="Move selection").click()
        driver.wait_for(lambda: page.get_by_text(re.compile(r"Step 2 of 2")).count(), 60)
        driver.wait_for(lambda: driver.map_renders(page) > renders, 60)
        moved_to = on_map(frame, "[...m.selected].map(u => m.territories[m.territoryOf[u]])")
        # Find a unit by name: picking a match adds it to the selection.
        frame.get_by_role("button", name="Clear").click()
        frame.locator("#find").fill("Cook County, IL (17031)")
        found = driver.wait_for(lambda: map_selection(frame, ids), 10)
        driver.settle(page)
        page.screenshot(path=str(ARTIFACTS / "workspace.png"), full_page=True)
        browser.close()
    failures = [o for o in outcomes if not o[1]]
    assert len(outcomes) == 20 and not failures, failures
    assert added - before and union == before | added
    assert len(moved_to) == len(union) and len(set(moved_to)) == 1
    assert found == {"17031"}
    assert labels_shown >= 20, f"only {labels_shown} territory labels are visible"
    assert colours >= 8, f"the map shows {colours} distinct fill colours; expected most of the palette"
    assert requested_hosts <= {"127.0.0.1", ""}, f"the page fetched from {requested_hosts}"
    assert not failed, f"requests failed: {failed}"


CHART_PAGES = {
    # url path: (title text, text the page shows once its data is in, least number of charts)
    "quotas": ("Quotas", "Sum of quotas", 0),
    "approvals": ("Approvals", "Pending proposals (1)", 1),
    "forecast": ("Forecast", "Backtest: the chosen models against seasonal naive", 1),
    "capacity": ("Capacity", "Base case by month", 1),
    "comp": ("Comp", "What if I close this deal?", 2),
    "exports": ("Exports", "Change report", 0),
}


@pytest.mark.parametrize("path", sorted(CHART_PAGES))
def test_chart_pages_render_offline_without_errors(app_url, path):
    from playwright.sync_api import sync_playwright

    title, ready_text, least_charts = CHART_PAGES[path]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested_hosts: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.on("request", lambda request: requested_hosts.add(urlparse(request.url).hostname or ""))
        page.goto(f"{app_url}/{path}", wait_until="domcontentloaded")
        page.get_by_role("heading", name=title).first.wait_for(timeout=120_000)
        page.get_by_text(ready_text).first.wait_for(timeout=180_000)
        if least_charts:
            page.locator(".vega-embed canvas, .vega-embed svg").first.wait_for(timeout=60_000)
        time.sleep(2)  # let charts finish drawing
        charts = page.locator(".vega-embed").count()
        errors = page.locator("[data-testid='stException']").count()
        page.screenshot(path=str(ARTIFACTS / f"{path}.png"), full_page=True)
        browser.close()
    assert errors == 0, f"the {path} page shows an exception"
    assert charts >= least_charts, f"the {path} page drew {charts} chart(s), expected {least_charts}+"
    assert requested_hosts <= {"127.0.0.1", ""}, f"the page fetched from {requested_hosts}"
