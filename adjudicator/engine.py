"""The adjudication plan (contract sections 4 and 5): pure functions from LazyFrames to LazyFrames, no I/O.

The same plan runs on polars' streaming engine, per partition under another
engine, or on the GPU engine: nothing here reads, writes or collects input.
Rule tables are small DataFrames made lazy and joined; every policy literal
(codes, dates, stances' consequences, pairs, limits) comes from them.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

import polars as pl

from adjudicator.contract import (
    CANONICAL,
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REJECT_PREFIX,
    SERVICE_DATE,
    SOURCE_FILE,
    UNITS,
)
from adjudicator.rules import ANY_PLACE, PLACEHOLDER, REASONS, RuleSet
from adjudicator.validate import (
    DUPLICATE_KEY,
    FLAG_PREFIX,
    RAW_PREFIX,
    VALID,
    any_failed,
    failed_check_names,
    flag_columns,
    layout_checks,
    with_checks,
)

DETERMINATION = "determination"
REASON = "reason"
EDITS = "edits"
EDIT_CARCS = "edit_carcs"
FAILED_CHECKS = "failed_checks"
RUN_ID = "run_id"

#: columns the decision adds to each line, in output order
DECISION_COLUMNS = (
    DETERMINATION,
    REASON,
    "policy_id",
    "policy_version",
    "policy_effective_date",
    "policy_end_date",
    "policy_stance",
    "policy_source",
    "plan_version_effective_date",
    "plan_line_of_business",
    "group_code",
    "carc",
    "rarc",
    EDITS,
    EDIT_CARCS,
    "message",
)

_FOUND = "_version_found"
_EFF = "_effective_date"
_END = "_end_date"


@dataclass(frozen=True)
class Plan:
    """The two outputs of one run, as lazy plans over the same input."""

    results: pl.LazyFrame
    rejects: pl.LazyFrame


def complete_versions(
    versions: pl.DataFrame, keys: Sequence[str], payload: Sequence[str]
) -> pl.DataFrame:
    """Tile each key's whole date line with its versions plus gap rows, so every date falls in exactly one row.

    Grain: one row per (key, version or gap). ``_version_found`` is True on a
    version and False on a gap; ``_effective_date``/``_end_date`` are inclusive
    and null where open. Versions of one key must not overlap (checked at load).
    """
    keys = list(keys)
    ordered = (
        versions.select(
            *keys,
            pl.col("effective_date").alias(_EFF),
            pl.col("end_date").alias(_END),
            *payload,
        )
        .with_columns(pl.lit(True).alias(_FOUND))
        .sort([*keys, _EFF], nulls_last=False)
    )
    one_day = pl.duration(days=1)
    prev_end = pl.col(_END).shift(1).over(keys)
    is_first = pl.int_range(pl.len()).over(keys) == 0
    # a gap before each version that does not start right after the previous one
    before = ordered.filter(
        (is_first & pl.col(_EFF).is_not_null())
        | (~is_first & (pl.col(_EFF) > prev_end + one_day))
    ).select(
        *keys,
        pl.when(is_first).then(None).otherwise(prev_end + one_day).alias(_EFF),
        (pl.col(_EFF) - one_day).alias(_END),
    )
    # and after the last one, when it ends
    is_last = pl.int_range(pl.len()).over(keys) == pl.len().over(keys) - 1
    after = ordered.filter(is_last & pl.col(_END).is_not_null()).select(
        *keys, (pl.col(_END) + one_day).alias(_EFF), pl.lit(None, pl.Date).alias(_END)
    )
    gaps = pl.concat([before, after]).with_columns(pl.lit(False).alias(_FOUND))
    return pl.concat([ordered, gaps], how="diagonal_relaxed").sort(
        [*keys, _EFF], nulls_last=False
    )


_DAY_OFFSET = 1 << 31
_KEY_SPAN = 1 << 32


def _key_index(exprs: Sequence[pl.Expr], tiles: pl.DataFrame, keys: Sequence[str]) -> tuple[pl.Expr, pl.DataFrame]:
    """Number each distinct key of ``tiles`` 0..K-1 and map the lines' key expressions to that number.

    Each key column is mapped to a small integer by a lookup against its
    distinct values, then combined; lines whose key is not in the table get null.
    """
    distinct = tiles.select(keys).unique(maintain_order=True).with_row_index("_key")
    combined: pl.Expr | None = None
    table_combined: pl.Expr | None = None
    for expr, key in zip(exprs, keys, strict=True):
        values = distinct[key].unique(maintain_order=True).to_list()
        codes = {v: i for i, v in enumerate(values)}
        width = len(values)
        line_code = expr.replace_strict(codes, default=None, return_dtype=pl.Int64)
        table_code = pl.col(key).replace_strict(codes, return_dtype=pl.Int64)
        combined = line_code if combined is None else combined * width + line_code
        table_combined = table_code if table_combined is None else table_combined * width + table_code
    assert combined is not None and table_combined is not None
    lookup = distinct.select(table_combined.alias("_combined"), pl.col("_key").cast(pl.Int64))
    index = combined.replace_strict(
        dict(zip(lookup["_combined"], lookup["_key"], strict=True)), default=None, return_dtype=pl.Int64
    )
    return index, distinct


def tile_position(
    tiles: pl.DataFrame, *, left_on: Sequence[pl.Expr], right_on: Sequence[str], date: pl.Expr
) -> pl.Expr:
    """The row of ``tiles`` (from ``complete_versions``) that holds each line's date; null when its key has none.

    This is the project's one date-ranged join. The rule table is tiny, so it
    is not joined: every tile start is encoded as one sortable integer (key
    number, day), and each line finds its tile with one vectorized binary
    search over that array. No row is multiplied, re-joined or sorted.
    """
    key_of_line, distinct = _key_index(left_on, tiles, right_on)
    keyed = tiles.join(distinct, on=list(right_on), how="left", maintain_order="left")
    days = pl.col(_EFF).cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
    starts = keyed.select(pl.col("_key").cast(pl.Int64) * _KEY_SPAN + days.fill_null(0)).to_series()
    if not starts.is_sorted():
        raise ValueError("tiles must be sorted by key, then by start")
    line_day = date.cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
    position = pl.lit(starts).search_sorted(key_of_line * _KEY_SPAN + line_day, side="right").cast(pl.Int64) - 1
    return pl.when(key_of_line.is_not_null() & date.is_not_null()).then(position)


def _is_in(column: str | pl.Expr, values: Sequence[str] | pl.Series) -> pl.Expr:
    expr = pl.col(column) if isinstance(column, str) else column
    series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
    return expr.is_in(series.implode())


KEY_HASH = "_key_hash"
#: seed of the second, independent key hash that detects collisions of the first
_CHECK_SEED = 0x5EED


def key_hash() -> pl.Expr:
    """A 64-bit hash of (claim_id, line_number): how the main pass finds the few lines the batch facts name."""
    return pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=0)


@dataclass(frozen=True)
class BatchFacts:
    """What a line's verdict needs from the rest of the batch, computed in a prepass; small.

    Each set holds ``_key_hash`` values. The prepass proves them exact: it
    counts every key of the batch by hash, and a hash shared by two different
    keys (a collision) switches the run to ``exact_keys`` (the same sets as
    (claim_id, line_number) structs), so a hash never marks a wrong line.
    """

    duplicate: pl.Series
    addon_without_primary: pl.Series
    units_exceed_limit: pl.Series
    exact_keys: dict[str, pl.DataFrame] | None = None
    #: one row per valid line whose code a policy, an add-on pair or a unit limit names:
    #: ``_key_hash`` and ``_verdict`` (its decision-table row and edit row, see ``verdict_of_lines``);
    #: None after a collision, when the main pass decides every line itself
    verdicts: pl.DataFrame | None = None


def typed_lines(raw: pl.LazyFrame) -> pl.LazyFrame:
    """Typed, checked lines with their ``_key_hash``. Grain: one row per input row."""
    return with_checks(raw).with_columns(key_hash().alias(KEY_HASH))


def in_slice(keep: pl.Expr) -> pl.Expr:
    """A slice over the typed canonical columns; a row where it is null (a value it needs did not parse)
    stays in, so a bad row is never hidden as skipped."""
    return keep.fill_null(True)


def _concerned_codes(rules: RuleSet) -> list[str]:
    codes = {*rules.addon_pairs["addon_code"], *rules.addon_pairs["primary_code"]}
    return sorted(codes | set(rules.unit_limits["procedure_code"]))


def _verdict_codes(rules: RuleSet) -> list[str]:
    """Codes whose lines get anything but NO_ACTION and no edits: what a policy, pair or limit names."""
    return sorted(set(_concerned_codes(rules)) | set(rules.targeted_codes))


#: rows of the key spill per partition: each partition's group_by then stays near 300 MB whatever the input
ROWS_PER_PARTITION = 2_500_000
_PART = "_partition"
#: rows per row group in the spill files: a partition writer holds up to this many rows before writing
_SPILL_ROW_GROUP = 65_536


def partitions_for(expected_rows: int) -> int:
    """How many spill partitions the duplicate check uses for about ``expected_rows`` lines (1 to 256)."""
    return max(1, min(256, -(-expected_rows // ROWS_PER_PARTITION)))


def _keyed(typed: pl.LazyFrame) -> pl.LazyFrame:
    """Lines that take part in duplicate detection and the edits: a key, and no rejection by their own layout."""
    # a row its layout already rejects (a superseded CCLF delivery, say) is not a copy of the line it lost to
    layout_flags = [FLAG_PREFIX + name for name in layout_checks(typed.collect_schema())]
    return typed.filter(
        pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null() & ~any_failed(layout_flags)
    )


def concerned_query(raw: pl.LazyFrame, rules: RuleSet) -> pl.LazyFrame:
    """The lines whose code a policy, an add-on pair or a unit limit names (a few percent of a batch).

    Columns: those the edits and the decision need, and whether the row passed
    its own checks. The code is tested on the raw column before anything is
    typed, so the filter reaches the reader: a Parquet scan decodes the other
    columns only for those few lines (20M lines: 1.3 s and 360 MB, against
    5.7 s and 1.7 GB when filtering after the checks).
    """
    codes = _verdict_codes(rules)
    raw_code = pl.col(PROCEDURE_CODE)
    if raw.collect_schema()[PROCEDURE_CODE] == pl.String:
        raw_code = raw_code.str.strip_chars()
    typed = typed_lines(raw.filter(_is_in(raw_code, codes)))
    flags = flag_columns(typed.collect_schema())
    return _keyed(typed).filter(_is_in(PROCEDURE_CODE, codes)).select(
        KEY_HASH, CLAIM_ID, LINE_NUMBER, MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE, UNITS,
        PAYER_ID, PLAN_ID, PLACE_OF_SERVICE,
        (~any_failed(flags)).alias("_row_ok"),
    )


def _sink_partitioned(frame: pl.LazyFrame, hash_: pl.Expr, partitions: int, folder: Path) -> list[Path]:
    """Sink ``frame`` to ``partitions`` files in ``folder`` by ``hash_`` (a UInt64) modulo ``partitions``;
    returns the files written (a partition no row falls in has none)."""
    frame.with_columns((hash_ % partitions).alias(_PART)).sink_parquet(
        pl.PartitionBy(folder, key=_PART, include_key=False),
        compression="lz4", row_group_size=_SPILL_ROW_GROUP, mkdir=True, engine="streaming",
    )
    return sorted(folder.rglob("*.parquet"))


def _key_counts(frame: pl.LazyFrame) -> pl.LazyFrame:
    return (
        frame.group_by(KEY_HASH)
        .agg(
            pl.len().alias("_copies"),
            pl.col("_check").min().alias("_check_min"),
            pl.col("_check").max().alias("_check_max"),
        )
        .filter(pl.col("_copies") > 1)
    )


def repeated_keys(typed: pl.LazyFrame, spill: Path, partitions: int) -> pl.DataFrame:
    """The key hashes seen more than once in the batch, with the min/max of a second, independent hash of the key.

    Grain: one row per repeated key hash (``_copies`` > 1); min != max of the
    second hash means two different keys share the first (a collision). The
    key hashes are spilled to ``spill`` in ``partitions`` files by hash, and
    each file is grouped on its own, so memory is one partition's group_by,
    not the batch's (20M lines: 355 MB in 8 partitions, against 1.6 GB in one
    group_by, in the same time). ``spill`` must be an empty folder.
    """
    narrow = _keyed(typed).select(KEY_HASH, pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=_CHECK_SEED).alias("_check"))
    found = [
        _key_counts(pl.scan_parquet(path)).collect(engine="streaming")
        for path in _sink_partitioned(narrow, pl.col(KEY_HASH), partitions, spill)
    ]
    schema = {KEY_HASH: pl.UInt64, "_copies": pl.UInt32, "_check_min": pl.UInt64, "_check_max": pl.UInt64}
    return pl.concat([pl.DataFrame(schema=schema), *found], how="vertical_relaxed")


def collisions(keys: pl.DataFrame) -> pl.Series:
    """Key hashes that two different keys share in this batch (almost always empty)."""
    return keys.filter(pl.col("_check_min") != pl.col("_check_max"))[KEY_HASH]


def exact_duplicates_query(typed: pl.LazyFrame, hashes: pl.Series) -> pl.LazyFrame:
    """Only after a collision: the exact duplicated keys among the lines with these hashes."""
    return (
        typed.filter(pl.col(KEY_HASH).is_in(hashes.implode()))
        .group_by(CLAIM_ID, LINE_NUMBER)
        .agg(pl.len().alias("_copies"))
        .filter(pl.col("_copies") > 1)
        .select(CLAIM_ID, LINE_NUMBER)
    )


def _addon_failed(valid: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Valid add-on lines with no valid primary on the same claim and date. Needs every line of each
    (claim_id, service_date) in ``valid``."""
    pairs = rules.addon_pairs
    primaries = (
        valid.filter(_is_in(PROCEDURE_CODE, pairs["primary_code"].unique()))
        .select(CLAIM_ID, SERVICE_DATE, pl.col(PROCEDURE_CODE).alias("primary_code"))
        .unique()
        .join(pairs.select("addon_code", "primary_code"), on="primary_code")
        .select(CLAIM_ID, SERVICE_DATE, pl.col("addon_code").alias(PROCEDURE_CODE))
        .unique()
    )
    return valid.filter(_is_in(PROCEDURE_CODE, pairs["addon_code"].unique())).join(
        primaries, on=[CLAIM_ID, SERVICE_DATE, PROCEDURE_CODE], how="anti"
    )


