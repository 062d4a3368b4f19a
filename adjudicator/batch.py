"""The pure batch function: any slice of raw lines in, that slice's results and rejects out; no I/O.

``adjudicate_batch`` validates each line (contract section 2), marks the
batch-wide facts the prepass found (``BatchFacts``: duplicates, superseded
deliveries, both edits), decides the few lines whose code a policy, an add-on
pair or a unit limit names with the compiled decision table, and gives every
other valid line NO_ACTION without per-line decision work. What it returns
depends only on the lines it is given and the facts, never on where the slice
starts: the driver may cut the input anywhere (tests run batches of 1 line).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from adjudicator.compiled import CompiledRules, VerdictRows
from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL,
    CLAIM_ID,
    DETERMINATION,
    FAILED_CHECKS,
    LINE_NUMBER,
    PROCEDURE_CODE,
    REASON,
    REJECT_PREFIX,
    RUN_ID,
    SOURCE_FILE,
)
from adjudicator.errors import InternalError
from adjudicator.prepass import DUPLICATE, FIRED, BatchFacts
from adjudicator.validate import (
    DUPLICATE_KEY,
    FLAG_PREFIX,
    RAW_PREFIX,
    VALID,
    any_failed,
    failed_check_names,
    flag_columns,
    with_checks,
)

#: internal helper columns of a batch (never written)
INSIDE = "_in_slice"
CONCERNED = "_concerned"
FIRED_ANY = "_fired"
DECISION_ROW = "_decision_row"
EDIT_ROW = "_edit_row"


@dataclass(frozen=True)
class BatchOutput:
    """One batch's share of a run: its output rows and the counts the run's summary adds up.

    ``counts``: per ``source_file``, lines ``read``, ``skipped`` (outside the
    slice), ``results`` and ``rejects``. ``by_reason``: results by
    (determination, reason) with ``lines`` and ``billed``. ``by_check``:
    rejects per failed check. ``fired_lines``: lines an edit fact named.
    """

    results: pl.DataFrame
    rejects: pl.DataFrame
    counts: pl.DataFrame
    by_reason: pl.DataFrame
    by_check: pl.DataFrame
    fired_lines: int


def in_slice(keep: pl.Expr) -> pl.Expr:
    """A slice over the typed canonical columns; a row where it is null (a value it needs did not parse)
    stays in, so a bad row is never hidden as skipped."""
    return keep.fill_null(True)


def extra_columns(raw: pl.Schema) -> list[str]:
    """The raw frame's columns beyond the contract (carried through untouched), ``source_file`` included."""
    return [c for c in raw.names() if c not in CANONICAL and not c.startswith(REJECT_PREFIX)]


def check_lines(lines: pl.LazyFrame, facts: BatchFacts, *, keep: pl.Expr | None = None) -> pl.LazyFrame:
    """Typed, checked lines with the batch facts marked. Grain: one row per input line, order kept.

    Adds the typed canonical columns, ``_raw_<column>`` originals, one
    ``_failed_<check>`` flag per check (the duplicate key from the facts
    included), ``_valid``, ``_in_slice`` and the facts' edit flags.
    """
    typed = with_checks(facts.with_deliveries(lines)).join(
        facts.keys.lazy(), on=[CLAIM_ID, LINE_NUMBER], how="left", maintain_order="left"
    )
    has_key = pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null()
    typed = typed.with_columns(
        (has_key & pl.col(DUPLICATE).fill_null(False)).alias(FLAG_PREFIX + DUPLICATE_KEY),
        pl.any_horizontal(pl.col(c).fill_null(False) for c in FIRED.values()).alias(FIRED_ANY),
    )
    flags = flag_columns(typed.collect_schema())
    return typed.with_columns(
        (~any_failed(flags)).alias(VALID),
        (in_slice(keep) if keep is not None else pl.lit(True)).alias(INSIDE),
    )


