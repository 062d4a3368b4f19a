"""Random claim lines for property tests: valid values, with up to three columns broken."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

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
