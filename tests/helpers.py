"""Small shared helpers for the tests: raw frames from inline rows, and running the plan in memory."""

from __future__ import annotations

from typing import Any

import polars as pl

from adjudicator.contract import CANONICAL_COLUMNS, SOURCE_FILE
from adjudicator.engine import plan_in_memory
from adjudicator.rules import RuleSet

BASE_LINE: dict[str, str | None] = {
    "claim_id": "C1",
    "line_number": "1",
    "member_id": "M1",
    "payer_id": "HCSC",
    "plan_id": "HCSC-PPO-100",
    "service_date": "2024-05-01",
    "procedure_code": "97545",
    "units": "1",
    "billed_amount": "180.00",
    "place_of_service": "11",
}


def raw_frame(rows: list[dict[str, Any]], source: str = "inline.csv") -> pl.LazyFrame:
    """A raw frame as the canonical CSV reader makes it: every column text, plus source_file."""
    full = [{**BASE_LINE, **row} for row in rows]
    columns = list(dict.fromkeys([*CANONICAL_COLUMNS, *(k for r in full for k in r)]))
    data = {c: [r.get(c) for r in full] for c in columns}
    return pl.LazyFrame(data, schema={c: pl.String for c in columns}).with_columns(
        pl.lit(source).alias(SOURCE_FILE)
    )


def run_plan(rows: list[dict[str, Any]], rules: RuleSet) -> tuple[pl.DataFrame, pl.DataFrame]:
    plan, _ = plan_in_memory(raw_frame(rows), rules, run_id="test-run")
    results, rejects = pl.collect_all([plan.results, plan.rejects], engine="streaming")
    return results, rejects
