"""The manifest's ``summary`` (what the report draws), added up batch by batch as sums and counts by key.

Every piece is a decomposable aggregate: ``summary_parts`` computes the
partial tables over any slice of the outputs (one batch, or a whole run),
``merge_summary_parts`` combines the partials of several slices (sums of
sums; the reject examples and the claims' flagged sums are kept per key and
cut only when finished), and ``finish_summary`` turns the merged partials
into the manifest's JSON. The driver calls the first per batch, the second as
it goes and the third once; ``extended_summary`` is the three over whole
outputs (tests, and a run folder written before the summary existed).

The monthly, payer and policy pieces come from one partial, the "cube": one
group_by per batch over (month, payer, policy version, determination),
instead of three.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Final

import polars as pl

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL_COLUMNS,
    CLAIM_ID,
    DETERMINATION,
    EDITS,
    FAILED_CHECKS,
    MEMBER_ID,
    NO_ACTION,
    PAYER_ID,
    REASON,
    SERVICE_DATE,
    SOURCE_FILE,
)

#: key columns of each summed piece; every one adds ``lines`` and ``billed_amount``
SUMMED_PIECES: Final[dict[str, tuple[str, ...]]] = {
    "by_month": ("month", DETERMINATION),
    "by_payer": (PAYER_ID, DETERMINATION),
    "by_policy": ("policy_id", "policy_version", DETERMINATION),
    "edits": ("edit",),
}
#: the pieces derived from the cube, and the cube's keys
_CUBE_PIECES: Final = ("by_month", "by_payer", "by_policy")
_CUBE_KEYS: Final = ("month", PAYER_ID, "policy_id", "policy_version", DETERMINATION)
#: reject rows kept per failed check, and claims listed by flagged dollars
REJECT_EXAMPLES: Final = 3
TOP_CLAIMS: Final = 10
#: the partial of the reject examples: the row's position in its file order, and the check it failed
ROW: Final = "_row"
CHECK: Final = "check"
FLAGGED_LINES: Final = "flagged_lines"
#: the first day of the month of service, the cube's time key
MONTH: Final = "month"
#: the decision columns a batch's tallies are decoded to (``adjudicator.engine.batch``): the cube's and by_reason's
TALLY_COLUMNS: Final = (DETERMINATION, REASON, "policy_id", "policy_version")
FLAGGED_BILLED: Final = "flagged_billed_amount"
#: a top claim's context over its flagged lines: first and last date of service, distinct determinations and reasons
FIRST_SERVICE_DATE: Final = "first_service_date"
LAST_SERVICE_DATE: Final = "last_service_date"
CLAIM_DETERMINATIONS: Final = "determinations"
CLAIM_REASONS: Final = "reasons"
#: the columns of a flagged line that its claim's partial reads
CLAIM_INPUTS: Final = (CLAIM_ID, BILLED_AMOUNT, PAYER_ID, MEMBER_ID, SERVICE_DATE, DETERMINATION, REASON)


def month_of_service() -> pl.Expr:
    """The cube's time key: the first day of the month of service (``MONTH``)."""
    return pl.col(SERVICE_DATE).dt.truncate("1mo").alias(MONTH)


def lines_and_billed() -> list[pl.Expr]:
    """A group's ``lines`` and ``billed_amount``: what every summed piece adds."""
    return [pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias(BILLED_AMOUNT)]


def claim_partials() -> list[pl.Expr]:
    """A claim's partial over its flagged lines (``CLAIM_INPUTS``), grouped by claim_id: their count and billed
    sum, the least payer_id and member_id, the first and last date of service, the distinct determinations and
    reasons (lists, in no order until merged). Partials of any split merge with ``merged_claim_partials``."""

    def distinct(column: str) -> pl.Expr:
        # not sorted here: every partial is merged (``merged_claim_partials``) before it is shown, and sorting a
        # list per claim in every batch cost the run more than the rest of the claims' context (docs/benchmarks.md)
        return pl.col(column).cast(pl.String).drop_nulls().unique()

    return [
        pl.len().alias(FLAGGED_LINES),
        pl.col(BILLED_AMOUNT).sum().alias(FLAGGED_BILLED),
        pl.col(PAYER_ID).min(),
        pl.col(MEMBER_ID).min(),
        pl.col(SERVICE_DATE).min().alias(FIRST_SERVICE_DATE),
        pl.col(SERVICE_DATE).max().alias(LAST_SERVICE_DATE),
        distinct(DETERMINATION).alias(CLAIM_DETERMINATIONS),
        distinct(REASON).alias(CLAIM_REASONS),
    ]


