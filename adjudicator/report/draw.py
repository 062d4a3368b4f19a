"""Drawing a report's charts in a child process, bounded in time: ``ChartRenderer`` and ``draw_charts``.

The renderer (``vl-convert``, a JavaScript engine) is the most fragile thing a
run loads: a panic in it aborts the process it runs in, it cannot start under
a ``ulimit -v``, and it cannot be stopped mid-chart. So it never runs in the
run's process. A page is built with a placeholder per chart (``chart_slot``);
``draw_charts`` sends every chart of the page to one child interpreter
(started isolated, ``-I``: nothing of the working folder or the environment
is imported), waits at most ``CHART_TIME_LIMIT_S`` and puts the SVGs in place.
When the child fails, times out or cannot start, the figures are left out and
the page says in one line that the charts could not be drawn
(``Drawn.problem``): its tables hold every figure anyway. A stop signal while
it waits kills the child.

A run starts its child as it starts (``ChartRenderer.warm_up``), so the
engine's start overlaps the run; the child then waits for the charts on its
standard input.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from adjudicator.report.chart_text import safe_text
from adjudicator.report.html import CHARTS_NOTE, _esc

#: the longest a report waits for its charts; past it the report is published without them
CHART_TIME_LIMIT_S: Final = 30.0

#: the child: the engine started and warmed on one small chart, then the page's specs (a JSON list on stdin)
#: drawn in order, the SVGs written as a JSON list on stdout; no spec (stdin closed) ends it quietly
_CHILD: Final = """
import json, sys
import vl_convert
vl_convert.vegalite_to_svg({"mark": "point", "data": {"values": [{}]}}, allowed_base_urls=[])
specs = json.loads(sys.stdin.buffer.read() or b"null")
if specs is not None:
    svgs = [vl_convert.vegalite_to_svg(spec, allowed_base_urls=[]) for spec in specs]
    sys.stdout.write(json.dumps(svgs))
"""

_SLOT: Final = re.compile(r"<!--chart:([A-Za-z0-9+/=]*)-->")
#: a figure as ``chart_slot`` writes it (its caption is escaped text: it holds no "<")
_FIGURE: Final = re.compile(
    r'<figure class="chart" data-chart="[^"]*"><!--chart:[A-Za-z0-9+/=]*--><figcaption>[^<]*'
    r"</figcaption></figure>"
)
_SVG_ID: Final = re.compile(r'\bid="([^"]+)"')
_SVG_REF: Final = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


class ChartsNotDrawn(Exception):
    """The child could not draw the charts; ``problem`` says why in one line."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(problem)


class ChartRenderer:
    """One child interpreter that draws one page's charts (``render``); started early by ``warm_up`` or on
    first use, killed by ``close`` (and after ``render``, whatever happened)."""

    def __init__(self, *, limit_s: float = CHART_TIME_LIMIT_S, command: Sequence[str] | None = None) -> None:
        self.limit_s = limit_s
        self.command = list(command) if command is not None else [sys.executable, "-I", "-c", _CHILD]
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._failed: str | None = None

    def warm_up(self) -> None:
        """Start the child now, so that its engine is ready when the report is drawn (a failure to start is
        reported by ``render``)."""
        with self._lock:
            if self._child is None and self._failed is None:
                try:
                    self._child = subprocess.Popen(
                        self.command,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE,
                        # its own session: Ctrl-C at a terminal reaches the run, which kills the child
                        start_new_session=True,
                    )
                except (OSError, ValueError) as exc:
                    self._failed = f"the renderer could not start ({safe_text(str(exc)) or type(exc).__name__})"

    def render(self, specs: Sequence[dict[str, Any]]) -> list[str]:
        """The SVG of each spec, in order; raises ``ChartsNotDrawn``. The child is used once."""
        self.warm_up()
        with self._lock:
            child, self._child = self._child, None
            failed = self._failed
        if child is None:
            raise ChartsNotDrawn(failed or "the renderer could not start")
        try:
            try:
                out, err = child.communicate(json.dumps(list(specs)).encode(), timeout=self.limit_s)
            except subprocess.TimeoutExpired:
                raise ChartsNotDrawn(f"the renderer took more than {self.limit_s:g} s") from None
            if child.returncode != 0:
                raise ChartsNotDrawn(_failure(child.returncode, err))
            try:
                svgs = json.loads(out)
            except ValueError:
                raise ChartsNotDrawn("the renderer's answer could not be read") from None
            if not isinstance(svgs, list) or len(svgs) != len(specs) or not all(isinstance(s, str) for s in svgs):
                raise ChartsNotDrawn("the renderer's answer could not be read")
            return svgs
        finally:
            _end(child)

    def close(self) -> None:
        """Kill the child if it runs (a run that ends before its report, or is stopped)."""
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            _end(child)


