"""Small shared helpers for the tests: the repository's paths, raw frames from inline rows, and running the engine in
memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.contract import CANONICAL_COLUMNS, SOURCE_FILE
from adjudicator.embedded.driver import adjudicate_frame
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.rules.compiled import compile_rules
from adjudicator.rules.tables import RuleSet

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_claims" / "claims.csv"
FIXTURES = ROOT / "tests" / "fixtures"
GOLDEN_DIR = ROOT / "tests" / "golden"

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
    return pl.LazyFrame(data, schema={c: pl.String for c in columns}).with_columns(pl.lit(source).alias(SOURCE_FILE))


def run_plan(
    rows: list[dict[str, Any]],
    rules: RuleSet,
    *,
    batch_size: int | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Results and rejects of inline rows, through the prepass and the batch function (one batch by default);
    ``settings`` size the prepass's spills."""
    results, rejects, _ = adjudicate_frame(
        raw_frame(rows), compile_rules(rules), run_id="test-run", batch_size=batch_size, settings=settings
    )
    return results, rejects


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); empty when the folder does not exist."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
