"""The prepass: every batch-wide fact a line's verdict needs, found before any line is written; all its I/O.

A line's verdict depends on other lines in four ways (contract sections 2
and 5): a superseded delivery (a later copy of the line in a CCLF feed), a
duplicated key, an add-on without its primary on the claim and day, and a
member's units over the daily limit. The prepass reads only the columns those
need and returns ``BatchFacts``: the exact keys each fact names (typed
``(claim_id, line_number)``, or the raw key for deliveries), never hashes, so
nothing downstream has a second mode. Memory stays bounded as the batch grows:
keys are spilled to partition files by a hash of the claim and each file is
grouped on its own (the hash only chooses a file; grouping is on exact keys).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

from adjudicator.compiled import ADDON_EDIT, UNITS_EDIT, CompiledRules
from adjudicator.contract import (
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REJECT_PREFIX,
    SERVICE_DATE,
    UNITS,
)
from adjudicator.errors import InternalError
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.spill import partitions_for, spill_hash, spill_parts, spilled
from adjudicator.validate import DUPLICATE_KEY, FLAG_PREFIX, any_failed, flag_columns, layout_checks, with_checks

#: helper columns of the facts (internal; never written)
DUPLICATE = "_fact_duplicate"
FIRED = {ADDON_EDIT: "_fact_addon_without_primary", UNITS_EDIT: "_fact_units_exceed_limit"}
LATEST_DELIVERY = "_fact_latest_delivery"
ROW_OK = "_row_ok"
_HASH = "_key_hash"


@dataclass(frozen=True)
class Supersede:
    """A layout's re-delivery rule: per raw key, copies whose ``delivered`` date is older than the latest lose."""

    check: str
    key: tuple[str, ...]
    delivered: pl.Expr


@dataclass(frozen=True)
class BatchFacts:
    """What a line's verdict needs from the rest of the batch; small (a few rows per thousand lines).

    ``keys``: one row per exact typed key (claim_id, line_number) that a fact
    names, with Boolean ``DUPLICATE`` and one ``FIRED[edit]`` column per edit.
    ``deliveries``: for a layout with a supersede rule, one row per raw key
    delivered with different dates, and its latest delivery.
    ``edit_lines``: how many keys an edit fired on; the driver checks that the
    batches met every one of them (the prepass and the batches agree).
    """

    keys: pl.DataFrame
    supersede: Supersede | None = None
    deliveries: pl.DataFrame | None = None
    edit_lines: int = 0

    @cached_property
    def duplicate_keys(self) -> pl.Series | None:
        """The duplicated keys as one imploded (claim_id, line_number) struct, for membership tests; None when
        there are none. Built once per run, not once per batch."""
        duplicates = self.keys.filter(pl.col(DUPLICATE))
        if not duplicates.height:
            return None
        return duplicates.select(pl.struct(CLAIM_ID, LINE_NUMBER)).to_series().implode()

    @cached_property
    def _fired_index(self) -> tuple[int, pl.DataFrame]:
        """The keys an edit fired on, sorted by a 64-bit hash of the key that no two of them share.

        Returns (the hash's seed, the frame). The seed is the first that gives
        every key its own hash (the first, but for about one batch in ten
        million), so a lookup lands on at most one key, which is then compared
        exactly.
        """
        fired = self.keys.filter(pl.any_horizontal(pl.col(c) for c in FIRED.values())).select(
            CLAIM_ID, LINE_NUMBER, *FIRED.values()
        )
        for seed in range(64):
            hashed = fired.with_columns(pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=seed).alias(_HASH)).sort(_HASH)
            if hashed[_HASH].n_unique() == hashed.height:
                return seed, hashed
        raise InternalError("64 hash seeds in a row gave two edit keys one hash")

    def fired(self, lines: pl.DataFrame) -> pl.DataFrame:
        """One ``FIRED[edit]`` Boolean column per edit for each line of ``lines`` (its claim_id and line_number).

        Exact, and without a join: each line's key hash is found by a binary
        search among the fired keys' sorted hashes, and the key found there is
        compared with the line's. (A hash join rebuilt its table of every fired
        key for each batch: 800k keys at 100M lines, 1,000 times.)
        """
        seed, index = self._fired_index
        columns = list(FIRED.values())
        if not index.height or not lines.height:
            return pl.DataFrame({c: pl.repeat(False, lines.height, dtype=pl.Boolean, eager=True) for c in columns})
        wanted = lines.select(CLAIM_ID, LINE_NUMBER, pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=seed).alias(_HASH))
        position = index[_HASH].search_sorted(wanted[_HASH], side="left").clip(0, index.height - 1)
        found = index[position]
        same = (
            (found[_HASH] == wanted[_HASH])
            & (found[CLAIM_ID] == wanted[CLAIM_ID])
            & (found[LINE_NUMBER] == wanted[LINE_NUMBER])
        ).fill_null(False)
        return pl.DataFrame({c: found[c] & same for c in columns})

    def with_deliveries(self, raw: pl.LazyFrame) -> pl.LazyFrame:
        """The raw lines with the layout's ``_reject_<check>`` flag of superseded copies (no-op without a rule)."""
        if self.supersede is None:
            return raw
        rule = self.supersede
        latest = (self.deliveries if self.deliveries is not None else pl.DataFrame()).lazy()
        return (
            raw.join(latest, on=list(rule.key), how="left", maintain_order="left", nulls_equal=True)
            .with_columns((rule.delivered < pl.col(LATEST_DELIVERY)).fill_null(False).alias(REJECT_PREFIX + rule.check))
            .drop(LATEST_DELIVERY)
        )


