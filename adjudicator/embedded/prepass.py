"""The prepass: every batch-wide fact a line's verdict needs, found before any line is written; all its I/O.

A line's verdict depends on other lines in four ways (contract sections 2
and 5): a superseded delivery (a later copy of the line in a CCLF feed), a
duplicated key, an add-on without its primary on the claim and day, and a
member's units over the daily limit. The prepass reads only the columns those
need and returns ``BatchFacts``: the exact keys each fact names (typed
``(claim_id, line_number)``, for deliveries too), never hashes, so
nothing downstream has a second mode. Memory stays bounded as the batch grows:
keys are spilled to partition files by a hash of the claim and each file is
grouped on its own (the hash only chooses a file; grouping is on exact keys).
``find_facts(..., in_memory=True)`` writes no file: for a frame already held in
memory (``adjudicator.adjudicate_frame``), the same facts from one in-memory
partition.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl

from adjudicator.contract import CLAIM_ID, LINE_NUMBER, MEMBER_ID, PROCEDURE_CODE, SERVICE_DATE
from adjudicator.embedded.events import Meter
from adjudicator.embedded.spill import partitions_for, spill_hash, spill_parts, spilled
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
    key_hash,
    keyed,
)
from adjudicator.engine.history import (
    effects,
    empty_effects,
    empty_history,
    merged_lines,
    not_present,
    tonight_only,
    wanted,
)
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.readers.history import HistoryAt, read_wanted
from adjudicator.rules.compiled import CompiledRules

#: a line's key hash (internal; never written)
_HASH = "_key_hash"


def latest_deliveries(
    raw: pl.LazyFrame,
    rule: Supersede,
    partitions: int,
    folder: Path | None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> pl.DataFrame:
    """Keys delivered more than once with different dates, and the latest date of each.

    Grain: one row per typed key (``Supersede.matched_on``) whose copies' dates
    differ. Copies with equal or unreadable dates supersede nothing (they are
    then duplicates); a key that does not parse is matched with no other.
    ``folder``: where the partitions are spilled (None: one partition, in memory).
    """
    key = list(rule.matched_on)
    narrow = raw.select(*rule.matched(), rule.delivered.alias(LATEST_DELIVERY)).drop_nulls(key)
    by = spill_hash(pl.struct(key))
    found = [
        part.group_by(key)
        .agg(pl.col(LATEST_DELIVERY).min().alias("_first"), pl.col(LATEST_DELIVERY).max())
        .filter(pl.col("_first") < pl.col(LATEST_DELIVERY))
        .drop("_first")
        for part in spill_parts(narrow, by, partitions, folder, files_open=settings.spill_files_open)
    ]
    schema = narrow.collect_schema()
    return pl.concat([pl.DataFrame(schema=schema), *found], how="vertical_relaxed")


def _keyed_hashes(typed: pl.LazyFrame) -> pl.LazyFrame:
    """Each keyed line's typed key and its hash (``key_hash``)."""
    return keyed(typed).select(CLAIM_ID, LINE_NUMBER, key_hash().alias(_HASH))


def _exact_repeats(lines: pl.LazyFrame) -> pl.DataFrame:
    """The exact keys held by more than one of ``lines`` (key and hash columns, ``_keyed_hashes``).

    The hashes are collected (8 bytes a line) and sorted, and the repeated
    ones picked out (grouping the text keys of every line cost three times as
    much); only the lines holding a repeated hash are then read again and
    grouped on their exact keys, so a hash shared by two different keys is not
    a duplicate.
    """
    hashes = lines.select(_HASH).collect(engine="streaming")[_HASH].sort()
    repeated = hashes.filter(hashes == hashes.shift(1)).unique()
    found = pl.DataFrame(schema={CLAIM_ID: pl.String, LINE_NUMBER: pl.Int64})
    if not repeated.len():
        return found
    exact = (
        lines.filter(pl.col(_HASH).is_in(repeated.implode()))
        .group_by(CLAIM_ID, LINE_NUMBER)
        .len()
        .filter(pl.col("len") > 1)
        .select(CLAIM_ID, LINE_NUMBER)
        .collect(engine="streaming")
    )
    return pl.concat([found, exact])