def _units_failed(valid: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Valid lines of a member, day and code whose units add up past the code's limit. Needs every line of
    each (member_id, service_date, procedure_code) in ``valid``."""
    limits = rules.unit_limits.select("procedure_code", "max_units_per_member_day")
    return (
        valid.join(limits, on=PROCEDURE_CODE)
        .with_columns(pl.col(UNITS).sum().over(MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE).alias("_day_units"))
        .filter(pl.col("_day_units") > pl.col("max_units_per_member_day"))
    )


#: concerned lines per spill partition of the edits (their rows are wider than the key spill's)
CONCERNED_ROWS_PER_PARTITION = 500_000


def batch_facts_spilled(
    keys: pl.DataFrame, concerned: pl.LazyFrame, rules: RuleSet, spill: Path
) -> BatchFacts:
    """``batch_facts`` in memory that does not grow with the batch, when no key hash collided.

    The valid concerned lines are sunk to one spill file; the verdicts are
    computed over it in one streaming query (they are per line). For the two
    edits, when the lines are many, they are spilled again to partition files
    by a hash of their claim (every line of a claim and date in one file: the
    add-on edit) and of their member (every line of a member's day in one
    file: the unit limit), and each file is worked out on its own. Only the
    lines an edit names and the verdicts (two integers a line) stay in memory.
    Gives the same facts as ``batch_facts`` (tested).
    """
    if collisions(keys).len():
        raise ValueError("a key hash collision needs batch_facts with the exact duplicates")
    dup_hashes = keys[KEY_HASH]
    spill.mkdir(parents=True, exist_ok=True)
    lines = spill / "concerned.parquet"
    valid_only = pl.col("_row_ok") & ~pl.col(KEY_HASH).is_in(dup_hashes.implode())
    concerned.filter(valid_only).sink_parquet(lines, compression="lz4", engine="streaming")
    partitions = max(1, -(-pl.scan_parquet(lines).select(pl.len()).collect().item() // CONCERNED_ROWS_PER_PARTITION))

    def parts(column: str) -> Iterator[pl.DataFrame]:
        if partitions == 1:
            return iter([pl.read_parquet(lines)])
        by_hash = pl.col(column).hash(seed=0)
        files = _sink_partitioned(pl.scan_parquet(lines), by_hash, partitions, spill / f"by_{column}")
        return (pl.read_parquet(path) for path in files)

    empty = pl.Series(KEY_HASH, [], dtype=pl.UInt64)
    addon = [_addon_failed(frame, rules)[KEY_HASH] for frame in parts(CLAIM_ID)]
    units = [_units_failed(frame, rules)[KEY_HASH] for frame in parts(MEMBER_ID)]
    facts = BatchFacts(
        duplicate=dup_hashes,
        addon_without_primary=pl.concat([empty, *addon]),
        units_exceed_limit=pl.concat([empty, *units]),
    )
    verdicts = verdict_of_lines(pl.scan_parquet(lines), rules, facts).collect(engine="streaming")
    return replace(facts, verdicts=verdicts.cast({KEY_HASH: pl.UInt64, VERDICT: pl.Int64}))


def batch_facts(
    keys: pl.DataFrame,
    concerned: pl.DataFrame,
    rules: RuleSet,
    *,
    exact_duplicates: pl.DataFrame | None = None,
) -> BatchFacts:
    """Duplicates and the two edits, from the prepass results (small frames; pure).

    Edits look at valid lines only: a line that failed a check, or whose key
    is duplicated, is neither a primary nor counted toward a unit limit.
    """
    collided = collisions(keys)
    dup_hashes = keys.filter(pl.col("_copies") > 1)[KEY_HASH]
    if collided.len():
        if exact_duplicates is None:
            raise ValueError("a key hash collision needs the exact duplicates (exact_duplicates_query)")
        dup_keys = exact_duplicates.select(CLAIM_ID, LINE_NUMBER)
        valid = concerned.filter(pl.col("_row_ok")).join(dup_keys, on=[CLAIM_ID, LINE_NUMBER], how="anti")
    else:
        valid = concerned.filter(pl.col("_row_ok") & ~pl.col(KEY_HASH).is_in(dup_hashes.implode()))

    addon_failed = _addon_failed(valid, rules)
    units_failed = _units_failed(valid, rules)
    exact = None
    if collided.len():
        exact = {
            DUPLICATE_KEY: dup_keys,
            "addon": addon_failed.select(CLAIM_ID, LINE_NUMBER),
            "units": units_failed.select(CLAIM_ID, LINE_NUMBER),
        }
    facts = BatchFacts(
        duplicate=dup_hashes,
        addon_without_primary=addon_failed[KEY_HASH],
        units_exceed_limit=units_failed[KEY_HASH],
        exact_keys=exact,
    )
    if exact is not None or not {PAYER_ID, PLAN_ID, PLACE_OF_SERVICE} <= set(valid.columns):
        return facts
    return replace(facts, verdicts=verdict_of_lines(valid, rules, facts))


def _marks(facts: BatchFacts, name: str, hashes: pl.Series) -> pl.Expr:
    """True on the lines a fact names: by hash, or by exact key after a collision."""
    if facts.exact_keys is None:
        return pl.col(KEY_HASH).is_in(hashes.implode())
    keys = facts.exact_keys[name]
    return pl.struct(CLAIM_ID, LINE_NUMBER).is_in(pl.Series(keys.select(pl.struct(CLAIM_ID, LINE_NUMBER))).implode())


def _edit_rows(rules: RuleSet, facts: BatchFacts) -> tuple[pl.Series, pl.Series, pl.Expr]:
    """Every possible (code, which edits fired) combination listed once, and each line's row among them.

    Returns (``edits`` lists, ``edit_carcs`` lists, the line's row as an Int64
    expression). The last rows (code None) hold empty lists: the row of any
    line whose code no pair or limit names, when no edit fired.
    """
    tables = [
        (rules.addon_pairs, "addon_code", "addon", facts.addon_without_primary),
        (rules.unit_limits, "procedure_code", "units", facts.units_exceed_limit),
    ]
    tables = [t for t in tables if t[0].height]
    codes = sorted({c for table, key, _, _ in tables for c in table[key]})
    n_bits = len(tables)
    names: list[list[str]] = []
    carcs: list[list[str]] = []
    for code in [*codes, None]:
        for bits in range(1 << n_bits):
            fired_names, fired_codes = [], []
            for k, (table, key, _, _) in enumerate(tables):
                rows = table.filter(pl.col(key) == code) if code is not None else table.clear()
                if bits >> k & 1 and rows.height:
                    fired_names.append(rows["edit"][0])
                    fired_codes.append(f"{rows['group_code'][0]}-{rows['carc'][0]}")
            names.append(fired_names)
            carcs.append(fired_codes)
    code_class = pl.col(PROCEDURE_CODE).replace_strict(
        {c: i for i, c in enumerate(codes)}, default=len(codes), return_dtype=pl.Int64
    )
    fired = pl.lit(0, pl.Int64)
    for k, (_, _, name, hashes) in enumerate(tables):
        fired = fired + _marks(facts, name, hashes).cast(pl.Int64) * (1 << k)
    index = code_class * (1 << n_bits) + fired
    return (
        pl.Series(EDITS, names, dtype=pl.List(pl.String)),
        pl.Series(EDIT_CARCS, carcs, dtype=pl.List(pl.String)),
        index,
    )


def with_edits(valid: pl.LazyFrame, rules: RuleSet, facts: BatchFacts) -> pl.LazyFrame:
    """Add ``edits`` and ``edit_carcs`` (lists, empty when none) from the batch facts.

    Grain unchanged. Edit names and codes come from the add-on pairs and unit
    limits tables, per procedure code. Building a list per line is costly, so
    every possible (code, which edits fired) combination is listed once in a
    small table and each line gathers its pair of lists from it.
    """
    names, carcs, index = _edit_rows(rules, facts)
    return valid.with_columns(index.alias("_edit_row")).with_columns(
        pl.lit(names).gather(pl.col("_edit_row")).alias(EDITS),
        pl.lit(carcs).gather(pl.col("_edit_row")).alias(EDIT_CARCS),
    ).drop("_edit_row")


#: the column each message placeholder (``rules.MESSAGE_PLACEHOLDERS``) reads
_MESSAGE_FIELDS = {
    "policy": "policy_id",
    "version": "policy_version",
    "source": "policy_source",
}


def _message(template: str) -> pl.Expr:
    """The message of a reasons.csv template; its placeholders were checked when the table was loaded."""
    names = PLACEHOLDER.findall(template)
    fmt = PLACEHOLDER.sub("{}", template)
    return pl.format(fmt, *(pl.col(_MESSAGE_FIELDS[n]).fill_null("?") for n in names))


def _stance(name: str) -> pl.Expr:
    return pl.col("policy_stance") == name


def _policy_tiles(rules: RuleSet) -> pl.DataFrame:
    policies = rules.policies.select(
        "payer_id",
        "procedure_code",
        "effective_date",
        "end_date",
        "policy_id",
        pl.col("version").alias("policy_version"),
        pl.col("effective_date").alias("policy_effective_date"),
        pl.col("end_date").alias("policy_end_date"),
        pl.col("stance").alias("policy_stance"),
        pl.col("source").alias("policy_source"),
        pl.col("places_of_service").str.split(";").list.eval(pl.element().str.strip_chars()).alias("_policy_places"),
    )
    payload = [c for c in policies.columns if c not in ("payer_id", "procedure_code", "effective_date", "end_date")]
    return complete_versions(policies, ["payer_id", "procedure_code"], payload)


def _plan_tiles(rules: RuleSet) -> pl.DataFrame:
    plans = rules.plans.select(
        "plan_id",
        "effective_date",
        "end_date",
        pl.col("effective_date").alias("plan_version_effective_date"),
        pl.col("line_of_business").alias("plan_line_of_business"),
        pl.col("excludes_not_medically_necessary").alias("_plan_excludes_nmn"),
        pl.col("covers_work_hardening").alias("_plan_covers"),
    )
    payload = [c for c in plans.columns if c not in ("plan_id", "effective_date", "end_date")]
    return complete_versions(plans, ["plan_id"], payload)


def _place_classes(rules: RuleSet, policy_tiles: pl.DataFrame) -> tuple[list[str | None], list[str]]:
    """Places of service that can decide differently: every code a table names, then one class for all others.

    Returns (code of each class, with None for "any other or none"; setting of each class).
    """
    settings = dict(zip(rules.places["place_of_service"], rules.places["setting"], strict=True))
    default = settings.pop(ANY_PLACE)
    tokens = policy_tiles["_policy_places"].explode().drop_nulls().unique().sort().to_list()
    codes = sorted(set(settings) | {t for t in tokens if t.isdigit()})
    return [*codes, None], [str(settings.get(c, default)) for c in codes] + [str(default)]


def decision_table(rules: RuleSet) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, list[str | None]]:
    """Contract section 4 evaluated once for every combination that can occur; small.

    Grain: one row per (policy tile or none, plan tile or none, place class),
    plus a last row for lines no policy targets (NO_ACTION). A line's verdict is
    then a lookup into this table, so the per-line work is three binary
    searches and a gather, whatever the number of rules.
    Returns (table, policy tiles, plan tiles, place class codes).
    """
    policy_tiles = _policy_tiles(rules)
    plan_tiles = _plan_tiles(rules)
    place_codes, place_settings = _place_classes(rules, policy_tiles)
    n_plan, n_place = plan_tiles.height + 1, len(place_codes)
    policy_side = pl.concat(
        [policy_tiles.head(0).with_columns(pl.lit(None).alias(_FOUND)).clear(1), policy_tiles],
        how="vertical_relaxed",
    ).drop("payer_id", "procedure_code", _EFF, _END).rename({_FOUND: "_policy_found"})
    plan_side = pl.concat(
        [plan_tiles.clear(1), plan_tiles], how="vertical_relaxed"
    ).drop("plan_id", _EFF, _END).rename({_FOUND: "_plan_found"})
    places = pl.DataFrame({PLACE_OF_SERVICE: place_codes, "_setting": place_settings},
                          schema={PLACE_OF_SERVICE: pl.String, "_setting": pl.String})
    combos = (
        policy_side.with_row_index("_p")
        .join(plan_side.with_row_index("_q"), how="cross")
        .join(places.with_row_index("_c"), how="cross")
        .sort("_p", "_q", "_c")
    )
    if combos.height != policy_side.height * n_plan * n_place:
        raise AssertionError("decision table is not the full product")
    decided = _decide_frame(combos, rules).with_columns(pl.lit(True).alias("_targeted"))
    no_action = decided.clear(1).with_columns(
        pl.lit("NO_ACTION").alias(DETERMINATION), pl.lit(False).alias("_targeted")
    )
    return pl.concat([decided, no_action]), policy_tiles, plan_tiles, place_codes


def _decide_frame(combos: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """The decision table's rows, in the contract's order, over every combination (small frame)."""
    tokens = pl.col("_policy_places")
    policy_applies = (
        tokens.is_null()
        | tokens.list.contains(pl.col(PLACE_OF_SERVICE).fill_null(""))
        | tokens.list.contains(pl.col("_setting"))
    )
    policy_found = pl.col("_policy_found").fill_null(False)
    plan_found = pl.col("_plan_found").fill_null(False)
    conditions = {
        "MEDICARE_CARRIER_DISCRETION": (pl.col("plan_line_of_business") == "MEDICARE") | _stance("CARRIER_DISCRETION"),
        "NO_POLICY_IN_EFFECT": ~policy_found,
        "POLICY_SUPERSEDED": _stance("SUPERSEDED"),
        "POLICY_NOT_APPLICABLE": ~policy_applies,
        "PLAN_NOT_FOUND": ~plan_found,
        "PLAN_COVERS_SERVICE": pl.col("_plan_covers"),
        "BENEFIT_EXCLUSION": _stance("BENEFIT_EXCLUSION"),
        "NOT_MEDICALLY_NECESSARY": _stance("NOT_MEDICALLY_NECESSARY") & pl.col("_plan_excludes_nmn"),
        "NO_NMN_EXCLUSION_IN_PLAN": _stance("NOT_MEDICALLY_NECESSARY"),
    }
    if tuple(conditions) != REASONS:
        raise AssertionError("decision rows out of the contract's order")
    reason: pl.Expr = pl.lit(None, pl.String)
    for name in reversed(REASONS):
        reason = pl.when(conditions[name].fill_null(False)).then(pl.lit(name)).otherwise(reason)

    table = rules.reasons

    def lookup(column: str) -> pl.Expr:
        mapping = dict(zip(table["reason"], table[column], strict=True))
        return pl.col(REASON).replace_strict(mapping, default=None, return_dtype=pl.String)

    message: pl.Expr = pl.lit(None, pl.String)
    for row in table.iter_rows(named=True):
        message = pl.when(pl.col(REASON) == row["reason"]).then(_message(row["message"])).otherwise(message)
    policy_columns = [
        "policy_id", "policy_version", "policy_effective_date", "policy_end_date", "policy_stance", "policy_source",
    ]
    plan_columns = ["plan_version_effective_date", "plan_line_of_business"]
    return (
        combos.with_columns(reason.alias(REASON))
        .with_columns(
            lookup("determination").alias(DETERMINATION),
            lookup("group_code").alias("group_code"),
            lookup("carc").alias("carc"),
            lookup("rarc").alias("rarc"),
            message.alias("message"),
            # a gap tile carries no version: keep its columns null
            *(pl.when(policy_found).then(pl.col(c)).alias(c) for c in policy_columns),
            *(pl.when(plan_found).then(pl.col(c)).alias(c) for c in plan_columns),
        )
        .select(DETERMINATION, REASON, *policy_columns, *plan_columns, "group_code", "carc", "rarc", "message")
    )


def _decision_row(rules: RuleSet) -> tuple[pl.DataFrame, pl.Expr]:
    """The decision table and each line's row in it (Int64 expression; the last row is NO_ACTION)."""
    table, policy_tiles, plan_tiles, place_codes = decision_table(rules)
    targeted = _is_in(PROCEDURE_CODE, rules.targeted_codes)
    date = pl.col(SERVICE_DATE)
    policy = tile_position(
        policy_tiles, left_on=[pl.col(PAYER_ID), pl.col(PROCEDURE_CODE)],
        right_on=["payer_id", "procedure_code"], date=date,
    )
    plan = tile_position(plan_tiles, left_on=[pl.col(PLAN_ID)], right_on=["plan_id"], date=date)
    classes = {code: i for i, code in enumerate(place_codes) if code is not None}
    place = pl.col(PLACE_OF_SERVICE).replace_strict(
        classes, default=len(place_codes) - 1, return_dtype=pl.Int64
    ).fill_null(len(place_codes) - 1)
    n_plan, n_place = plan_tiles.height + 1, len(place_codes)
    row = ((policy.fill_null(-1) + 1) * n_plan + plan.fill_null(-1) + 1) * n_place + place
    return table, pl.when(targeted).then(row).otherwise(table.height - 1)


def decide(lines: pl.LazyFrame, rules: RuleSet) -> pl.LazyFrame:
    """Add the decision table's columns (contract section 4) to valid, typed lines.

    Grain unchanged, order kept. Lines whose code no policy targets get
    NO_ACTION and null policy columns; the others take the first matching row
    of the table, read from ``decision_table`` by the line's policy tile, plan
    tile and place-of-service class.
    """
    table, row = _decision_row(rules)
    return lines.with_columns(row.alias("_decision_row")).with_columns(
        pl.lit(table[c]).gather(pl.col("_decision_row")).alias(c) for c in table.columns
    ).drop("_decision_row")


VERDICT = "_verdict"
_Frame = TypeVar("_Frame", pl.DataFrame, pl.LazyFrame)
_VERDICT_KEY = "_verdict_key"
#: far past the end of any decision table
_MISSING_VERDICT = 1 << 62


def verdict_of_lines(lines: _Frame, rules: RuleSet, facts: BatchFacts) -> _Frame:
    """The decision-table row and edit row of each of a few valid lines (a frame, or a lazy one; pure).

    Grain: one row per line of ``lines`` (the prepass's valid concerned lines,
    keys unique). Columns: ``_key_hash`` and ``_verdict`` = decision row x
    (number of edit rows) + edit row, so the main pass needs one lookup.
    """
    _, decision_row = _decision_row(rules)
    names, _, edit_row = _edit_rows(rules, facts)
    return lines.select(
        KEY_HASH, (decision_row * names.len() + edit_row).alias(VERDICT)
    )


def _with_verdicts(valid: pl.LazyFrame, rules: RuleSet, facts: BatchFacts) -> pl.LazyFrame:
    """``decide`` then ``with_edits``, reading each line's verdict from the prepass by key hash.

    Grain unchanged, order kept. Only lines whose code a policy, pair or limit
    names are looked up (a streaming left join on the key hash with ``facts.verdicts``); every other
    line is NO_ACTION with no edits without any per-line decision work. A line
    looked up and not found fails the run: the prepass and this pass disagree.
    """
    assert facts.verdicts is not None
    table, _ = _decision_row(rules)
    names, carcs, _ = _edit_rows(rules, facts)
    looked_up = _is_in(PROCEDURE_CODE, _verdict_codes(rules))
    # a streaming hash join against the prepass's verdicts: the table is built once per run (a
    # replace_strict mapping of the same size grew the main pass's memory with the input)
    verdicts = facts.verdicts.lazy().select(pl.col(KEY_HASH).alias(_VERDICT_KEY), pl.col(VERDICT).cast(pl.Int64))
    # a looked-up line the prepass did not decide would be a bug: its verdict becomes an index past the
    # end of the table, so the gather fails the run instead of writing NO_ACTION
    missing = pl.lit(_MISSING_VERDICT, pl.Int64)
    verdict = pl.when(looked_up).then(pl.col(VERDICT).fill_null(missing))
    if table.tail(1).drop(DETERMINATION, "_targeted").null_count().sum_horizontal().item() != table.width - 2:
        raise AssertionError("the NO_ACTION row of the decision table must be null but for its determination")
    n_edit = names.len()
    no_edits = (names.list.len() + carcs.list.len()).arg_min()
    # the NO_ACTION row (the table's last) is null but for its determination, and
    # gathering at a null index is about twice as cheap as gathering that row
    decision_row = pl.col(VERDICT) // n_edit
    no_action = table.height - 1
    edit_row = (pl.col(VERDICT) % n_edit).fill_null(no_edits)
    keyed = valid.with_columns(pl.when(looked_up).then(pl.col(KEY_HASH)).alias(_VERDICT_KEY))
    joined = keyed.join(verdicts, on=_VERDICT_KEY, how="left", maintain_order="left").drop(_VERDICT_KEY)
    return joined.with_columns(verdict.alias(VERDICT)).with_columns(
        *(
            pl.lit(table[c]).gather(decision_row.fill_null(no_action) if c == DETERMINATION else decision_row).alias(c)
            for c in table.columns if c in DECISION_COLUMNS
        ),
        pl.lit(names).gather(edit_row).alias(EDITS),
        pl.lit(carcs).gather(edit_row).alias(EDIT_CARCS),
    ).drop(VERDICT)


def _compact(text: pl.Expr) -> pl.Expr:
    """The same text in buffers of its own.

    A filtered string column still points into the buffers of every morsel it
    came from. The rejects are ~0.1% of the lines, so the sink waits for many
    morsels before writing a row group, and those few rows held the text of
    all of them: the rejects pass grew to 3.1 GB at 100M lines. Concatenating
    with "" copies the kept values (20M lines: 667 MB instead of 1,187 MB).
    """
    return pl.concat_str([text, pl.lit("")])


def build(typed: pl.LazyFrame, rules: RuleSet, facts: BatchFacts, *, run_id: str) -> Plan:
    """The whole run as two lazy outputs over the typed lines (``typed_lines``) and the batch facts.

    results: one row per valid line, every input column (typed canonical
    columns, extras untouched) plus ``DECISION_COLUMNS`` and ``run_id``.
    rejects: one row per invalid line, the original values as text, the
    ``failed_checks`` list and ``run_id``.
    """
    schema = typed.collect_schema()
    extras = [
        c for c in schema.names()
        if c not in CANONICAL and not c.startswith((REJECT_PREFIX, RAW_PREFIX, FLAG_PREFIX)) and c != KEY_HASH
    ]
    has_key = pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null()
    checked = typed.with_columns(
        (has_key & _marks(facts, DUPLICATE_KEY, facts.duplicate)).alias(FLAG_PREFIX + DUPLICATE_KEY)
    )
    flags = flag_columns(checked.collect_schema())
    checked = checked.with_columns((~any_failed(flags)).alias(VALID))

    valid = checked.filter(pl.col(VALID))
    decided = (
        _with_verdicts(valid, rules, facts) if facts.verdicts is not None
        else with_edits(decide(valid, rules), rules, facts)
    )
    results = (
        decided
        .with_columns(pl.lit(run_id).alias(RUN_ID))
        .select(*CANONICAL, *extras, *DECISION_COLUMNS, RUN_ID)
    )
    rejects = checked.filter(~pl.col(VALID)).select(
        *(_compact(pl.col(RAW_PREFIX + c).cast(pl.String)).alias(c) for c in CANONICAL),
        *(_compact(pl.col(c).cast(pl.String)) if c != SOURCE_FILE else pl.col(c) for c in extras),
        failed_check_names(flags).alias(FAILED_CHECKS),
        pl.lit(run_id).alias(RUN_ID),
    )
    return Plan(results=results, rejects=rejects)


def plan_in_memory(
    raw: pl.LazyFrame,
    rules: RuleSet,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    spill_dir: Path | None = None,
    expected_rows: int = 0,
) -> tuple[Plan, pl.LazyFrame | None]:
    """Typed lines, prepass and plan in one call (collects only the prepass's small frames).

    The prepass spills the key hashes to a temporary folder inside
    ``spill_dir`` (the system's temporary folder when None), removed before
    returning; ``expected_rows`` sizes its partitions (``partitions_for``).
    Returns the plan and the lazy per-file count of skipped lines.
    """
    typed = typed_lines(raw)
    skipped = None
    if keep is not None:
        skipped = typed.filter(~in_slice(keep)).group_by(SOURCE_FILE).agg(pl.len().alias("skipped"))
    # Each prepass query runs on its own, not in one collect_all: sharing the scan caches the whole checked
    # frame for both and they lose their own projection and filter pushdown (docs/benchmarks.md).
    spill = Path(tempfile.mkdtemp(prefix="adjudicator-prepass-", dir=spill_dir))
    partitions = partitions_for(expected_rows)
    try:
        keys = repeated_keys(typed, spill / "keys", partitions)
        if collisions(keys).len():
            # a 64-bit key hash shared by two keys (about 1 in 3,000 batches of 100M lines): exact keys, in memory
            exact = exact_duplicates_query(typed, keys[KEY_HASH]).collect(engine="streaming")
            concerned = concerned_query(raw, rules).collect(engine="streaming")
            facts = batch_facts(keys, concerned, rules, exact_duplicates=exact)
        else:
            facts = batch_facts_spilled(keys, concerned_query(raw, rules), rules, spill / "concerned")
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    # the batch-wide facts (duplicates, both edits) come from the whole batch, as in a full run; the slice
    # only decides which lines are written
    lines = typed if keep is None else typed.filter(in_slice(keep))
    return build(lines, rules, facts, run_id=run_id), skipped


__all__ = [
    "BatchFacts", "Plan", "batch_facts", "batch_facts_spilled", "build", "complete_versions", "concerned_query",
    "decide", "in_slice", "partitions_for", "plan_in_memory", "repeated_keys", "typed_lines", "verdict_of_lines",
    "with_edits",
]