def _empty_keys() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            CLAIM_ID: pl.String,
            LINE_NUMBER: pl.Int64,
            DUPLICATE: pl.Boolean,
            **{column: pl.Boolean for column in FIRED.values()},
        }
    )


def keyed(typed: pl.LazyFrame) -> pl.LazyFrame:
    """Lines that take part in duplicate detection and the edits: a key, and no rejection by their own layout."""
    # a row its layout already rejects (a superseded CCLF delivery, say) is not a copy of the line it lost to
    layout_flags = [FLAG_PREFIX + name for name in layout_checks(typed.collect_schema())]
    return typed.filter(pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null() & ~any_failed(layout_flags))


def latest_deliveries(
    raw: pl.LazyFrame, rule: Supersede, partitions: int, folder: Path, settings: EngineSettings = DEFAULT_SETTINGS
) -> pl.DataFrame:
    """Raw keys delivered more than once with different dates, and the latest date of each.

    Grain: one row per raw key whose copies' dates differ. Copies with equal or
    unreadable dates supersede nothing (they are then duplicates).
    """
    key = list(rule.key)
    narrow = raw.select(*key, rule.delivered.alias(LATEST_DELIVERY))
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


def key_hash() -> pl.Expr:
    """The 64-bit hash of a line's typed key that finds the candidates for duplicates (exact keys decide)."""
    return pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=0)


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


def concerned_lines(raw: pl.LazyFrame, compiled: CompiledRules) -> pl.LazyFrame:
    """The keyed lines whose code an add-on pair or a unit limit names (a few percent of a batch).

    Columns: those the edits need, and whether the row passed its own checks.
    The code is tested on the raw column before anything is typed, so the
    filter reaches the reader: a Parquet scan decodes the other columns only
    for those few lines.
    """
    codes = pl.Series(compiled.edit_codes, dtype=pl.String)
    raw_code = pl.col(PROCEDURE_CODE)
    if raw.collect_schema()[PROCEDURE_CODE] == pl.String:
        raw_code = raw_code.str.strip_chars()
    typed = with_checks(raw.filter(raw_code.is_in(codes.implode())))
    flags = [f for f in flag_columns(typed.collect_schema()) if f != FLAG_PREFIX + DUPLICATE_KEY]
    return (
        keyed(typed)
        .filter(pl.col(PROCEDURE_CODE).is_in(codes.implode()))
        .select(
            CLAIM_ID,
            LINE_NUMBER,
            MEMBER_ID,
            SERVICE_DATE,
            PROCEDURE_CODE,
            UNITS,
            PAYER_ID,
            PLAN_ID,
            PLACE_OF_SERVICE,
            (~any_failed(flags)).alias(ROW_OK),
        )
    )


def addon_without_primary(valid: pl.DataFrame, compiled: CompiledRules) -> pl.DataFrame:
    """Valid add-on lines with no valid primary on the same claim and date (exact keys).

    Needs every valid line of each (claim_id, service_date) in ``valid``.
    """
    pairs = compiled.addon_pairs
    primaries = (
        valid.filter(pl.col(PROCEDURE_CODE).is_in(pairs["primary_code"].unique().implode()))
        .select(CLAIM_ID, SERVICE_DATE, pl.col(PROCEDURE_CODE).alias("primary_code"))
        .unique()
        .join(pairs, on="primary_code")
        .select(CLAIM_ID, SERVICE_DATE, pl.col("addon_code").alias(PROCEDURE_CODE))
        .unique()
    )
    return (
        valid.filter(pl.col(PROCEDURE_CODE).is_in(pairs["addon_code"].unique().implode()))
        .join(primaries, on=[CLAIM_ID, SERVICE_DATE, PROCEDURE_CODE], how="anti")
        .select(CLAIM_ID, LINE_NUMBER)
    )


def units_exceed_limit(valid: pl.DataFrame, compiled: CompiledRules) -> pl.DataFrame:
    """Valid lines of a member, day and code whose units add up past the code's limit (exact keys).

    Needs every valid line of each (member_id, service_date, procedure_code) in ``valid``.
    """
    return (
        valid.join(compiled.unit_limits, on=PROCEDURE_CODE)
        .filter(pl.col(UNITS).sum().over(MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE) > pl.col("max_units_per_member_day"))
        .select(CLAIM_ID, LINE_NUMBER)
    )


