"""End to end: sample_claims/claims.csv through the CLI gives the checked-in expected results.

Regenerate after a deliberate change with ``UPDATE_GOLDEN=1 python -m pytest tests/e2e/test_golden.py``
and review the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.engine.schemas import rejects_schema, results_schema
from tests.helpers import GOLDEN_DIR, SAMPLE
from tests.support.golden import RESULT_COLUMNS, as_text

pytestmark = pytest.mark.e2e


def test_sample_claims_match_the_golden_results(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    written = pl.read_parquet(out / "results.parquet")
    written_rejects = pl.read_parquet(out / "rejects.parquet")
    results_schema().validate(written)
    rejects_schema().validate(written_rejects)
    results = as_text(written.select(RESULT_COLUMNS))
    rejects = as_text(written_rejects.drop("run_id", "source_file"))
    counts = json.loads((out / "manifest.json").read_text())["counts"]
    if os.environ.get("UPDATE_GOLDEN"):
        results.write_csv(GOLDEN_DIR / "sample_results.csv")
        rejects.write_csv(GOLDEN_DIR / "sample_rejects.csv")
        (GOLDEN_DIR / "sample_counts.json").write_text(json.dumps(counts, indent=2) + "\n")
    expected = pl.read_csv(GOLDEN_DIR / "sample_results.csv", infer_schema=False)
    assert results.columns == expected.columns
    assert results.equals(expected), "results differ from tests/golden/sample_results.csv"
    assert rejects.equals(pl.read_csv(GOLDEN_DIR / "sample_rejects.csv", infer_schema=False))
    assert counts == json.loads((GOLDEN_DIR / "sample_counts.json").read_text())
