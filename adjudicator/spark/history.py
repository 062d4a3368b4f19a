"""The nightly history on Spark (contract section 7): the edits' facts redone on the driver with the history's
rows, by the embedded prepass's own pure functions (``adjudicator.engine.history``, ``engine.edits``).

The valid concerned lines are a few percent of a night, and the history rows they can meet fewer still, so
they are collected to the driver and merged there; the facts' keys then go back to Spark as a small frame.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, cast

import polars as pl

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.engine.edits import EDIT_FUNCTIONS
from adjudicator.engine.facts import facts_from
from adjudicator.engine.history import effects, empty_effects, merged_lines, not_present, tonight_only, wanted
from adjudicator.readers.history import HistoryAt, read_wanted
from adjudicator.rules.compiled import CompiledRules
from adjudicator.spark.facts import Facts

if TYPE_CHECKING:
    from pyspark.sql import DataFrame


def _collected(frame: DataFrame) -> pl.DataFrame:
    return cast(pl.DataFrame, pl.from_arrow(frame.toArrow()))


def with_history(facts: Facts, compiled: CompiledRules, history: HistoryAt) -> tuple[Facts, pl.DataFrame]:
    """The facts with the edits counted over tonight's valid concerned lines and the history's rows they
    meet, and what the history changed (``engine.history.effects``). Unchanged when no history row is met.

    A key tonight holds among its valid concerned lines or its duplicated keys replaces its history row.
    """
    valid = _collected(facts.valid)
    duplicates = _collected(facts.duplicates)
    present = pl.concat([valid.select(CLAIM_ID, LINE_NUMBER), duplicates.select(CLAIM_ID, LINE_NUMBER)])
    earlier = not_present(read_wanted(history.path, history.version, wanted(valid, compiled)), present.lazy())
    if not earlier.height:
        return facts, empty_effects()
    merged = merged_lines(valid.lazy(), earlier).collect()
    fired = {kind: tonight_only(EDIT_FUNCTIONS[kind][1](merged, compiled), earlier) for kind in compiled.edit_kinds}
    keys = facts_from(duplicates, fired)
    spark = facts.keys.sparkSession
    rebuilt = spark.createDataFrame(keys.to_arrow()).select(*facts.keys.columns).persist()
    return dataclasses.replace(facts, keys=rebuilt), effects(merged.lazy(), compiled)


__all__ = ["with_history"]
