"""The facts of a run on Spark from a narrow pass, assembled on the driver as the embedded engine's ``BatchFacts``.

Each task reads its own work items with the project's reader
(``reading.ReadItems``) and hands Spark only what the facts need: the exact
typed key of each keyed line (``engine.facts.keyed``), the few lines an edit
names that passed their own checks (``engine.edits.concerned_lines``), and
the ``--claims`` ids it met; never a whole line. Spark groups the keys (the
duplicates) and the concerned lines in buckets of a claim or of a member
(each bucket through the prepass's own edit function); both results are
small and come back to the driver, where ``assemble_facts`` makes the facts
the adjudication tasks receive. A layout that re-delivers lines (CCLF) first
has its deliveries found by a pass of raw keys and dates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

import polars as pl
import pyarrow as pa

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.engine.checks import with_checks
from adjudicator.engine.edits import EDIT_FUNCTIONS, concerned_lines
from adjudicator.engine.facts import (
    FIRED,
    LATEST_DELIVERY,
    ROW_OK,
    BatchFacts,
    Supersede,
    empty_keys,
    facts_from,
    keyed,
)
from adjudicator.readers.history import HistoryAt
from adjudicator.rules.compiled import CompiledRules
from adjudicator.spark.history import fired_with_history
from adjudicator.spark.reading import ReadItems
from adjudicator.spark.types import _BUCKET, _FIRST, _per_group, arrow_schema, spark_schema, to_spark_arrow

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: what a row of the narrow pass holds: a keyed line's key, a concerned line, or a listed claim id met
_KIND: Final = "_kind"
_KEY: Final = 0
_CONCERNED: Final = 1
_LISTED: Final = 2
#: a concerned line that failed its checks (with a history only: its key replaces its history row)
_REPLACED: Final = 3
_KEY_SCHEMA: Final = pl.Schema({CLAIM_ID: pl.String(), LINE_NUMBER: pl.Int64()})


def assemble_facts(
    duplicates: pl.DataFrame,
    fired: dict[str, pl.DataFrame],
    *,
    supersede: Supersede | None = None,
    deliveries: pl.DataFrame | None = None,
) -> BatchFacts:
    """The run's facts, from the duplicated keys, the keys each edit fired on and the deliveries: the one place a
    Spark run's facts are made on the driver (``engine.facts.facts_from``, as the embedded prepass)."""
    keys = facts_from(duplicates, fired) if duplicates.height or any(f.height for f in fired.values()) else empty_keys()
    edit_lines = keys.filter(pl.any_horizontal(pl.col(c) for c in FIRED.values())).height
    return BatchFacts(keys=keys, supersede=supersede, deliveries=deliveries, edit_lines=edit_lines)


def _narrow_schema(raw: pl.Schema, compiled: CompiledRules) -> pl.Schema:
    concerned = concerned_lines(pl.DataFrame(schema=raw).lazy(), compiled).collect_schema()
    return pl.Schema({_KIND: pl.Int8(), **{n: d for n, d in concerned.items() if n != ROW_OK}})


