"""Reading a delimited text layout (CCLF5, RIF, DE-SynPUF): the header checked, line slots unpivoted, the
layout's row-level reject flags added, then the declared mapping.

Grain: one row per line of the file, or per non-empty line slot of it for a
layout with slots.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from adjudicator.contract import REJECT_PREFIX
from adjudicator.errors import InputError, first_line
from adjudicator.readers.mapping import map_to_canonical, not_blank, with_source_file
from adjudicator.readers.specs import SEPARATOR_NAMES, Layout, RejectWhen, Slots


def _scan_text_table(spec: Layout, path: str) -> pl.LazyFrame:
    """Scan a delimited file as text, checking its header: separator and required columns."""
    try:
        frame = pl.scan_csv(
            path,
            separator=spec.separator,
            quote_char=spec.quote_char,
            infer_schema=False,
            null_values=list(spec.null_tokens) or None,
            glob=False,
        )
        names = frame.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as a {spec.name} file: {first_line(exc)}", path=path) from None
    if len(names) == 1 and len(spec.required_columns) > 1:
        header = names[0]
        if any(not ch.isprintable() for ch in header):
            raise InputError("does not look like a text table (its first line is not readable text)", path=path)
        found = [name for sep, name in SEPARATOR_NAMES.items() if sep != spec.separator and sep in header]
        hint = f" (it looks {found[0]}-separated)" if found else ""
        raise InputError(
            f"the header has a single column {header[:60]!r}: a {spec.name} file is "
            f"{SEPARATOR_NAMES.get(spec.separator, repr(spec.separator))}-separated{hint}",
            path=path,
        )
    return frame


def _check_required(spec: Layout, path: str, names: Sequence[str]) -> None:
    """Fail naming the file and every required column (slot columns included) its header lacks."""
    required = list(spec.required_columns)
    if spec.slots is not None:
        required += [f"{stem}_{n}" for stem in spec.slots.required_stems for n in range(1, spec.slots.count + 1)]
    missing = [c for c in required if c not in names]
    if missing:
        shown = ", ".join(missing[:8]) + (f" and {len(missing) - 8} more" if len(missing) > 8 else "")
        raise InputError(f"lacks required {spec.name} column(s) {shown}", path=path)


def _unpivot_slots(frame: pl.LazyFrame, slots: Slots, names: Sequence[str]) -> pl.LazyFrame:
    """One row per non-empty slot: claim columns, the slot's columns without their suffix, and its number.

    Grain in: one row per claim. Grain out: one row per (claim, slot n) whose
    ``present`` column is non-blank, slot-major. One select per slot,
    concatenated: polars shares the scan between them, and this measured
    faster than exploding per-stem lists (claim columns are repeated only for
    the slots kept).
    """
    numbers = range(1, slots.count + 1)
    slot_columns = {f"{stem}_{n}" for stem in slots.stems for n in numbers}
    claim_columns = [c for c in names if c not in slot_columns]
    parts = []
    for n in numbers:
        present = [stem for stem in slots.stems if f"{stem}_{n}" in names]
        part = frame.select(
            *claim_columns,
            pl.lit(str(n)).alias(slots.number_column),
            *(pl.col(f"{stem}_{n}").alias(stem) for stem in present),
        ).filter(not_blank(pl.col(slots.present)))
        parts.append(part)
    return pl.concat(parts, how="diagonal_relaxed")


def _reject_flag(rule: RejectWhen, names: Sequence[str]) -> pl.Expr:
    if rule.column not in names:
        return pl.lit(False).alias(REJECT_PREFIX + rule.check)
    value = pl.col(rule.column).str.strip_chars().str.to_uppercase()
    return value.is_in(list(rule.values)).fill_null(False).alias(REJECT_PREFIX + rule.check)


def read_table_file(spec: Layout, path: str) -> pl.LazyFrame:
    """One delimited file of a non-canonical layout: checked, unpivoted if it has slots, flagged, mapped."""
    frame = _scan_text_table(spec, path)
    names = frame.collect_schema().names()
    _check_required(spec, path, names)
    if spec.slots is not None:
        frame = _unpivot_slots(frame, spec.slots, names)
    if spec.rejects:
        frame = frame.with_columns(_reject_flag(rule, names) for rule in spec.rejects)
    return with_source_file(map_to_canonical(frame, spec), path, names)
