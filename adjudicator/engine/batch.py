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

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import polars as pl
import pyarrow as pa

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL,
    CLAIM_ID,
    DECISION_COLUMNS,
    DETERMINATION,
    EDIT_CARCS,
    EDITS,
    FAILED_CHECKS,
    LINE_NUMBER,
    MEMBER_ID,
    MESSAGE,
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
from adjudicator.engine.checks import (
    DUPLICATE_KEY,
    FLAG_PREFIX,
    RAW_PREFIX,
    VALID,
    any_failed,
    failed_check_names,
    flag_columns,
    with_checks,
)
from adjudicator.engine.facts import FIRED, BatchFacts
from adjudicator.engine.history import history_notes, with_notes
from adjudicator.engine.summary import (
    TALLY_COLUMNS,
    claim_partials,
    detached,
    lines_and_billed,
    month_of_service,
    tally_parts,
)
from adjudicator.rules.compiled import CompiledRules, VerdictRows, plain_strings

#: internal helper columns of a batch (never written)
INSIDE = "_in_slice"
CONCERNED = "_concerned"
DECISION_ROW = "_decision_row"
EDIT_ROW = "_edit_row"


@dataclass(frozen=True)
class BatchOutput:
    """One batch's share of a run: its output rows and the counts the run's summary adds up.

    The results are held as ``lines`` (the valid lines inside the slice: the
    typed canonical columns and the input's extra columns) and ``verdicts``
    (each line's ``_decision_row`` and ``_edit_row``; null for a line no policy
    targets and one no edit concerns), decoded on demand: ``results`` as a
    polars frame, ``results_table`` as the Arrow table the writer takes.

    ``counts``: per ``source_file``, lines ``read``, ``skipped`` (outside the
    slice), ``results`` and ``rejects``. ``tallies``: results by (month of
    service, payer, decision row) with ``lines`` and ``billed_amount``, the
    key of every summed count (``by_reason``, the report's cube);
    ``edit_tallies``: the same by edit row, of the lines with an edit row;
    ``flagged_claims``: per claim with a line that is not NO_ACTION, the
    partial of those lines (``summary.claim_partials``). ``by_check``: rejects per
    failed check. ``fired_lines``: lines an edit fact named.
    """

    lines: pl.DataFrame
    verdicts: pl.DataFrame
    #: the positions in ``lines`` of the lines a batch decided (``CONCERNED``), and their verdict rows
    positions: pl.Series
    decided: pl.DataFrame
    rejects: pl.DataFrame
    counts: pl.DataFrame
    tallies: pl.DataFrame
    edit_tallies: pl.DataFrame
    flagged_claims: pl.DataFrame
    by_check: pl.DataFrame
    fired_lines: int
    compiled: CompiledRules
    run_id: str
    #: with a history: the lines whose unit limit counted earlier lines, and the sentence naming them
    #: (``engine.history.history_notes``), added to their ``message``
    notes: pl.DataFrame | None = None

    @cached_property
    def results(self) -> pl.DataFrame:
        """One row per valid line inside the slice, in input order: the typed canonical columns, the
        input's extra columns, the ``DECISION_COLUMNS`` and ``run_id``."""
        rows = VerdictRows(pl.col(DECISION_ROW), pl.col(EDIT_ROW))
        frame = self.lines.hstack(self.verdicts).select(
            *self.lines.columns, *self.compiled.decode(rows), pl.lit(self.run_id, pl.String).alias(RUN_ID)
        )
        if self.notes is None:
            return frame
        return frame.with_columns(with_notes(frame[MESSAGE], self.notes))

    def results_table(self) -> pa.Table:
        """``results`` as Arrow, the scalar decision columns as dictionary arrays (the decision table's
        values once, a code per line) and the text as polars' string views, without a copy.

        Written to Parquet, a dictionary array becomes dictionary pages of its
        values: readers see the same strings and dates as ``results`` (the
        writer stores no Arrow schema). A line costs one small integer per
        column instead of a gather of its values (cheaper for the decision
        columns: docs/benchmarks.md), and the writer takes ``source_file`` and
        ``run_id`` without hashing a value per line.
        """
        compiled = self.compiled
        table = self.lines.to_arrow(compat_level=pl.CompatLevel.newest())
        if SOURCE_FILE in table.column_names:
            table = table.set_column(
                table.schema.get_field_index(SOURCE_FILE), SOURCE_FILE, _file_dictionary(self.lines[SOURCE_FILE])
            )
        # the codes of the decided few, spread over lines that otherwise all take a line's code where no policy
        # targets it (cheaper than a gather over every line: docs/benchmarks.md)
        decided = compiled.dictionary_codes(self.decided[DECISION_ROW])
        untargeted = compiled.untargeted_codes
        n = self.lines.height
        codes = {
            column: pl.Series(column, [], pl.Int32)
            .extend_constant(untargeted[column], n)
            .scatter(self.positions, small)
            for column, small in decided.items()
        }
        values = compiled.arrow_values
        edit = self.verdicts[EDIT_ROW].fill_null(compiled.no_edit_row)
        lists = {EDITS: compiled.edit_names.gather(edit), EDIT_CARCS: compiled.edit_carcs.gather(edit)}
        for column in DECISION_COLUMNS:
            if column in codes:
                array: pa.Array = pa.DictionaryArray.from_arrays(codes[column].to_arrow(), values[column])
            else:
                array = lists[column].to_arrow(compat_level=pl.CompatLevel.newest())
            if column == MESSAGE and self.notes is not None and self.notes.height:
                array = _noted(array, self.notes)
            table = table.append_column(column, array)
        return table.append_column(RUN_ID, _repeated(self.run_id, table.num_rows))

    def counted(self) -> BatchOutput:
        """The same output without its lines (what the run's totals read): it holds a batch's counts, not
        its rows, while it waits to be added up."""
        return replace(
            self,
            lines=self.lines.clear(),
            verdicts=self.verdicts.clear(),
            positions=self.positions.clear(),
            decided=self.decided.clear(),
            notes=None,
        )

    @cached_property
    def decoded_tallies(self) -> pl.DataFrame:
        """``tallies`` with the decision columns the summed counts are keyed by."""
        return decoded(self.tallies, self.compiled, TALLY_COLUMNS)

    @cached_property
    def by_reason(self) -> pl.DataFrame:
        """Results by (determination, reason), with ``lines`` and ``billed``."""
        return self.decoded_tallies.group_by(DETERMINATION, REASON).agg(
            pl.col("lines").sum().cast(pl.Int64), pl.col(BILLED_AMOUNT).sum().alias("billed")
        )

    def summary_parts(self, *, row_offset: int = 0) -> dict[str, pl.DataFrame]:
        """The report's partial tables of this batch (``adjudicator.engine.summary``) from its tallies."""
        edits = self.edit_tallies.select(
            pl.lit(self.compiled.edit_names).gather(pl.col(EDIT_ROW)).alias(EDITS), "lines", BILLED_AMOUNT
        )
        return tally_parts(self.decoded_tallies, edits, self.flagged_claims, self.rejects, row_offset=row_offset)


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
    in the facts' duplicate keys (cheaper than a join keeping order: docs/benchmarks.md).
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
    ``DECISION_COLUMNS`` and ``run_id`` (``BatchOutput.results``). rejects: one
    row per invalid line inside ``keep``: the original values as text,
    ``failed_checks`` and ``run_id``. Lines outside ``keep`` are only counted
    (``skipped``).

    ``fired_lines`` counts the lines an edit fact named; the driver checks
    that the batches met every line the prepass named (a fact naming any other
    line is never met), so the prepass and the batches cannot silently disagree.
    """
    checked = check_lines(lines.lazy(), facts, keep=keep)
    flags = flag_columns(checked.collect_schema())
    extras = extra_columns(lines.schema)
    concerned = pl.col(PROCEDURE_CODE).is_in(pl.Series(compiled.verdict_codes, dtype=pl.String).implode())
    frame = checked.with_columns((pl.col(VALID) & concerned).fill_null(False).alias(CONCERNED)).collect()

    # only the columns the verdicts read are filtered (filtering every checked column costs more: docs/benchmarks.md)
    concerned_lines = frame.select(*VERDICT_INPUTS, INSIDE, CONCERNED).filter(pl.col(CONCERNED))
    fired_lines, decided = _concerned_verdicts(concerned_lines, facts, compiled)
    # each output filters only the columns it writes (filtering the whole checked frame costs more: docs/benchmarks.md)
    keep_rows = frame[VALID] & frame[INSIDE]
    valid = frame.select(*CANONICAL, *extras, CONCERNED)
    if not keep_rows.all():
        valid = valid.filter(keep_rows)
    positions = valid[CONCERNED].arg_true()
    decided = decided.filter(pl.col(INSIDE))
    verdicts = _verdict_rows(valid.height, positions, decided)
    valid = valid.drop(CONCERNED)
    rejects = frame.filter(~pl.col(VALID) & pl.col(INSIDE)).select(
        *(pl.col(RAW_PREFIX + c).cast(pl.String).alias(c) for c in CANONICAL),
        *(pl.col(c).cast(pl.String) if c != SOURCE_FILE else pl.col(c) for c in extras),
        failed_check_names(flags).alias(FAILED_CHECKS),
        pl.lit(run_id, pl.String).alias(RUN_ID),
    )
    by_check = (
        rejects.select(pl.col(FAILED_CHECKS).explode().alias("check"))
        .group_by("check")
        .agg(pl.len().cast(pl.Int64).alias("lines"))
    )
    flagged = decided.filter(pl.lit(compiled.flagged_rows).gather(pl.col(DECISION_ROW)))
    effects = facts.history_effects
    notes = history_notes(valid, effects) if effects is not None and effects.height else None
    return BatchOutput(
        lines=valid,
        verdicts=verdicts,
        positions=positions,
        decided=decided.select(DECISION_ROW, EDIT_ROW),
        rejects=rejects,
        counts=detached(_counts(frame)),
        tallies=_tallies(valid, verdicts[DECISION_ROW]),
        edit_tallies=detached(
            decided.filter(pl.col(EDIT_ROW).is_not_null()).group_by(EDIT_ROW).agg(lines_and_billed())
        ),
        flagged_claims=detached(
            decoded(flagged, compiled, (DETERMINATION, REASON)).group_by(CLAIM_ID).agg(claim_partials())
        ),
        by_check=detached(by_check),
        fired_lines=fired_lines,
        compiled=compiled,
        run_id=run_id,
        notes=notes,
    )


def _noted(messages: pa.DictionaryArray, notes: pl.DataFrame) -> pa.DictionaryArray:
    """The message column with the history's sentences added (``with_notes``), dictionary-coded again in the
    same value type, so the writer's schema holds (only a batch the history touched pays for it)."""
    plain = pl.Series(MESSAGE, messages).cast(pl.String)
    noted = with_notes(plain, notes).to_arrow().cast(messages.type.value_type)
    return noted.dictionary_encode()


