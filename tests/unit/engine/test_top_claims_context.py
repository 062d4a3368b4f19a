"""The top claims' context (payer, member, dates of service, determinations, reasons over each claim's flagged
lines) is a decomposable partial: per batch, merged in any split and order, it is the whole claim's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator.embedded.driver import adjudicate_frame
from adjudicator.engine.summary import claim_partials, finish_summary, merge_summary_parts, top_claims
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet
from tests.helpers import raw_frame
from tests.support.claim_context import EXPECTED, LINES


@pytest.fixture(scope="module")
def compiled(rules: RuleSet) -> CompiledRules:
    return compile_rules(rules)


@pytest.mark.parametrize("batch_size", [None, 1, 2, 3], ids=lambda b: f"batch_size={b}")
def test_a_claim_split_across_batches_has_its_whole_context(compiled: CompiledRules, batch_size: int | None) -> None:
    """Batches of one line split claim CX three ways; every batch size gives the claim's whole context."""
    results, _, totals = adjudicate_frame(raw_frame(LINES), compiled, run_id="r", batch_size=batch_size)
    flagged = results.filter(pl.col("determination") != "NO_ACTION")
    assert flagged.group_by("claim_id").agg(pl.col("determination").n_unique()).sort("claim_id").rows() == [
        ("CX", 2),
        ("CY", 1),
    ]
    assert totals.summary()["extended"]["top_claims"] == EXPECTED


def test_the_batch_partial_from_verdict_rows_equals_the_one_from_decoded_results(compiled: CompiledRules) -> None:
    """The batch's partial is built from its verdict rows (determination and reason decoded per flagged line),
    the whole outputs' from the decoded results: the two agree column for column."""
    results, rejects, totals = adjudicate_frame(raw_frame(LINES), compiled, run_id="r", batch_size=2)
    # a partial's lists are in no order until merged (``merged_claim_partials`` sorts them)
    in_order = pl.col("determinations", "reasons").list.sort()
    merged = merge_summary_parts(totals.parts)["top_claims"].sort("claim_id").with_columns(in_order)
    from_results = results.filter(pl.col("determination") != "NO_ACTION").group_by("claim_id").agg(claim_partials())
    assert merged.equals(from_results.sort("claim_id").with_columns(in_order))
    assert finish_summary(merge_summary_parts(totals.parts))["top_claims"] == EXPECTED


# ------------------------------------------------------------------------------------------
# The partials on their own: any split, merged in any order, gives what the lines say
# ------------------------------------------------------------------------------------------

_SCHEMA = {
    "claim_id": pl.String,
    "billed_amount": pl.Decimal(18, 2),
    "payer_id": pl.String,
    "member_id": pl.String,
    "service_date": pl.Date,
    "determination": pl.String,
    "reason": pl.String,
}


@st.composite
def flagged_lines(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int], int]:
    """Flagged lines of a few claims (payer, member, date, determination, reason drawn per line; a reason may
    be null), cut points, and a seed for the order the slices' partials are merged in."""
    n = draw(st.integers(0, 30))
    rows = [
        {
            "claim_id": draw(st.sampled_from(["A", "B", "C", "D"])),
            "billed_amount": Decimal(draw(st.integers(0, 50_000))) / 100,
            "payer_id": draw(st.sampled_from(["AETNA", "HCSC", "UHC"])),
            "member_id": draw(st.sampled_from(["M1", "M2", "M3"])),
            "service_date": dt.date(2020, 1, 1) + dt.timedelta(days=draw(st.integers(0, 2_000))),
            "determination": draw(st.sampled_from(["BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"])),
            "reason": draw(st.sampled_from([None, "PLAN_NOT_FOUND", "BENEFIT_EXCLUSION", "NOT_MEDICALLY_NECESSARY"])),
        }
        for _ in range(n)
    ]
    cuts = draw(st.lists(st.integers(0, n), max_size=5))
    return rows, cuts, draw(st.integers(0, 1_000))


def _expected(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each claim's context, in plain Python."""
    out: dict[str, dict[str, Any]] = {}
    for claim in {r["claim_id"] for r in rows}:
        mine = [r for r in rows if r["claim_id"] == claim]
        out[claim] = {
            "flagged_lines": len(mine),
            "flagged_billed_amount": sum((r["billed_amount"] for r in mine), Decimal(0)),
            "payer_id": min(r["payer_id"] for r in mine),
            "member_id": min(r["member_id"] for r in mine),
            "first_service_date": min(r["service_date"] for r in mine),
            "last_service_date": max(r["service_date"] for r in mine),
            "determinations": sorted({r["determination"] for r in mine}),
            "reasons": sorted({r["reason"] for r in mine if r["reason"] is not None}),
        }
    return out


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flagged_lines())
def test_merging_any_split_of_claim_partials_gives_each_claims_whole_context(
    case: tuple[list[dict[str, Any]], list[int], int],
) -> None:
    rows, cuts, seed = case
    lines = pl.DataFrame(rows, schema=_SCHEMA)
    bounds = [0, *sorted(cuts), lines.height]
    parts = [lines[a:b].group_by("claim_id").agg(claim_partials()) for a, b in zip(bounds, bounds[1:], strict=False)]
    shuffled = pl.concat(parts).sample(fraction=1.0, shuffle=True, seed=seed)
    got = top_claims(shuffled, len(rows) + 1)
    assert {r.pop("claim_id"): r for r in got.iter_rows(named=True)} == _expected(rows)
    # cut to the top n: the most flagged dollars first, ties by claim_id
    expected = _expected(rows)
    ranked = sorted(expected, key=lambda c: (-expected[c]["flagged_billed_amount"], c))[:2]
    assert top_claims(shuffled, 2)["claim_id"].to_list() == ranked


def test_a_claims_partial_merged_with_itself_keeps_its_context_and_adds_its_sums() -> None:
    lines = pl.DataFrame(
        [
            {
                "claim_id": "A",
                "billed_amount": Decimal("10.00"),
                "payer_id": "UHC",
                "member_id": "M9",
                "service_date": dt.date(2024, 2, 29),
                "determination": "NOT_MEDICALLY_NECESSARY",
                "reason": "NOT_MEDICALLY_NECESSARY",
            },
            {
                "claim_id": "A",
                "billed_amount": Decimal("2.50"),
                "payer_id": "AETNA",
                "member_id": "M9",
                "service_date": dt.date(2023, 12, 31),
                "determination": "BENEFIT_PLAN_REVIEW",
                "reason": "BENEFIT_EXCLUSION",
            },
        ],
        schema=_SCHEMA,
    )
    part = lines.group_by("claim_id").agg(claim_partials())
    row = top_claims(pl.concat([part, part]), 1).row(0, named=True)
    assert row == {
        "claim_id": "A",
        "flagged_lines": 4,
        "flagged_billed_amount": Decimal("25.00"),
        "payer_id": "AETNA",
        "member_id": "M9",
        "first_service_date": dt.date(2023, 12, 31),
        "last_service_date": dt.date(2024, 2, 29),
        "determinations": ["BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"],
        "reasons": ["BENEFIT_EXCLUSION", "NOT_MEDICALLY_NECESSARY"],
    }
