"""The history across runs (contract section 7) as the edits see it: which history rows a night needs, how they
join tonight's valid concerned lines, what they changed, and the rows a night adds. Pure: no files.

Grain of the history: one row per line key (claim_id, line_number), the latest adjudication of a key winning,
for the lines whose code an add-on pair or a unit limit names. The table itself is read in
``adjudicator.readers.history`` and written in ``adjudicator.publish.history``; both engines call these functions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from adjudicator.contract import (
    CLAIM_ID,
    DETERMINATION,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PROCEDURE_CODE,
    RUN_ID,
    SERVICE_DATE,
    SOURCE_FILE,
    UNITS,
)
from adjudicator.engine.edits import addon_without_primary
from adjudicator.rules.compiled import ADDON_EDIT, UNITS_EDIT, CompiledRules

#: when the run that wrote a history row started (UTC)
ADJUDICATED_AT = "adjudicated_at"
#: the history's partition column: the service date's year and month, "YYYY-MM"
SERVICE_MONTH = "service_month"
#: the history table's columns and types, partition column last
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    CLAIM_ID: pl.String(),
    LINE_NUMBER: pl.Int64(),
    MEMBER_ID: pl.String(),
    PAYER_ID: pl.String(),
    SERVICE_DATE: pl.Date(),
    PROCEDURE_CODE: pl.String(),
    UNITS: pl.Int64(),
    DETERMINATION: pl.String(),
    RUN_ID: pl.String(),
    SOURCE_FILE: pl.String(),
    ADJUDICATED_AT: pl.Datetime("us", "UTC"),
    SERVICE_MONTH: pl.String(),
}
#: helper columns of the merged lines (internal; never written)
FROM_HISTORY = "_from_history"
HISTORY_RUN = "_history_run"
#: the columns of ``HistoryEffects.lines``
EDIT = "edit"
EFFECT = "effect"
EARLIER_LINES = "earlier_lines"
#: what the history did to a line of tonight: marked it (units) or satisfied it (an add-on's primary)
MADE_FLAGGED = "made_flagged"
CLEARED = "cleared"
COUNTED = "counted"

_KEY = [CLAIM_ID, LINE_NUMBER]


def service_month() -> pl.Expr:
    """A line's partition in the history: its service date's "YYYY-MM"."""
    return pl.col(SERVICE_DATE).dt.strftime("%Y-%m").alias(SERVICE_MONTH)


@dataclass(frozen=True)
class HistoryWanted:
    """Which history rows a night needs: the member-day-codes its valid lines of a limited code touch, and the
    claim-days (with the primary code) its valid add-on lines look for; ``months`` prunes the partitions."""

    member_days: pl.DataFrame
    claim_days: pl.DataFrame
    months: tuple[str, ...]


def wanted(valid: pl.DataFrame, compiled: CompiledRules) -> HistoryWanted:
    """The history rows ``valid`` (tonight's valid concerned lines, not duplicated) can meet in an edit."""
    limited = compiled.unit_limits[PROCEDURE_CODE].unique().implode()
    member_days = (
        valid.filter(pl.col(PROCEDURE_CODE).is_in(limited)).select(MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE).unique()
    )
    pairs = compiled.addon_pairs.select(pl.col("addon_code").alias(PROCEDURE_CODE), "primary_code")
    claim_days = (
        valid.join(pairs, on=PROCEDURE_CODE)
        .select(CLAIM_ID, SERVICE_DATE, pl.col("primary_code").alias(PROCEDURE_CODE))
        .unique()
    )
    months = pl.concat([member_days.select(SERVICE_DATE), claim_days.select(SERVICE_DATE)]).select(
        service_month().unique().sort()
    )
    return HistoryWanted(member_days, claim_days, tuple(months[SERVICE_MONTH].to_list()))


def pruned(history: pl.LazyFrame, want: HistoryWanted) -> pl.LazyFrame:
    """The rows of ``history`` (already pruned to ``want.months``) that ``want`` names, one per key."""
    by_member = history.join(want.member_days.lazy(), on=[MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE], how="semi")
    by_claim = history.join(want.claim_days.lazy(), on=[CLAIM_ID, SERVICE_DATE, PROCEDURE_CODE], how="semi")
    return pl.concat([by_member, by_claim]).unique(_KEY, keep="first", maintain_order=True)


def not_present(history: pl.DataFrame, present: pl.LazyFrame) -> pl.DataFrame:
    """The history rows whose key tonight does not hold: ``present`` is every key tonight holds a concerned
    line of, valid or not; such a key replaces its history row, so a re-sent line is never counted twice."""
    if not history.height:
        return history
    return history.lazy().join(present.select(_KEY).unique(), on=_KEY, how="anti").collect()


def merged_lines(tonight: pl.LazyFrame, history: pl.DataFrame) -> pl.LazyFrame:
    """Tonight's valid concerned lines and the history's lines of other keys (``not_present``), for the edit
    functions. ``tonight``: the valid concerned lines (``engine.edits.concerned_lines`` columns). Adds
    ``FROM_HISTORY`` and ``HISTORY_RUN``.
    """
    schema = tonight.collect_schema()
    earlier = history.lazy().select(
        *(
            pl.col(c).cast(schema[c]) if c in history.columns else pl.lit(None, schema[c]).alias(c)
            for c in schema.names()
        ),
        pl.lit(True).alias(FROM_HISTORY),
        pl.col(RUN_ID).alias(HISTORY_RUN),
    )
    # a history row is a valid line of its night: it passed its checks then
    earlier = earlier.with_columns(pl.lit(True).alias(c) for c in schema.names() if schema[c] == pl.Boolean)
    return pl.concat(
        [tonight.with_columns(pl.lit(False).alias(FROM_HISTORY), pl.lit(None, pl.String).alias(HISTORY_RUN)), earlier]
    )


def tonight_only(fired: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """The keys an edit fired on, less the history's (``not_present``): history lines are read, never
    re-flagged."""
    if not history.height:
        return fired
    return fired.join(history.select(_KEY), on=_KEY, how="anti")


def _earlier() -> pl.Expr:
    """A history line as the message names it: its claim and line, and the run that adjudicated it."""
    return pl.concat_str(
        [
            pl.lit("claim "),
            pl.col(CLAIM_ID),
            pl.lit(" line "),
            pl.col(LINE_NUMBER).cast(pl.String),
            pl.lit(" (run "),
            pl.col(HISTORY_RUN),
            pl.lit(")"),
        ]
    )


def effects(merged: pl.LazyFrame, compiled: CompiledRules) -> pl.DataFrame:
    """What the history changed on tonight's lines: one row per (line, edit) it touched.

    Columns: claim_id, line_number, ``EDIT`` (named as the results' ``edits``), ``EFFECT`` (``MADE_FLAGGED``:
    the limit is crossed only with the history's units; ``COUNTED``: crossed tonight alone, history lines
    counted too; ``CLEARED``: an add-on whose primary is in the history only) and ``EARLIER_LINES`` (the
    history lines that counted, as "claim C line L (run R)"). Needs every merged line of each member-day and
    claim-day.
    """
    history = pl.col(FROM_HISTORY)
    limit = pl.col("max_units_per_member_day")
    limits = compiled.unit_limits.select(PROCEDURE_CODE, limit).lazy()
    day = [MEMBER_ID, SERVICE_DATE, PROCEDURE_CODE]
    # one group_by per member-day, joined back to tonight's lines only: a window that gave every line its
    # day's list of earlier lines held one list per line
    limited = merged.join(limits, on=PROCEDURE_CODE)
    crossed = (
        limited.group_by(day)
        .agg(
            pl.col(UNITS).sum().alias("_total"),
            pl.col(UNITS).filter(~history).sum().alias("_tonight"),
            history.any().alias("_met"),
            limit.first(),
        )
        .filter(pl.col("_met") & (pl.col("_total") > limit))
    )
    earlier = (
        limited.filter(history)
        .join(crossed.select(day), on=day, how="semi")
        .group_by(day)
        .agg(_earlier().sort().alias(EARLIER_LINES))
    )
    units = (
        limited.filter(~history)
        .select(*_KEY, *day)
        .join(crossed, on=day)
        .join(earlier, on=day)
        .select(
            *_KEY,
            PROCEDURE_CODE,
            pl.lit(UNITS_EDIT).alias(EDIT),
            pl.when(pl.col("_tonight") > limit).then(pl.lit(COUNTED)).otherwise(pl.lit(MADE_FLAGGED)).alias(EFFECT),
            EARLIER_LINES,
        )
    )
    claim_day = [CLAIM_ID, SERVICE_DATE]
    # the claim-days a history line is on, by a join (a window over every merged line cost more)
    primary_codes = compiled.addon_pairs["primary_code"].unique().implode()
    with_primary = merged.filter(history & pl.col(PROCEDURE_CODE).is_in(primary_codes)).select(claim_day).unique()
    touched = merged.join(with_primary, on=claim_day, how="semi").collect()
    tonight_lines = touched.filter(~pl.col(FROM_HISTORY))
    freed = addon_without_primary(tonight_lines, compiled).join(
        addon_without_primary(touched, compiled), on=_KEY, how="anti"
    )
    primaries = touched.lazy().filter(history & pl.col(PROCEDURE_CODE).is_in(primary_codes))
    cleared = (
        freed.lazy()
        .join(tonight_lines.lazy().select(*_KEY, SERVICE_DATE, PROCEDURE_CODE), on=_KEY)
        .join(primaries.group_by(claim_day).agg(_earlier().sort().alias(EARLIER_LINES)), on=claim_day)
        .select(*_KEY, PROCEDURE_CODE, pl.lit(ADDON_EDIT).alias(EDIT), pl.lit(CLEARED).alias(EFFECT), EARLIER_LINES)
    )
    return (
        pl.concat([units, cleared])
        .join(_edit_names(compiled).lazy(), on=[PROCEDURE_CODE, EDIT], how="left")
        .select(*_KEY, pl.col("_name").alias(EDIT), EFFECT, EARLIER_LINES)
        .sort(_KEY + [EDIT])
        .collect()
    )


def _edit_names(compiled: CompiledRules) -> pl.DataFrame:
    """Per (code, edit kind), the edit's name as the results' ``edits`` list carries it (rules/)."""
    width = 1 << len(compiled.edit_kinds)
    rows = [
        (code, kind, compiled.edit_names[klass * width + (1 << bit)][0])
        for code, klass in compiled.edit_code_classes.items()
        for bit, kind in enumerate(compiled.edit_kinds)
        if len(compiled.edit_names[klass * width + (1 << bit)])
    ]
    return pl.DataFrame(rows, schema={PROCEDURE_CODE: pl.String, EDIT: pl.String, "_name": pl.String}, orient="row")


def empty_effects() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            CLAIM_ID: pl.String,
            LINE_NUMBER: pl.Int64,
            EDIT: pl.String,
            EFFECT: pl.String,
            EARLIER_LINES: pl.List(pl.String),
        }
    )


