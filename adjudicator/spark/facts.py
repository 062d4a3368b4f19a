"""The facts on Spark (the prepass): exact keys grouped by Spark, the edits by the prepass's own functions.

Duplicate keys are a Spark group-by on the exact typed key; the edits are the
project's ``addon_without_primary`` and ``units_exceed_limit`` run by
``groupBy(bucket).applyInArrow`` on the valid concerned lines, bucketed by a
hash of the claim (add-on) and of the member (unit limit): the hash only
picks a bucket, each function groups exact keys inside it. CCLF re-deliveries
are a group-by on the raw key of the dates the layout's own expression reads.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import polars as pl
import pyarrow as pa

from adjudicator.contract import CANONICAL, CLAIM_ID, LINE_NUMBER, PROCEDURE_CODE
from adjudicator.engine.checks import with_checks
from adjudicator.engine.edits import EDIT_FUNCTIONS, concerned_lines
from adjudicator.engine.facts import DUPLICATE, FIRED, LATEST_DELIVERY, ROW_OK, BatchFacts, Supersede, keyed
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.rules.compiled import CompiledRules
from adjudicator.spark.types import (
    _BUCKET,
    _FACT_FLAGS,
    _FIRST,
    FACT_CLAIM,
    FACT_LINE,
    KEY_CLAIM,
    KEY_LINE,
    KEYED,
    _frames,
    _per_group,
    arrow_schema,
    spark_schema,
    to_spark_arrow,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


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
            .select(*supersede.matched(), LATEST_DELIVERY)
            .unique(list(supersede.matched_on))
        )
    return BatchFacts(keys=keys, supersede=supersede, deliveries=deliveries)


@dataclass(frozen=True)
class _Delivered:
    """Per line: its raw key, its typed key (``Supersede.matched``) and the delivery date the layout's own
    expression reads (CCLF's FILE_DATE)."""

    supersede: Supersede
    target: pa.Schema
    #: lines per frame (``EngineSettings.batch_size``)
    rows: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, self.rows):
            out = frame.select(
                *self.supersede.key, *self.supersede.matched(), self.supersede.delivered.alias(LATEST_DELIVERY)
            )
            yield from to_spark_arrow(out, self.target).to_batches()