def adjudicate_batch(
    lines: pl.DataFrame,
    facts: BatchFacts,
    compiled: CompiledRules,
    run_id: str,
    *,
    keep: pl.Expr | None = None,
) -> BatchOutput:
    """Results and rejects of one slice of raw lines (a raw frame's rows, ``adjudicator.contract``).

    results: one row per valid line inside ``keep`` (all lines when None), in
    input order: the typed canonical columns, the input's extra columns, the
    ``DECISION_COLUMNS`` and ``run_id``. rejects: one row per invalid line
    inside ``keep``: the original values as text, ``failed_checks`` and
    ``run_id``. Lines outside ``keep`` are only counted (``skipped``).

    Raises ``InternalError`` when an edit fact names a line that is not a
    valid line whose code the edits concern: the prepass and the batch disagree.
    """
    checked = check_lines(lines.lazy(), facts, keep=keep)
    flags = flag_columns(checked.collect_schema())
    extras = extra_columns(lines.schema)
    concerned = pl.col(PROCEDURE_CODE).is_in(pl.Series(compiled.verdict_codes, dtype=pl.String).implode())
    frame = checked.with_columns((pl.col(VALID) & concerned).fill_null(False).alias(CONCERNED)).collect()

    disagree = frame.filter(pl.col(FIRED_ANY) & ~pl.col(CONCERNED))
    if disagree.height:
        row = disagree.row(0, named=True)
        raise InternalError(
            f"the prepass named line ({row[CLAIM_ID]!r}, {row[LINE_NUMBER]}) of {row[SOURCE_FILE]} for an edit, "
            "but the batch does not find it a valid line whose code an edit concerns"
        )
    fired_lines = int(frame[FIRED_ANY].sum())

    valid = frame.filter(pl.col(VALID) & pl.col(INSIDE))
    results = _decide(valid, compiled, run_id, extras)
    rejects = frame.filter(~pl.col(VALID) & pl.col(INSIDE)).select(
        *(pl.col(RAW_PREFIX + c).cast(pl.String).alias(c) for c in CANONICAL),
        *(pl.col(c).cast(pl.String) if c != SOURCE_FILE else pl.col(c) for c in extras),
        failed_check_names(flags).alias(FAILED_CHECKS),
        pl.lit(run_id, pl.String).alias(RUN_ID),
    )
    counts = frame.group_by(SOURCE_FILE, maintain_order=True).agg(
        pl.len().cast(pl.Int64).alias("read"),
        (~pl.col(INSIDE)).sum().cast(pl.Int64).alias("skipped"),
        (pl.col(INSIDE) & pl.col(VALID)).sum().cast(pl.Int64).alias("results"),
        (pl.col(INSIDE) & ~pl.col(VALID)).sum().cast(pl.Int64).alias("rejects"),
    )
    by_reason = results.group_by(DETERMINATION, REASON).agg(
        pl.len().cast(pl.Int64).alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed")
    )
    by_check = (
        rejects.select(pl.col(FAILED_CHECKS).explode().alias("check"))
        .group_by("check")
        .agg(pl.len().cast(pl.Int64).alias("lines"))
    )
    return BatchOutput(results, rejects, counts, by_reason, by_check, fired_lines)


def _decide(valid: pl.DataFrame, compiled: CompiledRules, run_id: str, extras: list[str]) -> pl.DataFrame:
    """The decision columns of valid lines: worked out for the concerned few, NO_ACTION for the rest.

    Only the lines whose code a policy, pair or limit names are encoded (three
    binary searches and a few lookups); their verdict rows are scattered back
    to their positions, and every other line keeps a null row (NO_ACTION, no
    edits), so the per-line cost of the rest is the gather of the output
    columns.
    """
    mask = valid[CONCERNED]
    positions = mask.arg_true()
    fired = {kind: pl.col(column) for kind, column in FIRED.items()}
    rows = compiled.encode(fired)
    decided = valid.filter(mask).select(rows.decision.alias(DECISION_ROW), rows.edit.alias(EDIT_ROW))
    n = valid.height
    decision_row = pl.Series(DECISION_ROW, [None] * 0, dtype=pl.Int64).extend_constant(None, n)
    edit_row = pl.Series(EDIT_ROW, [None] * 0, dtype=pl.Int64).extend_constant(None, n)
    if positions.len():
        decision_row = decision_row.scatter(positions, decided[DECISION_ROW])
        edit_row = edit_row.scatter(positions, decided[EDIT_ROW])
    return valid.with_columns(decision_row, edit_row).select(
        *CANONICAL,
        *extras,
        *compiled.decode(VerdictRows(pl.col(DECISION_ROW), pl.col(EDIT_ROW))),
        pl.lit(run_id, pl.String).alias(RUN_ID),
    )


__all__ = ["BatchOutput", "adjudicate_batch", "check_lines", "extra_columns", "in_slice"]