_EDIT_FUNCTIONS: dict[str, tuple[str, Callable[[pl.DataFrame, CompiledRules], pl.DataFrame]]] = {
    # every line of a claim and date must be in one partition for the add-on edit, of a member's day for the limit
    ADDON_EDIT: (CLAIM_ID, addon_without_primary),
    UNITS_EDIT: (MEMBER_ID, units_exceed_limit),
}


def edit_keys(
    concerned: pl.LazyFrame,
    duplicates: pl.DataFrame,
    compiled: CompiledRules,
    folder: Path,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> dict[str, pl.DataFrame]:
    """For each edit the rules define, the exact keys of the valid lines it fires on.

    Edits look at valid lines only: a line that failed a check, or whose key is
    duplicated, is neither a primary nor counted toward a unit limit. The valid
    concerned lines are spilled once; when they are many they are spilled again
    by a hash of the claim (add-on) and of the member (limit), and each file is
    worked out on its own.
    """
    folder.mkdir(parents=True, exist_ok=True)
    lines = folder / "concerned.parquet"
    concerned.filter(pl.col(ROW_OK)).join(duplicates.lazy(), on=[CLAIM_ID, LINE_NUMBER], how="anti").sink_parquet(
        lines, compression="lz4", engine="streaming"
    )
    count = pl.scan_parquet(lines, glob=False).select(pl.len()).collect().item()
    partitions = partitions_for(count, settings.concerned_rows_per_partition)
    found: dict[str, pl.DataFrame] = {}
    for kind in compiled.edit_kinds:
        column, fires = _EDIT_FUNCTIONS[kind]
        lines_by = spill_hash(pl.col(column))
        parts = spill_parts(
            pl.scan_parquet(lines, glob=False),
            lines_by,
            partitions,
            folder / f"by_{column}",
            files_open=settings.spill_files_open,
        )
        found[kind] = pl.concat(
            [pl.DataFrame(schema={CLAIM_ID: pl.String, LINE_NUMBER: pl.Int64}), *(fires(p, compiled) for p in parts)]
        )
    return found


def facts_from(duplicates: pl.DataFrame, edits: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per key any fact names, with one Boolean column per fact (False where it does not)."""
    frames = [duplicates.select(CLAIM_ID, LINE_NUMBER, pl.lit(True).alias(DUPLICATE))]
    frames += [e.select(CLAIM_ID, LINE_NUMBER, pl.lit(True).alias(FIRED[kind])) for kind, e in edits.items()]
    stacked = pl.concat([_empty_keys().head(0), *frames], how="diagonal_relaxed")
    flags = [DUPLICATE, *FIRED.values()]
    return stacked.group_by(CLAIM_ID, LINE_NUMBER).agg(pl.col(flags).fill_null(False).any())


def find_facts(
    raw: pl.LazyFrame,
    compiled: CompiledRules,
    *,
    supersede: Supersede | None = None,
    spill_dir: Path | None = None,
    expected_rows: int = 0,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> BatchFacts:
    """The batch-wide facts of the whole raw frame (every line, whatever the slice).

    Spill files go to a temporary folder inside ``spill_dir`` (the system's
    temporary folder when None), removed before returning. ``expected_rows``
    chooses how duplicates are found: up to ``settings.hashes_in_memory`` lines
    with the key hashes in memory (``repeated_keys``), beyond in spilled
    partitions (``duplicate_keys``, sized by ``partitions_for``). Each query runs on its own,
    not in one ``collect_all``: sharing the scan caches the whole checked frame
    for both and they lose their projection and filter pushdown
    (docs/benchmarks.md).
    """
    spill = Path(tempfile.mkdtemp(prefix="adjudicator-prepass-", dir=spill_dir))
    partitions = partitions_for(expected_rows, settings.rows_per_partition)
    try:
        deliveries = None
        if supersede is not None:
            deliveries = latest_deliveries(raw, supersede, partitions, spill / "deliveries", settings)
        facts = BatchFacts(keys=_empty_keys(), supersede=supersede, deliveries=deliveries)
        lines = facts.with_deliveries(raw)
        if expected_rows <= settings.hashes_in_memory:
            duplicates = repeated_keys(with_checks(lines))
        else:
            duplicates = duplicate_keys(with_checks(lines), partitions, spill / "keys", settings)
        edits = edit_keys(concerned_lines(lines, compiled), duplicates, compiled, spill / "concerned", settings)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    keys = facts_from(duplicates, edits)
    return BatchFacts(
        keys=keys,
        supersede=supersede,
        deliveries=deliveries,
        edit_lines=keys.filter(pl.any_horizontal(FIRED.values())).height,
    )


__all__ = [
    "BatchFacts",
    "Supersede",
    "addon_without_primary",
    "concerned_lines",
    "duplicate_keys",
    "edit_keys",
    "find_facts",
    "key_hash",
    "keyed",
    "latest_deliveries",
    "repeated_keys",
    "units_exceed_limit",
]