@dataclass(frozen=True)
class _KeyedLines:
    """Per keyed line (a key, and no rejection by its own layout: ``engine.facts.keyed``), its exact typed key."""

    raw: pl.Schema
    supersede: Supersede | None
    target: pa.Schema
    #: lines per frame (``EngineSettings.batch_size``)
    rows: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, self.rows):
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
    #: lines per frame (``EngineSettings.batch_size``)
    rows: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in _frames(batches, self.rows):
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
    settings: EngineSettings = DEFAULT_SETTINGS,
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
    ``settings.batch_size``: the lines per frame of the tasks that reshape lines.
    """
    spark = lines.sparkSession
    buckets = buckets or int(spark.conf.get("spark.sql.shuffle.partitions") or 200)
    deliveries = None
    if supersede is not None:
        lines, deliveries = _with_deliveries(lines, raw, supersede, materialize=materialize, settings=settings)
    duplicates = _duplicates(lines, raw, supersede, materialize=materialize, settings=settings)
    valid = _valid_concerned(lines, raw, compiled, supersede, duplicates, materialize=materialize, settings=settings)
    keys = _fact_keys(duplicates, valid, compiled, buckets)
    return lines, Facts(keys=keys, deliveries=deliveries, valid=valid, duplicates=duplicates)


#: the exact typed key, as the facts name it
_KEY_SCHEMA = pl.Schema({CLAIM_ID: pl.String(), LINE_NUMBER: pl.Int64()})


def _with_deliveries(
    lines: DataFrame, raw: pl.Schema, supersede: Supersede, *, materialize: bool, settings: EngineSettings
) -> tuple[DataFrame, DataFrame]:
    """The lines with the latest delivery of their typed key joined (through their raw key), and the raw keys
    whose typed key was delivered on different dates (persisted)."""
    from pyspark.sql import functions as F

    key, typed = list(supersede.key), list(supersede.matched_on)
    delivered = pl.Schema(
        {
            **{k: raw[k] for k in key},
            **{t: CANONICAL[k][0] for k, t in zip(key, typed, strict=True)},
            LATEST_DELIVERY: pl.Date(),
        }
    )
    by_raw = (
        lines.mapInArrow(_Delivered(supersede, arrow_schema(delivered), settings.batch_size), spark_schema(delivered))
        .dropna(subset=typed)
        .groupBy(*key, *typed)
        .agg(F.min(LATEST_DELIVERY).alias(_FIRST), F.max(LATEST_DELIVERY).alias(LATEST_DELIVERY))
    )
    # copies are matched on the typed key ("  C1" and "C1", "1.0" and "1"), then handed back to the lines by
    # their raw key, which is all a line carries before its checks
    latest = (
        by_raw.groupBy(*typed)
        .agg(F.min(_FIRST).alias(_FIRST), F.max(LATEST_DELIVERY).alias(LATEST_DELIVERY))
        .where(F.col(_FIRST) < F.col(LATEST_DELIVERY))
        .drop(_FIRST)
    )
    deliveries = by_raw.select(*key, *typed).join(latest, on=typed, how="inner").select(*key, LATEST_DELIVERY).persist()
    if materialize:
        deliveries.count()
    other = deliveries.select(*(F.col(k).alias(f"_delivered_{k}") for k in key), LATEST_DELIVERY)
    condition = [lines[k].eqNullSafe(other[f"_delivered_{k}"]) for k in key]
    return lines.join(other, on=condition, how="left").drop(*(f"_delivered_{k}" for k in key)), deliveries


def _duplicates(
    lines: DataFrame, raw: pl.Schema, supersede: Supersede | None, *, materialize: bool, settings: EngineSettings
) -> DataFrame:
    """The exact typed keys of more than one keyed line (persisted)."""
    from pyspark.sql import functions as F

    if supersede is None:
        # the read task marked the keyed lines: the group-by needs no second pass through Python
        keys = lines.where(F.col(KEYED)).select(F.col(KEY_CLAIM).alias(CLAIM_ID), F.col(KEY_LINE).alias(LINE_NUMBER))
    else:
        # a superseded copy is not a copy of the line it lost to: keyed again once the deliveries are known
        task = _KeyedLines(raw, supersede, arrow_schema(_KEY_SCHEMA), settings.batch_size)
        keys = lines.mapInArrow(task, spark_schema(_KEY_SCHEMA))
    duplicates = (
        keys.groupBy(CLAIM_ID, LINE_NUMBER).count().where(F.col("count") > 1).select(CLAIM_ID, LINE_NUMBER).persist()
    )
    if materialize:
        duplicates.count()
    return duplicates


def _valid_concerned(
    lines: DataFrame,
    raw: pl.Schema,
    compiled: CompiledRules,
    supersede: Supersede | None,
    duplicates: DataFrame,
    *,
    materialize: bool,
    settings: EngineSettings,
) -> DataFrame:
    """The lines the edits read: concerned (``engine.edits.concerned_lines``), valid, not duplicated (persisted)."""
    from pyspark.sql import functions as F

    empty_raw = pl.DataFrame(schema=raw).lazy()
    concerned_schema = concerned_lines(empty_raw, compiled).collect_schema()
    # only lines whose raw code holds an edit's code cross to Python (a few percent): containing it is
    # true of every spelling the reader's trimming accepts, and concerned_lines decides exactly
    holds_code = functools.reduce(
        lambda a, b: a | b, [F.col(PROCEDURE_CODE).contains(c) for c in compiled.edit_codes], F.lit(False)
    )
    task = _ConcernedLines(raw, supersede, compiled, arrow_schema(concerned_schema), settings.batch_size)
    valid = (
        lines.where(holds_code)
        .mapInArrow(task, spark_schema(concerned_schema))
        .where(F.col(ROW_OK))
        .join(duplicates, on=[CLAIM_ID, LINE_NUMBER], how="left_anti")
        .persist()
    )
    if materialize:
        valid.count()
    return valid


def _fact_keys(duplicates: DataFrame, valid: DataFrame, compiled: CompiledRules, buckets: int) -> DataFrame:
    """One row per exact key a fact names, a Boolean per fact: the duplicates, and the keys each edit fires on
    (``valid`` in ``buckets`` buckets by a hash of the edit's column, each through its function; persisted)."""
    from pyspark.sql import functions as F

    frames = [duplicates.select(CLAIM_ID, LINE_NUMBER, F.lit(True).alias(DUPLICATE))]
    for kind in compiled.edit_kinds:
        column, fires = EDIT_FUNCTIONS[kind]
        task = _per_group(_EditBucket(fires, compiled, arrow_schema(_KEY_SCHEMA)))
        fired = (
            valid.withColumn(_BUCKET, F.pmod(F.hash(column), F.lit(buckets)))
            .groupBy(_BUCKET)
            .applyInArrow(task, spark_schema(_KEY_SCHEMA))
        )
        frames.append(fired.select(CLAIM_ID, LINE_NUMBER, F.lit(True).alias(FIRED[kind])))
    stacked = frames[0]
    for frame in frames[1:]:
        stacked = stacked.unionByName(frame, allowMissingColumns=True)
    for flag in _FACT_FLAGS:
        if flag not in stacked.columns:
            stacked = stacked.withColumn(flag, F.lit(False))
    return (
        stacked.groupBy(CLAIM_ID, LINE_NUMBER)
        .agg(*(F.max(F.coalesce(F.col(f), F.lit(False))).alias(f) for f in _FACT_FLAGS))
        .persist()
    )


__all__ = ["Facts", "find_facts"]
