"""The rule tables' contract as data: each table's file name, the vocabularies its columns take, and its pandera
schema (``schemas``), checked when the tables are loaded (``adjudicator.rules.tables``)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import polars as pl

from adjudicator.contract import DETERMINATIONS

if TYPE_CHECKING:
    import pandera.polars as pa

#: the vocabularies of the tables' columns
STANCES = ("NOT_MEDICALLY_NECESSARY", "BENEFIT_EXCLUSION", "CARRIER_DISCRETION", "SUPERSEDED")
LINES_OF_BUSINESS = ("COMMERCIAL", "MEDICARE", "MEDICAID")
#: the decision table's reasons, in the order its rows are tried (contract section 4)
REASONS = (
    "MEDICARE_CARRIER_DISCRETION",
    "NO_POLICY_IN_EFFECT",
    "POLICY_SUPERSEDED",
    "POLICY_NOT_APPLICABLE",
    "PLAN_NOT_FOUND",
    "PLAN_COVERS_SERVICE",
    "BENEFIT_EXCLUSION",
    "NOT_MEDICALLY_NECESSARY",
    "NO_NMN_EXCLUSION_IN_PLAN",
)

#: the tables' file names in a rules folder
POLICIES = "medical_policies.csv"
PLANS = "plans.csv"
ADDON_PAIRS = "addon_pairs.csv"
UNIT_LIMITS = "unit_limits.csv"
PLACES = "places_of_service.csv"
REASONS_TABLE = "reasons.csv"

#: a procedure code: 5 letters or digits
_CODE = r"^[A-Za-z0-9]{5}$"


@functools.cache
def schemas() -> dict[str, pa.DataFrameSchema]:
    """Each rule table's pandera schema, by file name (built on first use: pandera is imported only where
    tables are validated, see ``adjudicator.rules.check``)."""
    import pandera.polars as pa

    text = pa.Column(pl.String, nullable=False, checks=pa.Check.str_length(min_value=1))
    opt_text = pa.Column(pl.String, nullable=True)
    date = pa.Column(pl.Date, nullable=False)
    opt_date = pa.Column(pl.Date, nullable=True)

    def code() -> pa.Column:
        return pa.Column(pl.String, nullable=False, checks=pa.Check.str_matches(_CODE))

    def one_of(values: tuple[str, ...], *, nullable: bool = False) -> pa.Column:
        return pa.Column(pl.String, nullable=nullable, checks=pa.Check.isin(list(values)))

    return {
        POLICIES: pa.DataFrameSchema(
            {
                "payer_id": text,
                "policy_id": text,
                "version": text,
                "procedure_code": code(),
                "effective_date": opt_date,
                "end_date": opt_date,
                "stance": one_of(STANCES),
                "places_of_service": opt_text,
                "published_date": opt_date,
                "source": text,
            },
            strict=True,
            unique=["payer_id", "procedure_code", "policy_id", "version", "published_date"],
            name=POLICIES,
        ),
        PLANS: pa.DataFrameSchema(
            {
                "plan_id": text,
                "payer_id": text,
                "line_of_business": one_of(LINES_OF_BUSINESS),
                "effective_date": date,
                "end_date": opt_date,
                "excludes_not_medically_necessary": pa.Column(pl.Boolean, nullable=False),
                "covers_work_hardening": pa.Column(pl.Boolean, nullable=False),
            },
            strict=True,
            name=PLANS,
        ),
        ADDON_PAIRS: pa.DataFrameSchema(
            {
                "addon_code": code(),
                "primary_code": code(),
                "edit": text,
                "group_code": text,
                "carc": text,
                "source": text,
            },
            strict=True,
            unique=["addon_code", "primary_code"],
            name=ADDON_PAIRS,
        ),
        UNIT_LIMITS: pa.DataFrameSchema(
            {
                "procedure_code": code(),
                "max_units_per_member_day": pa.Column(pl.Int64, nullable=False, checks=pa.Check.ge(1)),
                "edit": text,
                "group_code": text,
                "carc": text,
                "source": text,
            },
            strict=True,
            unique=["procedure_code"],
            name=UNIT_LIMITS,
        ),
        PLACES: pa.DataFrameSchema(
            {
                "place_of_service": pa.Column(
                    pl.String, nullable=False, checks=pa.Check.str_matches(r"^([0-9]{2}|\*)$")
                ),
                "setting": text,
                "source": text,
            },
            strict=True,
            unique=["place_of_service"],
            name=PLACES,
        ),
        REASONS_TABLE: pa.DataFrameSchema(
            {
                "reason": one_of(REASONS),
                "determination": one_of(DETERMINATIONS),
                "group_code": opt_text,
                "carc": opt_text,
                "rarc": opt_text,
                "message": text,
                "source": text,
            },
            strict=True,
            unique=["reason"],
            name=REASONS_TABLE,
        ),
    }


__all__ = [
    "ADDON_PAIRS",
    "DETERMINATIONS",
    "LINES_OF_BUSINESS",
    "PLACES",
    "PLANS",
    "POLICIES",
    "REASONS",
    "REASONS_TABLE",
    "STANCES",
    "UNIT_LIMITS",
    "schemas",
]
