"""The normalisers a layout names for a source column: String expression in, String expression out, vectorised.

A value that does not fit the pattern is returned unchanged so the validator rejects it with its original text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import polars as pl


def _as_is(text: pl.Expr) -> pl.Expr:
    return text


def _unpad_number(text: pl.Expr) -> pl.Expr:
    """CCLF's zero padding off: '0000000001' -> '1', '000000000000000001.0000' -> '1.0000', '-0012.30' -> '-12.30'."""
    trimmed = text.str.strip_chars()
    return (
        pl.when(trimmed.str.contains(r"^[+-]?[0-9]+(\.[0-9]*)?$"))
        .then(trimmed.str.replace(r"^([+-]?)0+([0-9])", "${1}${2}"))
        .otherwise(text)
    )


def _iso_from(text: pl.Expr, pattern: str, fmt: str) -> pl.Expr:
    """The date as YYYY-MM-DD when ``text`` matches ``pattern`` and parses with ``fmt``, else ``text``."""
    trimmed = text.str.strip_chars()
    parsed = (
        pl.when(trimmed.str.contains(pattern))
        .then(trimmed.str.strptime(pl.Date, fmt, strict=False))
        .dt.to_string("%Y-%m-%d")
    )
    return pl.coalesce(parsed, text)


def _date_yyyymmdd(text: pl.Expr) -> pl.Expr:
    """'20080229' -> '2008-02-29'; anything else (already ISO, or malformed) unchanged."""
    return _iso_from(text, r"^[0-9]{8}$", "%Y%m%d")


def _date_dd_mon_yyyy(text: pl.Expr) -> pl.Expr:
    """RIF dates: '27-OCT-1999' -> '1999-10-27'; anything else unchanged."""
    return _iso_from(text, r"^[0-9]{1,2}-[A-Za-z]{3}-[0-9]{4}$", "%d-%b-%Y")


def _x12_date_period(text: pl.Expr) -> pl.Expr:
    """DTP03 of format D8 ('20050208') or RD8 ('20040201-20040207', its first day): to YYYY-MM-DD."""
    first = text.str.strip_chars().str.extract(r"^([0-9]{8})(?:-[0-9]{8})?$", 1)
    return pl.coalesce(first.str.strptime(pl.Date, "%Y%m%d", strict=False).dt.to_string("%Y-%m-%d"), text)


#: normaliser name (as used in the declared mappings) -> function
NORMALIZERS: Final[dict[str, Callable[[pl.Expr], pl.Expr]]] = {
    "as_is": _as_is,
    "unpad_number": _unpad_number,
    "date_yyyymmdd": _date_yyyymmdd,
    "date_dd_mon_yyyy": _date_dd_mon_yyyy,
    "x12_date_period": _x12_date_period,
}