def merged_claim_partials() -> list[pl.Expr]:
    """Per-claim partials (``claim_partials``) grouped by claim_id, combined: sums, least, greatest, and the
    union of the lists (sorted, distinct): the partial of the claim's flagged lines together."""

    def union(column: str) -> pl.Expr:
        return pl.col(column).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()

    return [
        pl.col(FLAGGED_LINES).sum(),
        pl.col(FLAGGED_BILLED).sum(),
        pl.col(PAYER_ID).min(),
        pl.col(MEMBER_ID).min(),
        pl.col(FIRST_SERVICE_DATE).min(),
        pl.col(LAST_SERVICE_DATE).max(),
        union(CLAIM_DETERMINATIONS),
        union(CLAIM_REASONS),
    ]


def summary_parts(results: pl.LazyFrame, rejects: pl.LazyFrame, *, row_offset: int = 0) -> dict[str, pl.LazyFrame]:
    """The partial tables over one slice of the outputs (pure; nothing is read here).

    ``cube``: one row per (first day of the month of service, payer, policy
    version, determination) with ``lines`` and ``billed_amount``; ``edits``:
    one row per edit; ``top_claims``: one row per claim with a flagged line
    (``claim_partials``); ``reject_examples``: up to
    ``REJECT_EXAMPLES`` rows per failed check, the earliest by ``_row`` (the
    reject's position in file order, counted from ``row_offset``), with the
    canonical columns (as text) and source_file.
    """
    month = month_of_service()
    out = {
        "cube": results.group_by(month, PAYER_ID, "policy_id", "policy_version", DETERMINATION).agg(lines_and_billed()),
        "edits": results.filter(pl.col(EDITS).list.len() > 0)
        .select(pl.col(EDITS).alias("edit"), BILLED_AMOUNT)
        .explode("edit")
        .group_by("edit")
        .agg(lines_and_billed()),
        "top_claims": results.filter(pl.col(DETERMINATION) != NO_ACTION).group_by(CLAIM_ID).agg(claim_partials()),
    }
    out["reject_examples"] = _reject_examples(rejects, row_offset)
    return out


def _reject_examples(rejects: pl.LazyFrame, row_offset: int) -> pl.LazyFrame:
    """Up to ``REJECT_EXAMPLES`` rejects per failed check, the earliest by ``_row`` (counted from ``row_offset``)."""
    present = rejects.collect_schema().names()
    text = [
        (pl.col(c).cast(pl.String) if c in present else pl.lit(None, pl.String)).alias(c)
        for c in (*CANONICAL_COLUMNS, SOURCE_FILE)
    ]
    numbered = rejects.with_row_index(ROW, offset=row_offset)
    first_rows = (
        numbered.select(ROW, pl.col(FAILED_CHECKS).alias(CHECK))
        .explode(CHECK, empty_as_null=False)
        .drop_nulls(CHECK)
        .group_by(CHECK)
        .agg(pl.col(ROW).bottom_k(REJECT_EXAMPLES))
        .explode(ROW)
    )
    return first_rows.join(numbered.select(ROW, *text), on=ROW, how="left")


def tally_parts(
    tallies: pl.DataFrame,
    edits: pl.DataFrame,
    flagged_claims: pl.DataFrame,
    rejects: pl.DataFrame,
    *,
    row_offset: int = 0,
) -> dict[str, pl.DataFrame]:
    """The partial tables of one batch from its tallies (``adjudicator.engine.batch.BatchOutput``), equal to
    ``collect_parts`` of its results and rejects without a pass over the results.

    ``tallies``: lines and billed_amount by month, payer and decision row,
    with the decision's ``TALLY_COLUMNS``; ``edits``: by edit row, with its
    ``edits`` list; ``flagged_claims``: the ``top_claims`` partial itself.
    """
    return {
        **summed_parts(tallies, edits),
        "top_claims": flagged_claims,
        "reject_examples": reject_examples_part(rejects, row_offset=row_offset),
    }


