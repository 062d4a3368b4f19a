"""Every terminal summary (``adjudicate run``'s and ``adjudicate diff``'s) prints dollars one way: thousands
separators and two decimals (``format_amount``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from adjudicator.diff.summary import format_diff_summary
from adjudicator.report.terminal import format_amount, format_summary


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("620.00", "620.00"),
        ("2630.00", "2,630.00"),
        ("1234567.5", "1,234,567.50"),
        (Decimal("-20280.00"), "-20,280.00"),
        (Decimal("12.3"), "12.30"),
        (1000, "1,000.00"),
        (0, "0.00"),
        (None, "0.00"),
    ],
)
def test_format_amount_has_separators_and_two_decimals(value: Any, text: str) -> None:
    assert format_amount(value) == text


def _manifest(billed: str, flagged: str) -> dict[str, Any]:
    return {
        "run_id": "r1",
        "layout": "canonical",
        "options": {"out": "out/x"},
        "counts": {
            "read": 12345,
            "results": 12000,
            "rejects": 345,
            "skipped": 0,
            "reconciled": True,
            "by_reason": [
                {
                    "determination": "NOT_MEDICALLY_NECESSARY",
                    "reason": "NOT_MEDICALLY_NECESSARY",
                    "lines": 1500,
                    "billed_amount": billed,
                },
                {"determination": "NO_ACTION", "reason": None, "lines": 10500, "billed_amount": "95.00"},
            ],
            "flagged_lines": 1500,
            "flagged_billed_amount": flagged,
            "rejects_by_check": {"duplicate_key": 345},
        },
        "timings": {"startup_s": 0.5, "adjudicate_s": 1.25},
    }


def test_the_run_summary_prints_billed_amounts_with_separators() -> None:
    text = format_summary(_manifest("1234567.50", "1234567.50"))
    rows = text.splitlines()
    nmn = next(r for r in rows if r.startswith("NOT_MEDICALLY_NECESSARY"))
    assert nmn.split()[-2:] == ["1,500", "1,234,567.50"]
    assert next(r for r in rows if r.startswith("NO_ACTION")).split()[-1] == "95.00"
    assert next(r for r in rows if r.startswith("flagged")).split()[-1] == "1,234,567.50"
    assert "1234567.50" not in text
    # the columns stay aligned: every amount ends where the header's "billed" ends
    header = next(r for r in rows if r.startswith("determination"))
    assert {len(r) for r in (header, nmn)} == {len(header)}


def test_the_run_and_the_diff_print_the_same_amount_the_same_way() -> None:
    amount = "98765.40"
    run_text = format_summary(_manifest(amount, amount))
    diff = {
        "old": {"path": "out/a", "run_id": "a"},
        "new": {"path": "out/b", "run_id": "b"},
        "totals": {"lines_compared": 2, "changed": 1, "unchanged": 1},
        "by_change_kind": {
            "changed": 1,
            "only_in_old": 0,
            "only_in_new": 0,
            "rejected_in_old": 0,
            "rejected_in_new": 0,
        },
        "changed_fields": {"determination": 1},
        "matrix": [
            {
                "old_determination": "NO_ACTION",
                "new_determination": "NOT_MEDICALLY_NECESSARY",
                "lines": 1,
                "billed_amount": amount,
            },
            {"old_determination": "NO_ACTION", "new_determination": "NO_ACTION", "lines": 1, "billed_amount": "5.00"},
        ],
        "top_reason_changes": [
            {"old_reason": None, "new_reason": "NOT_MEDICALLY_NECESSARY", "lines": 1, "billed_amount": amount}
        ],
        "unkeyed_rejects": {"old": 0, "new": 0},
    }
    diff_text = format_diff_summary(diff)
    shown = format_amount(amount)
    assert shown == "98,765.40"
    assert run_text.count(shown) == 2  # the NMN row and the flagged row
    assert diff_text.count(shown) == 2  # the matrix cell and the top reason change
    assert amount not in run_text and amount not in diff_text