def _repeated(text: str, n: int) -> pa.DictionaryArray:
    """``text`` on ``n`` lines, as a dictionary array of one value (``plain_strings``: not ``pa.scalar`` nor
    ``pa.array``, which import pandas)."""
    values = plain_strings(pl.Series([text], dtype=pl.String))
    return pa.DictionaryArray.from_arrays(pl.zeros(n, pl.Int32, eager=True).to_arrow(), values)


def _file_dictionary(files: pl.Series) -> pa.Array:
    """``source_file`` as a dictionary array: a batch's lines come from one file, or a few in turn (the
    writer then takes the names once instead of hashing one per line)."""
    if not files.len():
        return _repeated("", 0)
    if files[0] == files[-1]:
        return _repeated(files[0], files.len())
    import pyarrow.compute as pc  # here only, for batches that span files: it slows start-up (docs/benchmarks.md)

    return pc.dictionary_encode(files.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.string()))


def _tallies(valid: pl.DataFrame, decision: pl.Series) -> pl.DataFrame:
    """Results by (month of service, payer, decision row): every summed count's key, in one group_by on
    small keys (decoded once per row of the tally, not once per line)."""
    return detached(
        valid.select(SERVICE_DATE, PAYER_ID, BILLED_AMOUNT)
        .with_columns(decision)
        .group_by(month_of_service(), PAYER_ID, DECISION_ROW)
        .agg(lines_and_billed())
    )


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
    lines only. Returns (lines an edit fact named, the frame of ``_in_slice``,
    ``claim_id``, ``billed_amount``, payer, member, date of service, ``_decision_row`` and ``_edit_row``, one
    row per concerned line in order, in slice or not). An edit row is null
    where the code is in no pair or limit (no edits).
    """
    fired = list(FIRED.values())
    marked = concerned.select(*VERDICT_INPUTS, INSIDE).hstack(facts.fired(concerned))
    fired_lines = int(marked.select(pl.any_horizontal(pl.col(fired).fill_null(False)).sum()).item())
    rows = compiled.encode({kind: pl.col(column) for kind, column in FIRED.items()})
    edit = rows.edit.cast(pl.Int32)
    decided = marked.select(
        INSIDE,
        CLAIM_ID,
        BILLED_AMOUNT,
        PAYER_ID,
        MEMBER_ID,
        SERVICE_DATE,
        rows.decision.cast(pl.Int32).alias(DECISION_ROW),
        pl.when(edit != compiled.no_edit_row).then(edit).alias(EDIT_ROW),
    )
    return fired_lines, decided


def compiled_columns() -> list[str]:
    """The typed columns ``CompiledRules.encode`` reads."""
    return [PAYER_ID, PROCEDURE_CODE, PLAN_ID, PLACE_OF_SERVICE, SERVICE_DATE]


#: the typed columns a concerned line's verdict and its tallies read: its key (the facts), what
#: ``CompiledRules.encode`` reads, the billed amount and the member (its claim's partial, when flagged)
VERDICT_INPUTS = [CLAIM_ID, LINE_NUMBER, BILLED_AMOUNT, MEMBER_ID, *compiled_columns()]


def _verdict_rows(n: int, positions: pl.Series, decided: pl.DataFrame) -> pl.DataFrame:
    """Each of ``n`` valid lines' ``_decision_row`` and ``_edit_row``: the decided few (at ``positions``) take
    theirs, every other line keeps nulls (NO_ACTION, no edits), so the rest cost nothing per line."""
    decision_row = pl.Series(DECISION_ROW, [], dtype=pl.Int32).extend_constant(None, n)
    edit_row = pl.Series(EDIT_ROW, [], dtype=pl.Int32).extend_constant(None, n)
    if positions.len():
        decision_row = decision_row.scatter(positions, decided[DECISION_ROW])
        edit_row = edit_row.scatter(positions, decided[EDIT_ROW])
    return pl.DataFrame([decision_row, edit_row])


def decoded(frame: pl.DataFrame, compiled: CompiledRules, columns: Sequence[str]) -> pl.DataFrame:
    """A frame keyed by ``_decision_row`` (a tally) with the decision ``columns`` of each row added."""
    rows = VerdictRows(pl.col(DECISION_ROW), pl.lit(None, pl.Int32))
    return frame.with_columns(e for e in compiled.decode(rows) if e.meta.output_name() in columns)


__all__ = ["BatchOutput", "adjudicate_batch", "check_lines", "decoded", "extra_columns", "in_slice"]
