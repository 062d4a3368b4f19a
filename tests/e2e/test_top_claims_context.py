"""Whole runs: the manifest's top claims carry their context (payer, member, first and last date of service,
determinations, reasons) on both engines, and the terminal summary prints dollars as the README shows."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.report.terminal import format_summary
from tests.helpers import ROOT, SAMPLE
from tests.support.claim_context import EXPECTED, write_lines
from tests.support.spark_session import local_session

pytestmark = pytest.mark.e2e

#: small batches and claim parts: a claim's lines fall in different batches, its partials in the spill's parts
SMALL = {"batch_size": 2, "claims_per_partition": 2}


def _run(inputs: list[Path], out: Path, *more: str) -> dict[str, Any]:
    args = ["run", *map(str, inputs), "--out", str(out), "--quiet", "--engine-settings", json.dumps(SMALL), *more]
    assert main(args) == 0
    manifest: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    return manifest


def _expected_top_claims(results: pl.DataFrame) -> list[dict[str, Any]]:
    """The ten claims with the most flagged dollars and their context, in plain Python over the written results."""
    claims: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results.iter_rows(named=True):
        if r["determination"] != "NO_ACTION":
            claims[r["claim_id"]].append(r)
    ranked = sorted(claims.items(), key=lambda kv: (-sum(r["billed_amount"] for r in kv[1]), kv[0]))[:10]
    return [
        {
            "claim_id": claim,
            "flagged_lines": len(rows),
            "flagged_billed_amount": str(sum((r["billed_amount"] for r in rows), Decimal("0.00"))),
            "payer_id": min(r["payer_id"] for r in rows),
            "member_id": min(r["member_id"] for r in rows),
            "first_service_date": min(r["service_date"] for r in rows).isoformat(),
            "last_service_date": max(r["service_date"] for r in rows).isoformat(),
            "determinations": sorted({r["determination"] for r in rows}),
            "reasons": sorted({r["reason"] for r in rows if r["reason"] is not None}),
        }
        for claim, rows in ranked
    ]


def test_the_samples_top_claims_carry_their_context(tmp_path: Path) -> None:
    manifest = _run([SAMPLE], tmp_path / "out")
    top = manifest["summary"]["top_claims"]
    assert len(top) == 10
    assert top == _expected_top_claims(pl.read_parquet(tmp_path / "out" / "results.parquet"))
    keys = {"payer_id", "member_id", "first_service_date", "last_service_date", "determinations", "reasons"}
    for claim in top:
        assert keys <= set(claim), claim["claim_id"]
        assert claim["determinations"] and claim["reasons"]


def test_a_claim_split_across_batches_keeps_its_context_through_the_claim_spill(tmp_path: Path) -> None:
    lines = write_lines(tmp_path / "lines.csv")
    manifest = _run([lines], tmp_path / "out")
    assert manifest["summary"]["top_claims"] == EXPECTED


@pytest.mark.spark
def test_the_spark_engines_top_claims_equal_the_embedded_engines(tmp_path: Path) -> None:
    """Spark's tasks sum their claims' partials and merge them by claim bucket: the same context as locally."""
    if shutil.which("java") is None:
        pytest.skip("the Spark engine's tests need Java (17) on PATH; none found")
    pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")
    with local_session(**{"spark.sql.execution.arrow.maxRecordsPerBatch": "2"}):
        inputs = [write_lines(tmp_path / "lines.csv"), SAMPLE]
        local = _run(inputs, tmp_path / "local")
        on_spark = _run(inputs, tmp_path / "spark", "--engine", "spark")
    assert on_spark["engine"]["name"] == "spark"
    assert on_spark["summary"]["top_claims"] == local["summary"]["top_claims"]
    assert on_spark["summary"] == local["summary"]
    assert local["summary"]["top_claims"][0] == EXPECTED[0]


def test_the_readmes_example_of_what_a_run_prints_is_the_samples(tmp_path: Path) -> None:
    """Every table row the README shows is a row the sample run prints (dollars with separators)."""
    readme = (ROOT / "README.md").read_text()
    example = readme.split("## What a run prints", 1)[1].split("```", 2)[1]
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    printed = format_summary(json.loads((tmp_path / "out" / "manifest.json").read_text())).splitlines()
    shown = [row for row in example.splitlines()[2:] if row and row != "…"]
    assert len(shown) >= 9
    for row in shown:
        assert row in printed, row
    assert "20,280.00" in example
