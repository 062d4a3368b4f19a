"""Hand-made claim lines whose top claims' context is known: a claim split across batches with two
determinations, two members and a NO_ACTION line outside its context (tests of ``summary.top_claims``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from adjudicator.contract import SOURCE_FILE
from tests.helpers import raw_frame

#: claim CX: two flagged lines with two determinations, members M2 and M1, and a larger NO_ACTION line on a later
#: date (not part of its context); claim CY: one flagged line; claim CZ: NO_ACTION only (never a top claim)
LINES: list[dict[str, Any]] = [
    {"claim_id": "CX", "line_number": "1", "member_id": "M2", "service_date": "2024-05-01", "billed_amount": "180.00"},
    {"claim_id": "CY", "line_number": "1", "payer_id": "MEDICARE", "service_date": "2014-05-12"},
    {
        "claim_id": "CX",
        "line_number": "2",
        "member_id": "M1",
        "plan_id": "NOPE",
        "service_date": "2024-03-10",
        "billed_amount": "1100.00",
    },
    {"claim_id": "CZ", "line_number": "1", "procedure_code": "99213", "billed_amount": "5000.00"},
    {
        "claim_id": "CX",
        "line_number": "3",
        "service_date": "2025-01-15",
        "procedure_code": "99213",
        "billed_amount": "900.00",
    },
]
EXPECTED = [
    {
        "claim_id": "CX",
        "flagged_lines": 2,
        "flagged_billed_amount": "1280.00",
        "payer_id": "HCSC",
        "member_id": "M1",
        "first_service_date": "2024-03-10",
        "last_service_date": "2024-05-01",
        "determinations": ["BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"],
        "reasons": ["NOT_MEDICALLY_NECESSARY", "PLAN_NOT_FOUND"],
    },
    {
        "claim_id": "CY",
        "flagged_lines": 1,
        "flagged_billed_amount": "180.00",
        "payer_id": "MEDICARE",
        "member_id": "M1",
        "first_service_date": "2014-05-12",
        "last_service_date": "2014-05-12",
        "determinations": ["BENEFIT_PLAN_REVIEW"],
        "reasons": ["MEDICARE_CARRIER_DISCRETION"],
    },
]


def write_lines(path: Path) -> Path:
    """``LINES`` as a canonical CSV file (every other column from ``tests.helpers.BASE_LINE``)."""
    raw_frame(LINES).drop(SOURCE_FILE).collect().write_csv(path)
    return path
