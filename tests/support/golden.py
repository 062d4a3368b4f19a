"""The golden outputs of the sample claims as text: the result columns compared, and frames as text."""

from __future__ import annotations

import polars as pl

RESULT_COLUMNS = [
    "claim_id",
    "line_number",
    "payer_id",
    "plan_id",
    "service_date",
    "procedure_code",
    "units",
    "place_of_service",
    "determination",
    "reason",
    "policy_id",
    "policy_version",
    "policy_effective_date",
    "policy_end_date",
    "group_code",
    "carc",
    "rarc",
    "edits",
    "edit_carcs",
    "message",
]


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.col(c).list.join("|") if frame.schema[c] == pl.List(pl.String) else pl.col(c).cast(pl.String)
        for c in frame.columns
    )
