"""The policy and plan tiles: each key's date line cut into rows so every date falls in exactly one, and searched.

``complete_versions`` tiles a versioned table (its versions plus gap rows);
``TileIndex`` makes the tiles searchable and finds each line's tile with one
vectorized binary search (``TileIndex.position``, the project's one
date-ranged lookup). ``policy_tiles`` and ``plan_tiles`` tile the two rule
tables ``compile_rules`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from adjudicator.errors import InternalError
from adjudicator.rules.tables import RuleSet

#: helper columns of the tiles (``complete_versions``)
_FOUND = "_version_found"
_EFF = "_effective_date"
_END = "_end_date"

_DAY_OFFSET = 1 << 31
_KEY_SPAN = 1 << 32

POLICY_KEYS = ("payer_id", "procedure_code")
PLAN_KEYS = ("plan_id",)


def complete_versions(versions: pl.DataFrame, keys: Sequence[str], payload: Sequence[str]) -> pl.DataFrame:
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
        (is_first & pl.col(_EFF).is_not_null()) | (~is_first & (pl.col(_EFF) > prev_end + one_day))
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
    return pl.concat([ordered, gaps], how="diagonal_relaxed").sort([*keys, _EFF], nulls_last=False)


@dataclass(frozen=True)
class TileIndex:
    """A tiled rule table made searchable: each key numbered, each tile start one sortable integer.

    ``codes`` maps each key column's values to small integers; ``combined``
    maps the combination of those integers to the key's number; ``starts`` is
    (key number, first day) of every tile as one sorted Int64.
    """

    key_columns: tuple[str, ...]
    codes: tuple[dict[str, int], ...]
    combined: dict[int, int]
    starts: pl.Series

    @classmethod
    def of(cls, tiles: pl.DataFrame, keys: Sequence[str]) -> TileIndex:
        distinct = tiles.select(keys).unique(maintain_order=True).with_row_index("_key")
        codes: list[dict[str, int]] = []
        table_combined: pl.Expr | None = None
        for key in keys:
            values = distinct[key].unique(maintain_order=True).to_list()
            mapping = {v: i for i, v in enumerate(values)}
            codes.append(mapping)
            code = pl.col(key).replace_strict(mapping, return_dtype=pl.Int64)
            table_combined = code if table_combined is None else table_combined * len(values) + code
        if table_combined is None:
            raise InternalError("a tile index needs at least one key column")
        lookup = distinct.select(table_combined.alias("_combined"), pl.col("_key").cast(pl.Int64))
        keyed = tiles.join(distinct, on=list(keys), how="left", maintain_order="left")
        days = pl.col(_EFF).cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
        starts = keyed.select(pl.col("_key").cast(pl.Int64) * _KEY_SPAN + days.fill_null(0)).to_series()
        if not starts.is_sorted():
            raise ValueError("tiles must be sorted by key, then by start")
        return cls(
            key_columns=tuple(keys),
            codes=tuple(codes),
            combined=dict(zip(lookup["_combined"], lookup["_key"], strict=True)),
            starts=starts.alias("_starts"),
        )

    def position(self, lines: Sequence[pl.Expr], date: pl.Expr) -> pl.Expr:
        """The tile (row of the tiles) holding each line's date; null when its key has none.

        This is the project's one date-ranged lookup. The rule table is tiny, so
        it is not joined: each line finds its tile with one vectorized binary
        search over ``starts``. No row is multiplied, re-joined or sorted.
        """
        key: pl.Expr | None = None
        for expr, mapping in zip(lines, self.codes, strict=True):
            code = expr.replace_strict(mapping, default=None, return_dtype=pl.Int64)
            key = code if key is None else key * len(mapping) + code
        if key is None:
            raise InternalError("a tile lookup needs at least one key column")
        number = key.replace_strict(self.combined, default=None, return_dtype=pl.Int64)
        line_day = date.cast(pl.Int32).cast(pl.Int64) + _DAY_OFFSET
        position = pl.lit(self.starts).search_sorted(number * _KEY_SPAN + line_day, side="right").cast(pl.Int64) - 1
        return pl.when(number.is_not_null() & date.is_not_null()).then(position)


def tile_position(
    tiles: pl.DataFrame, *, left_on: Sequence[pl.Expr], right_on: Sequence[str], date: pl.Expr
) -> pl.Expr:
    """``TileIndex.of(tiles, right_on).position(left_on, date)``: the row of ``tiles`` holding each line's date."""
    return TileIndex.of(tiles, right_on).position(left_on, date)


def policy_tiles(rules: RuleSet) -> pl.DataFrame:
    """The medical policies tiled by (payer_id, procedure_code), with the columns the decision table reads."""
    policies = rules.policies.select(
        *POLICY_KEYS,
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
    payload = [c for c in policies.columns if c not in (*POLICY_KEYS, "effective_date", "end_date")]
    return complete_versions(policies, POLICY_KEYS, payload)


def plan_tiles(rules: RuleSet) -> pl.DataFrame:
    """The benefit plans tiled by plan_id, with the columns the decision table reads."""
    plans = rules.plans.select(
        *PLAN_KEYS,
        "effective_date",
        "end_date",
        pl.col("effective_date").alias("plan_version_effective_date"),
        pl.col("line_of_business").alias("plan_line_of_business"),
        pl.col("excludes_not_medically_necessary").alias("_plan_excludes_nmn"),
        pl.col("covers_work_hardening").alias("_plan_covers"),
    )
    payload = [c for c in plans.columns if c not in (*PLAN_KEYS, "effective_date", "end_date")]
    return complete_versions(plans, PLAN_KEYS, payload)


__all__ = [
    "PLAN_KEYS",
    "POLICY_KEYS",
    "TileIndex",
    "complete_versions",
    "plan_tiles",
    "policy_tiles",
    "tile_position",
]