def repeated_keys(typed: pl.LazyFrame) -> pl.DataFrame:
    """Exact typed keys (claim_id, line_number) held by more than one keyed line, with every line's key hash
    in memory (``_exact_repeats`` over the whole batch): no key is spilled."""
    return _exact_repeats(_keyed_hashes(typed))


def duplicate_keys(
    typed: pl.LazyFrame, partitions: int, folder: Path, settings: EngineSettings = DEFAULT_SETTINGS
) -> pl.DataFrame:
    """Exact typed keys (claim_id, line_number) held by more than one keyed line of the batch.

    Each keyed line's key and its hash are spilled to partition files by a
    hash of the claim, and each file is worked out on its own
    (``_exact_repeats``), so memory is one partition's hashes, not the batch's
    keys.
    """
    by = spill_hash(pl.col(CLAIM_ID))
    parts = spilled(_keyed_hashes(typed), by, partitions, folder, files_open=settings.spill_files_open)
    return pl.concat([_exact_repeats(part) for part in parts])


def _held(lines: pl.LazyFrame, path: Path | None) -> pl.LazyFrame:
    """``lines`` computed once and read again as often as needed: sunk to ``path``, or collected when None
    (the in-memory prepass)."""
    if path is None:
        return lines.collect(engine="streaming").lazy()
    lines.sink_parquet(path, compression="lz4", engine="streaming")
    return pl.scan_parquet(path, glob=False)


def _edit_lines(
    concerned: pl.LazyFrame,
    duplicates: pl.DataFrame,
    compiled: CompiledRules,
    folder: Path | None,
    history: HistoryAt | None,
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """The lines the edits read, computed once: the valid concerned lines, and with a history its rows of the
    member-days and claim-days they touch (``engine.history.merged_lines``). Returns those lines (spilled to
    ``folder``, or held in memory when it is None) and the history rows read (empty without a history).

    Edits look at valid lines only: a line that failed a check, or whose key is duplicated, is neither a
    primary nor counted toward a unit limit (``_fired`` works the edits out over them)."""
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)

    def at(name: str) -> Path | None:
        return folder / name if folder is not None else None

    source = concerned
    if history is not None:
        # every concerned key of tonight, valid or not, replaces its history row: computed once, read twice
        source = everything = _held(concerned, at("concerned_all.parquet"))
    tonight = _held(
        source.filter(pl.col(ROW_OK)).join(duplicates.lazy(), on=[CLAIM_ID, LINE_NUMBER], how="anti"),
        at("concerned.parquet"),
    )
    if history is None:
        return tonight, empty_history()
    want = wanted(tonight.select(CLAIM_ID, MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE).collect(), compiled)
    earlier = not_present(read_wanted(history.path, history.version, want), everything)
    if not earlier.height:
        return tonight, earlier
    return _held(merged_lines(tonight, earlier), at("merged.parquet")), earlier


def _fired(
    lines: pl.LazyFrame,
    earlier: pl.DataFrame,
    compiled: CompiledRules,
    folder: Path | None,
    settings: EngineSettings,
    meter: Meter | None = None,
) -> dict[str, pl.DataFrame]:
    """Each edit over ``lines``: when they are many they are spilled again to ``folder`` by a hash of the claim
    (add-on) and of the member (limit), and each file is worked out on its own; with no ``folder`` (the
    in-memory prepass) each edit is worked out over them all, one partition. History keys are never flagged."""
    count = lines.select(pl.len()).collect().item()
    if meter is not None:
        meter.advance()
    partitions = partitions_for(count, settings.concerned_rows_per_partition) if folder is not None else 1
    found: dict[str, pl.DataFrame] = {}
    for kind in compiled.edit_kinds:
        column, fires = EDIT_FUNCTIONS[kind]
        lines_by = spill_hash(pl.col(column))
        where = folder / f"by_{column}" if folder is not None else None
        parts = spill_parts(lines, lines_by, partitions, where, files_open=settings.spill_files_open)
        fired = pl.concat(
            [pl.DataFrame(schema={CLAIM_ID: pl.String, LINE_NUMBER: pl.Int64}), *(fires(p, compiled) for p in parts)]
        )
        if meter is not None:
            meter.advance()
        found[kind] = tonight_only(fired, earlier)
    return found


