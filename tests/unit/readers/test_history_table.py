"""The history table's I/O (adjudicator/readers/history.py, adjudicator/publish/history.py): a commit is one
version naming its run, and idempotent; a read lists only the partitions it needs; time travel reads a version."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import deltalake
import polars as pl
import pytest

from adjudicator.engine.history import HISTORY_SCHEMA, HistoryWanted, service_month
from adjudicator.errors import InputError
from adjudicator.publish.history import commit
from adjudicator.readers.history import HistoryAt, committed_version, latest_version, read_wanted, versions

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def rows(*lines: tuple[str, int, str, str], run: str) -> pl.DataFrame:
    """History rows (claim, line, member, service date)."""
    frame = pl.DataFrame(
        {
            "claim_id": [c for c, *_ in lines],
            "line_number": [n for _, n, *_ in lines],
            "member_id": [m for _, _, m, _ in lines],
            "payer_id": "HCSC",
            "service_date": [dt.date.fromisoformat(d) for *_, d in lines],
            "procedure_code": "97545",
            "units": 1,
            "determination": "NO_ACTION",
            "run_id": run,
            "source_file": "n.csv",
            "adjudicated_at": AT,
        }
    )
    return frame.with_columns(service_month()).select(pl.col(c).cast(t) for c, t in HISTORY_SCHEMA.items())


def want(*member_days: tuple[str, str]) -> HistoryWanted:
    days = pl.DataFrame(
        {
            "member_id": [m for m, _ in member_days],
            "service_date": [dt.date.fromisoformat(d) for _, d in member_days],
            "procedure_code": "97545",
        }
    )
    months = tuple(sorted({d[:7] for _, d in member_days}))
    claim_days = pl.DataFrame(schema={"claim_id": pl.String, "service_date": pl.Date, "procedure_code": pl.String})
    return HistoryWanted(days, claim_days, months)


def test_a_commit_is_one_version_naming_its_run_and_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "h")
    assert latest_version(path) is None
    first = commit(path, rows(("C1", 1, "M1", "2024-01-05"), run="R1"), "R1")
    assert commit(path, rows(("C1", 1, "M1", "2024-01-05"), run="R1"), "R1") == first
    second = commit(path, rows(("C1", 1, "M1", "2024-01-05"), ("C2", 1, "M1", "2024-02-01"), run="R2"), "R2")
    assert (first, second) == (1, 2)
    assert committed_version(path, "R1") == 1 and committed_version(path, "R3") is None
    assert [(v["version"], v["run_id"], v["lines"]) for v in versions(path)][:2] == [(2, "R2", 2), (1, "R1", 1)]
    # merged on the key: the re-sent C1 line is one row, the latest run's
    table = pl.read_delta(path).sort("claim_id")
    assert table.select("claim_id", "run_id").rows() == [("C1", "R2"), ("C2", "R2")]


def test_a_read_lists_only_the_months_it_needs(tmp_path: Path) -> None:
    path = str(tmp_path / "h")
    lines = (("C1", 1, "M1", "2024-01-05"), ("C2", 1, "M1", "2024-02-05"), ("C3", 1, "M2", "2024-02-05"))
    version = commit(path, rows(*lines, run="R1"), "R1")
    # another month's files gone: a read that listed them would fail
    for gone in (tmp_path / "h" / "service_month=2024-01").glob("*.parquet"):
        gone.unlink()
    found = read_wanted(path, version, want(("M1", "2024-02-05")))
    assert found["claim_id"].to_list() == ["C2"]
    with pytest.raises(Exception):  # noqa: B017 - the read that needs January meets the missing file
        read_wanted(path, version, want(("M1", "2024-01-05")))


def test_time_travel_reads_a_version(tmp_path: Path) -> None:
    path = str(tmp_path / "h")
    one = commit(path, rows(("C1", 1, "M1", "2024-01-05"), run="R1"), "R1")
    commit(path, rows(("C2", 1, "M1", "2024-01-05"), run="R2"), "R2")
    at_one = read_wanted(path, one, want(("M1", "2024-01-05")))
    latest = read_wanted(path, latest_version(path), want(("M1", "2024-01-05")))
    assert at_one["claim_id"].to_list() == ["C1"]
    assert sorted(latest["claim_id"]) == ["C1", "C2"]
    assert read_wanted(path, None, want(("M1", "2024-01-05"))).height == 0
    with pytest.raises(InputError):
        read_wanted(path, 99, want(("M1", "2024-01-05")))
    assert HistoryAt(path, one).version == one
    assert deltalake.DeltaTable(path).metadata().partition_columns == ["service_month"]


def test_a_re_sent_line_with_a_new_month_moves(tmp_path: Path) -> None:
    """A key re-sent with a service date in another month replaces its row there: one row per key."""
    path = str(tmp_path / "h")
    commit(path, rows(("C1", 1, "M1", "2024-01-05"), ("C2", 1, "M1", "2024-01-06"), run="R1"), "R1")
    commit(path, rows(("C1", 1, "M1", "2024-03-05"), ("C3", 1, "M1", "2024-03-06"), run="R2"), "R2")
    table = pl.read_delta(path).sort("claim_id")
    assert table.select("claim_id", "service_month", "run_id").rows() == [
        ("C1", "2024-03", "R2"),
        ("C2", "2024-01", "R1"),
        ("C3", "2024-03", "R2"),
    ]
