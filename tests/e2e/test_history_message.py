"""With ``--history``, a line whose daily unit limit counted earlier nights' lines says so in its ``message``,
naming those lines by claim and run (contract section 7); the other lines' messages are unchanged."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adjudicator.engine.history import EARLIER_NOTE
from adjudicator.options import RunOptions
from adjudicator.run import adjudicate
from tests.helpers import BASE_LINE

pytestmark = pytest.mark.e2e

KEY = ["claim_id", "line_number"]


def _night(tmp_path: Path, name: str, lines: list[dict[str, str | None]]) -> tuple[str, pl.DataFrame]:
    source = tmp_path / f"{name}.csv"
    pl.DataFrame([{**BASE_LINE, **line} for line in lines], schema={c: pl.String for c in BASE_LINE}).write_csv(source)
    out = tmp_path / name
    manifest = adjudicate(RunOptions(inputs=(str(source),), out=out, history=str(tmp_path / "history")))
    return manifest["run_id"], pl.read_parquet(out / "results.parquet").sort(KEY)


def test_the_message_names_the_earlier_lines_a_unit_limit_counted(tmp_path: Path) -> None:
    first, _ = _night(tmp_path, "night1", [{"claim_id": "C1"}])
    _, tonight = _night(tmp_path, "night2", [{"claim_id": "C2"}, {"claim_id": "C3", "member_id": "M9"}])
    c2, c3 = tonight.row(0, named=True), tonight.row(1, named=True)
    assert c2["edits"] == ["UNITS_EXCEED_DAILY_LIMIT"]
    assert c2["message"].endswith(f" {EARLIER_NOTE}claim C1 line 1 (run {first}).")
    # the rest of the sentence is the policy's own, as on a line the history did not touch
    assert c2["message"].removesuffix(f" {EARLIER_NOTE}claim C1 line 1 (run {first}).") == c3["message"]
    assert EARLIER_NOTE not in c3["message"]


def test_without_a_history_no_message_names_earlier_lines(tmp_path: Path) -> None:
    source = tmp_path / "night.csv"
    pl.DataFrame([{**BASE_LINE, "claim_id": "C2"}], schema={c: pl.String for c in BASE_LINE}).write_csv(source)
    adjudicate(RunOptions(inputs=(str(source),), out=tmp_path / "out"))
    results = pl.read_parquet(tmp_path / "out" / "results.parquet")
    assert not results["message"].str.contains(EARLIER_NOTE, literal=True).any()
