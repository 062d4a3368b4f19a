"""Property: any mix of valid and broken rows gives no exception, reconciles, and keeps valid values."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import run_plan
from tests.support.claim_lines import line

RULES: RuleSet = load_rules()


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(0, 40))
    return [draw(line(i)) for i in range(n)]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_any_mix_reconciles_and_keeps_valid_values(rows: list[dict[str, Any]]) -> None:
    results, rejects = run_plan(rows, RULES)
    assert results.height + rejects.height == len(rows)
    if not rows:
        return
    assert all(len(checks) >= 1 for checks in rejects["failed_checks"].to_list())
    assert set(results["note"]) | set(rejects["note"]) == {r["note"] for r in rows}
    by_note = {r["note"]: r for r in rows}
    for out in results.iter_rows(named=True):
        original = by_note[out["note"]]
        assert out["claim_id"] == original["claim_id"]
        assert out["line_number"] == int(original["line_number"])
        assert str(out["service_date"]) == original["service_date"]
        assert out["procedure_code"] == original["procedure_code"]
        assert out["units"] == int(original["units"])
        assert float(out["billed_amount"]) == float(original["billed_amount"])
        assert out["determination"] in ("NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW", "NO_ACTION")
    for out in rejects.iter_rows(named=True):
        original = by_note[out["note"]]
        for column in ("claim_id", "service_date", "units", "billed_amount", "procedure_code"):
            assert out[column] == original[column]
    # every copy of a key that occurs twice among otherwise-valid rows is a reject
    keys = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]})
    counts = keys.group_by("claim_id", "line_number").len().filter(pl.col("len") > 1)
    dup = {(r["claim_id"], r["line_number"]) for r in counts.iter_rows(named=True)}
    for out in results.iter_rows(named=True):
        assert (out["claim_id"], str(out["line_number"])) not in dup
