"""A layout's declared mapping applied: the canonical columns (String raw text) from its source columns, and
``source_file``.

Grain unchanged throughout: these add and order columns, never rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from adjudicator.contract import CANONICAL, CANONICAL_COLUMNS, SOURCE_FILE
from adjudicator.errors import InputError
from adjudicator.readers.normalize import NORMALIZERS
from adjudicator.readers.specs import Layout, Source


def not_blank(expr: pl.Expr) -> pl.Expr:
    """True where ``expr`` holds something other than null or spaces."""
    return expr.is_not_null() & (expr.cast(pl.String).str.strip_chars() != "")


def _source_expr(source: Source, names: Sequence[str]) -> pl.Expr:
    present = [c for c in source.columns if c in names]
    if present:
        candidates = [pl.when(not_blank(pl.col(c))).then(pl.col(c).cast(pl.String)) for c in present]
        value = NORMALIZERS[source.normalize](pl.coalesce(candidates))
        return value if source.constant is None else pl.coalesce(value, pl.lit(source.constant))
    return pl.lit(source.constant, dtype=pl.String)


def map_to_canonical(frame: pl.LazyFrame, spec: Layout) -> pl.LazyFrame:
    """Canonical columns (String raw text, from the layout's mapping) first, then every column of ``frame``.

    Grain unchanged. The source columns stay as they were read, so results and
    rejects can show the original text beside the mapped value.
    """
    names = frame.collect_schema().names()
    mapped = frame.with_columns(_source_expr(spec.mapping[c], names).alias(c) for c in CANONICAL_COLUMNS)
    extras = [c for c in names if c not in CANONICAL]
    return mapped.select(*CANONICAL_COLUMNS, *extras)


def with_source_file(frame: pl.LazyFrame, path: str, names: Sequence[str]) -> pl.LazyFrame:
    """``frame`` with ``source_file`` added, after checking the file's own ``names`` leave room for it."""
    from adjudicator.readers.canonical import check_duplicate_names, check_extra_names

    check_duplicate_names(path, names)
    if SOURCE_FILE in names:
        raise InputError(f"has a column named {SOURCE_FILE!r}, which the adjudicator adds itself", path=path)
    check_extra_names(path, names)
    return frame.with_columns(pl.lit(path, dtype=pl.String).alias(SOURCE_FILE))
