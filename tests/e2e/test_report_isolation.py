"""The report can never take a run down or stall it: a label with characters XML forbids, a 100 KB claim id and a
memory limit (``ulimit -v``) the chart renderer cannot start under each end with the run published (exit 0),
its report written (without its charts, and saying so, when they cannot be drawn), nothing left behind.

Each run is a child process: a renderer that aborts would take the test process down with it."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_OK
from adjudicator.publish.manifest import MANIFEST, REJECTS, REPORT, RESULTS
from tests.helpers import ROOT, SAMPLE

pytestmark = pytest.mark.e2e


def _run(tmp_path: Path, claims: Path, *options: str, limit_as: int | None = None) -> dict[str, Any]:
    """Run the command line on ``claims`` in a child process; the manifest it published."""
    out = tmp_path / "out"

    def limit() -> None:
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "adjudicator", "run", str(claims), "--out", str(out), "--quiet", *options],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        preexec_fn=limit,
    )
    assert proc.returncode == EXIT_OK, proc.stderr
    assert time.perf_counter() - started < 120, "the report stalled the run"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([claims.name, "out"]), "something left behind"
    for name in (RESULTS, REJECTS, MANIFEST, REPORT):
        assert (out / name).is_file(), name
    manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text())
    manifest["report.html"] = (out / REPORT).read_text(encoding="utf-8")
    return manifest


def _sample_with(tmp_path: Path, **columns: pl.Expr) -> Path:
    path = tmp_path / "claims.csv"
    pl.read_csv(SAMPLE, infer_schema=False).with_columns(**columns).write_csv(path)
    return path


def test_labels_with_characters_xml_forbids_are_drawn_escaped(tmp_path: Path) -> None:
    weird = "HC\x01SC\ufffe"
    claims = _sample_with(tmp_path, payer_id=pl.col("payer_id").str.replace("^AETNA$", weird))
    manifest = _run(tmp_path, claims)
    page = manifest["report.html"]
    assert manifest["report"] == {"charts": "drawn"}
    assert "HC\\x01SC\\ufffe" in page, "the chart's label is escaped"
    assert f'data-payer_id="{weird}"' in page, "the table keeps the full value"


def test_a_100_kb_claim_id_is_shortened_in_the_charts_and_whole_in_the_tables(tmp_path: Path) -> None:
    long = "X" * 100_000
    claims = _sample_with(tmp_path, claim_id=pl.lit(long) + pl.col("claim_id"))
    manifest = _run(tmp_path, claims)
    page = manifest["report.html"]
    assert manifest["report"] == {"charts": "drawn"}
    assert 'data-chart="top-claims"' in page and "XXXX…" in page
    assert f'data-claim_id="{long}CLM' in page, "the table keeps the full value"


def test_under_a_memory_limit_the_report_is_published_without_charts(tmp_path: Path) -> None:
    claims = tmp_path / SAMPLE.name
    claims.write_bytes(SAMPLE.read_bytes())
    manifest = _run(tmp_path, claims, limit_as=4 << 30)
    page = manifest["report.html"]
    assert manifest["report"]["charts"] == "not drawn", manifest["report"]
    assert manifest["report"]["problem"] in page
    assert page.count('id="charts-not-drawn"') == 1 and "<svg" not in page
    assert 'id="by-determination"' in page and 'id="top-claims"' in page, "the tables are there"
    results = pl.read_parquet(tmp_path / "out" / RESULTS)
    assert results.height == manifest["counts"]["results"]


def test_a_report_that_cannot_be_built_costs_the_run_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(manifest: dict[str, Any]) -> str:
        raise KeyError("by_month")

    monkeypatch.setattr("adjudicator.report.run_report.run_report_page", broken)
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["report"] == {
        "charts": "not drawn",
        "problem": "the report could not be built (KeyError: 'by_month')",
    }
    assert "the report could not be built" in (out / REPORT).read_text(encoding="utf-8")
    assert pl.read_parquet(out / RESULTS).height == manifest["counts"]["results"]
