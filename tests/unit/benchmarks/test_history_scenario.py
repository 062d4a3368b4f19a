"""The history scenario's table (benchmarks/history.py): the concerned lines of K copies of the earlier lines, one
row per key, each copy's claims under its own prefix, partitioned by service month."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from benchmarks.history import build_history
from tests.helpers import BASE_LINE


def test_the_history_holds_the_concerned_lines_of_each_copy(tmp_path: Path) -> None:
    lines = [
        {**BASE_LINE, "claim_id": "C1", "line_number": "1", "procedure_code": "97545"},
        {**BASE_LINE, "claim_id": "C1", "line_number": "2", "procedure_code": "97110"},
        {**BASE_LINE, "claim_id": "C2", "line_number": "1", "procedure_code": "97546", "service_date": "2024-06-02"},
    ]
    earlier = tmp_path / "earlier.parquet"
    pl.DataFrame(lines).with_columns(
        pl.col("line_number", "units").cast(pl.Int64),
        pl.col("service_date").str.to_date(),
        pl.col("billed_amount").cast(pl.Decimal(18, 2)),
    ).write_parquet(earlier)
    assert build_history(earlier, 2, tmp_path / "h", skip=1) == 2
    table = pl.read_delta(str(tmp_path / "h")).sort("claim_id")
    assert table.select("claim_id", "service_month", "run_id").rows() == [
        ("H0-C2", "2024-06", "earlier-night-0"),
        ("H1-C2", "2024-06", "earlier-night-1"),
    ]
