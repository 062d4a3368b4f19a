"""Reading the canonical layout (contract section 2) from CSV and Parquet into a raw frame, lazily.

Grain: one row per line of each file. CSV columns are read as text (nothing
is inferred, so a bad value becomes a reject instead of a failed read);
Parquet columns keep their types, each put in its raw form on its own
(``validate.raw_form``) before files are combined, so a line's verdict never
depends on the other files of the batch. Header names are trimmed; a name
that is a canonical one but for case or stray spaces is mapped to it; a
duplicated name, or one the adjudicator writes itself, stops the run. Each
file gets ``source_file``; optional canonical columns a file lacks are added
as null; files are stacked with their extra columns unioned. File-level
problems raise ``InputError`` naming the file, before anything is executed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from adjudicator.contract import CANONICAL, DECISION_COLUMNS, FAILED_CHECKS, REQUIRED_COLUMNS, RUN_ID, SOURCE_FILE
from adjudicator.engine.checks import raw_form, raw_form_dtype
from adjudicator.errors import InputError, first_line

PARQUET_SUFFIXES = (".parquet", ".pq")
_OTHER_DELIMITERS = (";", "\t", "|")


def is_parquet(path: str) -> bool:
    if path.lower().endswith(PARQUET_SUFFIXES):
        return True
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def scan_csv_text(path: str, *, separator: str = ",") -> pl.LazyFrame:
    """A CSV file with every column as text; the header is read now, so a file that has none fails here."""
    frame = pl.scan_csv(
        path,
        separator=separator,
        infer_schema=False,
        encoding="utf8",
        raise_if_empty=False,
        missing_columns="insert",
        glob=False,
    )
    try:
        frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot read the CSV header: {first_line(exc)}", path=path) from None
    return frame


def scan_parquet_file(path: str) -> pl.LazyFrame:
    frame = pl.scan_parquet(path, glob=False)
    try:
        frame.collect_schema()
        # reading the footer's row count proves the file is not truncated
        pl.scan_parquet(path, glob=False).select(pl.len()).collect()
    except pl.exceptions.DuplicateError:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        duplicated = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"has more than one column named {duplicated[0]!r}", path=path) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {first_line(exc)}", path=path) from None
    return frame


#: polars' name for the second and later copies of a CSV header name
_DUPLICATED = re.compile(r"^(?P<name>.*)_duplicated_\d+$")


def _output_columns() -> frozenset[str]:
    """The columns the adjudicator writes beside the input's (contract section 6)."""
    return frozenset({*DECISION_COLUMNS, FAILED_CHECKS, RUN_ID, SOURCE_FILE})


def _reserved(name: str) -> bool:
    """A column the adjudicator writes, or may use inside the plan: every name starting with an underscore
    (``_raw_``, ``_failed_``, ``_reject_``, ``_valid``, key hashes, ...) is kept for its own columns."""
    return name in _output_columns() or name.startswith("_")


def check_extra_names(path: str, names: Sequence[str]) -> None:
    """Stop, naming the column, when an input column has a name the adjudicator writes itself."""
    for name in names:
        if name not in CANONICAL and _reserved(name):
            raise InputError(
                f"has a column named {name!r}, which the adjudicator writes itself; rename or drop it", path=path
            )


def check_duplicate_names(path: str, names: Sequence[str]) -> None:
    """Stop, naming it, when a CSV header holds a name twice (polars reads the copy as ``<name>_duplicated_<n>``)."""
    for name in names:
        duplicated = _DUPLICATED.match(name)
        if duplicated and duplicated["name"] in names:
            raise InputError(f"has more than one column named {duplicated['name'].strip()!r}", path=path)


def _fold(name: str) -> str:
    """A header name without case, spaces or underscores: ``Plan ID``, ``PLAN_ID`` and `` plan_id `` agree."""
    return re.sub(r"[\s_]", "", name).lower()


_CANONICAL_FOLDED = {_fold(c): c for c in CANONICAL}


