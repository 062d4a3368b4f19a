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
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REASON,
    REJECT_PREFIX,
    RUN_ID,
    SERVICE_DATE,
    SOURCE_FILE,
)
from adjudicator.prepass import FIRED, BatchFacts
from adjudicator.summary import detached
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
    """Typed, checked lines with the duplicate keys marked. Grain: one row per input line, order kept.

    Adds the typed canonical columns, ``_raw_<column>`` originals, one
    ``_failed_<check>`` flag per check (the duplicate key from the facts
    included), ``_valid`` and ``_in_slice``. A key is looked up by membership
    in the facts' duplicate keys (a join keeping order cost twice as much).
    """
    typed = with_checks(facts.with_deliveries(lines))
    duplicates = facts.duplicate_keys
    duplicate = pl.struct(CLAIM_ID, LINE_NUMBER).is_in(duplicates) if duplicates is not None else pl.lit(False)
    has_key = pl.col(CLAIM_ID).is_not_null() & pl.col(LINE_NUMBER).is_not_null()
    typed = typed.with_columns((has_key & duplicate).alias(FLAG_PREFIX + DUPLICATE_KEY))
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

    ``fired_lines`` counts the lines an edit fact named; the driver checks
    that the batches met every line the prepass named (a fact naming any other
    line is never met), so the prepass and the batches cannot silently disagree.
    """
    checked = check_lines(lines.lazy(), facts, keep=keep)
    flags = flag_columns(checked.collect_schema())
    extras = extra_columns(lines.schema)
    concerned = pl.col(PROCEDURE_CODE).is_in(pl.Series(compiled.verdict_codes, dtype=pl.String).implode())
    frame = checked.with_columns((pl.col(VALID) & concerned).fill_null(False).alias(CONCERNED)).collect()

    fired_lines, decided = _concerned_verdicts(frame.filter(pl.col(CONCERNED)), facts, compiled)
    # each output filters only the columns it writes (filtering the whole checked frame cost twice as much)
    keep_rows = frame[VALID] & frame[INSIDE]
    valid = frame.select(*CANONICAL, *extras, CONCERNED)
    if not keep_rows.all():
        valid = valid.filter(keep_rows)
    results = _decide(valid, decided, compiled, run_id, extras)
    rejects = frame.filter(~pl.col(VALID) & pl.col(INSIDE)).select(
        *(pl.col(RAW_PREFIX + c).cast(pl.String).alias(c) for c in CANONICAL),
        *(pl.col(c).cast(pl.String) if c != SOURCE_FILE else pl.col(c) for c in extras),
        failed_check_names(flags).alias(FAILED_CHECKS),
        pl.lit(run_id, pl.String).alias(RUN_ID),
    )
    counts = _counts(frame)
    by_reason = results.group_by(DETERMINATION, REASON).agg(
        pl.len().cast(pl.Int64).alias("lines"), pl.col(BILLED_AMOUNT).sum().alias("billed")
    )
    by_check = (
        rejects.select(pl.col(FAILED_CHECKS).explode().alias("check"))
        .group_by("check")
        .agg(pl.len().cast(pl.Int64).alias("lines"))
    )
    return BatchOutput(results, rejects, detached(counts), detached(by_reason), detached(by_check), fired_lines)


def _counts(frame: pl.DataFrame) -> pl.DataFrame:
    """Lines read, skipped, results and rejects per source file of a checked batch.

    Files follow one another in the raw frame, so a batch whose first and last
    lines come from one file holds that file only and needs no group_by (on a
    text column, it cost as much as the checks).
    """
    sums = [
        pl.len().cast(pl.Int64).alias("read"),
        (~pl.col(INSIDE)).sum().cast(pl.Int64).alias("skipped"),
        (pl.col(INSIDE) & pl.col(VALID)).sum().cast(pl.Int64).alias("results"),
        (pl.col(INSIDE) & ~pl.col(VALID)).sum().cast(pl.Int64).alias("rejects"),
    ]
    files = frame[SOURCE_FILE]
    if frame.height and files[0] == files[-1]:
        return frame.select(pl.lit(files[0], pl.String).alias(SOURCE_FILE), *sums)
    return frame.group_by(SOURCE_FILE, maintain_order=True).agg(sums)


def _concerned_verdicts(
    concerned: pl.DataFrame, facts: BatchFacts, compiled: CompiledRules
) -> tuple[int, pl.DataFrame]:
    """The verdict rows of the valid lines whose code a policy, pair or limit names (a few percent).

    Their edit facts are looked up here (``BatchFacts.fired``), on the few
    lines only. Returns (lines an edit fact named, the frame of
    ``_decision_row`` and ``_edit_row``, one row per concerned line in order,
    in slice or not).
    """
    fired = list(FIRED.values())
    marked = concerned.select(CLAIM_ID, LINE_NUMBER, INSIDE, *compiled_columns()).hstack(facts.fired(concerned))
    fired_lines = int(marked.select(pl.any_horizontal(pl.col(fired).fill_null(False)).sum()).item())
    rows = compiled.encode({kind: pl.col(column) for kind, column in FIRED.items()})
    decided = marked.select(INSIDE, rows.decision.alias(DECISION_ROW), rows.edit.alias(EDIT_ROW))
    return fired_lines, decided


def compiled_columns() -> list[str]:
    """The typed columns ``CompiledRules.encode`` reads."""
    return [PAYER_ID, PROCEDURE_CODE, PLAN_ID, PLACE_OF_SERVICE, SERVICE_DATE]


def _decide(
    valid: pl.DataFrame, decided: pl.DataFrame, compiled: CompiledRules, run_id: str, extras: list[str]
) -> pl.DataFrame:
    """The output rows of valid lines: the concerned few take their verdict rows, the rest NO_ACTION.

    The concerned lines' verdict rows (``_concerned_verdicts``) are scattered
    back to their positions, and every other line keeps a null row (NO_ACTION,
    no edits), so the per-line cost of the rest is the gather of the output
    columns.
    """
    positions = valid[CONCERNED].arg_true()
    decided = decided.filter(pl.col(INSIDE))
    n = valid.height
    decision_row = pl.Series(DECISION_ROW, [], dtype=pl.Int64).extend_constant(None, n)
    edit_row = pl.Series(EDIT_ROW, [], dtype=pl.Int64).extend_constant(None, n)
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
