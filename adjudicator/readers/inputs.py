"""A run's inputs read: its files resolved, its layout chosen (``--layout``, else detected), the raw frame
scanned with the payers applied, and the layout's re-delivery rule for the prepass."""

from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adjudicator.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from adjudicator.engine.facts import Supersede
    from adjudicator.options import RunOptions
    from adjudicator.rules.tables import RuleSet


@dataclass(frozen=True)
class Inputs:
    """A run's inputs opened: the raw frame of all of them, and of each file (``parts``, the same rows, for
    staging many files in groups), the files, the layout used (``--layout``, else detected) and the layout's
    re-delivery rule (applied by the prepass, which sees every copy of a line)."""

    raw: pl.LazyFrame
    parts: tuple[pl.LazyFrame, ...]
    paths: list[str]
    layout: str
    supersede: Supersede | None


#: a phase around reading files whole (an 837P): given the bytes to read, it yields what to call with each
#: more bytes read (the run opens its log's "reading" phase; readers know nothing of the log)
Reading = Callable[[int], AbstractContextManager[Callable[[int], None]]]


def read_inputs(options: RunOptions, rules: RuleSet, *, reading: Reading | None = None) -> Inputs:
    """The run's ``Inputs``; raises ``InputError`` naming the file for a file-level problem. ``reading``: the
    phase around files read whole now (``scan.reads_eagerly``: an 837P), told the bytes read; not entered for a
    layout polars reads lazily, when the run reads the frame."""
    from adjudicator.readers.claims_list import check_regular
    from adjudicator.readers.detect import detect_layout
    from adjudicator.readers.paths import resolve_paths
    from adjudicator.readers.redelivery import supersede_rule
    from adjudicator.readers.scan import reads_eagerly, scan_layout_parts, stack_parts
    from adjudicator.readers.specs import LAYOUTS

    if options.slice.claims_file is not None:
        # up front: a pipe with no writer would block the first open of the claims list
        check_regular(options.slice.claims_file)
    paths = resolve_paths(options.inputs)
    if options.layout is not None and options.layout not in LAYOUTS:
        raise InputError(f"--layout must be one of {', '.join(LAYOUTS)}, got {options.layout!r}")
    layout = options.layout or detect_layout(paths[0])
    # canonical files already carry the rule tables' payer ids; the aliases translate the identifiers of
    # other layouts (an 837P's payer id), and skipping them spares a lookup and a column on every line
    aliases = None if layout == "canonical" else rules.payer_aliases
    if reading is not None and reads_eagerly(layout):
        with reading(sum(_size(path) for path in paths)) as progress:
            parts = scan_layout_parts(layout, paths, payer=options.payer, aliases=aliases, progress=progress)
    else:
        parts = scan_layout_parts(layout, paths, payer=options.payer, aliases=aliases)
    raw = stack_parts(layout, parts, flag_supersede=False)
    return Inputs(raw, tuple(parts), paths, layout, supersede_rule(layout))


def frame_inputs(frame: pl.LazyFrame, source: str) -> Inputs:
    """A polars frame in the canonical layout as a run's ``Inputs``, named ``source`` (no file: ``paths`` holds
    the name): the checks and raw forms a canonical Parquet file of the same rows gets (``canonical_part``), and
    what ``read_inputs`` does after for that layout (no payer alias: canonical lines carry the tables' ids)."""
    from adjudicator.readers.canonical import canonical_part
    from adjudicator.readers.redelivery import supersede_rule
    from adjudicator.readers.scan import stack_parts
    from adjudicator.readers.specs import CANONICAL_LAYOUT

    part = canonical_part(source, frame)
    raw = stack_parts(CANONICAL_LAYOUT, [part], flag_supersede=False)
    return Inputs(raw, (part,), [source], CANONICAL_LAYOUT, supersede_rule(CANONICAL_LAYOUT))


def _size(path: str) -> int:
    """The file's size, 0 when it cannot be asked (its reader then says what is wrong with it)."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def streamed_text_files(layout: str, paths: list[str]) -> list[str]:
    """The inputs polars reads from disk as text when the raw frame is collected (the run stages them): every
    one not Parquet, unless the layout's files were read whole already (an 837P)."""
    from adjudicator.readers.canonical import is_parquet
    from adjudicator.readers.scan import reads_eagerly

    return [] if reads_eagerly(layout) else [path for path in paths if not is_parquet(path)]


def quoted_text_files(layout: str, paths: list[str]) -> dict[str, str]:
    """The inputs read as CSV with ``"`` quoting (text files of a layout that quotes), each with its separator:
    the files whose quotes the checksum pass counts (``adjudicator.publish.hashing``)."""
    from adjudicator.readers.canonical import is_parquet
    from adjudicator.readers.catalog import LAYOUT_SPECS

    spec = LAYOUT_SPECS[layout]
    if spec.format != "table" or spec.quote_char != '"':
        return {}
    return {path: spec.separator for path in paths if not is_parquet(path)}
