"""The compared fields, and comparing two sides line by line: nulls equal nulls, a null against a value is a
change."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from adjudicator.diff.compare import compare
from adjudicator.diff.sides import COMPARED_FIELDS, side


def test_compared_fields_are_the_documented_decision_columns() -> None:
    # derived from the contract's DECISION_COLUMNS; docs/diff.md lists them in this order
    assert COMPARED_FIELDS == (
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
    )


# (case, old side, new side, expected change_kind, changed_fields): nulls compare equal to nulls
_NULL_CASES = [
    ("null and null are equal", None, None, None, []),
    ("null to a value is a change", None, "N130", "changed", ["rarc"]),
    ("a value to null is a change", "N130", None, "changed", ["rarc"]),
]


@pytest.mark.parametrize(("case", "old", "new", "kind", "fields"), _NULL_CASES, ids=[c[0] for c in _NULL_CASES])
def test_compare_is_null_safe(case: str, old: str | None, new: str | None, kind: str | None, fields: list[str]) -> None:
    def one(rarc: str | None) -> pl.LazyFrame:
        values: dict[str, Any] = {f: [None] for f in COMPARED_FIELDS}
        values.update(claim_id=["C"], line_number=[1], billed_amount=[1], rarc=[rarc], edits=[[]], edit_carcs=[[]])
        results = pl.LazyFrame(values).with_columns(pl.col(c).cast(pl.String) for c in ("rarc", "reason"))
        rejects = pl.LazyFrame(
            {"claim_id": [], "line_number": [], "billed_amount": []},
            schema=dict.fromkeys(("claim_id", "line_number", "billed_amount"), pl.String),
        )
        return side(results.with_columns(pl.col("billed_amount").cast(pl.Decimal(18, 2))), rejects)

    row = compare(one(old), one(new)).collect().row(0, named=True)
    assert (row["change_kind"], row["changed_fields"]) == (kind, fields)