@dataclass(frozen=True)
class _Narrow:
    """The narrow pass's task: per frame read, the keyed lines' keys, the valid concerned lines and the listed
    ids met, as rows of one schema told apart by ``_KIND`` (the other columns null)."""

    source: ReadItems
    compiled: CompiledRules
    #: no keys yet: the layout's re-delivery rule and the deliveries found, when it has one
    facts: BatchFacts
    listed: pl.Series | None
    target: pa.Schema
    #: with a history: also the keys of the concerned lines that failed their checks (``_REPLACED``)
    replaced: bool = False

    def __call__(self, items: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for frame in self.source.frames(items):
            lines = self.facts.with_deliveries(frame.select(*self.source.raw.names()).lazy())
            typed = with_checks(lines)
            parts = [keyed(typed).select(pl.lit(_KEY, pl.Int8).alias(_KIND), CLAIM_ID, LINE_NUMBER)]
            every = concerned_lines(lines, self.compiled)
            concerned = every.filter(pl.col(ROW_OK)).drop(ROW_OK)
            parts.append(concerned.select(pl.lit(_CONCERNED, pl.Int8).alias(_KIND), pl.all()))
            if self.replaced:
                failed = every.filter(~pl.col(ROW_OK))
                parts.append(failed.select(pl.lit(_REPLACED, pl.Int8).alias(_KIND), CLAIM_ID, LINE_NUMBER))
            if self.listed is not None:
                met = typed.select(CLAIM_ID).filter(pl.col(CLAIM_ID).is_in(self.listed.implode())).unique()
                parts.append(met.select(pl.lit(_LISTED, pl.Int8).alias(_KIND), CLAIM_ID))
            out = pl.concat(pl.collect_all(parts), how="diagonal_relaxed")
            yield from to_spark_arrow(out, self.target).to_batches()


@dataclass(frozen=True)
class _EditBucket:
    """One bucket of valid concerned lines (every line of a claim, or of a member, is in one bucket), the
    duplicated keys left out, through an edit function of the prepass: the exact keys it fires on."""

    fires: Callable[[pl.DataFrame, CompiledRules], pl.DataFrame]
    compiled: CompiledRules
    duplicates: pl.DataFrame
    target: pa.Schema

    def __call__(self, table: pa.Table) -> pa.Table:
        concerned = cast(pl.DataFrame, pl.from_arrow(table)).drop(_BUCKET, _KIND)
        valid = concerned.join(self.duplicates, on=[CLAIM_ID, LINE_NUMBER], how="anti")
        return to_spark_arrow(self.fires(valid, self.compiled).select(CLAIM_ID, LINE_NUMBER), self.target)


@dataclass(frozen=True)
class _Delivered:
    """Per line whose key parses: its typed key (``Supersede.matched``: trimmed and typed as the duplicate check
    types it) and the delivery date the layout's own expression reads (CCLF's FILE_DATE)."""

    source: ReadItems
    supersede: Supersede
    target: pa.Schema

    def __call__(self, items: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rule = self.supersede
        for frame in self.source.frames(items):
            out = frame.select(*rule.matched(), rule.delivered.alias(LATEST_DELIVERY)).drop_nulls(list(rule.matched_on))
            yield from to_spark_arrow(out, self.target).to_batches()


def _collect(frame: DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """A small Spark result on the driver, in the polars types the facts use."""
    got = cast(pl.DataFrame, pl.from_arrow(frame.toArrow()))
    return got.select(pl.col(n).cast(d) for n, d in schema.items()) if got.width else pl.DataFrame(schema=schema)


def _deliveries(work: DataFrame, source: ReadItems, supersede: Supersede, buckets: int) -> pl.DataFrame:
    """The typed keys (``Supersede.matched_on``) delivered on different dates, with their latest delivery."""
    from pyspark.sql import functions as F

    key = list(supersede.matched_on)
    typed = pl.DataFrame(schema=source.raw).lazy().select(*supersede.matched()).collect_schema()
    delivered = pl.Schema({**typed, LATEST_DELIVERY: pl.Date()})
    found = (
        work.mapInArrow(_Delivered(source, supersede, arrow_schema(delivered)), spark_schema(delivered))
        .repartition(buckets, *key)
        .groupBy(*key)
        .agg(F.min(LATEST_DELIVERY).alias(_FIRST), F.max(LATEST_DELIVERY).alias(LATEST_DELIVERY))
        .where(F.col(_FIRST) < F.col(LATEST_DELIVERY))
        .drop(_FIRST)
    )
    return _collect(found, delivered)


def find_run_facts(
    work: DataFrame,
    source: ReadItems,
    compiled: CompiledRules,
    *,
    supersede: Supersede | None,
    listed: pl.Series | None,
    buckets: int,
    history: HistoryAt | None = None,
) -> tuple[BatchFacts, set[str], pl.DataFrame | None]:
    """The facts of every line of the work items (whatever the slice), and the ``listed`` claim ids some line
    carries. ``buckets``: the shuffle partitions of each grouping (sized to the data by the caller).

    Two jobs (a third before them for deliveries): the narrow pass, cached as it is read twice, with the
    duplicated keys grouped from it; then the edits on its concerned lines. With ``history``, the concerned
    lines are collected instead and the edits worked out on the driver with the history's rows they meet
    (``spark.history``); the third value is then what the history changed (None without a history).
    """
    from pyspark.sql import functions as F

    deliveries = _deliveries(work, source, supersede, buckets) if supersede is not None else None
    schema = _narrow_schema(source.raw, compiled)
    task = _Narrow(
        source,
        compiled,
        BatchFacts(empty_keys(), supersede, deliveries),
        listed,
        arrow_schema(schema),
        replaced=history is not None,
    )
    narrow = work.mapInArrow(task, spark_schema(schema)).persist()
    try:
        keys = narrow.where(F.col(_KIND) == _KEY).select(CLAIM_ID, LINE_NUMBER)
        duplicated = (
            keys.repartition(buckets, CLAIM_ID, LINE_NUMBER)
            .groupBy(CLAIM_ID, LINE_NUMBER)
            .count()
            .where(F.col("count") > 1)
            .select(F.lit(_KEY).cast("byte").alias(_KIND), CLAIM_ID, LINE_NUMBER)
        )
        met = narrow.where(F.col(_KIND).isin(_LISTED, _REPLACED)).select(_KIND, CLAIM_ID, LINE_NUMBER)
        both = _collect(duplicated.unionByName(met), pl.Schema({_KIND: pl.Int8(), **_KEY_SCHEMA}))
        duplicates = both.filter(pl.col(_KIND) == _KEY).drop(_KIND)
        found = set(both.filter(pl.col(_KIND) == _LISTED)[CLAIM_ID].to_list())
        replaced = both.filter(pl.col(_KIND) == _REPLACED).drop(_KIND)
        concerned = narrow.where(F.col(_KIND) == _CONCERNED)
        changed = None
        if history is not None:
            driver, changed = fired_with_history(
                _collect(concerned.drop(_KIND), pl.Schema({n: d for n, d in schema.items() if n != _KIND})),
                duplicates,
                compiled,
                history,
                replaced=replaced,
            )
            if driver is not None:
                facts = assemble_facts(duplicates, driver, supersede=supersede, deliveries=deliveries)
                # the tasks add the history's sentences to the messages of the lines it touched, as locally
                return dataclasses.replace(facts, history_effects=changed), found, changed
        fired_frames = []
        for kind in compiled.edit_kinds:
            column, fires = EDIT_FUNCTIONS[kind]
            bucket = _per_group(_EditBucket(fires, compiled, duplicates, arrow_schema(_KEY_SCHEMA)))
            fired_frames.append(
                concerned.withColumn(_BUCKET, F.pmod(F.hash(column), F.lit(buckets)))
                .groupBy(_BUCKET)
                .applyInArrow(bucket, spark_schema(_KEY_SCHEMA))
                .select(F.lit(kind).alias("_edit"), CLAIM_ID, LINE_NUMBER)
            )
        fired: dict[str, pl.DataFrame] = {}
        if fired_frames:
            stacked = fired_frames[0]
            for frame in fired_frames[1:]:
                stacked = stacked.unionByName(frame)
            edits = _collect(stacked, pl.Schema({"_edit": pl.String(), **_KEY_SCHEMA}))
            fired = {k: edits.filter(pl.col("_edit") == k).drop("_edit") for k in compiled.edit_kinds}
    finally:
        narrow.unpersist()
    return assemble_facts(duplicates, fired, supersede=supersede, deliveries=deliveries), found, changed


__all__ = ["assemble_facts", "find_run_facts"]
