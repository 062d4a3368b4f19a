"""The Spark engine: the embedded engine's own readers, prepass functions and batch function, run inside Spark tasks.

Spark does what only it can do here: read the inputs in parallel and move
rows between machines. It never parses a value and never decides a line:

- **reading**: a DataFrame of work items (a Parquet file's range of rows, or
  one text file) is read inside ``mapInArrow`` by the project's own reader
  (``readers.scan.scan_layout``), so layouts, header mapping, payer aliases and
  the typed-input conversion behave exactly as in a local run. Each line
  keeps its file's index and its row in the file (``source_row``), so input
  order can be restored, and its exact typed key (claim_id, line_number),
  parsed by ``validate.with_checks``.
- **facts** (``prepass``): duplicate keys are a Spark group-by on the exact
  typed key; the edits are the project's ``addon_without_primary`` and
  ``units_exceed_limit`` run by ``groupBy(bucket).applyInArrow`` on the
  valid concerned lines, bucketed by a hash of the claim (add-on) and of
  the member (unit limit): the hash only picks a bucket, each function
  groups exact keys inside it. CCLF re-deliveries are a group-by on the raw
  key of the dates the layout's own expression reads.
- **the batch**: every line is joined to the facts of its key (a join by
  key; the facts are sent to every task only when they are few), and
  ``batch.adjudicate_batch`` runs inside one ``mapInArrow`` whose output is
  a tagged union: results, rejects, per-claim flagged sums and one row of
  counts and summary partials per task. It is persisted and split, so
  nothing is adjudicated twice. In a run (``run``), the tasks write their
  results and rejects as Parquet part files themselves, as the local
  driver's writers do, and return only the small rows: moving every output
  line back into Spark, caching it and scanning it once per output cost
  about half the adjudication stage (docs/benchmarks.md, "Spark").

The compiled rules travel to the tasks by pickling (``CompiledRules`` is
frozen and about 2.8 MB). No text is cast by Spark, so ANSI mode and Spark's
CSV and trimming rules never touch a value. Costs and how to run on a
cluster: README, "Running on Spark"; figures: docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import pickle
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import polars as pl
import pyarrow as pa

from adjudicator.contract import (
    CANONICAL,
    CLAIM_ID,
    LINE_NUMBER,
    PROCEDURE_CODE,
    SOURCE_FILE,
)
from adjudicator.embedded.sinks import ParquetSink, arrow
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.checks import with_checks
from adjudicator.engine.edits import EDIT_FUNCTIONS, concerned_lines
from adjudicator.engine.facts import DUPLICATE, FIRED, LATEST_DELIVERY, ROW_OK, BatchFacts, Supersede, keyed
from adjudicator.engine.summary import (
    FLAGGED_BILLED,
    FLAGGED_LINES,
    ROW,
    TOP_CLAIMS,
    collect_parts,
    merge_summary_parts,
    top_claims,
)
from adjudicator.engine.totals import Totals
from adjudicator.errors import AdjudicatorError, InputError
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings, RunOptions, Slice
from adjudicator.publish.folders import staging
from adjudicator.publish.hashing import checksums_in_background
from adjudicator.readers.canonical import (
    canonical_names,
    check_extra_names,
    is_parquet,
    require_columns,
)
from adjudicator.readers.claims_list import UNMATCHED_SHOWN, read_claim_ids
from adjudicator.readers.diagnose import polars_message
from adjudicator.report import charts as report
from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet, load_rules
from adjudicator.run import Prepared, phase_timings, prepare, publish_run

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
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

#: lines per frame in the tasks that only reshape lines (Spark's Arrow batches, 10,000 rows by default, are
#: gathered); the batch function's own calls take ``EngineSettings.batch_size``
BATCH_SIZE = DEFAULT_SETTINGS.batch_size
#: how a failure inside a task names the input problem, so the driver can report it as exit 2
_INPUT_ERROR_MARK: Final = "adjudicator-input-error: "
#: the Boolean columns of a fact key
_FACT_FLAGS: Final = (DUPLICATE, *FIRED.values())


#: pyspark 4.x warns on every import that it "does not yet fully support pandas >= 3.0.0"; the engine uses
#: pandas only as pyspark's own dependency of mapInArrow (Arrow batches in and out, never a pandas frame)
_PANDAS_WARNING: Final = "PySpark does not yet fully support pandas"


def quiet_pandas_warning() -> None:
    """Silence pyspark's pandas-version warning here and in the Python workers a local session starts."""
    import warnings

    warnings.filterwarnings("ignore", message=_PANDAS_WARNING, category=FutureWarning)
    rule = f"ignore:{_PANDAS_WARNING}:FutureWarning"
    current = os.environ.get("PYTHONWARNINGS")
    if rule not in (current or ""):
        os.environ["PYTHONWARNINGS"] = f"{current},{rule}" if current else rule


