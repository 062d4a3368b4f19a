"""Broken rule tables: the cases both an in-process load and a run must refuse, and appending a table line."""

from __future__ import annotations

from pathlib import Path

from adjudicator.rules.schemas import POLICIES


def append_line(path: Path, line: str) -> int:
    """Append a line; returns its line number in the file."""
    text = path.read_text()
    path.write_text(text.rstrip("\n") + "\n" + line + "\n")
    return len(path.read_text().splitlines())


# (case, table, appended line, words the message must contain)
BROKEN = [
    (
        "overlapping version",
        POLICIES,
        "HCSC,THE803,2010-01-01,97545,2010-01-01,2010-12-31,NOT_MEDICALLY_NECESSARY,,,seed x",
        ["overlaps", "payer_id=HCSC"],
    ),
    (
        "end before start",
        POLICIES,
        "UHC,P1,v1,97545,2020-01-02,2020-01-01,NOT_MEDICALLY_NECESSARY,,,seed x",
        ["before effective_date"],
    ),
    ("unknown stance", POLICIES, "UHC,P1,v1,97545,2020-01-01,,MAYBE,,,seed x", ["stance"]),
    (
        "bad date",
        POLICIES,
        "UHC,P1,v1,97545,2020-13-01,,NOT_MEDICALLY_NECESSARY,,,seed x",
        ["effective_date", "2020-13-01"],
    ),
    (
        "unknown place-of-service setting",
        POLICIES,
        "UHC,P1,v1,97545,2020-01-01,,NOT_MEDICALLY_NECESSARY,HOSPICE,,seed x",
        ["HOSPICE"],
    ),
    ("malformed code", POLICIES, "UHC,P1,v1,9754,2020-01-01,,NOT_MEDICALLY_NECESSARY,,,seed x", ["procedure_code"]),
    ("plan overlap", "plans.csv", "HCSC-PPO-100,HCSC,COMMERCIAL,2019-06-01,2019-06-30,true,false", ["overlaps"]),
    ("plan flag not boolean", "plans.csv", "NEW-1,HCSC,COMMERCIAL,2019-06-01,,yes,false", ["true or false"]),
    ("unknown line of business", "plans.csv", "NEW-1,HCSC,TRICARE,2019-06-01,,true,false", ["line_of_business"]),
    (
        "unit limit below 1",
        "unit_limits.csv",
        "97546,0,UNITS_EXCEED_DAILY_LIMIT,CO,151,seed x",
        ["max_units_per_member_day"],
    ),
]
