"""The Spark plan's columns and types: what polars writes, as Spark accepts it (no LargeList, no unsigned, no
string views), the schema of the Spark lines, and the frames and tagged batches the tasks exchange."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, cast

import polars as pl
import pyarrow as pa

from adjudicator.engine.facts import DUPLICATE, FIRED

if TYPE_CHECKING:
    from pyspark.sql.types import StructType

#: the output datasets of a Spark run (folders of Parquet part files), beside manifest.json and report.html
RESULTS_DIR: Final = "results"
REJECTS_DIR: Final = "rejects"
#: the line's position in its file as the layout reads it (0-based), kept so input order can be restored:
#: sort by the manifest's input order (``source_file``), then ``source_row``
SOURCE_ROW: Final = "source_row"

#: internal columns of the Spark plan (a leading underscore: input columns may not use one)
FILE_INDEX: Final = "_file_index"
ROW_INDEX: Final = "_row_index"
KEY_CLAIM: Final = "_key_claim_id"
KEY_LINE: Final = "_key_line_number"
KEYED: Final = "_keyed"
_POSITION: Final = "_position"
FACT_CLAIM: Final = "_fact_claim_id"
FACT_LINE: Final = "_fact_line_number"
_BUCKET: Final = "_bucket"
_FIRST: Final = "_first_delivery"
#: the tagged union an adjudication task returns: one of these four columns is set on each row
TAG_RESULTS: Final = "results"
TAG_REJECTS: Final = "rejects"
TAG_TOTALS: Final = "totals"
TAG_CLAIMS: Final = "claims"
#: the Boolean columns of a fact key
_FACT_FLAGS: Final = (DUPLICATE, *FIRED.values())


def arrow_type(dtype: pl.DataType) -> pa.DataType:
    """The Arrow type a Spark column of this polars dtype takes (Spark has no unsigned or large types)."""
    if isinstance(dtype, pl.Decimal):
        return pa.decimal128(dtype.precision or 38, dtype.scale)
    if isinstance(dtype, pl.Datetime):
        return pa.timestamp("us", tz="UTC" if dtype.time_zone else None)
    if isinstance(dtype, (pl.List, pl.Array)):
        return pa.list_(arrow_type(_instance(dtype.inner)))
    if isinstance(dtype, pl.Struct):
        return pa.struct([pa.field(f.name, arrow_type(_instance(f.dtype))) for f in dtype.fields])
    simple: dict[type[pl.DataType], pa.DataType] = {
        pl.Boolean: pa.bool_(),
        pl.Int8: pa.int8(),
        pl.Int16: pa.int16(),
        pl.Int32: pa.int32(),
        pl.Int64: pa.int64(),
        pl.UInt8: pa.int16(),
        pl.UInt16: pa.int32(),
        pl.UInt32: pa.int64(),
        pl.UInt64: pa.decimal128(20, 0),
        pl.Float32: pa.float32(),
        pl.Float64: pa.float64(),
        pl.Date: pa.date32(),
        pl.Binary: pa.binary(),
        pl.Duration: pa.duration("us"),
    }
    return simple.get(type(dtype), pa.string())


def _instance(dtype: Any) -> pl.DataType:
    """A nested dtype's inner type as an instance (polars may hold the class itself)."""
    return cast(pl.DataType, dtype() if isinstance(dtype, type) else dtype)


def arrow_schema(schema: pl.Schema) -> pa.Schema:
    return pa.schema([pa.field(name, arrow_type(dtype)) for name, dtype in schema.items()])


def spark_schema(schema: pl.Schema) -> StructType:
    """The Spark schema of a polars schema (``arrow_type`` column by column)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(arrow_schema(schema), prefer_timestamp_ntz=True)


def _arrow_of(schema: StructType) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


def line_schema(raw: pl.Schema) -> pl.Schema:
    """The schema of the Spark lines: the raw frame's, the file index, the row in the file and the typed key."""
    return pl.Schema(
        {
            **raw,
            FILE_INDEX: pl.Int32(),
            ROW_INDEX: pl.Int64(),
            KEY_CLAIM: pl.String(),
            KEY_LINE: pl.Int64(),
            KEYED: pl.Boolean(),
        }
    )


def _spark_ready(dtype: pl.DataType) -> pl.DataType | None:
    """The polars dtype to cast to before handing a column to Arrow for Spark, or None when Arrow casts it."""
    if dtype == pl.UInt64:
        return pl.Decimal(20, 0)
    if isinstance(dtype, (pl.Categorical, pl.Enum, pl.Null, pl.Time, pl.Object)):
        return pl.String()
    return None


def to_spark_arrow(frame: pl.DataFrame, target: pa.Schema) -> pa.Table:
    """``frame`` as an Arrow table of exactly ``target`` (the Spark schema's Arrow form), columns by name."""
    casts = {n: _spark_ready(d) for n, d in frame.schema.items()}
    ready = frame.select((pl.col(n).cast(to) if (to := casts.get(n)) is not None else pl.col(n)) for n in target.names)
    return ready.to_arrow().cast(target)


def _struct_batch(table: pa.Table, column: str, schema: pa.Schema) -> pa.RecordBatch:
    """One tagged-union batch: ``table`` as the struct ``column``, every other column of ``schema`` null."""
    rows = table.num_rows
    arrays = []
    for field in schema:
        if field.name == column:
            parts = table.combine_chunks().to_batches()
            children = parts[0].columns if parts else [pa.array([], f.type) for f in field.type]
            arrays.append(pa.StructArray.from_arrays(children, fields=list(field.type)))
        else:
            arrays.append(pa.nulls(rows, field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _frames(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pl.DataFrame]:
    """Spark's Arrow batches (10,000 rows by default) gathered into frames of about ``rows`` lines."""
    held: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows:
            held.append(batch)
            count += batch.num_rows
        if count >= rows:
            yield cast(pl.DataFrame, pl.from_arrow(pa.Table.from_batches(held)))
            held, count = [], 0
    if held:
        yield cast(pl.DataFrame, pl.from_arrow(pa.Table.from_batches(held)))


def _per_group(task: Callable[[pa.Table], pa.Table]) -> Callable[[pa.Table], pa.Table]:
    """``task`` as a plain function of one argument: Spark counts a callable object's ``self`` as the grouping
    key's argument and would call it with (key, table)."""

    def call(table: pa.Table) -> pa.Table:
        return task(table)

    return call


__all__ = [
    "REJECTS_DIR",
    "RESULTS_DIR",
    "SOURCE_ROW",
    "arrow_schema",
    "arrow_type",
    "line_schema",
    "spark_schema",
    "to_spark_arrow",
]
