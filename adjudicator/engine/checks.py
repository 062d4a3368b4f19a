"""The input contract's row checks (contract section 2): one list, run as streaming expressions and as a pandera schema.

Grain: one row per claim line as read. ``with_checks`` adds the typed canonical
columns and one Boolean flag per check, named ``_failed_<check>`` (True when
the row breaks it), plus ``_valid``. Nothing is collected: every check is a
polars expression, evaluated on each batch of lines. The same ``CHECKS`` list
builds ``input_schema()``, a pandera schema for frames small enough to
collect (the tests use it), so the two can never drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import polars as pl

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL,
    CLAIM_ID,
    LINE_NUMBER,
    PLACE_OF_SERVICE,
    PROCEDURE_CODE,
    REJECT_PREFIX,
    REQUIRED_COLUMNS,
    SERVICE_DATE,
    UNITS,
)

#: prefix of the per-check Boolean flag columns added by ``with_checks``
FLAG_PREFIX = "_failed_"
VALID = "_valid"
#: the raw text of a canonical column is kept beside its parsed value under this prefix
RAW_PREFIX = "_raw_"
DUPLICATE_KEY = "duplicate_key"

if TYPE_CHECKING:
    import pandera.polars as pa


#: the trimmed raw text of a text column, computed once and dropped once the checks are added
_TEXT_PREFIX = "_text_"


def _raw(column: str) -> pl.Expr:
    return pl.col(RAW_PREFIX + column)


def _text(column: str) -> pl.Expr:
    """The raw text with surrounding whitespace trimmed (only for columns read as text)."""
    return pl.col(_TEXT_PREFIX + column)


Dtypes = Mapping[str, pl.DataType]


def _blank(column: str, dtypes: Dtypes) -> pl.Expr:
    """True when the raw value is missing: null, or only whitespace in a text file."""
    if dtypes.get(column, pl.String()) != pl.String:
        return _raw(column).is_null()
    return _text(column).is_null() | (_text(column) == "")


#: the canonical text of a whole number: digits, an optional sign, an optional fraction of zeros ("3", "03",
#: "+3", "3.0"); parsed as an integer, never through a float, so 2**53 + 1 stays itself
_WHOLE_TEXT = r"^[+-]?\d+(\.0*)?$"
#: a plain decimal with at most 2 significant decimals: "12.345" would be cut to 12.34, "1e3" is not a money
#: amount; trailing zeros ("1.0000", as CCLF writes) are fine
_MONEY_TEXT = r"^[+-]?\d+(\.\d{0,2}0*)?$"
#: exactly YYYY-MM-DD: "2024-1-5" is not the contract's date layout
_DATE_TEXT = r"^\d{4}-\d{2}-\d{2}$"
#: integer types an Int64 holds exactly
_EXACT_IN_INT64 = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)
#: below this magnitude a float64 is written in plain notation and the 2-decimal number it round-trips to is
#: unique (its neighbours are less than 0.01 apart), so it is checked and converted without its text
_PLAIN_FLOAT_BELOW = 1e13


def raw_form_dtype(column: str, source_dtype: pl.DataType) -> pl.DataType | None:
    """The dtype a typed input column has in the raw frame (see ``raw_form``); None when it has no text form."""
    target, _ = CANONICAL[column]
    if source_dtype == pl.String or source_dtype == target:
        return source_dtype
    if source_dtype.is_nested() or source_dtype in (pl.Binary, pl.Object):
        return None
    if target == pl.Date and isinstance(source_dtype, pl.Datetime):
        return pl.Date()
    if target == pl.Int64 and isinstance(source_dtype, _EXACT_IN_INT64):
        return pl.Int64()
    if isinstance(target, pl.Decimal) and source_dtype == pl.Float64:
        return pl.Float64()  # checked numerically (``parse``), with the verdict its text would get
    return pl.String()


def raw_form(column: str, source_dtype: pl.DataType, value: pl.Expr | None = None) -> pl.Expr | None:
    """A typed input column (``value``, by default the column itself) as the raw frame holds it, decided per
    file before files are combined.

    The raw frame holds each canonical column either as text or already as its
    canonical dtype (``adjudicator.contract``). A typed column of another dtype
    becomes one of the two without losing anything, so a value gets the same
    verdict whichever files it is read with, and the same checks as the text a
    CSV would hold:

    - text and the canonical dtype stay as they are;
    - a timestamp becomes its calendar date in its own time zone (a naive one, its date);
    - an integer type an Int64 holds exactly becomes Int64;
    - a float64 money amount stays a float64: ``parse`` gives it the verdict
      and the value of its text (``_float_money``), without making the text;
    - anything else becomes its text, checked by the text rules: a float or a
      decimal with more than 2 decimals is not a money amount (``-0.004`` is
      not 0.00), a float in an integer column must be whole, an integer is not
      a date (``20200105``), a UInt64 beyond Int64 does not parse.

    None when the dtype has no text form (lists, structs, binary): the caller
    stops with a message naming the file and the column.
    """
    formed = raw_form_dtype(column, source_dtype)
    col = pl.col(column) if value is None else value
    if formed is None:
        return None
    if formed == source_dtype:
        return col
    if formed == pl.Date:
        return col.dt.date()
    return col.cast(formed)


def parsed(column: str) -> pl.Expr:
    """The canonical value of the raw frame's ``column`` (text, or already typed), read as the validator reads
    it: its text trimmed and parsed (`` C1 `` is ``C1``, ``1.0`` is line 1); null where it does not parse. For
    a key matched before the checks run (a layout's re-delivered copies), so it is the key the duplicate check
    sees."""
    return _parse_text(pl.col(column).cast(pl.String).str.strip_chars(), CANONICAL[column][0])


def _parse_text(text: pl.Expr, target: pl.DataType) -> pl.Expr:
    """The canonical value of trimmed text; null where it does not parse."""
    if target == pl.String:
        # "HCSC " must select HCSC's policy and "A " must be the same claim as "A": text is trimmed
        return pl.when(text != "").then(text)
    if target == pl.Date:
        return pl.when(text.str.contains(_DATE_TEXT)).then(text.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    if target == pl.Int64:
        # "3", "03", "+3" and "3.0" are whole numbers; "3.5", "1e3" and "x" are not
        digits = text.str.replace(r"\.0*$", "").str.strip_prefix("+")
        return pl.when(text.str.contains(_WHOLE_TEXT)).then(digits.cast(pl.Int64, strict=False))
    return pl.when(text.str.contains(_MONEY_TEXT)).then(text.cast(target, strict=False))


def _float_money(value: pl.Expr, target: pl.DataType) -> pl.Expr:
    """A float64 amount's canonical value, exactly as its text (polars' shortest round-trip form) would parse.

    Below ``_PLAIN_FLOAT_BELOW`` the text has at most 2 decimals exactly when
    the amount rounded to cents converts back to the same float, and that
    rounded amount is the text's value: ``12.345`` and ``-0.004`` fail,
    ``0.29`` is 0.29 (not the 0.28 its binary value would truncate to). NaN and
    infinities are not below it; larger amounts (rare) take the text route.
    """
    plain = value.abs() < _PLAIN_FLOAT_BELOW
    cents = pl.when(plain).then(value).cast(target, strict=False)
    large = pl.when(~plain).then(value).cast(pl.String)
    return pl.coalesce(pl.when(cents.cast(pl.Float64) == value).then(cents), _parse_text(large, target))


def parse(column: str, source_dtype: pl.DataType, *, trimmed: bool = False) -> pl.Expr:
    """The canonical value of ``column`` from its raw value; null where it cannot be parsed.

    ``trimmed``: read the text already trimmed by ``with_checks`` (``_text_<column>``)
    instead of trimming the raw value again. A typed source of another dtype
    than the canonical one (a raw frame the readers did not make) is first put
    in its raw form (``raw_form``), so it gets the same rules as text.
    """
    target, _ = CANONICAL[column]
    raw = _raw(column)
    if source_dtype == pl.String:
        return _parse_text(_text(column) if trimmed else raw.str.strip_chars(), target)
    if source_dtype == target:
        return raw
    form = raw_form(column, source_dtype, raw)
    if form is None:
        return pl.lit(None, target)
    formed = raw_form_dtype(column, source_dtype)
    if formed == target:
        return form
    if formed == pl.Float64:
        return _float_money(form, target)
    return _parse_text(form.str.strip_chars(), target)


@dataclass(frozen=True)
class RowCheck:
    """One contract rule as data: its name, what it protects, and the expression that is True when a row fails."""

    name: str
    description: str
    #: given the dtypes of the raw canonical columns, an expression True where a row fails
    failed: Callable[[Dtypes], pl.Expr]


def _missing(column: str) -> RowCheck:
    return RowCheck(f"missing_{column}", f"{column} is required", lambda dtypes: _blank(column, dtypes))


def _parse_failed(column: str, dtypes: Dtypes) -> pl.Expr:
    """A value was given but did not parse; impossible (a constant) when the file already has the type."""
    if dtypes.get(column) == CANONICAL[column][0]:
        return pl.lit(False)
    return ~_blank(column, dtypes) & pl.col(column).is_null()


#: the first and last day a service date may be: the years 0001 to 9999, the dates every reader and writer of
#: the outputs agrees on (a typed source can hold year 0 or 10000, and ``0000-01-01`` parses as text)
DATE_RANGE: Final = (dt.date(1, 1, 1), dt.date(9999, 12, 31))


def _unparseable(column: str, what: str) -> RowCheck:
    return RowCheck(
        f"unparseable_{column}",
        f"{column} must be {what}",
        lambda dtypes: _parse_failed(column, dtypes),
    )


CHECKS: tuple[RowCheck, ...] = (
    *(_missing(c) for c in REQUIRED_COLUMNS),
    _unparseable(LINE_NUMBER, "a whole number"),
    RowCheck("line_number_below_1", "line_number must be >= 1", lambda _: pl.col(LINE_NUMBER) < 1),
    RowCheck(
        f"unparseable_{SERVICE_DATE}",
        f"{SERVICE_DATE} must be a date YYYY-MM-DD of the years 0001 to 9999",
        lambda dtypes: _parse_failed(SERVICE_DATE, dtypes) | ~pl.col(SERVICE_DATE).is_between(*DATE_RANGE),
    ),
    RowCheck(
        "malformed_procedure_code",
        "procedure_code must be 5 letters or digits",
        lambda _: ~pl.col(PROCEDURE_CODE).str.contains(r"^[A-Za-z0-9]{5}$"),
    ),
    _unparseable(UNITS, "a whole number"),
    RowCheck("units_below_1", "units must be >= 1", lambda _: pl.col(UNITS) < 1),
    _unparseable(BILLED_AMOUNT, "a decimal number"),
    RowCheck("negative_billed_amount", "billed_amount must be >= 0", lambda _: pl.col(BILLED_AMOUNT) < 0),
    RowCheck(
        "malformed_place_of_service",
        "place_of_service, when given, must be 2 digits",
        lambda _: ~pl.col(PLACE_OF_SERVICE).str.contains(r"^[0-9]{2}$"),
    ),
)


def layout_checks(schema: pl.Schema) -> list[str]:
    """Names of the row checks a layout flagged itself (``_reject_<check>`` columns)."""
    return [c.removeprefix(REJECT_PREFIX) for c in schema.names() if c.startswith(REJECT_PREFIX)]


def with_checks(raw: pl.LazyFrame) -> pl.LazyFrame:
    """Typed canonical columns, ``_raw_<column>`` originals, a flag per check and ``_valid``.

    Grain unchanged: one row per input row. The duplicate-key check needs the
    whole batch; the batch function adds it from the prepass's facts (``adjudicator.engine.batch``).
    """
    schema = raw.collect_schema()
    texts = [c for c in CANONICAL if schema[c] == pl.String]
    # each text value is trimmed once, here; parsing and the checks read the trimmed text (trimming in every
    # expression that needs it costs more: docs/benchmarks.md)
    typed = (
        raw.rename({c: RAW_PREFIX + c for c in CANONICAL})
        .with_columns(_raw(c).str.strip_chars().alias(_TEXT_PREFIX + c) for c in texts)
        .with_columns(parse(c, schema[c], trimmed=True).alias(c) for c in CANONICAL)
    )
    dtypes = {c: schema[c] for c in CANONICAL}
    flags = [c.failed(dtypes).fill_null(False).alias(FLAG_PREFIX + c.name) for c in CHECKS]
    flags += [pl.col(REJECT_PREFIX + name).fill_null(False).alias(FLAG_PREFIX + name) for name in layout_checks(schema)]
    return typed.with_columns(flags).drop(_TEXT_PREFIX + c for c in texts)


def flag_columns(schema: pl.Schema) -> list[str]:
    return [c for c in schema.names() if c.startswith(FLAG_PREFIX)]


def any_failed(flags: Sequence[str]) -> pl.Expr:
    """True when the row failed any of ``flags``."""
    if not flags:
        return pl.lit(False)
    return pl.any_horizontal(flags)


def failed_check_names(flags: Sequence[str]) -> pl.Expr:
    """The names of the checks a row failed, as a list of strings (run on rejects only)."""
    return pl.concat_list(
        [pl.when(pl.col(f)).then(pl.lit(f.removeprefix(FLAG_PREFIX))) for f in flags]
    ).list.drop_nulls()


def input_schema() -> pa.DataFrameSchema:
    """The input contract as a pandera schema over a *typed* frame (``with_checks`` output).

    Built from ``CHECKS`` so it cannot drift from the streaming checks: each
    check becomes a frame-level pandera check that every row passes.
    """
    import pandera.polars as pa

    columns = {
        name: pa.Column(dtype, nullable=not required, required=True) for name, (dtype, required) in CANONICAL.items()
    }

    def as_pandera(check: RowCheck) -> pa.Check:
        def run(data: pa.PolarsData) -> pl.LazyFrame:
            return data.lazyframe.select(~check.failed({}).fill_null(False))

        return pa.Check(run, name=check.name, error=check.description)

    value_checks = [c for c in CHECKS if not c.name.startswith(("missing_", "unparseable_"))]
    return pa.DataFrameSchema(
        columns,
        checks=[as_pandera(c) for c in value_checks],
        unique=[CLAIM_ID, LINE_NUMBER],
        name="claim_lines",
        strict=False,
    )