def find_facts(
    raw: pl.LazyFrame,
    compiled: CompiledRules,
    *,
    supersede: Supersede | None = None,
    spill_dir: Path | None = None,
    in_memory: bool = False,
    expected_rows: int = 0,
    settings: EngineSettings = DEFAULT_SETTINGS,
    meter: Meter | None = None,
    history: HistoryAt | None = None,
) -> BatchFacts:
    """The batch-wide facts of the whole raw frame (every line, whatever the slice).

    Spill files go to a temporary folder inside ``spill_dir`` (the system's
    temporary folder when None), removed before returning. ``expected_rows``
    chooses how duplicates are found: up to ``settings.hashes_in_memory`` lines
    with the key hashes in memory (``repeated_keys``), beyond in spilled
    partitions (``duplicate_keys``, sized by ``partitions_for``). Each query runs on its own,
    not in one ``collect_all``: sharing the scan caches the whole checked frame
    for both and they lose their projection and filter pushdown
    (docs/benchmarks.md). ``meter``: the run log's meter of the prepass, in steps (each query above, each
    edit): a step's share of the time varies, so its ETA is rough.

    ``in_memory``: write no file and make no folder, for a frame already held in memory: duplicates from the
    key hashes in memory whatever ``expected_rows``, the concerned lines collected, and each edit worked out
    over one in-memory partition; the same facts as spilled (``spill_dir`` must then be None). Memory grows
    with the batch's keys.

    ``history``: the history table and version the edits read beside the batch (contract section 7); the
    facts then also hold what it changed (``BatchFacts.history_effects``).
    """
    if in_memory and spill_dir is not None:
        raise ValueError("'spill_dir' is for a prepass that spills; an in-memory prepass writes no file")
    spill = None if in_memory else Path(tempfile.mkdtemp(prefix="adjudicator-prepass-", dir=spill_dir))

    def under(name: str) -> Path | None:
        return spill / name if spill is not None else None

    partitions = 1 if spill is None else partitions_for(expected_rows, settings.rows_per_partition)
    if meter is not None:
        meter.total, meter.unit = (supersede is not None) + 2 + len(compiled.edit_kinds), "steps"
    try:
        deliveries = None
        if supersede is not None:
            deliveries = latest_deliveries(raw, supersede, partitions, under("deliveries"), settings)
            if meter is not None:
                meter.advance()
        facts = BatchFacts(keys=empty_keys(), supersede=supersede, deliveries=deliveries)
        lines = facts.with_deliveries(raw)
        if spill is None or expected_rows <= settings.hashes_in_memory:
            duplicates = repeated_keys(with_checks(lines))
        else:
            duplicates = duplicate_keys(with_checks(lines), partitions, spill / "keys", settings)
        if meter is not None:
            meter.advance()
        folder = under("concerned")
        edit_lines, earlier = _edit_lines(concerned_lines(lines, compiled), duplicates, compiled, folder, history)
        edits = _fired(edit_lines, earlier, compiled, folder, settings, meter)
        found = None
        if history is not None:
            # read once: the effects' group-bys each read every merged line
            found = effects(edit_lines.collect().lazy(), compiled) if earlier.height else empty_effects()
    finally:
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)
    keys = facts_from(duplicates, edits)
    return BatchFacts(
        keys=keys,
        supersede=supersede,
        deliveries=deliveries,
        edit_lines=keys.filter(pl.any_horizontal(FIRED.values())).height,
        history_effects=found,
    )


__all__ = ["duplicate_keys", "find_facts", "latest_deliveries", "repeated_keys"]