#: the sentence added to the message of a line whose unit limit counted history lines (contract section 7)
EARLIER_NOTE = "The daily unit limit counted earlier lines: "
#: ``history_notes``'s columns: a line's position in its batch, and the sentence naming the earlier lines
POSITION = "_position"
NOTE = "_history_note"


def history_notes(keys: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Per line of ``keys`` (a batch's results, in order: claim_id, line_number) whose daily unit limit
    counted history lines (``effects``: made flagged or counted): its position and the sentence naming those
    earlier lines, claim and run. An add-on cleared by a history primary gets none (it is not flagged)."""
    counted = found.filter(pl.col(EFFECT) != CLEARED).group_by(_KEY).agg(pl.col(EARLIER_LINES).explode().unique())
    return (
        keys.select(_KEY)
        .with_row_index(POSITION)
        .join(counted, on=_KEY)
        .select(
            POSITION,
            pl.concat_str([pl.lit(EARLIER_NOTE), pl.col(EARLIER_LINES).list.sort().list.join(", "), pl.lit(".")]).alias(
                NOTE
            ),
        )
        .sort(POSITION)
    )


def with_notes(message: pl.Series, notes: pl.DataFrame) -> pl.Series:
    """``message`` with each noted line's sentence added after its own; a line with no message (no policy
    decided it) keeps none, as the results' contract says (its earlier lines are in ``history_edits``)."""
    if not notes.height:
        return message
    positions = notes[POSITION]
    own = message.gather(positions)
    added = (own + " " + notes[NOTE]).alias(message.name)
    return message.scatter(positions, added)


def effect_counts(found: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Lines per edit and effect (the manifest's and the report's counts come from this one frame)."""
    counts: dict[str, dict[str, int]] = {}
    for edit, effect, lines in found.group_by(EDIT, EFFECT).len().sort(EDIT, EFFECT).iter_rows():
        counts.setdefault(edit, {})[effect] = lines
    return counts


def night_rows(results: pl.LazyFrame, compiled: CompiledRules, adjudicated_at: dt.datetime) -> pl.LazyFrame:
    """The rows a night adds to the history: its results (valid lines inside the slice) whose code an add-on
    pair or a unit limit names, in ``HISTORY_SCHEMA``."""
    codes = pl.Series(compiled.edit_codes, dtype=pl.String).implode()
    return results.filter(pl.col(PROCEDURE_CODE).is_in(codes)).select(
        *(pl.col(c).cast(t) for c, t in HISTORY_SCHEMA.items() if c not in (ADJUDICATED_AT, SERVICE_MONTH)),
        pl.lit(adjudicated_at, HISTORY_SCHEMA[ADJUDICATED_AT]).alias(ADJUDICATED_AT),
        service_month(),
    )


def empty_history() -> pl.DataFrame:
    return pl.DataFrame(schema=HISTORY_SCHEMA)


__all__ = [
    "ADJUDICATED_AT",
    "CLEARED",
    "COUNTED",
    "EARLIER_NOTE",
    "EARLIER_LINES",
    "EDIT",
    "EFFECT",
    "FROM_HISTORY",
    "HISTORY_RUN",
    "HISTORY_SCHEMA",
    "MADE_FLAGGED",
    "NOTE",
    "POSITION",
    "SERVICE_MONTH",
    "HistoryWanted",
    "effect_counts",
    "effects",
    "history_notes",
    "empty_effects",
    "empty_history",
    "merged_lines",
    "not_present",
    "night_rows",
    "pruned",
    "service_month",
    "tonight_only",
    "wanted",
    "with_notes",
]
