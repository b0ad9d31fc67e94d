"""Drive the real app in headless Debian Chromium: start it, open pages, time what a user waits for.

Used by ``bench_workspace`` (timings) and by ``tests/ui/test_browser.py`` (behaviour). Times
are taken inside the page, from the input event's own timestamp, so the driver's overhead
is not counted:

- *map updated*: the territory map finished applying the new state (its ``data-render-at``
  plus ``data-apply-ms``);
- *page settled*: the last change to the page's DOM before it stayed quiet for a second
  (the balance table, chart and side panel have all been redrawn).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
MAP_FRAME = "iframe[title*='territory_map']"
#: Records, in the page, the time of every click (capture phase) and of every DOM change.
RECORDER = """
() => {
  window.__clicks = [];
  window.__lastChange = Date.now();
  const at = e => Date.now() - (performance.now() - e.timeStamp);  // the event's time, epoch ms
  document.addEventListener('click', e => window.__clicks.push(at(e)), true);
  new MutationObserver(() => { window.__lastChange = Date.now(); })
    .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}
"""


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_app(
    store_url: str,
    *,
    timeout_s: float = 90.0,
    port: int | None = None,
    extra_args: tuple[str, ...] = (),
    demo_mode: bool = True,
) -> Iterator[str]:
    """Start ``streamlit run app.py`` with the plan store at ``store_url``; yield its URL.

    On ``port`` (default: a free one), with ``extra_args`` for streamlit (e.g. a secrets file),
    in demo mode unless ``demo_mode`` is False (``ui.identity``).
    """
    port = port or free_port()
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
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
            *extra_args,
        ],
        cwd=ROOT,
        env={**os.environ, "TERRAIN_DB_URL": store_url, "TERRAIN_DEMO_MODE": "1" if demo_mode else "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout_s
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    output = process.stdout.read().decode(errors="replace")[-2000:] if process.stdout else ""
                    raise RuntimeError(f"streamlit did not start: {output}") from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_for(predicate, timeout_s: float = 60.0, poll_s: float = 0.05):
    """Poll ``predicate`` until it returns a true value; return it (TimeoutError after ``timeout_s``)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):  # an element being redrawn by a rerun: look again
            value = predicate()
            if value:
                return value
        time.sleep(poll_s)
    raise TimeoutError(f"waited {timeout_s:.0f} s")


def map_renders(page) -> int:
    """How many times the territory map has applied a state from Python."""
    body = page.frame_locator(MAP_FRAME).first.locator("body")
    return int(body.get_attribute("data-renders") or 0)


def map_done_at(page) -> int:
    """Epoch milliseconds at which the map finished applying its last state."""
    body = page.frame_locator(MAP_FRAME).first.locator("body")
    return int(body.get_attribute("data-render-at") or 0) + int(body.get_attribute("data-apply-ms") or 0)


def open_workspace(page, url: str, timeout_s: float = 180.0) -> float:
    """Open the workspace; seconds until the map shows the territories (labels drawn)."""
    start = time.perf_counter()
    page.goto(f"{url}/workspace", wait_until="domcontentloaded")
    page.frame_locator(MAP_FRAME).first.locator(".territory-label").first.wait_for(timeout=timeout_s * 1000)
    seconds = time.perf_counter() - start
    page.evaluate(RECORDER)
    return seconds


def settle(page, quiet_s: float = 1.0, timeout_s: float = 60.0) -> int:
    """Wait until the page's DOM has not changed for ``quiet_s``; epoch ms of the last change."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = page.evaluate("window.__lastChange")
        now = page.evaluate("Date.now()")
        running = page.locator("[data-testid='stStatusWidget']").count()
        if now - last >= quiet_s * 1000 and not running:
            return int(last)
        time.sleep(0.1)
    raise TimeoutError("the page kept changing")


def timed_click(page, locator) -> tuple[float, float]:
    """Click ``locator`` and wait for the map to redraw and the page to settle.

    Returns (map updated, page settled), in seconds after the click event.
    """
    before = map_renders(page)
    settle(page)
    locator.click()
    wait_for(lambda: map_renders(page) > before)
    settled = settle(page)
    clicked = page.evaluate("window.__clicks[window.__clicks.length - 1]")
    return (map_done_at(page) - clicked) / 1000.0, (settled - clicked) / 1000.0
