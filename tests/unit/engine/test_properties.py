"""Property: any mix of valid and broken rows gives no exception, reconciles, and keeps valid values."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import run_plan

RULES: RuleSet = load_rules()

GOOD = {
    "member_id": st.sampled_from(["M1", "M2", "M3"]),
    "payer_id": st.sampled_from(["HCSC", "AETNA", "CAM", "MEDICARE", "ARCHIVE", "UHC"]),
    "plan_id": st.sampled_from(["HCSC-PPO-100", "HCSC-HMO-200", "MCR-ADV-100", "NOPE", None]),
    "service_date": st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2027, 12, 31)).map(str),
    "procedure_code": st.sampled_from(["97545", "97546", "99213", "G0283"]),
    "units": st.integers(1, 4).map(str),
    "billed_amount": st.decimals(0, 10_000, places=2, allow_nan=False).map(str),
    "place_of_service": st.sampled_from(["11", "21", "22", None]),
}
BROKEN = {
    "claim_id": st.sampled_from([None, "  "]),
    "member_id": st.just(None),
    "service_date": st.sampled_from(["2024-13-01", "02/30/2024", "2023-02-29", "", "soon"]),
    "procedure_code": st.sampled_from(["9754", "97545X", "97 45", None]),
    "units": st.sampled_from(["0", "-1", "two", "1.5", ""]),
    "billed_amount": st.sampled_from(["-0.01", "abc", "1,00", None]),
    "place_of_service": st.sampled_from(["1", "ABC", "111"]),
    "line_number": st.sampled_from(["0", "x", None]),
}


@st.composite
def line(draw: st.DrawFn, index: int) -> dict[str, Any]:
    row: dict[str, Any] = {k: draw(v) for k, v in GOOD.items()}
    row["claim_id"] = f"C{draw(st.integers(0, 40))}"
    row["line_number"] = str(draw(st.integers(1, 3)))
    row["note"] = f"row-{index}"
    for column in draw(st.lists(st.sampled_from(sorted(BROKEN)), max_size=3, unique=True)):
        row[column] = draw(BROKEN[column])
    return row


@st.composite
def batches(draw: st.DrawFn) -> list[dict[str, Any]]:
    n = draw(st.integers(0, 40))
    return [draw(line(i)) for i in range(n)]


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
