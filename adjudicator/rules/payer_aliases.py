"""The payer-alias table (``rules/payer_aliases.csv``): identifiers found in files mapped to the rule tables'
payer_id (applied by ``adjudicator.readers.payers.apply_payers``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Final

import polars as pl

from adjudicator.errors import RulesError, first_line
from adjudicator.rules.text_faults import check_csv_text, unreadable_csv

if TYPE_CHECKING:
    import pandera.polars as pa

PAYER_ALIASES_TABLE: Final = "payer_aliases.csv"
PAYER_ALIAS_COLUMNS: Final = ("alias", "payer_id", "source")


@functools.cache
def payer_alias_schema() -> pa.DataFrameSchema:
    """The payer-alias table's pandera schema (built on first use: pandera is imported only to validate)."""
    import pandera.polars as pa

    text = pa.Column(pl.String, nullable=False, checks=pa.Check.str_length(min_value=1))
    return pa.DataFrameSchema(dict.fromkeys(PAYER_ALIAS_COLUMNS, text), strict=True, name=PAYER_ALIASES_TABLE)


def load_payer_aliases(path: str | Path, *, validate: bool = True) -> pl.DataFrame:
    """The payer-alias table: one row per identifier found in files (``alias``) -> rule-table ``payer_id``.

    Raises ``RulesError`` naming the table and the line (header = line 1) for a
    missing or extra column, an empty value, or an alias listed twice.
    ``validate`` False skips the pandera schema, as ``load_rules`` does.
    """
    path = Path(path)
    where = f"{path}: rule table {PAYER_ALIASES_TABLE}"
    if not path.is_file():
        raise RulesError(f"{where} not found")
    check_csv_text(path, PAYER_ALIASES_TABLE)
    try:
        frame = pl.read_csv(path, infer_schema=False)
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise unreadable_csv(path, PAYER_ALIASES_TABLE, exc) from None
    frame = frame.with_columns(pl.col(c).str.strip_chars().replace("", None) for c in frame.columns)
    expected = list(PAYER_ALIAS_COLUMNS)
    if frame.columns != expected:
        raise RulesError(
            f"columns must be exactly {','.join(expected)}, got {','.join(frame.columns)}",
            path=path,
            table=PAYER_ALIASES_TABLE,
        )
    numbered = frame.with_row_index("_line", offset=2)
    for column in expected:
        empty = numbered.filter(pl.col(column).is_null())
        if empty.height:
            raise RulesError(f"{column} is empty", path=path, table=PAYER_ALIASES_TABLE, line=empty["_line"][0])
    repeated = numbered.with_columns(pl.col("_line").min().over("alias").alias("_first")).filter(
        pl.col("_line") != pl.col("_first")
    )
    if repeated.height:
        row = repeated.row(0, named=True)
        raise RulesError(
            f"alias {row['alias']!r} is listed twice (first on line {row['_first']})",
            path=path,
            table=PAYER_ALIASES_TABLE,
            line=row["_line"],
        )
    if not validate:
        return frame
    import pandera.polars as pa

    try:
        return payer_alias_schema().validate(frame, lazy=True)
    except (pa.errors.SchemaErrors, pa.errors.SchemaError) as exc:
        raise RulesError(first_line(exc), path=path, table=PAYER_ALIASES_TABLE) from None


__all__ = ["PAYER_ALIASES_TABLE", "PAYER_ALIAS_COLUMNS", "load_payer_aliases", "payer_alias_schema"]
