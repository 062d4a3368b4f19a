"""The adjudication task on Spark: every line joined to its facts through the batch function, the tagged union
a task returns (or the part files it writes), its totals, and the run's totals from them.

Every line is joined to the facts of its key (a join by key; the facts are
sent to every task only when they are few), and ``batch.adjudicate_batch``
runs inside one ``mapInArrow`` whose output is a tagged union: results,
rejects, per-claim flagged sums and one row of counts and summary partials
per task. It is persisted and split, so nothing is adjudicated twice. In a
run, the tasks write their results and rejects as Parquet part files
themselves, as the local driver's writers do, and return only the small
rows: moving every output line back into Spark, caching it and scanning it
once per output cost a large share of the adjudication stage
(docs/benchmarks.md, "Spark").
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
from adjudicator.spark.types import (
    _BUCKET,
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
    _per_group,
    _struct_batch,
    arrow_schema,
    arrow_type,
    line_schema,
    spark_schema,
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


__all__ = ["Plan", "adjudicate_lines"]
