"""Typed and text input values and header spellings: the cases the readers and row checks must read as meant
(issue 13), shared by their unit tests and the end-to-end tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from tests.helpers import BASE_LINE

TYPED = {
    "line_number": pl.Int64,
    "service_date": pl.Date,
    "units": pl.Int64,
    "billed_amount": pl.Decimal(18, 2),
}


def typed_parquet(
    path: Path, rows: list[dict[str, Any]], dtypes: dict[str, pl.DataType], *, zone: str | None = None
) -> Path:
    """A Parquet file of BASE_LINE rows (canonical types), with ``dtypes`` overriding some columns' types;
    ``zone``: service_date timestamps (given in UTC) are converted to that time zone."""
    base = pl.DataFrame([BASE_LINE]).with_columns(
        pl.col(c).str.to_date() if t == pl.Date else pl.col(c).cast(t) for c, t in TYPED.items()
    )
    frames = []
    for i, row in enumerate(rows):
        line = base.with_columns(pl.lit(f"T{i}").alias("claim_id"))
        line = line.with_columns(pl.lit(value, dtype=dtypes.get(c)).alias(c) for c, value in row.items())
        frames.append(line)
    frame = pl.concat(frames, how="vertical_relaxed")
    if zone is not None:
        frame = frame.with_columns(pl.col("service_date").dt.convert_time_zone(zone))
    frame.write_parquet(path)
    return path


CHICAGO = pl.Datetime("us", "America/Chicago")
# (case, column, dtype, value, expected: the canonical value of a result, or the reject check)

TYPED_CASES: list[tuple[str, str, pl.DataType, Any, Any]] = [
    ("float money, 2 decimals", "billed_amount", pl.Float64(), 12.34, Decimal("12.34")),
    ("float money, whole", "billed_amount", pl.Float64(), 180.0, Decimal("180.00")),
    ("float money, 3 decimals", "billed_amount", pl.Float64(), 12.345, "unparseable_billed_amount"),
    ("float money, negative rounding to zero", "billed_amount", pl.Float64(), -0.004, "unparseable_billed_amount"),
    ("float money, negative", "billed_amount", pl.Float64(), -5.0, "negative_billed_amount"),
    ("decimal(18,4) money, trailing zeros", "billed_amount", pl.Decimal(18, 4), Decimal("12.3400"), Decimal("12.34")),
    (
        "decimal(18,4) money, 4 decimals",
        "billed_amount",
        pl.Decimal(18, 4),
        Decimal("12.3456"),
        "unparseable_billed_amount",
    ),
    ("decimal(38,2) money", "billed_amount", pl.Decimal(38, 2), Decimal("99.99"), Decimal("99.99")),
    ("integer money", "billed_amount", pl.Int32(), 180, Decimal("180.00")),
    ("date stored as an integer", "service_date", pl.Int64(), 20240501, "unparseable_service_date"),
    ("date stored as a float", "service_date", pl.Float64(), 20240501.0, "unparseable_service_date"),
    ("naive timestamp", "service_date", pl.Datetime("us"), dt.datetime(2024, 5, 1, 0, 0), dt.date(2024, 5, 1)),
    (
        "timestamp with a zone: its local date, not UTC's",
        "service_date",
        CHICAGO,
        dt.datetime(2024, 5, 1, 22, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.date(2024, 5, 1),
    ),
    ("whole float units", "units", pl.Float64(), 1.0, 1),
    ("fractional float units", "units", pl.Float64(), 1.5, "unparseable_units"),
    ("NaN units", "units", pl.Float64(), float("nan"), "unparseable_units"),
    ("Int32 units", "units", pl.Int32(), 1, 1),
    ("whole decimal line number", "line_number", pl.Decimal(10, 2), Decimal("3.00"), 3),
    ("UInt64 line number beyond Int64", "line_number", pl.UInt64(), 2**63 + 5, "unparseable_line_number"),
    ("boolean units", "units", pl.Boolean(), True, "unparseable_units"),
    ("integer place of service", "place_of_service", pl.Int64(), 11, "11"),
]

#: (text in a whole-number column, read as a whole number)
WHOLE_NUMBER_TEXTS = [
    ("3", True),
    ("03", True),
    ("+3", True),
    ("3.0", True),
    ("3.", True),
    ("3.5", False),
    ("1e3", False),
    ("0x3", False),
    ("3 3", False),
]


def header_csv(path: Path, header: list[str], values: list[str] | None = None, newline: str = "\n") -> Path:
    row = values or [str(v) for v in BASE_LINE.values()]
    path.write_bytes((",".join(header) + newline + ",".join(row) + newline).encode())
    return path


HEADERS_MAPPED = [
    ("surrounding spaces", [f" {c} " if c == "claim_id" else c for c in BASE_LINE], "\n"),
    ("CRLF line ends", list(BASE_LINE), "\r\n"),
    ("a trailing carriage return in the last name", [*list(BASE_LINE)[:-1], "place_of_service\r"], "\n"),
    ("upper case", [c.upper() for c in BASE_LINE], "\n"),
    ("mixed case and spaces", ["Claim_ID ", *list(BASE_LINE)[1:]], "\n"),
    (
        "optional columns named in words",
        [*list(BASE_LINE)[:4], "Plan ID", *list(BASE_LINE)[5:9], "PlaceOfService"],
        "\n",
    ),
]