def _end(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.kill()
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()


def _failure(returncode: int, err: bytes) -> str:
    """The child's failure in one line: the signal that ended it or its exit status, and its last words."""
    if returncode < 0:
        try:
            how = f"the renderer was ended by {signal.Signals(-returncode).name}"
        except ValueError:
            how = f"the renderer was ended by signal {-returncode}"
    else:
        how = f"the renderer failed (exit status {returncode})"
    lines = [line.strip("# \t") for line in err.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    # a Python error ends its traceback; a V8 or Rust abort opens with what went wrong, then a stack trace
    said = (lines[-1] if lines[0].startswith("Traceback") else lines[0]) if lines else ""
    said = safe_text(said)[:200]
    return f"{how}: {said}" if said else how


def chart_slot(name: str, caption: str, spec: dict[str, Any]) -> str:
    """A figure with a placeholder for ``spec``'s SVG, filled by ``draw_charts``; ``data-chart`` names it."""
    payload = base64.b64encode(json.dumps({"name": name, "spec": spec}).encode()).decode()
    return (
        f'<figure class="chart" data-chart="{_esc(name)}"><!--chart:{payload}-->'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


@dataclass(frozen=True)
class Drawn:
    """A page with its charts drawn, or without them and saying so (``problem``: why, None when drawn)."""

    html: str
    problem: str | None

    def record(self) -> dict[str, Any]:
        """What a manifest records of the report's charts."""
        if self.problem is None:
            return {"charts": "drawn"}
        return {"charts": "not drawn", "problem": self.problem}


def draw_charts(page: str, renderer: ChartRenderer | None = None) -> Drawn:
    """``page`` with every chart placeholder replaced by its SVG, all drawn by one child (``renderer``, or a
    new one); when they cannot be drawn, without the figures and with one line saying so."""
    payloads = [json.loads(base64.b64decode(m.group(1))) for m in _SLOT.finditer(page)]
    own = renderer is None
    renderer = renderer or ChartRenderer()
    try:
        svgs = renderer.render([p["spec"] for p in payloads]) if payloads else []
    except ChartsNotDrawn as exc:
        note = (
            f'<p class="alert" id="charts-not-drawn">The charts could not be drawn: {_esc(exc.problem)}. '
            "Every figure is in the tables.</p>"
        )
        return Drawn(_FIGURE.sub("", page).replace(CHARTS_NOTE, note, 1), exc.problem)
    finally:
        if own or not payloads:
            renderer.close()
    drawn = iter(_renamed(p["name"], svg) for p, svg in zip(payloads, svgs, strict=True))
    return Drawn(_SLOT.sub(lambda _: next(drawn), page).replace(CHARTS_NOTE, "", 1), None)


def _renamed(name: str, svg: str) -> str:
    # several SVGs share one document, so ids (clip paths, gradients) must not collide between charts; and
    # the renderer numbers them per process, so they are renamed in order to keep the page reproducible
    renamed = {ident: f"{name}-{i}" for i, ident in enumerate(dict.fromkeys(_SVG_ID.findall(svg)))}
    return _SVG_REF.sub(lambda m: m.group(1) + renamed.get(m.group(2), m.group(2)), svg)


__all__ = ["CHART_TIME_LIMIT_S", "ChartRenderer", "ChartsNotDrawn", "Drawn", "chart_slot", "draw_charts"]
