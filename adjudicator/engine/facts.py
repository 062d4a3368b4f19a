"""The batch-wide facts a line's verdict needs (contract sections 2 and 5), as the batch function reads them.

A line's verdict depends on other lines in four ways: a superseded delivery (a
later copy of the line in a CCLF feed), a duplicated key, an add-on without its
primary on the claim and day, and a member's units over the daily limit.
``BatchFacts`` holds the exact keys each fact names (typed ``(claim_id,
line_number)``, for deliveries too), never hashes, so nothing
downstream has a second mode. The prepass (``adjudicator.embedded.prepass``, or
the Spark engine's) finds them; this module only declares and reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import polars as pl

from adjudicator.contract import CLAIM_ID, LINE_NUMBER, REJECT_PREFIX
from adjudicator.engine.checks import FLAG_PREFIX, any_failed, layout_checks, parsed
from adjudicator.errors import InternalError
from adjudicator.rules.compiled import ADDON_EDIT, UNITS_EDIT

#: helper columns of the facts (internal; never written)
DUPLICATE = "_fact_duplicate"
FIRED = {ADDON_EDIT: "_fact_addon_without_primary", UNITS_EDIT: "_fact_units_exceed_limit"}
LATEST_DELIVERY = "_fact_latest_delivery"
ROW_OK = "_row_ok"
_HASH = "_key_hash"


@dataclass(frozen=True)
class Supersede:
    """A layout's re-delivery rule: per key, copies whose ``delivered`` date is older than the latest lose.

    Copies are matched on the key typed and trimmed as the duplicate check types it (``matched``): a
    fixed-width padded claim id, or a line number written ``1.0``, is the same line as its plain copy. A copy
    whose key does not parse supersedes nothing, and is not superseded.
    """

    check: str
    #: the raw frame's columns of the key
    key: tuple[str, ...]
    delivered: pl.Expr

    @property
    def matched_on(self) -> tuple[str, ...]:
        """The typed key's column names (internal; never written)."""
        return tuple(f"_delivery_{k}" for k in self.key)

    def matched(self) -> list[pl.Expr]:
        """The typed key, one expression per ``matched_on`` column, over the raw frame."""
        return [parsed(k).alias(name) for k, name in zip(self.key, self.matched_on, strict=True)]


@dataclass(frozen=True)
class BatchFacts:
    """What a line's verdict needs from the rest of the batch; small (a few rows per thousand lines).

    ``keys``: one row per exact typed key (claim_id, line_number) that a fact
    names, with Boolean ``DUPLICATE`` and one ``FIRED[edit]`` column per edit.
    ``deliveries``: for a layout with a supersede rule, one row per typed key
    (``Supersede.matched_on``) delivered with different dates, and its latest delivery.
    ``edit_lines``: how many keys an edit fired on; the driver checks that the
    batches met every one of them (the prepass and the batches agree).
    """

    keys: pl.DataFrame
    supersede: Supersede | None = None
    deliveries: pl.DataFrame | None = None
    edit_lines: int = 0
    #: with a history (contract section 7): what it changed on the batch's lines (``engine.history.effects``)
    history_effects: pl.DataFrame | None = None

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
        key for each batch: docs/benchmarks.md.)
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
            raw.with_columns(rule.matched())
            .join(latest, on=list(rule.matched_on), how="left", maintain_order="left")
            .with_columns((rule.delivered < pl.col(LATEST_DELIVERY)).fill_null(False).alias(REJECT_PREFIX + rule.check))
            .drop(LATEST_DELIVERY, *rule.matched_on)
        )


def empty_keys() -> pl.DataFrame:
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


def key_hash() -> pl.Expr:
    """The 64-bit hash of a line's typed key that finds the candidates for duplicates (exact keys decide)."""
    return pl.struct(CLAIM_ID, LINE_NUMBER).hash(seed=0)


def facts_from(duplicates: pl.DataFrame, edits: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """One row per key any fact names, with one Boolean column per fact (False where it does not)."""
    frames = [duplicates.select(CLAIM_ID, LINE_NUMBER, pl.lit(True).alias(DUPLICATE))]
    frames += [e.select(CLAIM_ID, LINE_NUMBER, pl.lit(True).alias(FIRED[kind])) for kind, e in edits.items()]
    stacked = pl.concat([empty_keys().head(0), *frames], how="diagonal_relaxed")
    flags = [DUPLICATE, *FIRED.values()]
    return stacked.group_by(CLAIM_ID, LINE_NUMBER).agg(pl.col(flags).fill_null(False).any())


__all__ = [
    "DUPLICATE",
    "FIRED",
    "LATEST_DELIVERY",
    "ROW_OK",
    "BatchFacts",
    "Supersede",
    "empty_keys",
    "facts_from",
    "key_hash",
    "keyed",
]