def canonical_names(path: str, names: Sequence[str]) -> dict[str, str]:
    """The renames that make a header canonical: names trimmed (spaces, a trailing carriage return), and a
    name that is a canonical one but for case, spaces or underscores (``Claim_ID``, ``claim_id ``,
    ``Plan ID``) mapped to it, so that a column is never silently taken as absent.

    Raises ``InputError`` naming the column when two columns end up with one name (a duplicated header
    name, or ``claim_id`` beside ``CLAIM_ID``).
    """
    check_duplicate_names(path, names)
    renames: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in names:
        new = _CANONICAL_FOLDED.get(_fold(name), name.strip())
        if new in taken:
            raise InputError(f"columns {taken[new]!r} and {name!r} both name the column {new!r}; keep one", path=path)
        taken[new] = name
        if new != name:
            renames[name] = new
    return renames


def typed_per_file(path: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    """The file's canonical columns in their raw form (``validate.raw_form``), decided on this file alone."""
    schema = frame.collect_schema()
    forms = {}
    for column in CANONICAL:
        if column not in schema or raw_form_dtype(column, schema[column]) == schema[column]:
            continue  # text, or already the canonical type: as it is
        form = raw_form(column, schema[column])
        if form is None:
            raise InputError(f"column {column!r} is {schema[column]}, which cannot hold a {column}", path=path)
        forms[column] = form.alias(column)
    return frame.with_columns(forms.values()) if forms else frame


def require_columns(path: str, columns: Sequence[str]) -> None:
    """Fail naming the file when required columns are missing (and say so when the delimiter looks wrong)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not missing:
        return
    if len(columns) == 1:
        for delimiter in _OTHER_DELIMITERS:
            if delimiter in columns[0]:
                shown = "tab" if delimiter == "\t" else repr(delimiter)
                raise InputError(
                    f"the header has one column; the file looks {shown}-delimited, "
                    "the canonical layout is comma-delimited CSV",
                    path=path,
                )
    raise InputError(f"missing required columns: {', '.join(missing)}", path=path)


def scan_canonical(paths: Sequence[str]) -> pl.LazyFrame:
    """The raw frame of canonical files (CSV or Parquet, mixed allowed)."""
    frames = canonical_parts(paths)
    if len(frames) == 1:
        return frames[0]
    return pl.concat(frames, how="diagonal_relaxed")


def canonical_parts(paths: Sequence[str]) -> list[pl.LazyFrame]:
    """``scan_canonical``'s frame of each file, in the order given, before they are stacked."""
    frames = [
        canonical_part(path, scan_parquet_file(path) if is_parquet(path) else scan_csv_text(path)) for path in paths
    ]
    return _as_text_where_mixed(frames)


def canonical_part(source: str, frame: pl.LazyFrame) -> pl.LazyFrame:
    """One input's rows in the canonical layout, named ``source`` (its ``source_file`` and the name its errors
    give): the header made canonical, the required columns checked, the adjudicator's own names refused, the
    typed columns put in their raw form, absent optional columns added as null.

    A file's scan (``canonical_parts``), or a polars frame already in memory (``adjudicator.adjudicate_frame``):
    a frame gets the checks and forms the same frame written to a Parquet file would get.
    """
    renames = canonical_names(source, frame.collect_schema().names())
    if renames:
        frame = frame.rename(renames)
    columns = frame.collect_schema().names()
    require_columns(source, columns)
    check_extra_names(source, columns)
    absent = [c for c in CANONICAL if c not in columns]
    return typed_per_file(source, frame).with_columns(
        *(pl.lit(None, pl.String).alias(c) for c in absent),
        pl.lit(source).alias(SOURCE_FILE),
    )


def _as_text_where_mixed(frames: list[pl.LazyFrame]) -> list[pl.LazyFrame]:
    """The frames with a float64 column made text where another file holds that column otherwise.

    A float64 amount stays a float64 in its raw form (``raw_form``); mixed with
    text or decimals it would otherwise be combined as a float (or as text by
    another route), so it is put in the text form it had before files were
    combined: every file's value keeps its own verdict.
    """
    schemas = [frame.collect_schema() for frame in frames]
    mixed = {
        column
        for column in CANONICAL
        if any(s.get(column) == pl.Float64 for s in schemas) and len({s[column] for s in schemas if column in s}) > 1
    }
    if not mixed:
        return frames
    return [
        frame.with_columns(pl.col(c).cast(pl.String) for c in mixed if schema.get(c) == pl.Float64)
        for frame, schema in zip(frames, schemas, strict=True)
    ]
