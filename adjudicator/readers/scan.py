"""The public entry point of the layout readers: ``scan_layout``, the raw frame of files read as one layout.

Grain: one row per claim line as read (see each layout's ``grain``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import polars as pl

from adjudicator.contract import REJECT_PREFIX
from adjudicator.errors import InputError
from adjudicator.readers.catalog import LAYOUT_SPECS
from adjudicator.readers.mapping import map_to_canonical, with_source_file
from adjudicator.readers.paths import resolve_paths
from adjudicator.readers.payers import apply_payers
from adjudicator.readers.redelivery import flag_superseded
from adjudicator.readers.specs import CANONICAL_LAYOUT, LAYOUTS, Layout
from adjudicator.readers.tabular import read_table_file


def _read_x12_file(spec: Layout, path: str, *, progress: Callable[[int], None] | None = None) -> pl.LazyFrame:
    from adjudicator.readers.x12 import COLUMNS, read_837p

    lines = read_837p(path, progress=progress)
    # the file's own names: the reader's reject flags are the adjudicator's working columns
    return with_source_file(map_to_canonical(lines.lazy(), spec), path, COLUMNS)


def scan_layout(
    name: str,
    paths: list[str],
    *,
    payer: str | None = None,
    aliases: pl.DataFrame | None = None,
    flag_supersede: bool = True,
) -> pl.LazyFrame:
    """The raw frame (``adjudicator.contract``) of ``paths`` read as layout ``name``.

    Grain: one row per claim line as read (see each layout's ``grain``), in file
    order, files in the order given (globs expanded and sorted). Columns: the
    ten canonical ones, every other column of the files (union over files),
    ``source_file``, and the layout's ``_reject_<check>`` flags. Raises
    ``InputError`` with one line naming the file and the problem when a file
    cannot be read or lacks a required column. With ``flag_supersede=False``
    the layout's supersede flag is left to the caller (``supersede_rule``): the
    run finds it in its prepass, since it needs every copy of a line.
    """
    return stack_parts(
        name, scan_layout_parts(name, paths, payer=payer, aliases=aliases), flag_supersede=flag_supersede
    )


def reads_eagerly(name: str) -> bool:
    """Whether layout ``name``'s files are read whole when scanned (an 837P: ``adjudicator.readers.x12``), not
    lazily by polars when the frame is collected."""
    return name in LAYOUT_SPECS and LAYOUT_SPECS[name].format == "x12"


def scan_layout_parts(
    name: str,
    paths: list[str],
    *,
    payer: str | None = None,
    aliases: pl.DataFrame | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[pl.LazyFrame]:
    """``scan_layout``'s rows file by file: one frame per file, in order, payers applied, not yet stacked (a
    run stages many small files in groups: ``adjudicator.embedded.staging``). ``progress``: called with the
    bytes more read, as a layout read eagerly (``reads_eagerly``) reads its files."""
    if name not in LAYOUT_SPECS:
        raise InputError(f"'layout' must be one of {', '.join(LAYOUTS)}, got {name!r}")
    spec = LAYOUT_SPECS[name]
    files = resolve_paths(paths)
    if spec.name == CANONICAL_LAYOUT:
        from adjudicator.readers.canonical import canonical_parts

        frames = canonical_parts(files)
    else:
        read = functools.partial(_read_x12_file, progress=progress) if reads_eagerly(name) else read_table_file
        frames = [read(spec, path) for path in files]
    return [apply_payers(frame, payer=payer, aliases=aliases) for frame in frames]


def stack_parts(name: str, parts: list[pl.LazyFrame], *, flag_supersede: bool = True) -> pl.LazyFrame:
    """The files' frames (``scan_layout_parts``) as one raw frame: stacked, the layout's supersede flag added
    (``flag_supersede``), the reject flags last."""
    spec = LAYOUT_SPECS[name]
    frame = parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")
    if spec.supersede is not None and flag_supersede:
        frame = flag_superseded(frame, spec.supersede)
    names = frame.collect_schema().names()
    flags = [c for c in names if c.startswith(REJECT_PREFIX)]
    return frame.select(*(c for c in names if c not in flags), *flags)
