"""Reading on Spark: work items read by the project's own readers inside Spark tasks, and a notebook's DataFrame
turned into Spark lines; how an input problem a task meets reaches the driver.

A DataFrame of work items (a Parquet file's range of rows, or one text file,
named by the driver's absolute path) is the input of each pass of a run: its
tasks read their own items with the project's reader (``ReadItems``:
``scan_layout``), so layouts, header mapping, payer aliases and the
typed-input conversion behave exactly as in a local run, and no line is
turned into a Spark row. Each line keeps its file's index and its row in the
file (``source_row``), so input order can be restored. A notebook's frame
(``lines_from_frame``) becomes Spark lines with their exact typed key
(claim_id, line_number), parsed by ``checks.with_checks``.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

import polars as pl
import pyarrow as pa

from adjudicator.contract import CANONICAL, CLAIM_ID, LINE_NUMBER, SOURCE_FILE
from adjudicator.embedded.tuning import tune_reader
from adjudicator.engine.checks import with_checks
from adjudicator.engine.facts import keyed
from adjudicator.errors import EXIT_BAD_INPUT, AdjudicatorError, InputError
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.readers.canonical import canonical_names, check_extra_names, is_parquet, require_columns
from adjudicator.readers.diagnose import polars_message
from adjudicator.spark.types import (
    _POSITION,
    FILE_INDEX,
    KEY_CLAIM,
    KEY_LINE,
    KEYED,
    ROW_INDEX,
    _arrow_of,
    _frames,
    arrow_schema,
    line_schema,
    spark_schema,
    to_spark_arrow,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: how a failure inside a task names the input problem, so the driver can report it as exit 2
_INPUT_ERROR_MARK: Final = "adjudicator-input-error: "


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


@dataclass(frozen=True)
class ReadItems:
    """How a task reads its work items (file index, path as given, absolute path, first row, rows; -1 rows:
    the whole file): ``scan_layout`` on each, in the run's combined raw schema, as frames of about ``rows``
    lines with the file index and the row in the file. The tasks of a run (``spark.narrow``, ``spark.tasks``)
    read their lines this way, so no line is ever turned into a Spark row."""

    layout: str
    payer: str | None
    aliases: pl.DataFrame | None
    raw: pl.Schema
    #: lines per frame read (``EngineSettings.batch_size``)
    rows: int

    def frames(self, items: Iterator[pa.RecordBatch]) -> Iterator[pl.DataFrame]:
        tune_reader()
        for batch in items:
            for item in batch.to_pylist():
                yield from self._read(item["file"], item["path"], item["opened"], item["first"], item["rows"])

    def _read(self, file: int, path: str, opened: str, first: int, rows: int) -> Iterator[pl.DataFrame]:
        from adjudicator.readers.scan import scan_layout

        try:
            check_openable(path, opened)
            # the task opens the driver's absolute path; the lines keep the path as given, as in a local run
            frame = scan_layout(self.layout, [opened], payer=self.payer, aliases=self.aliases, flag_supersede=False)
            frame = frame.with_columns(pl.lit(path, pl.String).alias(SOURCE_FILE))
            if rows >= 0:
                frame = frame.slice(first, rows)
            frame = _aligned(frame, self.raw)
            for chunk in frame.collect_batches(chunk_size=self.rows, maintain_order=True):
                yield chunk.with_columns(
                    pl.lit(file, pl.Int32).alias(FILE_INDEX),
                    (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias(ROW_INDEX),
                )
                first += chunk.height
        except (pl.exceptions.PolarsError, AdjudicatorError, OSError, UnicodeDecodeError) as exc:
            if isinstance(exc, AdjudicatorError) and exc.exit_code != EXIT_BAD_INPUT:
                raise  # an InternalError (exit 3) is a fault of ours, not the input's
            raise _input_error(exc, [path]) from None


def check_openable(path: str, opened: str) -> None:
    """Raise ``InputError`` when this node cannot open ``opened`` (the driver's absolute path of ``path``),
    naming the node and what it sees: a file the driver checked may be missing on a node without it."""
    if os.access(opened, os.R_OK):
        return
    seen = "no such file" if not os.path.exists(opened) else "a file it may not read"
    raise InputError(
        f"cannot be opened on the Spark node {socket.gethostname()}: it finds {seen} at {opened} "
        f"(its working folder: {os.getcwd()}); every node must see the inputs at the driver's absolute "
        "paths (a shared filesystem)",
        path=path,
    )


def _work_items(paths: list[str], layout: str, rows_per_item: int) -> list[tuple[int, str, str, int, int]]:
    """(file index, path as given, its absolute path, first row, rows) per read task: Parquet files in ranges of
    ``rows_per_item`` rows (the footer gives the count; each text file is one task: its quoting needs one
    reader). Tasks open the absolute path: a relative one would name a file in each executor's own folder."""
    items: list[tuple[int, str, str, int, int]] = []
    for index, path in enumerate(paths):
        opened = os.path.abspath(path)
        if layout == "canonical" and is_parquet(path):
            rows = int(pl.scan_parquet(path, glob=False).select(pl.len()).collect().item())
            items += [
                (index, path, opened, first, min(rows_per_item, rows - first))
                for first in range(0, max(rows, 1), rows_per_item)
            ]
        else:
            items.append((index, path, opened, 0, -1))
    return items


def work_items(spark: SparkSession, paths: list[str], layout: str, rows_per_item: int) -> tuple[DataFrame, int]:
    """The Spark DataFrame of a run's work items (``_work_items``), exactly one per partition, and how many: the
    input of every pass over the lines, each task reading its own items (``ReadItems``)."""
    from pyspark.sql import functions as F

    items = _work_items(paths, layout, rows_per_item)
    table = F.array(
        *(
            F.struct(
                F.lit(file).cast("int").alias("file"),
                F.lit(path).alias("path"),
                F.lit(opened).alias("opened"),
                F.lit(first).cast("long").alias("first"),
                F.lit(rows).cast("long").alias("rows"),
            )
            for file, path, opened, first, rows in items
        )
    )
    # a range splits evenly, one id per partition, with no shuffle: a repartition of a small local frame puts
    # its rows round-robin from a random start, two items often in one task (and a plain DataFrame, not an RDD:
    # Spark Connect, as on Databricks, has no SparkContext)
    ids = spark.range(0, len(items), 1, numPartitions=len(items))
    return ids.select(F.element_at(table, (F.col("id") + 1).cast("int")).alias("item")).select("item.*"), len(items)


@dataclass(frozen=True)
class _TypedLines:
    """A notebook's raw frame: each column put in its raw form (``validate.raw_form``, as the canonical
    reader does for a typed file), and the typed key added."""

    raw: pl.Schema
    target: pa.Schema
    #: lines per frame (``EngineSettings.batch_size``)
    rows: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from adjudicator.readers.canonical import typed_per_file

        for frame in _frames(batches, self.rows):
            typed = typed_per_file("the DataFrame", frame.lazy()).collect()
            yield from to_spark_arrow(_with_keys(typed), self.target).to_batches()


def lines_from_frame(
    raw_df: DataFrame, *, source: str = "dataframe", settings: EngineSettings = DEFAULT_SETTINGS
) -> tuple[DataFrame, pl.Schema]:
    """A notebook's Spark DataFrame in the canonical layout (any column types, names as the canonical reader
    accepts them) as Spark lines, and its raw schema. ``source``: the ``source_file`` of lines that have none.

    Rows are numbered by ``monotonically_increasing_id`` (increasing in the frame's order; not consecutive).
    """
    from pyspark.sql import functions as F

    from adjudicator.readers.canonical import typed_per_file

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
    raw = typed_per_file("the DataFrame", empty.drop(FILE_INDEX, ROW_INDEX).lazy()).collect_schema()
    lines = line_schema(raw)
    task = _TypedLines(raw, arrow_schema(lines), settings.batch_size)
    return frame.mapInArrow(task, spark_schema(lines)), raw


__all__ = ["ReadItems", "check_openable", "lines_from_frame", "work_items"]
