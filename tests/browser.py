"""Headless Chromium driven over the DevTools protocol: open a page, record what it did, measure, screenshot.

Used by the report's real-browser test and to make the README's screenshot:

    python -m tests.browser out/sample/report.html docs/report-sample.png --height 2300 --scale 0.5

Only the system's Chromium is used (Debian's ``chromium``; ``ADJUDICATOR_CHROMIUM``
names another binary); nothing is downloaded. The page runs in a fresh profile in
a temporary folder, and the browser process started here is the one stopped here.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
STARTUP_SECONDS = 60
WIDTH = 1200
HEIGHT = 900

# every chart's rendered box, and how many marks (bars, cells, text) it drew
MEASURE_CHARTS = """
JSON.stringify([...document.querySelectorAll('[data-chart]')].map(figure => {
  const svg = figure.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {name: figure.dataset.chart, width: box.width, height: box.height,
          marks: svg ? svg.querySelectorAll('path, rect, text').length : 0};
}))
"""


# the layout box of each element a CSS selector matches, as the first screen shows it (before any scroll), and
# whether its content overflows it
MEASURE_BOXES = """
JSON.stringify(Object.fromEntries(%s.map(selector => [selector,
  [...document.querySelectorAll(selector)].map(e => {
    const box = e.getBoundingClientRect();
    return {top: box.top, left: box.left, bottom: box.bottom, right: box.right, width: box.width,
            height: box.height, overflows: e.scrollWidth > e.clientWidth + 1, text: e.innerText.slice(0, 80)};
  })])))
"""


def find_chromium() -> str | None:
    """The Chromium binary to use: ``ADJUDICATOR_CHROMIUM``, else the first candidate on PATH."""
    named = os.environ.get("ADJUDICATOR_CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageVisit:
    """What a page did while loading: requests, console errors, its charts' sizes, a screenshot."""

    url: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    screenshot: bytes = b""
    #: per CSS selector asked for, the boxes of the elements it matched (``MEASURE_BOXES``)
    boxes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class DevTools:
    """One page target's DevTools websocket: commands by id; events kept as they arrive."""

    def __init__(self, ws_url: str, *, timeout: float = 30.0) -> None:
        import websocket  # the websocket-client package (test extra)

        self.ws = websocket.create_connection(ws_url, timeout=timeout, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        self.timeout = timeout

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"{method}: no answer in {self.timeout}s")

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for seen in self.events:
                if seen["method"] == event:
                    return seen
            message = json.loads(self.ws.recv())
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {event} in {self.timeout}s")

    def close(self) -> None:
        self.ws.close()


@contextlib.contextmanager
def chromium(binary: str) -> Iterator[int]:
    """Start headless Chromium in a fresh profile; yields its DevTools port; stops that process at the end."""
    # Chromium's helper processes may still write to the profile while it is removed: a leftover file is no
    # failure of the page under test
    with tempfile.TemporaryDirectory(prefix="adjudicator-chromium-", ignore_cleanup_errors=True) as profile:
        log = Path(profile) / "chromium.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    binary,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--remote-debugging-port=0",
                    "--remote-allow-origins=*",
                    f"--user-data-dir={profile}",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--hide-scrollbars",
                    "about:blank",
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group: stopped with its helpers, below
            )
        try:
            active = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + STARTUP_SECONDS
            while not (active.is_file() and active.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log.read_text(errors="replace")[-800:]
                    raise RuntimeError(f"{binary} did not start (exit {process.poll()}): {tail}")
                time.sleep(0.1)
            yield int(active.read_text().split()[0])
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def visit(
    binary: str,
    page: Path,
    *,
    height: int | None = None,
    scale: float = 1.0,
    width: int = WIDTH,
    viewport_height: int = HEIGHT,
    boxes: tuple[str, ...] = (),
) -> PageVisit:
    """Open ``page`` in headless Chromium; record its requests and console errors, measure charts, screenshot.

    ``height``: the screenshot's height in CSS pixels (default: the whole page); ``scale``: of the image;
    ``width`` x ``viewport_height``: the window; ``boxes``: CSS selectors whose elements' boxes to measure.
    """
    url = page.resolve().as_uri()
    result = PageVisit(url=url)
    with chromium(binary) as port:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as answer:
            target = json.loads(answer.read())
        tools = DevTools(target["webSocketDebuggerUrl"])
        try:
            for domain in ("Page", "Network", "Runtime", "Log"):
                tools.send(f"{domain}.enable")
            tools.send(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=viewport_height,
                deviceScaleFactor=1,
                mobile=False,
            )
            tools.send("Page.navigate", url=url)
            tools.wait_for("Page.loadEventFired")
            evaluated = tools.send("Runtime.evaluate", expression=MEASURE_CHARTS, returnByValue=True)
            result.charts = json.loads(evaluated["result"]["value"])
            if boxes:
                measured = tools.send(
                    "Runtime.evaluate", expression=MEASURE_BOXES % json.dumps(list(boxes)), returnByValue=True
                )
                result.boxes = json.loads(measured["result"]["value"])
            resources = tools.send(
                "Runtime.evaluate",
                expression="JSON.stringify(performance.getEntriesByType('resource').map(e => e.name))",
                returnByValue=True,
            )
            full = tools.send("Page.getLayoutMetrics")["cssContentSize"]
            shot = tools.send(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={
                    "x": 0,
                    "y": 0,
                    "width": width,
                    "height": min(height or full["height"], full["height"]),
                    "scale": scale,
                },
            )
            result.screenshot = base64.b64decode(shot["data"])
        finally:
            tools.close()
    for event in tools.events:
        method, params = event["method"], event.get("params", {})
        if method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            result.errors.append(f"console.{params['type']}: {params.get('args')}")
        elif method == "Runtime.exceptionThrown":
            result.errors.append(f"exception: {params.get('exceptionDetails')}")
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            result.errors.append(f"log: {params['entry'].get('text')} {params['entry'].get('url', '')}")
    result.requests += json.loads(resources["result"]["value"])
    return result


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("page", type=Path)
    args.add_argument("png", type=Path)
    args.add_argument("--height", type=int, default=None, help="screenshot height in CSS pixels (default: all)")
    args.add_argument("--scale", type=float, default=1.0, help="screenshot scale (default 1)")
    args.add_argument("--width", type=int, default=WIDTH, help=f"window width in CSS pixels (default {WIDTH})")
    ns = args.parse_args()
    binary = find_chromium()
    if binary is None:
        raise SystemExit("no Chromium found: apt-get install chromium, or set ADJUDICATOR_CHROMIUM")
    seen = visit(binary, ns.page, height=ns.height, scale=ns.scale, width=ns.width)
    ns.png.write_bytes(seen.screenshot)
    print(json.dumps({"requests": seen.requests, "errors": seen.errors, "charts": seen.charts}, indent=1))


if __name__ == "__main__":
    main()
