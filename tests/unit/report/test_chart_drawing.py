"""The charts are drawn by one child process per page, bounded in time: a child that stalls, crashes or cannot
start leaves a page with its tables and one line saying the charts could not be drawn; the child is started
isolated (nothing of the working folder is imported); all of a page's charts go to one child."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from adjudicator.report.charts import bars, chart
from adjudicator.report.draw import ChartRenderer, draw_charts
from adjudicator.report.html import _page, table, write_page

ROWS = [{"payer_id": "HC\x01SC", "lines": 3}, {"payer_id": "AETNA", "lines": 1}]


def _page_with_charts(n: int = 2) -> str:
    figures = [
        chart(f"c{i}", f"caption {i}", bars(ROWS, category="payer_id", amount="lines", amount_title="lines"))
        for i in range(n)
    ]
    rows = table("payers", [("payer_id", "payer", "text"), ("lines", "lines", "int")], ROWS)
    return _page("title", "subtitle", [*figures, rows])


def _renderer(code: str, limit_s: float = 30.0) -> ChartRenderer:
    return ChartRenderer(command=[sys.executable, "-I", "-c", code], limit_s=limit_s)


def test_every_chart_of_a_page_is_drawn_by_one_child() -> None:
    drawn = draw_charts(_page_with_charts(3))
    assert drawn.problem is None and drawn.record() == {"charts": "drawn"}
    assert drawn.html.count("<svg") == 3 and "<!--chart:" not in drawn.html and "charts-not-drawn" not in drawn.html
    assert "HC\\x01SC" in drawn.html, "the chart draws the label escaped"
    assert 'data-payer_id="HC\x01SC"' in drawn.html, "the table keeps the full value"


@pytest.mark.parametrize(
    ("case", "code", "problem"),
    [
        ("a crash", "import os; os.abort()", "ended by SIGABRT"),
        ("a Python error", "raise SystemExit('no engine here')", "no engine here"),
        ("an unreadable answer", "import sys; sys.stdin.read(); print('garbage')", "could not be read"),
        ("a child that draws too few", "import sys; sys.stdin.read(); print('[]')", "could not be read"),
    ],
)
def test_a_failed_child_leaves_the_tables_and_one_line(case: str, code: str, problem: str) -> None:
    drawn = draw_charts(_page_with_charts(), _renderer(code))
    assert drawn.problem is not None and problem in drawn.problem, drawn.problem
    assert drawn.record() == {"charts": "not drawn", "problem": drawn.problem}
    assert "<svg" not in drawn.html and "<figure" not in drawn.html and "<!--chart:" not in drawn.html
    assert drawn.html.count('id="charts-not-drawn"') == 1
    assert 'id="payers"' in drawn.html and 'data-payer_id="HC\x01SC"' in drawn.html


def test_a_stalled_child_is_killed_at_the_time_limit() -> None:
    renderer = _renderer("import time; time.sleep(600)", limit_s=1.0)
    started = time.perf_counter()
    drawn = draw_charts(_page_with_charts(), renderer)
    assert time.perf_counter() - started < 10
    assert drawn.problem == "the renderer took more than 1 s"


def test_a_child_that_cannot_start_is_reported() -> None:
    renderer = ChartRenderer(command=["/nonexistent/python"])
    drawn = draw_charts(_page_with_charts(), renderer)
    assert drawn.problem is not None and drawn.problem.startswith("the renderer could not start")


def test_the_child_imports_nothing_from_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("json.py", "vl_convert.py", "sys.py"):
        (tmp_path / name).write_text("raise SystemExit('imported from the working folder')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    drawn = draw_charts(_page_with_charts(1))
    assert drawn.problem is None, drawn.problem


def test_a_page_without_charts_starts_no_child() -> None:
    renderer = ChartRenderer(command=["/nonexistent/python"])
    page = _page("title", "subtitle", ["<p>no chart</p>"])
    drawn = draw_charts(page, renderer)
    assert drawn.problem is None and "<!--charts-note-->" not in drawn.html


def test_closing_a_warm_renderer_ends_its_child() -> None:
    renderer = _renderer("import time; time.sleep(600)")
    renderer.warm_up()
    child = renderer._child
    assert child is not None and child.poll() is None
    renderer.close()
    assert child.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(child.pid, 0)


def test_a_lone_surrogate_is_written_as_a_replacement_character(tmp_path: Path) -> None:
    page = _page("title", "subtitle", [table("t", [("payer_id", "payer", "text")], [{"payer_id": "HC\ud800SC"}])])
    path = write_page(tmp_path, draw_charts(page).html)
    assert 'data-payer_id="HC\ufffdSC"' in path.read_text(encoding="utf-8")