def require_pyspark() -> None:
    """Stop with one line when the optional Spark dependencies are missing (the default engine needs none)."""
    quiet_pandas_warning()
    missing = []
    for module in ("pyspark", "pandas"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise AdjudicatorError(
            f"--engine spark needs {' and '.join(missing)}: pip install -e '.[spark]' (pyspark>=4.0, pandas>=2.2)"
        )


# --------------------------------------------------------------------------------------------
# Types: what polars writes, as Spark accepts it (no LargeList, no unsigned, no string views)
# --------------------------------------------------------------------------------------------


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


class _TaskInputError(RuntimeError):
    """An input problem met inside a task; its message carries ``_INPUT_ERROR_MARK`` through Spark's error."""


def _input_error(exc: Exception, paths: list[str]) -> _TaskInputError:
    text = str(exc) if isinstance(exc, AdjudicatorError) else polars_message(exc, paths)
    return _TaskInputError(_INPUT_ERROR_MARK + text.replace("\n", " "))


def _raise_input_error(exc: BaseException) -> None:
    """Re-raise a task's input problem as the ``InputError`` it is (exit 2); anything else goes on as it is."""
    found = re.search(re.escape(_INPUT_ERROR_MARK) + r"(.*)", str(exc))
    if found:
        raise InputError(found.group(1).strip()) from None


# --------------------------------------------------------------------------------------------
# Reading: work items read by the project's own readers
# --------------------------------------------------------------------------------------------


def _aligned(frame: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """One file's raw frame in the run's combined schema: each column cast to the type the files share (as
    ``pl.concat(how="diagonal_relaxed")`` does locally), columns a file lacks null, in the combined order."""
    present = frame.collect_schema()
    return frame.select(
        (pl.col(name).cast(dtype) if name in present else pl.lit(None, dtype)).alias(name)
        for name, dtype in schema.items()
    )


def _with_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """The lines with their exact typed key as the checks parse it (``_key_claim_id``, ``_key_line_number``),
    and whether the line takes part in duplicate detection before any re-delivery rule (``engine.facts.keyed``)."""
    typed = with_checks(frame.drop(FILE_INDEX, ROW_INDEX).lazy()).with_row_index(_POSITION)
    keys = typed.select(pl.col(CLAIM_ID).alias(KEY_CLAIM), pl.col(LINE_NUMBER).alias(KEY_LINE)).collect()
    positions = keyed(typed).select(_POSITION).collect().to_series()
    kept = pl.int_range(pl.len(), dtype=pl.Int64).is_in(positions.cast(pl.Int64).implode())
    return frame.hstack(keys).with_columns(kept.alias(KEYED))


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


@dataclass(frozen=True)
class _ReadItems:
    """A read task: each work item (file index, path, first row, rows; -1 rows: the whole file) read with
    ``scan_layout``, in the run's combined raw schema, with the file index, the row and the typed key."""

    layout: str
    payer: str | None
    aliases: pl.DataFrame | None
    raw: pl.Schema
    target: pa.Schema

    def __call__(self, items: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from adjudicator.readers.scan import scan_layout

        tune_reader()
        for batch in items:
            for item in batch.to_pylist():
                path = item["path"]
                try:
                    frame = scan_layout(
                        self.layout, [path], payer=self.payer, aliases=self.aliases, flag_supersede=False
                    )
                    if item["rows"] >= 0:
                        frame = frame.slice(item["first"], item["rows"])
                    frame = _aligned(frame, self.raw)
                    first = item["first"]
                    for chunk in frame.collect_batches(chunk_size=BATCH_SIZE, maintain_order=True):
                        lines = chunk.with_columns(
                            pl.lit(item["file"], pl.Int32).alias(FILE_INDEX),
                            (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias(ROW_INDEX),
                        )
                        first += chunk.height
                        yield from to_spark_arrow(_with_keys(lines), self.target).to_batches()
                except (pl.exceptions.PolarsError, AdjudicatorError, OSError, UnicodeDecodeError) as exc:
                    raise _input_error(exc, [path]) from None


def _work_items(paths: list[str], layout: str, rows_per_item: int) -> list[tuple[int, str, int, int]]:
    """(file index, path, first row, rows) per read task: Parquet files in ranges of ``rows_per_item`` rows
    (the footer gives the count; each text file is one task: its quoting needs one reader)."""
    items: list[tuple[int, str, int, int]] = []
    for index, path in enumerate(paths):
        if layout == "canonical" and is_parquet(path):
            rows = int(pl.scan_parquet(path, glob=False).select(pl.len()).collect().item())
            items += [
                (index, path, first, min(rows_per_item, rows - first))
                for first in range(0, max(rows, 1), rows_per_item)
            ]
        else:
            items.append((index, path, 0, -1))
    return items


def read_lines(
    spark: SparkSession,
    paths: list[str],
    raw: pl.Schema,
    layout: str,
    *,
    payer: str | None = None,
    aliases: pl.DataFrame | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> DataFrame:
    """The Spark lines of ``paths`` read as ``layout``: one row per line as the local reader reads it (the
    raw frame's columns, in its combined schema), with ``_file_index``, ``_row_index`` and the typed key."""
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    items = _work_items(paths, layout, settings.spark_rows_per_item)
    schema = StructType(
        [
            StructField("file", IntegerType()),
            StructField("path", StringType()),
            StructField("first", LongType()),
            StructField("rows", LongType()),
        ]
    )
    # one item per task (a plain DataFrame, not an RDD: Spark Connect, as on Databricks, has no SparkContext)
    work = spark.createDataFrame(items, schema).repartition(max(1, len(items)))
    lines = line_schema(raw)
    return work.mapInArrow(_ReadItems(layout, payer, aliases, raw, arrow_schema(lines)), spark_schema(lines))


@dataclass(frozen=True)
class _TypedLines:
    """A notebook's raw frame: each column put in its raw form (``validate.raw_form``, as the canonical
    reader does for a typed file), and the typed key added."""

    raw: pl.Schema
    target: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from adjudicator.readers.canonical import typed_per_file

        for frame in _frames(batches, BATCH_SIZE):
            typed = typed_per_file("the DataFrame", frame.lazy()).collect()
            yield from to_spark_arrow(_with_keys(typed), self.target).to_batches()


def lines_from_frame(raw_df: DataFrame, *, source: str = "dataframe") -> tuple[DataFrame, pl.Schema]:
    """A notebook's Spark DataFrame in the canonical layout (any column types, names as the canonical reader
    accepts them) as Spark lines, and its raw schema. ``source``: the ``source_file`` of lines that have none.

    Rows are numbered by ``monotonically_increasing_id`` (increasing in the frame's order; not consecutive).
    """
    from pyspark.sql import functions as F

    names = raw_df.columns
    renames = canonical_names("the DataFrame", names)
    frame = raw_df.withColumnsRenamed(renames) if renames else raw_df
    columns = frame.columns
    require_columns("the DataFrame", columns)
    check_extra_names("the DataFrame", [c for c in columns if c != SOURCE_FILE])
    frame = frame.select(
        *(F.col(c) if c in columns else F.lit(None).cast("string").alias(c) for c in CANONICAL),
        *(F.col(c) for c in columns if c not in CANONICAL and c != SOURCE_FILE),
        (F.col(SOURCE_FILE) if SOURCE_FILE in columns else F.lit(source)).cast("string").alias(SOURCE_FILE),
        F.lit(0).cast("int").alias(FILE_INDEX),
        F.monotonically_increasing_id().alias(ROW_INDEX),
    )
    empty = cast(pl.DataFrame, pl.from_arrow(pa.Table.from_batches([], schema=_arrow_of(frame.schema))))
    from adjudicator.readers.canonical import typed_per_file

    raw = typed_per_file("the DataFrame", empty.drop(FILE_INDEX, ROW_INDEX).lazy()).collect_schema()
    lines = line_schema(raw)
    return frame.mapInArrow(_TypedLines(raw, arrow_schema(lines)), spark_schema(lines)), raw


def _arrow_of(schema: StructType) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(schema)


# --------------------------------------------------------------------------------------------
# Facts: exact keys, grouped by Spark; the edits by the prepass's own functions
# --------------------------------------------------------------------------------------------


def _task_facts(frame: pl.DataFrame, supersede: Supersede | None) -> BatchFacts:
    """The facts of the lines in one task's frame, from the fact columns the joins put on each line.

    Facts are looked up by exact key, so a frame needs only the facts of its own lines.
    """
    keys = pl.DataFrame(schema={CLAIM_ID: pl.String, LINE_NUMBER: pl.Int64, **dict.fromkeys(_FACT_FLAGS, pl.Boolean)})
    if FACT_CLAIM in frame.columns:
        keys = (
            frame.filter(pl.col(FACT_CLAIM).is_not_null())
            .select(pl.col(FACT_CLAIM).alias(CLAIM_ID), pl.col(FACT_LINE).alias(LINE_NUMBER), *_FACT_FLAGS)
            .unique([CLAIM_ID, LINE_NUMBER])
        )
    deliveries = None
    if supersede is not None:
        deliveries = (
            frame.filter(pl.col(LATEST_DELIVERY).is_not_null())
            .select(*supersede.key, LATEST_DELIVERY)
            .unique(list(supersede.key))
        )
    return BatchFacts(keys=keys, supersede=supersede, deliveries=deliveries)


def _raw_lines(frame: pl.DataFrame, raw: pl.Schema) -> pl.DataFrame:
    """The raw frame's columns of a task's lines, with the file index and row carried as extra columns."""
    return frame.select(*raw.names(), FILE_INDEX, ROW_INDEX)


@dataclass(frozen=True)
class _Delivered:
    """Per line: its raw key and the delivery date the layout's own expression reads (CCLF's FILE_DATE)."""

    supersede: Supersede
    target: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, BATCH_SIZE):
            out = frame.select(*self.supersede.key, self.supersede.delivered.alias(LATEST_DELIVERY))
            yield from to_spark_arrow(out, self.target).to_batches()


@dataclass(frozen=True)
class _KeyedLines:
    """Per keyed line (a key, and no rejection by its own layout: ``engine.facts.keyed``), its exact typed key."""

    raw: pl.Schema
    supersede: Supersede | None
    target: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, BATCH_SIZE):
            facts = _task_facts(frame, self.supersede)
            lines = facts.with_deliveries(frame.select(*self.raw.names()).lazy())
            out = keyed(with_checks(lines)).select(CLAIM_ID, LINE_NUMBER).collect()
            yield from to_spark_arrow(out, self.target).to_batches()


@dataclass(frozen=True)
class _ConcernedLines:
    """Per keyed line whose code an edit names: ``engine.edits.concerned_lines``."""

    raw: pl.Schema
    supersede: Supersede | None
    compiled: CompiledRules
    target: pa.Schema

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, BATCH_SIZE):
            facts = _task_facts(frame, self.supersede)
            lines = facts.with_deliveries(frame.select(*self.raw.names()).lazy())
            out = concerned_lines(lines, self.compiled).collect()
            yield from to_spark_arrow(out, self.target).to_batches()


@dataclass(frozen=True)
class _EditBucket:
    """One bucket of valid concerned lines (every line of a claim, or of a member, is in one bucket) through
    an edit function of the prepass: the exact keys it fires on."""

    fires: Callable[[pl.DataFrame, CompiledRules], pl.DataFrame]
    compiled: CompiledRules
    target: pa.Schema

    def __call__(self, table: pa.Table) -> pa.Table:
        valid = cast(pl.DataFrame, pl.from_arrow(table)).drop(_BUCKET)
        return to_spark_arrow(self.fires(valid, self.compiled).select(CLAIM_ID, LINE_NUMBER), self.target)


@dataclass(frozen=True)
class Facts:
    """The batch-wide facts as Spark DataFrames (persisted): ``keys`` one row per exact typed key a fact
    names, with a Boolean per fact; ``deliveries`` (re-delivering layouts) one row per raw key delivered
    on different dates, with its latest date."""

    keys: DataFrame
    deliveries: DataFrame | None
    #: the valid concerned lines the edits read, and the duplicated keys (persisted: each is read twice)
    valid: DataFrame
    duplicates: DataFrame

    def persisted(self) -> list[DataFrame]:
        return [self.keys, self.valid, self.duplicates, *([self.deliveries] if self.deliveries is not None else [])]


def find_facts(
    lines: DataFrame,
    raw: pl.Schema,
    compiled: CompiledRules,
    *,
    supersede: Supersede | None = None,
    buckets: int | None = None,
    materialize: bool = False,
) -> tuple[DataFrame, Facts]:
    """The facts of every line of ``lines`` (whatever the slice), and the lines with their deliveries joined.

    Duplicates: a Spark group-by on the exact typed key of the keyed lines.
    Edits: the valid concerned lines (not duplicated, passed their own checks)
    in ``buckets`` buckets by a hash of the claim (add-on) or the member
    (limit), each bucket through the prepass's edit function. Nothing here is
    broadcast on purpose; Spark chooses a broadcast only for small sides.

    ``materialize``: compute the persisted steps one after the other now
    (a run does); otherwise nothing runs until the facts are used, and
    Spark may then compute a step once for each query that reads it, as
    it runs independent branches side by side before any is cached.
    """
    from pyspark.sql import functions as F

    spark = lines.sparkSession
    buckets = buckets or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    deliveries = None
    if supersede is not None:
        key = list(supersede.key)
        delivered = pl.Schema({**{k: raw[k] for k in key}, LATEST_DELIVERY: pl.Date()})
        deliveries = (
            lines.mapInArrow(_Delivered(supersede, arrow_schema(delivered)), spark_schema(delivered))
            .groupBy(*key)
            .agg(F.min(LATEST_DELIVERY).alias(_FIRST), F.max(LATEST_DELIVERY).alias(LATEST_DELIVERY))
            .where(F.col(_FIRST) < F.col(LATEST_DELIVERY))
            .drop(_FIRST)
            .persist()
        )
        if materialize:
            deliveries.count()
        other = deliveries.select(*(F.col(k).alias(f"_delivered_{k}") for k in key), LATEST_DELIVERY)
        condition = [lines[k].eqNullSafe(other[f"_delivered_{k}"]) for k in key]
        lines = lines.join(other, on=condition, how="left").drop(*(f"_delivered_{k}" for k in key))

    key_schema = pl.Schema({CLAIM_ID: pl.String(), LINE_NUMBER: pl.Int64()})
    if supersede is None:
        # the read task marked the keyed lines: the group-by needs no second pass through Python
        keys = lines.where(F.col(KEYED)).select(F.col(KEY_CLAIM).alias(CLAIM_ID), F.col(KEY_LINE).alias(LINE_NUMBER))
    else:
        # a superseded copy is not a copy of the line it lost to: keyed again once the deliveries are known
        keys = lines.mapInArrow(_KeyedLines(raw, supersede, arrow_schema(key_schema)), spark_schema(key_schema))
    duplicates = (
        keys.groupBy(CLAIM_ID, LINE_NUMBER).count().where(F.col("count") > 1).select(CLAIM_ID, LINE_NUMBER).persist()
    )
    if materialize:
        duplicates.count()
    empty_raw = pl.DataFrame(schema=raw).lazy()
    concerned_schema = concerned_lines(empty_raw, compiled).collect_schema()
    # only lines whose raw code holds an edit's code cross to Python (a few percent): containing it is
    # true of every spelling the reader's trimming accepts, and concerned_lines decides exactly
    holds_code = functools.reduce(
        lambda a, b: a | b, [F.col(PROCEDURE_CODE).contains(c) for c in compiled.edit_codes], F.lit(False)
    )
    valid = (
        lines.where(holds_code)
        .mapInArrow(
            _ConcernedLines(raw, supersede, compiled, arrow_schema(concerned_schema)), spark_schema(concerned_schema)
        )
        .where(F.col(ROW_OK))
        .join(duplicates, on=[CLAIM_ID, LINE_NUMBER], how="left_anti")
        .persist()
    )
    if materialize:
        valid.count()
    frames = [duplicates.select(CLAIM_ID, LINE_NUMBER, F.lit(True).alias(DUPLICATE))]
    for kind in compiled.edit_kinds:
        column, fires = EDIT_FUNCTIONS[kind]
        fired = (
            valid.withColumn(_BUCKET, F.pmod(F.hash(column), F.lit(buckets)))
            .groupBy(_BUCKET)
            .applyInArrow(_per_group(_EditBucket(fires, compiled, arrow_schema(key_schema))), spark_schema(key_schema))
        )
        frames.append(fired.select(CLAIM_ID, LINE_NUMBER, F.lit(True).alias(FIRED[kind])))
    stacked = frames[0]
    for frame in frames[1:]:
        stacked = stacked.unionByName(frame, allowMissingColumns=True)
    for flag in _FACT_FLAGS:
        if flag not in stacked.columns:
            stacked = stacked.withColumn(flag, F.lit(False))
    keys = (
        stacked.groupBy(CLAIM_ID, LINE_NUMBER)
        .agg(*(F.max(F.coalesce(F.col(f), F.lit(False))).alias(f) for f in _FACT_FLAGS))
        .persist()
    )
    return lines, Facts(keys=keys, deliveries=deliveries, valid=valid, duplicates=duplicates)


# --------------------------------------------------------------------------------------------
# The batch function in a task, and the tagged union it returns
# --------------------------------------------------------------------------------------------


def _output_frames(results: pl.DataFrame, rejects: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A batch's outputs as written: the row in the file kept as ``source_row`` (typed again in rejects,
    where every extra column is text), the file index dropped."""

    def written(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col(ROW_INDEX).cast(pl.Int64)).drop(FILE_INDEX).rename({ROW_INDEX: SOURCE_ROW})

    return written(results), written(rejects)


def _order_key(frame: pl.DataFrame) -> pl.Series:
    """A line's place in the input order of the run: file index, then row in the file."""
    return frame.select(pl.col(FILE_INDEX).cast(pl.Int64) * (1 << 40) + pl.col(ROW_INDEX).cast(pl.Int64)).to_series()


@dataclass
class _TaskTotals:
    """One task's counts and summary partials, added up as its batches pass, sent back as one row."""

    counts: list[pl.DataFrame]
    by_reason: list[pl.DataFrame]
    by_check: list[pl.DataFrame]
    parts: list[dict[str, pl.DataFrame]]
    claims: list[pl.DataFrame]
    fired_lines: int = 0

    def add(self, results: pl.DataFrame, rejects: pl.DataFrame, out: Any) -> None:
        self.counts.append(out.counts)
        self.by_reason.append(out.by_reason)
        self.by_check.append(out.by_check)
        self.fired_lines += out.fired_lines
        # the reject examples are the first rejects in input order: number this batch's in that order, then
        # give each its place in the whole run (file index, row), so partials of any tasks merge in order
        rejects = rejects.with_columns(_order_key(rejects).alias("_order")).sort("_order")
        parts = collect_parts(results, rejects.drop("_order"))
        examples = parts["reject_examples"]
        parts["reject_examples"] = examples.with_columns(rejects["_order"].gather(examples[ROW]).alias(ROW))
        # the top claims need whole-claim sums: the task's per-claim sums go out as rows, summed by claim bucket
        # after the run (``_top_claims``), as the local driver spills them by claim
        self.claims.append(parts["top_claims"])
        parts["top_claims"] = parts["top_claims"].clear()
        self.parts.append(parts)

    def claim_sums(self) -> pl.DataFrame:
        """The task's flagged lines and dollars per claim (one row per claim with a flagged line)."""
        return pl.concat(self.claims).group_by(CLAIM_ID).agg(pl.col(FLAGGED_LINES).sum(), pl.col(FLAGGED_BILLED).sum())

    def row(self) -> bytes:
        return pickle.dumps(
            {
                "counts": self.counts,
                "by_reason": self.by_reason,
                "by_check": self.by_check,
                "parts": [merge_summary_parts(self.parts)] if self.parts else [],
                "fired_lines": self.fired_lines,
            }
        )


@dataclass(frozen=True)
class _PartFiles:
    """Where a run's tasks write their outputs themselves: one Parquet file per task and output, written as
    the local driver writes its two files (``driver.ParquetSink``), under a hidden name, then renamed into
    place when the task has written everything (a retried task writes, and renames, the same name)."""

    results: str
    rejects: str
    results_schema: pa.Schema
    rejects_schema: pa.Schema

    def open(self) -> tuple[list[ParquetSink], list[tuple[Path, Path]]]:
        from pyspark import TaskContext

        context = TaskContext.get()
        part, attempt = (context.partitionId(), context.attemptNumber()) if context is not None else (0, 0)
        sinks, renames = [], []
        for folder, schema in ((self.results, self.results_schema), (self.rejects, self.rejects_schema)):
            final = Path(folder) / f"part-{part:05d}.parquet"
            hidden = Path(folder) / f".part-{part:05d}-{attempt}.parquet.tmp"
            sinks.append(ParquetSink(hidden, schema))
            renames.append((hidden, final))
        return sinks, renames


@dataclass(frozen=True)
class _Adjudicate:
    """The adjudication task: each frame of lines (with their facts joined) through ``adjudicate_batch``.

    Returns, tagged: results and rejects as they come (or, with ``files``,
    none: the task writes them itself), then the task's per-claim flagged
    sums and its totals as one last row.
    """

    raw: pl.Schema
    supersede: Supersede | None
    compiled: CompiledRules
    run_id: str
    keep: pl.Expr | None
    target: pa.Schema
    batch_lines: int
    files: _PartFiles | None = None

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        totals = _TaskTotals([], [], [], [], [])
        results_schema = pa.schema(list(self.target.field(TAG_RESULTS).type))
        rejects_schema = pa.schema(list(self.target.field(TAG_REJECTS).type))
        sinks, renames = self.files.open() if self.files is not None else ([], [])
        try:
            for frame in _frames(batches, self.batch_lines):
                facts = _task_facts(frame, self.supersede)
                out = adjudicate_batch(_raw_lines(frame, self.raw), facts, self.compiled, self.run_id, keep=self.keep)
                totals.add(out.results, out.rejects.with_columns(pl.col(FILE_INDEX, ROW_INDEX).cast(pl.Int64)), out)
                results, rejects = _output_frames(out.results, out.rejects)
                if sinks:
                    sinks[0].write(results)
                    sinks[1].write(rejects)
                    continue
                if results.height:
                    yield _struct_batch(to_spark_arrow(results, results_schema), TAG_RESULTS, self.target)
                if rejects.height:
                    yield _struct_batch(to_spark_arrow(rejects, rejects_schema), TAG_REJECTS, self.target)
        except BaseException:
            for sink in sinks:
                with contextlib.suppress(Exception):
                    sink.close()
            for hidden, _ in renames:
                hidden.unlink(missing_ok=True)
            raise
        for sink in sinks:
            sink.close()
        for hidden, final in renames:
            os.replace(hidden, final)
        if totals.counts:
            claims = totals.claim_sums()
            if claims.height:
                claims_schema = pa.schema(list(self.target.field(TAG_CLAIMS).type))
                yield _struct_batch(to_spark_arrow(claims, claims_schema), TAG_CLAIMS, self.target)
            nulls = [pa.nulls(1, f.type) for f in self.target if f.name != TAG_TOTALS]
            yield pa.RecordBatch.from_arrays([*nulls, pa.array([totals.row()], pa.binary())], schema=self.target)


@dataclass(frozen=True)
class Plan:
    """A run's lazy Spark plan: the tagged outputs (persisted on first use) and the facts they used.

    ``results`` and ``rejects`` are the two sides of ``tagged``; ``empty``
    is the batch function's output on no lines (it fixes the schemas and the
    totals' column types).
    """

    tagged: DataFrame
    facts: Facts
    empty: Any

    @property
    def results(self) -> DataFrame:
        from pyspark.sql import functions as F

        return self.tagged.where(F.col(TAG_RESULTS).isNotNull()).select(f"{TAG_RESULTS}.*")

    @property
    def rejects(self) -> DataFrame:
        from pyspark.sql import functions as F

        return self.tagged.where(F.col(TAG_REJECTS).isNotNull()).select(f"{TAG_REJECTS}.*")


def plan(
    lines: DataFrame,
    raw: pl.Schema,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    supersede: Supersede | None = None,
) -> Plan:
    """The lazy plan of a run over Spark ``lines`` (``read_lines`` or ``lines_from_frame``): the facts, then
    the lines joined to them (Spark chooses the join) through the batch function."""
    lines = lines.persist()
    lines, facts = find_facts(lines, raw, compiled, supersede=supersede)
    return adjudicate_lines(lines, facts, raw, compiled, run_id=run_id, keep=keep, supersede=supersede)


def adjudicate_lines(
    lines: DataFrame,
    facts: Facts,
    raw: pl.Schema,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    supersede: Supersede | None = None,
    broadcast: bool = False,
    write_to: tuple[Path, Path] | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> Plan:
    """Each line joined to the facts of its exact typed key and adjudicated in one ``mapInArrow`` whose
    output (results, rejects and the tasks' totals, tagged) is persisted, so that it is computed once.

    ``broadcast``: send the facts to every task (when they are known to be few) instead of Spark's choice,
    which for a persisted, not yet measured frame is a sort-merge join that moves every line.
    ``write_to``: (results folder, rejects folder) the tasks write their
    outputs to themselves (a run does: see ``_PartFiles``); ``results`` and
    ``rejects`` of the plan are then empty.
    """
    from pyspark.sql import functions as F

    named = facts.keys.select(F.col(CLAIM_ID).alias(FACT_CLAIM), F.col(LINE_NUMBER).alias(FACT_LINE), *_FACT_FLAGS)
    if broadcast:
        named = F.broadcast(named)
    joined = lines.join(
        named, on=(lines[KEY_CLAIM] == named[FACT_CLAIM]) & (lines[KEY_LINE] == named[FACT_LINE]), how="left"
    )
    empty_lines = pl.DataFrame(schema=line_schema(raw)).select(*raw.names(), FILE_INDEX, ROW_INDEX)
    empty = adjudicate_batch(empty_lines, _task_facts(empty_lines, None), compiled, run_id, keep=keep)
    results, rejects = _output_frames(empty.results, empty.rejects)
    claims = collect_parts(empty.results, empty.rejects)["top_claims"]
    target = pa.schema(
        [
            pa.field(TAG_RESULTS, arrow_type(pl.Struct(results.schema))),
            pa.field(TAG_REJECTS, arrow_type(pl.Struct(rejects.schema))),
            pa.field(TAG_CLAIMS, arrow_type(pl.Struct(claims.schema))),
            pa.field(TAG_TOTALS, pa.binary()),
        ]
    )
    from pyspark.sql.pandas.types import from_arrow_schema

    files = None
    if write_to is not None:
        files = _PartFiles(str(write_to[0]), str(write_to[1]), arrow(results).schema, arrow(rejects).schema)
    task = _Adjudicate(raw, supersede, compiled, run_id, keep, target, settings.batch_size, files)
    tagged = joined.mapInArrow(task, from_arrow_schema(target, prefer_timestamp_ntz=True)).persist()
    return Plan(tagged=tagged, facts=facts, empty=empty)


def adjudicate(
    raw_df: DataFrame,
    rules: RuleSet | CompiledRules | None = None,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    source: str = "dataframe",
) -> tuple[DataFrame, DataFrame]:
    """Results and rejects of a Spark DataFrame of claim lines in the canonical layout, as lazy DataFrames.

    ``raw_df``: the canonical columns (any types; names as the canonical
    reader maps them) and any extra columns, carried through; ``source_file``
    when it has one, else ``source``. ``rules``: a ``RuleSet`` (default: the
    shipped rules) or compiled rules. ``keep``: a slice, a polars expression
    over the typed canonical columns (``Slice.predicate``); lines
    outside it are neither results nor rejects. The outputs are those of
    a local run of the same lines, with ``source_row`` (the frame's row
    order) beside ``source_file``. Nothing runs until an output is used.
    """
    require_pyspark()
    compiled = rules if isinstance(rules, CompiledRules) else compile_rules(rules or load_rules())
    lines, raw = lines_from_frame(raw_df, source=source)
    found = plan(lines, raw, compiled, run_id=run_id, keep=keep)
    return found.results, found.rejects


# --------------------------------------------------------------------------------------------
# A whole run: OUT/results/, OUT/rejects/, the manifest and the report, published as locally
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _TopClaims:
    """One claim bucket of the tasks' per-claim flagged sums: its top claims (``summary.top_claims``)."""

    target: pa.Schema

    def __call__(self, table: pa.Table) -> pa.Table:
        partials = cast(pl.DataFrame, pl.from_arrow(table)).drop(_BUCKET)
        return to_spark_arrow(top_claims(partials, TOP_CLAIMS), self.target)


def _top_claims(found: Plan) -> pl.DataFrame:
    """Every claim bucket's top claims by flagged dollars: each claim's sums are all in one bucket, so the
    run's top claims are among them (exact, as the local driver's spill by claim)."""
    from pyspark.sql import functions as F

    empty = collect_parts(found.empty.results, found.empty.rejects)["top_claims"]
    buckets = int(found.tagged.sparkSession.conf.get("spark.sql.shuffle.partitions") or 200)
    tops = (
        found.tagged.where(F.col(TAG_CLAIMS).isNotNull())
        .select(f"{TAG_CLAIMS}.*")
        .withColumn(_BUCKET, F.pmod(F.hash(CLAIM_ID), F.lit(buckets)))
        .groupBy(_BUCKET)
        .applyInArrow(_per_group(_TopClaims(arrow_schema(empty.schema))), spark_schema(empty.schema))
    )
    return pl.concat([empty, cast(pl.DataFrame, pl.from_arrow(tops.toArrow())).cast(empty.schema)])


def _totals(found: Plan, facts_edit_lines: int) -> Totals:
    """The run's totals from the tasks' rows (and the empty batch's, which fixes the column types)."""
    from pyspark.sql import functions as F

    totals = Totals()
    totals.add(found.empty)
    for row in found.tagged.where(F.col(TAG_TOTALS).isNotNull()).select(TAG_TOTALS).toLocalIterator():
        part = pickle.loads(row[0])
        totals.counts += part["counts"]
        totals.by_reason += part["by_reason"]
        totals.by_check += part["by_check"]
        totals.parts += part["parts"]
        totals.fired_lines += part["fired_lines"]
    tops = collect_parts(found.empty.results, found.empty.rejects)
    tops["top_claims"] = _top_claims(found)
    totals.parts.append(tops)
    totals.check_against(BatchFacts(keys=pl.DataFrame(), edit_lines=facts_edit_lines))
    return totals


def _claims_list(lines: DataFrame, path: Path) -> dict[str, Any]:
    """The manifest's ``claims_list``, as ``claims_list.unmatched_report`` writes it, from the typed keys."""
    spark = lines.sparkSession
    listed = read_claim_ids(path)
    ids = spark.createDataFrame(pl.DataFrame({CLAIM_ID: listed}).to_arrow().cast(pa.schema([(CLAIM_ID, pa.string())])))
    found = {
        row[0]
        for row in ids.join(
            lines.select(lines[KEY_CLAIM].alias(CLAIM_ID)).distinct(), on=CLAIM_ID, how="left_semi"
        ).collect()
    }
    unmatched = sorted(set(listed.to_list()) - found)
    return {
        "path": str(path),
        "ids": listed.len(),
        "matched": listed.len() - len(unmatched),
        "unmatched": len(unmatched),
        "unmatched_ids": unmatched[:UNMATCHED_SHOWN],
    }


def run_options(spark: SparkSession, options: RunOptions, *, rules: RuleSet | None = None) -> dict[str, Any]:
    """A run on Spark with the options of a local run; returns the manifest it published in ``options.out``.

    The same checks before anything is read (OUT, inputs, headers: exit 2,
    OUT untouched), the same watch on the inputs, the same manifest and
    report, published atomically; the outputs are the Parquet datasets
    ``OUT/results/`` and ``OUT/rejects/``. A file-level problem a task meets
    (a malformed CSV row, bytes that are not UTF-8) is exit 2 as locally.
    """
    run = prepare(options, rules)
    with run.checking():
        return _run_prepared(spark, run)


def _run_prepared(spark: SparkSession, run: Prepared) -> dict[str, Any]:
    options = run.options
    report.warm_up()
    raw_schema = run.raw.collect_schema()
    paths, layout, rule_set, compiled = run.paths, run.layout, run.rules, run.compiled
    supersede, run_id, keep = run.supersede, run.run_id, run.keep
    if SOURCE_ROW in raw_schema:
        raise InputError(f"{paths[0]}: has a column named {SOURCE_ROW!r}, which the Spark engine writes itself")
    aliases = None if layout == "canonical" else rule_set.payer_aliases
    pool, hashes = checksums_in_background(paths)
    persisted: list[DataFrame] = []
    try:
        with staging(options.out, run_id) as tmp:
            try:
                from pyspark.sql import functions as F

                lines = read_lines(
                    spark, paths, raw_schema, layout, payer=options.payer, aliases=aliases, settings=options.settings
                )
                # read once, before the facts' queries run side by side: each would read the inputs again
                lines = lines.persist()
                persisted.append(lines)
                lines.count()
                prepass_started = time.perf_counter()
                lines, facts = find_facts(lines, raw_schema, compiled, supersede=supersede, materialize=True)
                persisted += facts.persisted()
                fired = functools.reduce(lambda a, b: a | b, [F.col(c) for c in FIRED.values()])
                fact_keys = facts.keys.count()
                edit_lines = facts.keys.where(fired).count()
                folders = (tmp.resolve() / RESULTS_DIR, tmp.resolve() / REJECTS_DIR)
                for folder in folders:
                    folder.mkdir()
                found = adjudicate_lines(
                    lines,
                    facts,
                    raw_schema,
                    compiled,
                    run_id=run_id,
                    keep=keep,
                    supersede=supersede,
                    broadcast=fact_keys <= options.settings.spark_broadcast_fact_keys,
                    write_to=folders,
                    settings=options.settings,
                )
                persisted.append(found.tagged)
                planned = time.perf_counter()
                totals = _totals(found, edit_lines)
                for folder in folders:  # what attempts that failed, or lost to another, left
                    for leftover in folder.glob(".part-*.tmp"):
                        leftover.unlink(missing_ok=True)
                claims = _claims_list(lines, options.slice.claims_file) if options.slice.claims_file else None
            except Exception as exc:
                _raise_input_error(exc)
                raise
            executed = time.perf_counter()

            def amend(manifest: dict[str, Any]) -> None:
                manifest["engine"] = engine_json(spark)
                manifest["versions"] = {**manifest["versions"], "pyspark": spark.version}
                if claims is not None:
                    manifest["claims_list"] = claims

            timings = phase_timings(run, prepass_started, planned, executed, None)
            manifest = publish_run(run, tmp, hashes, totals.summary(), timings, amend)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        # only what this run cached: a notebook's own cached tables stay
        for frame in persisted:
            frame.unpersist()
    return manifest


def engine_json(spark: SparkSession) -> dict[str, Any]:
    """What the manifest records of the engine: Spark, its master and its version."""
    return {"name": "spark", "master": spark.conf.get("spark.master", None), "spark_version": spark.version}


def run(
    spark: SparkSession,
    inputs: Sequence[str],
    out: str | os.PathLike[str],
    *,
    rules_dir: Path | None = None,
    plans: Path | None = None,
    layout: str | None = None,
    payer: str | None = None,
    overwrite: bool = False,
    rules_as_of: dt.date | None = None,
    slice: Slice | None = None,
) -> dict[str, Any]:
    """Adjudicate ``inputs`` on ``spark`` into ``out`` (``results/`` and ``rejects/`` Parquet datasets,
    ``manifest.json``, ``report.html``); the options are those of ``adjudicate run``. Returns the manifest."""
    require_pyspark()
    options = RunOptions(
        inputs=tuple(str(i) for i in inputs),
        out=Path(out),
        rules_dir=rules_dir,
        plans=plans,
        layout=layout,
        payer=payer,
        overwrite=overwrite,
        rules_as_of=rules_as_of,
        slice=slice or Slice(),
    )
    return run_options(spark, options)


def session(master: str | None = None) -> tuple[SparkSession, bool]:
    """The active Spark session (``spark-submit``, a notebook), else a new one (on ``master`` when given).
    Returns (session, whether it was made here: the caller stops it)."""
    require_pyspark()
    quiet_pandas_warning()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active, False
    import adjudicator

    if master is not None and not master.startswith("local") and adjudicator.SPARK_LOCAL_IP_AT_START is None:
        # pandera's 127.0.0.1 (see ``adjudicator.SPARK_LOCAL_IP_AT_START``): executors elsewhere must reach us
        os.environ.pop("SPARK_LOCAL_IP", None)
    builder = SparkSession.builder.appName("adjudicator").config("spark.ui.showConsoleProgress", "false")
    if master is not None:
        builder = builder.master(master)
    made = builder.getOrCreate()
    made.sparkContext.setLogLevel("ERROR")
    return made, active is None


__all__ = [
    "REJECTS_DIR",
    "RESULTS_DIR",
    "SOURCE_ROW",
    "Plan",
    "adjudicate",
    "adjudicate_lines",
    "find_facts",
    "lines_from_frame",
    "plan",
    "read_lines",
    "require_pyspark",
    "run",
    "run_options",
    "session",
]
