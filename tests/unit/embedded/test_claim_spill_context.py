"""The claim spill keeps each batch's per-claim partials on disk and merges them by claim hash: the top claims
it gives carry the same context (payer, member, dates, determinations, reasons) as the whole lines'."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from adjudicator.embedded.claim_spill import ClaimSpill
from adjudicator.engine.summary import claim_partials, top_claims
from adjudicator.options import DEFAULT_SETTINGS

REASONS = ["PLAN_NOT_FOUND", None, "NOT_MEDICALLY_NECESSARY", "BENEFIT_EXCLUSION"]


def _lines(n: int) -> pl.DataFrame:
    """Flagged lines of 12 claims, each claim's lines spread over the frame (and so over every batch cut)."""
    return pl.DataFrame(
        {
            "claim_id": [f"C{i % 12:02d}" for i in range(n)],
            "billed_amount": [Decimal(10 + (i * 37) % 300) for i in range(n)],
            "payer_id": [["UHC", "AETNA", "HCSC"][i % 3] for i in range(n)],
            "member_id": [f"M{i % 5}" for i in range(n)],
            "service_date": [dt.date(2024, 1, 1) + dt.timedelta(days=(i * 13) % 400) for i in range(n)],
            "determination": [["BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"][i % 7 % 2] for i in range(n)],
            "reason": [
                ["PLAN_NOT_FOUND", None, "NOT_MEDICALLY_NECESSARY", "BENEFIT_EXCLUSION"][i % 4] for i in range(n)
            ],
        },
        schema_overrides={"billed_amount": pl.Decimal(18, 2)},
    )


def test_the_spills_top_claims_equal_the_whole_lines_with_their_context(tmp_path: Path) -> None:
    lines = _lines(120)
    settings = dataclasses.replace(DEFAULT_SETTINGS, claims_per_partition=2)  # the claims fall in several parts
    spill = ClaimSpill(tmp_path / "claims", settings)
    for start in range(0, lines.height, 25):  # batches of 25 lines: every claim is split across batches
        spill.add(lines[start : start + 25].group_by("claim_id").agg(claim_partials()))
    parts = spill.top(5)
    assert parts is not None
    assert len(list((tmp_path / "claims" / "by_claim").iterdir())) > 1
    got = top_claims(parts, 5)
    expected = top_claims(lines.group_by("claim_id").agg(claim_partials()), 5)
    assert got.equals(expected)
    first = got.row(0, named=True)
    assert first["flagged_lines"] == 10
    assert first["determinations"] == ["BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"]
    assert first["first_service_date"] < first["last_service_date"]
