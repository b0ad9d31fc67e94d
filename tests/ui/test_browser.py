"""The real page in headless Debian Chromium: the map renders offline; a screenshot is kept.

The screenshot lands in ``tests/artifacts/overview.png`` for a person to look at.
Skipped where /usr/bin/chromium is absent, except in CI (CI=true), where it must run.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]

pytestmark = pytest.mark.browser
if not Path(CHROMIUM).exists() and os.environ.get("CI") != "true":
    pytestmark = [pytest.mark.browser, pytest.mark.skip(reason="needs Debian chromium at /usr/bin/chromium")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    store = tmp_path_factory.mktemp("store") / "terrain.db"  # a fresh plan store, seeded with the demo
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--server.enableStaticServing",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        env={**os.environ, "TERRAIN_DB_URL": f"sqlite:///{store}"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("streamlit did not start: " + process.stdout.read().decode(errors="replace")[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=20)


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
        frame = page.frame_locator("iframe[title*='streamlit_folium']").first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        frame.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=60_000)
        time.sleep(2)  # let the canvas finish drawing ~3,100 polygons
        drawn = frame.locator(".leaflet-overlay-pane canvas").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;"
            " return n / (d.length / 4); }"
        )
        page.screenshot(path=str(ARTIFACTS / "overview.png"), full_page=False)
        browser.close()
    assert drawn > 0.2, f"only {drawn:.0%} of the map canvas is painted"
    assert requested_hosts <= {"127.0.0.1", ""}, f"the page fetched from {requested_hosts}"


def wait_until_map_settles(page, frame, timeout_s: float = 30.0) -> None:
    """Wait until the map iframe and its canvas stop changing (Streamlit rerun and redraw done)."""
    checksum = (
        "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " let s = c.width * 7 + c.height;"
        " for (let i = 0; i < d.length; i += 4 * 97)"
        "  s = (s * 31 + d[i] + d[i + 1] + d[i + 2] + d[i + 3]) % 1000000007;"
        " return s; }"
    )
    deadline, last = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        time.sleep(1.0)
        try:
            now = frame.locator(".leaflet-overlay-pane canvas").first.evaluate(checksum, timeout=5_000)
        except Exception:  # the iframe is being replaced by a rerun: look again
            last = None
            continue
        if now == last and page.locator("[data-testid='stStatusWidget']").count() == 0:
            return
        last = now


def wait_for_new_text(locator, old: str, timeout_s: float = 60.0) -> str:
    """The locator's text once it differs from ``old`` (or ``old`` after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            text = locator.inner_text(timeout=5_000)
        except Exception:  # re-rendered by a rerun: look again
            text = old
        if text != old:
            return text
        time.sleep(0.5)
    return old


def test_workspace_map_renders_offline_with_draw_toolbar(app_url):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    requested_hosts: set[str] = set()
    failed: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 2700})
        page.on("request", lambda request: requested_hosts.add(urlparse(request.url).hostname or ""))
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto(f"{app_url}/workspace", wait_until="domcontentloaded")
        page.get_by_text("Territory workspace").first.wait_for(timeout=60_000)
        frame = page.frame_locator("iframe[title*='streamlit_folium']").first
        frame.locator(".leaflet-container").wait_for(timeout=60_000)
        frame.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=60_000)
        frame.locator(".leaflet-draw").wait_for(timeout=30_000)
        draw_buttons = frame.locator(".leaflet-draw-draw-rectangle, .leaflet-draw-draw-polygon").count()
        # The demo's plan was drawn over corners: on shared borders some territories are in pieces.
        page.get_by_text("Territories in more than one piece").wait_for(timeout=60_000)
        time.sleep(3)  # let the canvas finish drawing ~3,100 polygons
        drawn = frame.locator(".leaflet-overlay-pane canvas").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;"
            " return n / (d.length / 4); }"
        )
        # Distinct fill colours (quantised) covering at least 0.2% of the painted samples each.
        colours = frame.locator(".leaflet-overlay-pane canvas").evaluate(
            "c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
            " const seen = new Map(); let total = 0;"
            " for (let i = 0; i < d.length; i += 4 * 7) { if (d[i + 3] < 180) continue; total++;"
            "  const k = (d[i] >> 4) + ',' + (d[i + 1] >> 4) + ',' + (d[i + 2] >> 4);"
            "  seen.set(k, (seen.get(k) || 0) + 1); }"
            " return [...seen.values()].filter(n => n > 0.002 * total).length; }"
        )
        sprite = frame.locator(".leaflet-draw-draw-rectangle").evaluate(
            "a => getComputedStyle(a).backgroundImage"
        )
        # Click a unit in the middle of the country: it becomes the selection. On a loaded
        # machine a click that lands while the map is still drawing can be lost: wait until
        # the map stops changing, and click again if no selection shows up.
        box = page.locator("iframe[title*='streamlit_folium']").first.bounding_box()
        one_selected = page.get_by_text(re.compile(r"^1 unit\(s\) selected"))
        for _ in range(3):
            wait_until_map_settles(page, frame)
            page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
            try:
                one_selected.wait_for(timeout=30_000)
                break
            except PlaywrightTimeout:  # the click was lost: try again
                continue
        one_selected.wait_for(timeout=30_000)
        # Draw a rectangle over the Plains: the units whose centroid is inside become the selection.
        # On a loaded machine the map may still be redrawing the first selection when the drag
        # starts (the drag then lands on the old map): wait until the map stops changing, and
        # draw again if the drag still selected too little.
        x0, y0 = box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.35
        selection = page.get_by_text(re.compile(r"^\d+ unit\(s\) selected")).first
        selected_text = selection.inner_text()
        for _ in range(4):
            wait_until_map_settles(page, frame)
            frame.locator(".leaflet-draw-draw-rectangle").click()
            frame.locator(".leaflet-draw-actions a").first.wait_for(timeout=10_000)  # the tool is active
            time.sleep(1)  # a drag started at once is sometimes taken as a click on a unit
            page.mouse.move(x0, y0)
            page.mouse.down()
            time.sleep(0.3)
            page.mouse.move(x0 + 60, y0 + 40, steps=15)
            page.mouse.move(x0 + 120, y0 + 80, steps=15)
            time.sleep(0.3)
            page.mouse.up()
            selected_text = wait_for_new_text(selection, selected_text)
            if int(selected_text.split()[0]) > 20:
                break
        wait_until_map_settles(page, frame)  # the selection is redrawn on the map
        page.screenshot(path=str(ARTIFACTS / "workspace.png"), full_page=True)
        browser.close()
    assert int(selected_text.split()[0]) > 20, selected_text
    assert draw_buttons == 2  # rectangle and polygon, nothing else
    assert "/app/static/leaflet-draw/images/spritesheet" in sprite
    assert drawn > 0.2, f"only {drawn:.0%} of the map canvas is painted"
    assert colours >= 8, (
        f"the map shows {colours} distinct fill colours; expected most of the 10-colour palette"
    )
    assert requested_hosts <= {"127.0.0.1", ""}, f"the page fetched from {requested_hosts}"
    assert not [url for url in failed if "/app/static/" in url], f"static files failed to load: {failed}"


CHART_PAGES = {
    # url path: (title text, text the page shows once its data is in, least number of charts)
    "quotas": ("Quotas", "Sum of quotas", 0),
    "approvals": ("Approvals", "Pending proposals (1)", 1),
    "forecast": ("Forecast", "Backtest: model vs seasonal naive", 1),
    "capacity": ("Capacity", "Base case by month", 1),
    "comp": ("Comp", "What if I close this deal?", 0),
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
