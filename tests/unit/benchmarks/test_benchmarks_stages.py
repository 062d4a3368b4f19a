"""The stage ledger (``benchmarks.stages``) runs every stage of an embedded run on a small file. No timings."""

from __future__ import annotations

from pathlib import Path

from benchmarks.stages import ledger


def test_the_ledger_names_every_stage(sample_claims: Path) -> None:
    costs = ledger(sample_claims, batch_size=50)
    stages = ("prepare", "stage", "prepass", "read", "checks", "batch_rest", "arrow", "write", "totals", "total")
    assert set(stages) <= set(costs)
    assert costs["total"] >= 0
