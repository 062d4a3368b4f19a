"""The edits (contract section 5) over the valid lines they concern: add-on without its primary, and units over
a member's daily limit. Pure functions over small frames; the prepass chooses which lines each sees together."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from adjudicator.contract import (
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    SERVICE_DATE,
    UNITS,
)
from adjudicator.engine.checks import DUPLICATE_KEY, FLAG_PREFIX, any_failed, flag_columns, with_checks
from adjudicator.engine.facts import ROW_OK, keyed
from adjudicator.rules.compiled import ADDON_EDIT, UNITS_EDIT, CompiledRules


def concerned_lines(raw: pl.LazyFrame, compiled: CompiledRules) -> pl.LazyFrame:
    """The keyed lines whose code an add-on pair or a unit limit names (a few percent of a batch).

    Columns: those the edits need, and whether the row passed its own checks.
    The code is tested on the raw column before anything is typed, so the
    filter reaches the reader: a Parquet scan decodes the other columns only
    for those few lines.
    """
    codes = pl.Series(compiled.edit_codes, dtype=pl.String)
    raw_code = pl.col(PROCEDURE_CODE)
    if raw.collect_schema()[PROCEDURE_CODE] == pl.String:
        raw_code = raw_code.str.strip_chars()
    typed = with_checks(raw.filter(raw_code.is_in(codes.implode())))
    flags = [f for f in flag_columns(typed.collect_schema()) if f != FLAG_PREFIX + DUPLICATE_KEY]
    return (
        keyed(typed)
        .filter(pl.col(PROCEDURE_CODE).is_in(codes.implode()))
        .select(
            CLAIM_ID,
            LINE_NUMBER,
            MEMBER_ID,
            SERVICE_DATE,
            PROCEDURE_CODE,
            UNITS,
            PAYER_ID,
            PLAN_ID,
            PLACE_OF_SERVICE,
            (~any_failed(flags)).alias(ROW_OK),
        )
    )


def addon_without_primary(valid: pl.DataFrame, compiled: CompiledRules) -> pl.DataFrame:
    """Valid add-on lines with no valid primary on the same claim and date (exact keys).

    Needs every valid line of each (claim_id, service_date) in ``valid``.
    """
    pairs = compiled.addon_pairs
    primaries = (
        valid.filter(pl.col(PROCEDURE_CODE).is_in(pairs["primary_code"].unique().implode()))
        .select(CLAIM_ID, SERVICE_DATE, pl.col(PROCEDURE_CODE).alias("primary_code"))
        .unique()
        .join(pairs, on="primary_code")
        .select(CLAIM_ID, SERVICE_DATE, pl.col("addon_code").alias(PROCEDURE_CODE))
        .unique()
    )
    return (
        valid.filter(pl.col(PROCEDURE_CODE).is_in(pairs["addon_code"].unique().implode()))
        .join(primaries, on=[CLAIM_ID, SERVICE_DATE, PROCEDURE_CODE], how="anti")
        .select(CLAIM_ID, LINE_NUMBER)
    )


def units_exceed_limit(valid: pl.DataFrame, compiled: CompiledRules) -> pl.DataFrame:
    """Valid lines of a member, day and code whose units add up past the code's limit (exact keys).

    Needs every valid line of each (member_id, service_date, procedure_code) in ``valid``.
    """
    return (
        valid.join(compiled.unit_limits, on=PROCEDURE_CODE)
        .filter(pl.col(UNITS).sum().over(MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE) > pl.col("max_units_per_member_day"))
        .select(CLAIM_ID, LINE_NUMBER)
    )


EDIT_FUNCTIONS: dict[str, tuple[str, Callable[[pl.DataFrame, CompiledRules], pl.DataFrame]]] = {
    # every line of a claim and date must be in one partition for the add-on edit, of a member's day for the limit
    ADDON_EDIT: (CLAIM_ID, addon_without_primary),
    UNITS_EDIT: (MEMBER_ID, units_exceed_limit),
}


__all__ = ["EDIT_FUNCTIONS", "addon_without_primary", "concerned_lines", "units_exceed_limit"]