def summed_parts(tallies: pl.DataFrame, edits: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The ``cube`` and ``edits`` partials from decoded tallies (``tally_parts``)."""
    cube = tallies.group_by(_CUBE_KEYS).agg(pl.col("lines").sum(), pl.col(BILLED_AMOUNT).sum())
    edit_part = (
        edits.select(pl.col(EDITS).alias("edit"), "lines", BILLED_AMOUNT)
        .explode("edit", empty_as_null=False)
        .group_by("edit")
        .agg(pl.col("lines").sum(), pl.col(BILLED_AMOUNT).sum())
    )
    return {"cube": cube, "edits": edit_part}


def reject_examples_part(rejects: pl.DataFrame, *, row_offset: int = 0) -> pl.DataFrame:
    """The ``reject_examples`` partial of one batch's rejects, numbered from ``row_offset``."""
    return detached(_reject_examples(rejects.lazy(), row_offset).collect())


def merged_reject_examples(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """``reject_examples`` partials combined: the first ``REJECT_EXAMPLES`` rows per check of them all."""
    return (
        pl.concat(parts, how="vertical_relaxed")
        .sort(CHECK, ROW)
        .group_by(CHECK, maintain_order=True)
        .head(REJECT_EXAMPLES)
    )


def merged_top_claims(parts: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """``top_claims`` partials combined into one row per claim (``merged_claim_partials``)."""
    return pl.concat(parts, how="vertical_relaxed").group_by(CLAIM_ID).agg(merged_claim_partials())


def detached(frame: pl.DataFrame) -> pl.DataFrame:
    """The same small frame with its text in buffers of its own.

    A string column taken from a batch (a group_by key, a filter) still points
    into the buffers of the whole batch, so a few partial rows kept for the
    summary held every batch they came from (docs/benchmarks.md).
    Concatenating with "" copies the kept values.
    """
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(pl.concat_str([pl.col(name), pl.lit("")]).alias(name) for name in text)


def collect_parts(results: pl.DataFrame, rejects: pl.DataFrame, *, row_offset: int = 0) -> dict[str, pl.DataFrame]:
    """``summary_parts`` of one batch's frames, collected, with their text detached from the batch."""
    queries = summary_parts(results.lazy(), rejects.lazy(), row_offset=row_offset)
    return {name: detached(frame) for name, frame in zip(queries, pl.collect_all(list(queries.values())), strict=True)}


def merge_summary_parts(parts: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """The partials of several slices combined into the partials of their union (sums by key; first rows)."""

    def summed(name: str, keys: Sequence[str]) -> pl.DataFrame:
        return (
            pl.concat([p[name] for p in parts], how="vertical_relaxed")
            .group_by(keys)
            .agg(pl.col("lines").sum(), pl.col(BILLED_AMOUNT).sum())
        )

    return {
        "cube": summed("cube", _CUBE_KEYS),
        "edits": summed("edits", SUMMED_PIECES["edits"]),
        "top_claims": merged_top_claims([p["top_claims"] for p in parts]),
        "reject_examples": merged_reject_examples([p["reject_examples"] for p in parts]),
    }


def top_claims(partials: pl.DataFrame, n: int) -> pl.DataFrame:
    """The ``n`` claims with the most flagged dollars among per-claim partials (merged first; ties by claim_id)."""
    return (
        partials.group_by(CLAIM_ID)
        .agg(merged_claim_partials())
        .sort([FLAGGED_BILLED, CLAIM_ID], descending=[True, False])
        .head(n)
    )


def _amount(value: Decimal | int | None) -> str:
    """A dollar amount as the manifest writes it: a decimal string with two places."""
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def _top_claim(row: dict[str, Any]) -> dict[str, Any]:
    """A top claim as the manifest writes it: its flagged sums, then its context (dates as ISO text)."""

    def iso(day: Any) -> str | None:
        return day.isoformat() if day is not None else None

    return {
        CLAIM_ID: row[CLAIM_ID],
        FLAGGED_LINES: int(row[FLAGGED_LINES]),
        FLAGGED_BILLED: _amount(row[FLAGGED_BILLED]),
        PAYER_ID: row[PAYER_ID],
        MEMBER_ID: row[MEMBER_ID],
        FIRST_SERVICE_DATE: iso(row[FIRST_SERVICE_DATE]),
        LAST_SERVICE_DATE: iso(row[LAST_SERVICE_DATE]),
        CLAIM_DETERMINATIONS: list(row[CLAIM_DETERMINATIONS]),
        CLAIM_REASONS: list(row[CLAIM_REASONS]),
    }


def finish_summary(parts: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """The manifest's ``summary`` from the (merged) partials: sorted lists, amounts as decimal strings."""
    cube = parts["cube"].with_columns(pl.col("month").dt.strftime("%Y-%m"))
    pieces = {
        name: cube.group_by(SUMMED_PIECES[name]).agg(pl.col("lines").sum(), pl.col(BILLED_AMOUNT).sum())
        for name in _CUBE_PIECES
    }
    pieces["edits"] = parts["edits"]
    summary: dict[str, Any] = {}
    for name, keys in SUMMED_PIECES.items():
        frame = pieces[name].sort(keys, nulls_last=True)
        summary[name] = [
            {**{k: row[k] for k in keys}, "lines": int(row["lines"]), "billed_amount": _amount(row[BILLED_AMOUNT])}
            for row in frame.iter_rows(named=True)
        ]
    examples = parts["reject_examples"].sort(CHECK, ROW)
    summary["reject_examples"] = {
        check: [{c: row[c] for c in (*CANONICAL_COLUMNS, SOURCE_FILE)} for row in rows.iter_rows(named=True)]
        for (check,), rows in examples.group_by(CHECK, maintain_order=True)
    }
    top = top_claims(parts["top_claims"], TOP_CLAIMS)
    summary["top_claims"] = [_top_claim(row) for row in top.iter_rows(named=True)]
    return summary


def extended_summary(results: pl.LazyFrame, rejects: pl.LazyFrame) -> dict[str, Any]:
    """The manifest's ``summary`` over whole outputs: ``summary_parts`` once, merged and finished.

    Keys: ``by_month`` (month of service_date), ``by_payer``, ``by_policy``
    (version in effect), each by determination with lines and billed_amount;
    ``edits`` (results lines carrying each edit); ``reject_examples`` (the first
    ``REJECT_EXAMPLES`` rejects per failed check, in file order, canonical
    columns as their original text and source_file); ``top_claims`` (the
    ``TOP_CLAIMS`` claims with the most billed on lines that are not NO_ACTION,
    ties by claim_id, with flagged_lines and flagged_billed_amount and, over
    those lines, the least payer_id and member_id, first_service_date and
    last_service_date, and the sorted distinct determinations and reasons).
    Amounts are decimal strings, like ``counts.by_reason``.
    """
    queries = summary_parts(results, rejects)
    collected = dict(zip(queries, pl.collect_all(list(queries.values()), engine="streaming"), strict=True))
    return finish_summary(merge_summary_parts([collected]))


__all__ = [
    "CHECK",
    "CLAIM_DETERMINATIONS",
    "CLAIM_INPUTS",
    "CLAIM_REASONS",
    "FIRST_SERVICE_DATE",
    "MONTH",
    "LAST_SERVICE_DATE",
    "REJECT_EXAMPLES",
    "SUMMED_PIECES",
    "TOP_CLAIMS",
    "claim_partials",
    "collect_parts",
    "extended_summary",
    "finish_summary",
    "lines_and_billed",
    "merge_summary_parts",
    "merged_claim_partials",
    "merged_reject_examples",
    "merged_top_claims",
    "month_of_service",
    "reject_examples_part",
    "summary_parts",
    "summed_parts",
    "tally_parts",
    "top_claims",
]
