"""The adjudication task on Spark: lines through the batch function with their facts, the tagged union a task
returns (or the part files it writes), its totals, and the run's totals from them.

In a run (``adjudicate_items``), ``batch.adjudicate_batch`` runs inside one
``mapInArrow`` over the work items: each task reads its own lines
(``reading.ReadItems``), holds the run's facts (assembled on the driver,
``spark.narrow``), writes its results and rejects as Parquet part files
itself, as the local driver's writers do, and returns only one row of
counts and summary partials and its per-claim flagged sums, collected once:
no line crosses into Spark. For a notebook's DataFrame (``adjudicate_lines``)
every line is joined to the facts of its key (a join by key; the facts are
sent to every task only when they are few) and the output is a tagged union
of results, rejects, per-claim sums and totals, persisted and split, so
nothing is adjudicated twice.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import polars as pl
import pyarrow as pa

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.embedded.sinks import ParquetSink, arrow
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.summary import (
    ROW,
    TOP_CLAIMS,
    collect_parts,
    merge_summary_parts,
    merged_claim_partials,
    top_claims,
)
from adjudicator.engine.totals import Totals
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.rules.compiled import CompiledRules
from adjudicator.spark.facts import Facts, _task_facts
from adjudicator.spark.reading import ReadItems
from adjudicator.spark.types import (
    _FACT_FLAGS,
    FACT_CLAIM,
    FACT_LINE,
    FILE_INDEX,
    KEY_CLAIM,
    KEY_LINE,
    ROW_INDEX,
    SOURCE_ROW,
    TAG_CLAIMS,
    TAG_REJECTS,
    TAG_RESULTS,
    TAG_TOTALS,
    _frames,
    _struct_batch,
    arrow_type,
    line_schema,
    to_spark_arrow,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def _raw_lines(frame: pl.DataFrame, raw: pl.Schema) -> pl.DataFrame:
    """The raw frame's columns of a task's lines, with the file index and row carried as extra columns."""
    return frame.select(*raw.names(), FILE_INDEX, ROW_INDEX)


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
        """The task's per-claim partials merged (``summary.claim_partials``: one row per claim with a flagged
        line)."""
        return pl.concat(self.claims).group_by(CLAIM_ID).agg(merged_claim_partials())

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
    #: a run's: the tasks read their own work items, and every task has the run's facts
    source: ReadItems | None = None
    facts: BatchFacts | None = None

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        totals = _TaskTotals([], [], [], [], [])
        results_schema = pa.schema(list(self.target.field(TAG_RESULTS).type))
        rejects_schema = pa.schema(list(self.target.field(TAG_REJECTS).type))
        sinks, renames = self.files.open() if self.files is not None else ([], [])
        frames = self.source.frames(batches) if self.source is not None else _frames(batches, self.batch_lines)
        try:
            for frame in frames:
                facts = self.facts if self.facts is not None else _task_facts(frame, self.supersede)
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
    empty, target = _empty_and_target(raw, compiled, run_id, keep)
    from pyspark.sql.pandas.types import from_arrow_schema

    files = _part_files(write_to, empty)
    task = _Adjudicate(raw, supersede, compiled, run_id, keep, target, settings.batch_size, files)
    tagged = joined.mapInArrow(task, from_arrow_schema(target, prefer_timestamp_ntz=True)).persist()
    return Plan(tagged=tagged, facts=facts, empty=empty)


def _empty_and_target(
    raw: pl.Schema, compiled: CompiledRules, run_id: str, keep: pl.Expr | None
) -> tuple[Any, pa.Schema]:
    """The batch function's output on no lines, and the tagged union an adjudication task returns."""
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
    return empty, target


def _part_files(write_to: tuple[Path, Path] | None, empty: Any) -> _PartFiles | None:
    """Where the tasks write their outputs, in the schemas the local driver writes (``empty``: the batch
    function's output on no lines)."""
    if write_to is None:
        return None
    results, rejects = _output_frames(empty.results, empty.rejects)
    return _PartFiles(str(write_to[0]), str(write_to[1]), arrow(results).schema, arrow(rejects).schema)


def adjudicate_items(
    work: DataFrame,
    source: ReadItems,
    facts: BatchFacts,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None,
    write_to: tuple[Path, Path],
) -> Totals:
    """A run's adjudication: one ``mapInArrow`` over the work items, each task reading its own lines
    (``source``), adjudicating them with the run's ``facts`` and writing its part files into ``write_to``
    (results folder, rejects folder); only its per-claim flagged sums and its totals come back, collected
    once. Returns the run's totals."""
    from pyspark.sql.pandas.types import from_arrow_schema

    raw = source.raw
    empty, target = _empty_and_target(raw, compiled, run_id, keep)
    files = _part_files(write_to, empty)
    task = _Adjudicate(raw, facts.supersede, compiled, run_id, keep, target, source.rows, files, source, facts)
    spark_target = from_arrow_schema(target, prefer_timestamp_ntz=True)
    rows = work.mapInArrow(task, spark_target).select(TAG_CLAIMS, TAG_TOTALS).toArrow()
    totals = Totals()
    totals.add(empty)
    for part in rows.column(TAG_TOTALS).drop_null().to_pylist():
        _add_task_totals(totals, pickle.loads(part))
    parts = collect_parts(empty.results, empty.rejects)
    claims = cast(pl.Series, pl.from_arrow(rows.column(TAG_CLAIMS))).drop_nulls().struct.unnest()
    # every task's sums of a claim meet here: the run's top claims are exact, as the local driver's
    parts["top_claims"] = top_claims(
        pl.concat([parts["top_claims"], claims.cast(parts["top_claims"].schema)]), TOP_CLAIMS
    )
    totals.parts.append(parts)
    totals.check_against(facts)
    return totals


def _add_task_totals(totals: Totals, part: dict[str, Any]) -> None:
    """One task's row of totals (``_TaskTotals.row``) added to the run's."""
    totals.counts += part["counts"]
    totals.by_reason += part["by_reason"]
    totals.by_check += part["by_check"]
    totals.parts += part["parts"]
    totals.fired_lines += part["fired_lines"]


__all__ = ["Plan", "adjudicate_items", "adjudicate_lines"]
