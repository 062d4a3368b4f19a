"""Reprocessing with ``--history``: a run with ``--rules-as-of`` reads the history and commits like any other,
and its edits count the earlier nights' lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from adjudicator.options import RunOptions
from adjudicator.run import adjudicate
from tests.helpers import BASE_LINE

pytestmark = pytest.mark.e2e


def _write(path: Path, lines: list[dict[str, str | None]]) -> str:
    pl.DataFrame([{**BASE_LINE, **line} for line in lines], schema={c: pl.String for c in BASE_LINE}).write_csv(path)
    return str(path)


def test_a_run_with_rules_as_of_counts_and_commits_the_history(tmp_path: Path) -> None:
    history = str(tmp_path / "history")
    first = adjudicate(
        RunOptions(inputs=(_write(tmp_path / "n1.csv", [{"claim_id": "C1"}]),), out=tmp_path / "o1", history=history)
    )
    as_of = dt.date(2024, 6, 1)
    second = adjudicate(
        RunOptions(
            inputs=(_write(tmp_path / "n2.csv", [{"claim_id": "C2"}]),),
            out=tmp_path / "o2",
            history=history,
            rules_as_of=as_of,
        )
    )
    assert second["options"]["rules_as_of"] == as_of.isoformat()
    assert second["history"]["version_read"] == first["history"]["version_written"]
    assert second["history"]["version_written"] == first["history"]["version_written"] + 1
    results = pl.read_parquet(tmp_path / "o2" / "results.parquet")
    assert results["edits"].to_list() == [["UNITS_EXCEED_DAILY_LIMIT"]]
