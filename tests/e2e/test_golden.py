"""End to end: sample_claims/claims.csv through the CLI gives the checked-in expected results.

Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py``
and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl

from adjudicator.cli import main
from adjudicator.engine.schemas import rejects_schema, results_schema

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_claims" / "claims.csv"
GOLDEN = Path(__file__).resolve().parent / "golden"
RESULT_COLUMNS = [
    "claim_id",
    "line_number",
    "payer_id",
    "plan_id",
    "service_date",
    "procedure_code",
    "units",
    "place_of_service",
    "determination",
    "reason",
    "policy_id",
    "policy_version",
    "policy_effective_date",
    "policy_end_date",
    "group_code",
    "carc",
    "rarc",
    "edits",
    "edit_carcs",
    "message",
]


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(c).list.join("|") if frame.schema[c] == pl.List(pl.String) else pl.col(c).cast(pl.String)
        for c in frame.columns
    )


def test_sample_claims_match_the_golden_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    written = pl.read_parquet(out / "results.parquet")
    written_rejects = pl.read_parquet(out / "rejects.parquet")
    results_schema().validate(written)
    rejects_schema().validate(written_rejects)
    results = _as_text(written.select(RESULT_COLUMNS))
    rejects = _as_text(written_rejects.drop("run_id", "source_file"))
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    if os.environ.get("UPDATE_GOLDEN"):
        results.write_csv(GOLDEN / "sample_results.csv")
        rejects.write_csv(GOLDEN / "sample_rejects.csv")
        (GOLDEN / "sample_counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    expected = pl.read_csv(GOLDEN / "sample_results.csv", infer_schema=False)
    assert results.columns == expected.columns
    assert results.equals(expected), "results differ from tests/golden/sample_results.csv"
    assert rejects.equals(pl.read_csv(GOLDEN / "sample_rejects.csv", infer_schema=False))
    assert counts == json.loads((GOLDEN / "sample_counts.json").read_text())
