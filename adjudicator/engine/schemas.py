"""The outputs' contract (contract section 6) as pandera schemas, checked in the tests on real runs."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from adjudicator.contract import CANONICAL, DECISION_COLUMNS, DETERMINATIONS, SOURCE_FILE
from adjudicator.errors import InternalError
from adjudicator.rules.schemas import LINES_OF_BUSINESS, REASONS, STANCES


def results_schema() -> pa.DataFrameSchema:
    """One row per valid line: typed canonical columns (required ones non-null) and the decision columns."""
    columns: dict[str, pa.Column] = {
        name: pa.Column(dtype, nullable=not required) for name, (dtype, required) in CANONICAL.items()
    }
    columns.update(
        {
            "determination": pa.Column(pl.String, pa.Check.isin(list(DETERMINATIONS)), nullable=False),
            "reason": pa.Column(pl.String, pa.Check.isin(list(REASONS)), nullable=True),
            "policy_id": pa.Column(pl.String, nullable=True),
            "policy_version": pa.Column(pl.String, nullable=True),
            "policy_effective_date": pa.Column(pl.Date, nullable=True),
            "policy_end_date": pa.Column(pl.Date, nullable=True),
            "policy_stance": pa.Column(pl.String, pa.Check.isin(list(STANCES)), nullable=True),
            "policy_source": pa.Column(pl.String, nullable=True),
            "plan_version_effective_date": pa.Column(pl.Date, nullable=True),
            "plan_line_of_business": pa.Column(pl.String, pa.Check.isin(list(LINES_OF_BUSINESS)), nullable=True),
            "group_code": pa.Column(pl.String, nullable=True),
            "carc": pa.Column(pl.String, nullable=True),
            "rarc": pa.Column(pl.String, nullable=True),
            "edits": pa.Column(pl.List(pl.String), nullable=False),
            "edit_carcs": pa.Column(pl.List(pl.String), nullable=False),
            "message": pa.Column(pl.String, nullable=True),
            "run_id": pa.Column(pl.String, nullable=False),
        }
    )

    def reason_iff_targeted(data: pa.PolarsData) -> pl.LazyFrame:
        no_action = pl.col("determination") == "NO_ACTION"
        return data.lazyframe.select(no_action == pl.col("reason").is_null())

    def message_iff_reason(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("reason").is_null() == pl.col("message").is_null())

    missing = set(DECISION_COLUMNS) - set(columns)
    if missing:
        raise InternalError(f"results schema lacks decision columns {sorted(missing)}")
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(reason_iff_targeted, name="reason_iff_targeted"),
            pa.Check(message_iff_reason, name="message_iff_reason"),
        ],
        unique=["claim_id", "line_number"],
        strict=False,
        name="results",
    )


def rejects_schema() -> pa.DataFrameSchema:
    """One row per rejected line: the original values as text, the checks it failed (at least one)."""
    columns = {name: pa.Column(pl.String, nullable=True) for name in CANONICAL}
    columns[SOURCE_FILE] = pa.Column(pl.String, nullable=False)

    def names_a_check(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.len() >= 1)

    columns["failed_checks"] = pa.Column(pl.List(pl.String), pa.Check(names_a_check), nullable=False)
    columns["run_id"] = pa.Column(pl.String, nullable=False)
    return pa.DataFrameSchema(columns, strict=False, name="rejects")
