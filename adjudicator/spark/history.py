"""The nightly history on Spark (contract section 7): the edits' facts redone on the driver with the history's
rows, by the embedded prepass's own pure functions (``adjudicator.engine.history``, ``engine.edits``).

The narrow pass's valid concerned lines are a few percent of a night, and the history rows they can meet fewer
still, so they are collected to the driver and the edits worked out there (``spark.narrow.find_run_facts``).
"""

from __future__ import annotations

import polars as pl

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.engine.edits import EDIT_FUNCTIONS
from adjudicator.engine.history import effects, empty_effects, merged_lines, not_present, tonight_only, wanted
from adjudicator.readers.history import HistoryAt, read_wanted
from adjudicator.rules.compiled import CompiledRules


def fired_with_history(
    concerned: pl.DataFrame,
    duplicates: pl.DataFrame,
    compiled: CompiledRules,
    history: HistoryAt,
    *,
    replaced: pl.DataFrame | None = None,
) -> tuple[dict[str, pl.DataFrame] | None, pl.DataFrame]:
    """Each edit's keys over tonight's valid concerned lines (``concerned``, duplicated keys among them left
    out here) and the history's rows they meet, and what the history changed (``engine.history.effects``).
    None for the keys when no history row is met: the edits are then tonight's alone, found as without one.

    Every concerned key tonight holds, valid or not, replaces its history row, as in the embedded prepass: its
    valid concerned lines, its duplicated keys and ``replaced`` (the concerned lines that failed a check).
    """
    valid = concerned.join(duplicates, on=[CLAIM_ID, LINE_NUMBER], how="anti")
    keys = [valid, duplicates, *([replaced] if replaced is not None else [])]
    present = pl.concat([k.select(CLAIM_ID, LINE_NUMBER) for k in keys])
    earlier = not_present(read_wanted(history.path, history.version, wanted(valid, compiled)), present.lazy())
    if not earlier.height:
        return None, empty_effects()
    merged = merged_lines(valid.lazy(), earlier).collect()
    fired = {kind: tonight_only(EDIT_FUNCTIONS[kind][1](merged, compiled), earlier) for kind in compiled.edit_kinds}
    return fired, effects(merged.lazy(), compiled)


__all__ = ["fired_with_history"]
