"""Input layouts: each one a declared mapping from a file format to the raw frame of ``adjudicator.contract``.

Grain of every reader: one row per claim line *as read* (a DE-SynPUF claim row
becomes one row per non-empty line slot; an 837P interchange one row per SV1).
No row is dropped: a line the layout itself knows is unusable (an older CCLF
delivery, a RIF DELETE record) stays a row with a ``_reject_<check>`` flag, so
rows read = results + rejects holds for every layout.

Each layout is a ``Layout`` value in ``LAYOUT_SPECS``: its separator, null
tokens, which source column (or constant) feeds each canonical column and how
that text is normalised, its line slots, its row-level rejects. Adding a layout
is adding one entry there (and, for a non-delimited format, a reader); the
engine and the decision logic never see layout names.

Canonical columns come out as String raw text; a value the layout cannot
normalise (a date that does not parse, say) is passed on as it was read, so the
validator rejects it with its original text rather than seeing a silent null.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import polars as pl

from adjudicator.contract import (
    BILLED_AMOUNT,
    CANONICAL,
    CANONICAL_COLUMNS,
    CLAIM_ID,
    LINE_NUMBER,
    MEMBER_ID,
    PAYER_ID,
    PLACE_OF_SERVICE,
    PLAN_ID,
    PROCEDURE_CODE,
    REJECT_PREFIX,
    REQUIRED_COLUMNS,
    SERVICE_DATE,
    SOURCE_FILE,
    UNITS,
)
from adjudicator.engine.facts import Supersede as DeliveryRule
from adjudicator.errors import InputError, first_line

CANONICAL_LAYOUT: Final = "canonical"
CCLF5: Final = "cclf5"
RIF_CARRIER: Final = "rif-carrier"
SYNPUF_CARRIER: Final = "synpuf-carrier"
X12_837P: Final = "x12-837p"

#: every layout ``--layout`` accepts, in the order the README lists them
LAYOUTS: Final = (CANONICAL_LAYOUT, CCLF5, RIF_CARRIER, SYNPUF_CARRIER, X12_837P)

#: the original payer_id of each line, kept when ``--payer`` or the alias table changed it
PAYER_ID_AS_READ: Final = "payer_id_as_read"


# --------------------------------------------------------------------------------------------
# Normalisers: String expression in, String expression out, vectorised. A value that does not
# fit the pattern is returned unchanged so the validator rejects it with its original text.
# --------------------------------------------------------------------------------------------


def _as_is(text: pl.Expr) -> pl.Expr:
    return text


def _unpad_number(text: pl.Expr) -> pl.Expr:
    """CCLF's zero padding off: '0000000001' -> '1', '000000000000000001.0000' -> '1.0000', '-0012.30' -> '-12.30'."""
    trimmed = text.str.strip_chars()
    return (
        pl.when(trimmed.str.contains(r"^[+-]?[0-9]+(\.[0-9]*)?$"))
        .then(trimmed.str.replace(r"^([+-]?)0+([0-9])", "${1}${2}"))
        .otherwise(text)
    )


def _iso_from(text: pl.Expr, pattern: str, fmt: str) -> pl.Expr:
    """The date as YYYY-MM-DD when ``text`` matches ``pattern`` and parses with ``fmt``, else ``text``."""
    trimmed = text.str.strip_chars()
    parsed = (
        pl.when(trimmed.str.contains(pattern))
        .then(trimmed.str.strptime(pl.Date, fmt, strict=False))
        .dt.to_string("%Y-%m-%d")
    )
    return pl.coalesce(parsed, text)


def _date_yyyymmdd(text: pl.Expr) -> pl.Expr:
    """'20080229' -> '2008-02-29'; anything else (already ISO, or malformed) unchanged."""
    return _iso_from(text, r"^[0-9]{8}$", "%Y%m%d")


def _date_dd_mon_yyyy(text: pl.Expr) -> pl.Expr:
    """RIF dates: '27-OCT-1999' -> '1999-10-27'; anything else unchanged."""
    return _iso_from(text, r"^[0-9]{1,2}-[A-Za-z]{3}-[0-9]{4}$", "%d-%b-%Y")


def _x12_date_period(text: pl.Expr) -> pl.Expr:
    """DTP03 of format D8 ('20050208') or RD8 ('20040201-20040207', its first day): to YYYY-MM-DD."""
    first = text.str.strip_chars().str.extract(r"^([0-9]{8})(?:-[0-9]{8})?$", 1)
    return pl.coalesce(first.str.strptime(pl.Date, "%Y%m%d", strict=False).dt.to_string("%Y-%m-%d"), text)


#: normaliser name (as used in the declared mappings) -> function
NORMALIZERS: Final[dict[str, Callable[[pl.Expr], pl.Expr]]] = {
    "as_is": _as_is,
    "unpad_number": _unpad_number,
    "date_yyyymmdd": _date_yyyymmdd,
    "date_dd_mon_yyyy": _date_dd_mon_yyyy,
    "x12_date_period": _x12_date_period,
}


# --------------------------------------------------------------------------------------------
# The declared mappings
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Where one canonical column comes from: the first non-blank of ``columns``, normalised; else ``constant``."""

    columns: tuple[str, ...] = ()
    normalize: str = "as_is"
    constant: str | None = None

    def describe(self) -> str:
        """The source as a table cell: columns in order of preference, the normaliser, the constant."""
        parts = [" else ".join(f"`{c}`" for c in self.columns)] if self.columns else []
        if self.normalize != "as_is":
            parts.append(f"({self.normalize})")
        if self.constant is not None:
            parts.append(f"else `{self.constant}`" if self.columns else f"always `{self.constant}`")
        return " ".join(parts) if parts else "always null"


def _col(*columns: str, normalize: str = "as_is") -> Source:
    return Source(columns=columns, normalize=normalize)


def _const(value: str | None) -> Source:
    return Source(constant=value)


@dataclass(frozen=True)
class Slots:
    """A wide row with ``count`` numbered line slots (``STEM_1`` .. ``STEM_n``), unpivoted to one row per slot.

    A slot is a line when its ``present`` column is non-blank; other slots are
    neither lines nor rejects. Slot columns lose their ``_n`` suffix; the slot
    number goes to ``number_column``.
    """

    count: int
    stems: tuple[str, ...]
    required_stems: tuple[str, ...]
    present: str
    number_column: str


@dataclass(frozen=True)
class RejectWhen:
    """A row-level check a layout knows: the row goes to rejects as ``check`` when ``column`` is one of ``values``."""

    check: str
    column: str
    values: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Supersede:
    """Re-delivered lines: per canonical ``key``, copies older than the latest ``order_by`` date are rejected."""

    check: str
    key: tuple[str, ...]
    order_by: str
    description: str


@dataclass(frozen=True)
class Layout:
    """One input layout, as data: how to read it and where each canonical column comes from."""

    name: str
    description: str
    grain: str
    format: Literal["table", "x12"]
    mapping: Mapping[str, Source]
    required_columns: tuple[str, ...] = ()
    separator: str = ","
    quote_char: str | None = '"'
    null_tokens: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    #: header columns that, all present, identify the layout when no ``--layout`` is given
    signature: tuple[str, ...] = ()
    slots: Slots | None = None
    rejects: tuple[RejectWhen, ...] = ()
    supersede: Supersede | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


_MEDICARE = "MEDICARE"

#: every layout, keyed by its ``--layout`` name; the one place a layout is declared
LAYOUT_SPECS: Final[dict[str, Layout]] = {
    CANONICAL_LAYOUT: Layout(
        name=CANONICAL_LAYOUT,
        description="The contract's own layout (domain.md section 2), CSV or Parquet",
        grain="one row per claim line",
        format="table",
        mapping={c: _col(c) for c in CANONICAL_COLUMNS},
        required_columns=REQUIRED_COLUMNS,
        extensions=(".csv", ".parquet", ".pq"),
        signature=REQUIRED_COLUMNS,
        notes=(
            "Read by adjudicator.readers.canonical: CSV columns as text (types are the validator's job), Parquet "
            "columns keep their types.",
            "Missing optional columns (plan_id, place_of_service) are added as null.",
        ),
    ),
    CCLF5: Layout(
        name=CCLF5,
        description="CMS Claim and Claim Line Feed, Part B physician file (CCLF5), as CSV with its column names",
        grain="one row per claim line per delivery (CUR_CLM_UNIQ_ID, CLM_LINE_NUM, FILE_DATE)",
        format="table",
        mapping={
            CLAIM_ID: _col("CUR_CLM_UNIQ_ID"),
            LINE_NUMBER: _col("CLM_LINE_NUM", normalize="unpad_number"),
            MEMBER_ID: _col("BENE_MBI_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("CLM_LINE_FROM_DT", normalize="date_yyyymmdd"),
            PROCEDURE_CODE: _col("CLM_LINE_HCPCS_CD"),
            UNITS: _col("CLM_LINE_SRVC_UNIT_QTY", normalize="unpad_number"),
            BILLED_AMOUNT: _col("CLM_LINE_ALOWD_CHRG_AMT", normalize="unpad_number"),
            PLACE_OF_SERVICE: _col("CLM_POS_CD"),
        },
        required_columns=(
            "CUR_CLM_UNIQ_ID",
            "CLM_LINE_NUM",
            "BENE_MBI_ID",
            "CLM_LINE_FROM_DT",
            "CLM_LINE_HCPCS_CD",
            "CLM_LINE_SRVC_UNIT_QTY",
            "CLM_LINE_ALOWD_CHRG_AMT",
            "FILE_DATE",
        ),
        null_tokens=("~",),
        signature=("CUR_CLM_UNIQ_ID", "CLM_LINE_NUM", "CLM_LINE_HCPCS_CD"),
        supersede=Supersede(
            check="superseded_delivery",
            key=(CLAIM_ID, LINE_NUMBER),
            order_by="FILE_DATE",
            description="a later delivery (FILE_DATE) of the same CUR_CLM_UNIQ_ID and CLM_LINE_NUM replaces this copy",
        ),
        notes=(
            "CCLF5 carries no submitted charge: billed_amount is the allowed charge CLM_LINE_ALOWD_CHRG_AMT.",
            "FILE_DATE is YYYY-MM-DD or YYYYMMDD; copies of one line with equal or unreadable FILE_DATEs are "
            "all kept, and so rejected as duplicate_key: the feed does not say which one is current.",
            "CLM_ADJSMT_TYPE_CD (0 original, 1 cancellation, 2 adjustment) passes through; a cancellation "
            "delivered later supersedes the original like any later copy, and is itself adjudicated.",
        ),
    ),
    RIF_CARRIER: Layout(
        name=RIF_CARRIER,
        description="CMS RIF carrier claim lines (as served by the Blue Button / BFD pipeline), pipe-delimited",
        grain="one row per claim line (CLM_ID, LINE_NUM)",
        format="table",
        mapping={
            CLAIM_ID: _col("CLM_ID"),
            LINE_NUMBER: _col("LINE_NUM"),
            MEMBER_ID: _col("BENE_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("LINE_1ST_EXPNS_DT", "CLM_FROM_DT", normalize="date_dd_mon_yyyy"),
            PROCEDURE_CODE: _col("HCPCS_CD"),
            UNITS: _col("LINE_SRVC_CNT"),
            BILLED_AMOUNT: _col("LINE_SBMTD_CHRG_AMT"),
            PLACE_OF_SERVICE: _col("LINE_PLACE_OF_SRVC_CD"),
        },
        required_columns=(
            "CLM_ID",
            "LINE_NUM",
            "BENE_ID",
            "LINE_1ST_EXPNS_DT",
            "HCPCS_CD",
            "LINE_SRVC_CNT",
            "LINE_SBMTD_CHRG_AMT",
        ),
        separator="|",
        quote_char=None,
        extensions=(".txt", ".rif", ".dat"),
        signature=("CLM_ID", "LINE_NUM", "HCPCS_CD", "LINE_SBMTD_CHRG_AMT"),
        rejects=(
            RejectWhen(
                check="deleted_record",
                column="DML_IND",
                values=("DELETE",),
                description="the RIF record withdraws the line (DML_IND is DELETE)",
            ),
        ),
        notes=(
            "service_date is the line's first expense date, else the claim's CLM_FROM_DT.",
            "DML_IND INSERT and UPDATE rows are lines; DELETE rows go to rejects as deleted_record.",
        ),
    ),
    SYNPUF_CARRIER: Layout(
        name=SYNPUF_CARRIER,
        description="CMS DE-SynPUF carrier claims: one row per claim with 13 line slots",
        grain="one row per non-empty HCPCS_CD_n slot of a claim (CLM_ID, slot n)",
        format="table",
        mapping={
            CLAIM_ID: _col("CLM_ID"),
            LINE_NUMBER: _col("LINE_SLOT"),
            MEMBER_ID: _col("DESYNPUF_ID"),
            PAYER_ID: _const(_MEDICARE),
            PLAN_ID: _const(None),
            SERVICE_DATE: _col("CLM_FROM_DT", normalize="date_yyyymmdd"),
            PROCEDURE_CODE: _col("HCPCS_CD"),
            UNITS: _const("1"),
            BILLED_AMOUNT: _col("LINE_ALOWD_CHRG_AMT"),
            PLACE_OF_SERVICE: _const(None),
        },
        required_columns=("DESYNPUF_ID", "CLM_ID", "CLM_FROM_DT"),
        signature=("DESYNPUF_ID", "CLM_ID", "HCPCS_CD_1"),
        slots=Slots(
            count=13,
            stems=(
                "PRF_PHYSN_NPI",
                "TAX_NUM",
                "HCPCS_CD",
                "LINE_NCH_PMT_AMT",
                "LINE_BENE_PTB_DDCTBL_AMT",
                "LINE_BENE_PRMRY_PYR_PD_AMT",
                "LINE_COINSRNC_AMT",
                "LINE_ALOWD_CHRG_AMT",
                "LINE_PRCSG_IND_CD",
                "LINE_ICD9_DGNS_CD",
            ),
            required_stems=("HCPCS_CD", "LINE_ALOWD_CHRG_AMT"),
            present="HCPCS_CD",
            number_column="LINE_SLOT",
        ),
        notes=(
            "DE-SynPUF has no submitted charge per line: billed_amount is the allowed charge LINE_ALOWD_CHRG_AMT_n.",
            "Lines have no date, units or place of service of their own: service_date is the claim's "
            "CLM_FROM_DT, units 1, place_of_service null.",
        ),
    ),
    X12_837P: Layout(
        name=X12_837P,
        description="ASC X12 005010X222A2 professional claims (837P)",
        grain="one row per SV1 service line (2400 loop): CLM01, LX01",
        format="x12",
        mapping={
            CLAIM_ID: _col("CLM01"),
            LINE_NUMBER: _col("LX01"),
            MEMBER_ID: _col("NM109_IL"),
            PAYER_ID: _col("NM109_PR"),
            PLAN_ID: _col("SBR03"),
            SERVICE_DATE: _col("DTP03_472_LINE", "DTP03_472_CLAIM", normalize="x12_date_period"),
            PROCEDURE_CODE: _col("SV101_2", "SV101"),
            UNITS: _col("SV104"),
            BILLED_AMOUNT: _col("SV102"),
            PLACE_OF_SERVICE: _col("SV105", "CLM05_1"),
        },
        extensions=(".837", ".x12", ".edi"),
        notes=(
            "NM109_IL and NM109_PR are the subscriber's (2010BA) and payer's (2010BB) identifiers, and SBR03 "
            "the subscriber's group number (2000B); the other-payer loops of coordination of benefits "
            "(2320/2330x) are not used.",
            "A date range (RD8) gives its first day. An SV101 that does not split on the component "
            "separator of ISA16 is passed whole, so the line is rejected as malformed_procedure_code.",
        ),
    ),
}


# --------------------------------------------------------------------------------------------
# Paths and detection
# --------------------------------------------------------------------------------------------


def resolve_paths(inputs: Sequence[str]) -> list[str]:
    """Input arguments to files: globs expanded and sorted; each file must exist, be readable and non-empty.

    Raises ``InputError`` naming the argument: a pattern matching nothing, a
    missing file, a folder, a named pipe or device, an unreadable or 0-byte
    file, UTF-16 text, a file given twice (under any spelling: another relative
    path, an absolute path, a symlink). Names are literal once expanded: a
    file named ``claims [1].csv`` is that file, and a ``*`` in a name that
    exists matches nothing else.
    """
    paths: list[str] = []
    for item in inputs:
        # a path that exists is taken as is, so a name with '[' survives being expanded twice
        if glob.has_magic(item) and not os.path.exists(item):
            matched = sorted(glob.glob(item))
            if not matched:
                raise InputError(f"{item}: no file matches this pattern")
            paths.extend(matched)
        else:
            paths.append(item)
    if not paths:
        raise InputError("no input file given")
    seen: dict[tuple[int, int], str] = {}
    for path in paths:
        if not os.path.exists(path):
            raise InputError(f"{path}: file not found")
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder, not a file (use a glob such as {path}/*.csv)")
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            kind = "a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
            raise InputError(
                f"{path}: is {kind}, not a regular file; the adjudicator reads its inputs more than once "
                "and checksums them, so copy the data to a file first"
            )
        identity = (st.st_dev, st.st_ino)
        if identity in seen:
            first = seen[identity]
            also = "" if first == path else f" (also as {first})"
            raise InputError(f"{path}: given more than once{also}")
        seen[identity] = path
        if not os.access(path, os.R_OK):
            raise InputError(f"{path}: file is not readable")
        if st.st_size == 0:
            raise InputError(f"{path}: file is empty (0 bytes, not even a header line)")
        _check_not_utf16(path)
    return paths


#: byte-order marks of UTF-16 and UTF-32 text
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


def _check_not_utf16(path: str) -> None:
    """Stop with an encoding message for UTF-16 (or UTF-32) text, which would otherwise read as garbage."""
    head = _head(path, 4096)
    # without a mark, UTF-16 text of ASCII characters has a zero in every other byte
    halves = (head[0::2], head[1::2])
    wide = head.startswith(_WIDE_BOMS) or (
        len(head) >= 8 and head[:4] != b"PAR1" and any(h.count(0) * 10 >= len(h) * 9 for h in halves)
    )
    if wide:
        raise InputError(f"{path}: is UTF-16 (or UTF-32) text; re-export the file as UTF-8")


def _head(path: str, size: int = 65536) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(size)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _header_names(head: bytes) -> set[str]:
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[0] if head else ""
    return {name.strip().strip('"').strip() for name in re.split(r"[,|;\t]", first)}


def detect_layout(path: str) -> str:
    """The layout of ``path`` from its first bytes (an ISA segment, Parquet magic, or a header's column names).

    A text table whose header matches no other layout is taken as canonical, so
    that a missing column is reported as such; ``--layout`` always wins.
    """
    head = _head(path)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:3] == b"ISA":
        return X12_837P
    if head[:4] == b"PAR1":
        return CANONICAL_LAYOUT
    names = _header_names(head)
    matches = [
        name
        for name, spec in LAYOUT_SPECS.items()
        if name != CANONICAL_LAYOUT and spec.signature and set(spec.signature) <= names
    ]
    if len(matches) == 1:
        return matches[0]
    return CANONICAL_LAYOUT


# --------------------------------------------------------------------------------------------
# Tabular readers
# --------------------------------------------------------------------------------------------

_SEPARATOR_NAMES = {",": "comma", "|": "pipe", ";": "semicolon", "\t": "tab"}


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
        raise InputError(f"{path}: cannot be read as a {spec.name} file: {first_line(exc)}") from None
    if len(names) == 1 and len(spec.required_columns) > 1:
        header = names[0]
        if any(not ch.isprintable() for ch in header):
            raise InputError(f"{path}: does not look like a text table (its first line is not readable text)")
        found = [name for sep, name in _SEPARATOR_NAMES.items() if sep != spec.separator and sep in header]
        hint = f" (it looks {found[0]}-separated)" if found else ""
        raise InputError(
            f"{path}: the header has a single column {header[:60]!r}: a {spec.name} file is "
            f"{_SEPARATOR_NAMES.get(spec.separator, repr(spec.separator))}-separated{hint}"
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
        raise InputError(f"{path}: lacks required {spec.name} column(s) {shown}")


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
        ).filter(_not_blank(pl.col(slots.present)))
        parts.append(part)
    return pl.concat(parts, how="diagonal_relaxed")


def _not_blank(expr: pl.Expr) -> pl.Expr:
    return expr.is_not_null() & (expr.cast(pl.String).str.strip_chars() != "")


def _source_expr(source: Source, names: Sequence[str]) -> pl.Expr:
    present = [c for c in source.columns if c in names]
    if present:
        candidates = [pl.when(_not_blank(pl.col(c))).then(pl.col(c).cast(pl.String)) for c in present]
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


def _reject_flag(rule: RejectWhen, names: Sequence[str]) -> pl.Expr:
    if rule.column not in names:
        return pl.lit(False).alias(REJECT_PREFIX + rule.check)
    value = pl.col(rule.column).str.strip_chars().str.to_uppercase()
    return value.is_in(list(rule.values)).fill_null(False).alias(REJECT_PREFIX + rule.check)


def _with_source_file(frame: pl.LazyFrame, path: str, names: Sequence[str]) -> pl.LazyFrame:
    from adjudicator.readers.canonical import check_duplicate_names, check_extra_names

    check_duplicate_names(path, names)
    if SOURCE_FILE in names:
        raise InputError(f"{path}: has a column named {SOURCE_FILE!r}, which the adjudicator adds itself")
    check_extra_names(path, names)
    return frame.with_columns(pl.lit(path, dtype=pl.String).alias(SOURCE_FILE))


def _read_table_file(spec: Layout, path: str) -> pl.LazyFrame:
    """One delimited file of a non-canonical layout: checked, unpivoted if it has slots, flagged, mapped."""
    frame = _scan_text_table(spec, path)
    names = frame.collect_schema().names()
    _check_required(spec, path, names)
    if spec.slots is not None:
        frame = _unpivot_slots(frame, spec.slots, names)
    if spec.rejects:
        frame = frame.with_columns(_reject_flag(rule, names) for rule in spec.rejects)
    return _with_source_file(map_to_canonical(frame, spec), path, names)


def _read_x12_file(spec: Layout, path: str) -> pl.LazyFrame:
    from adjudicator.readers.x12 import read_837p

    lines = read_837p(path)
    return _with_source_file(map_to_canonical(lines.lazy(), spec), path, lines.columns)


def _file_date(column: str) -> pl.Expr:
    text = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.coalesce(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.when(text.str.contains(r"^[0-9]{8}$")).then(text.str.strptime(pl.Date, "%Y%m%d", strict=False)),
    )


def flag_superseded(frame: pl.LazyFrame, rule: Supersede) -> pl.LazyFrame:
    """Add ``_reject_<check>``: True for a copy whose ``order_by`` date is older than the latest of its key.

    Grain unchanged (one row per delivered copy). Needs the whole batch: copies
    of a line may come in different files.
    """
    delivered = _file_date(rule.order_by)
    older = (delivered < delivered.max().over(list(rule.key))).fill_null(False)
    return frame.with_columns(older.alias(REJECT_PREFIX + rule.check))


def supersede_rule(name: str) -> DeliveryRule | None:
    """Layout ``name``'s re-delivery rule as the prepass applies it (None when the layout has none)."""
    rule = LAYOUT_SPECS[name].supersede
    if rule is None:
        return None
    return DeliveryRule(check=rule.check, key=rule.key, delivered=_file_date(rule.order_by))


# --------------------------------------------------------------------------------------------
# Payers
# --------------------------------------------------------------------------------------------


def apply_payers(frame: pl.LazyFrame, *, payer: str | None = None, aliases: pl.DataFrame | None = None) -> pl.LazyFrame:
    """payer_id through the alias table (an identifier with no alias is kept), then ``payer`` on every line.

    Grain unchanged. When either changes anything, the payer_id as read is kept
    in ``payer_id_as_read``.
    """
    if payer is None and aliases is None:
        return frame
    read = pl.col(PAYER_ID).cast(pl.String)
    value = read
    if aliases is not None:
        value = value.replace(aliases["alias"], aliases["payer_id"])
    if payer is not None:
        value = pl.lit(payer, dtype=pl.String)
    return frame.with_columns(read.alias(PAYER_ID_AS_READ), value.alias(PAYER_ID))


# --------------------------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------------------------


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
    if name not in LAYOUT_SPECS:
        raise InputError(f"'layout' must be one of {', '.join(LAYOUTS)}, got {name!r}")
    spec = LAYOUT_SPECS[name]
    files = resolve_paths(paths)
    if spec.name == CANONICAL_LAYOUT:
        from adjudicator.readers.canonical import scan_canonical

        frame = scan_canonical(files)
    else:
        read = _read_x12_file if spec.format == "x12" else _read_table_file
        frames = [read(spec, path) for path in files]
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
    if spec.supersede is not None and flag_supersede:
        frame = flag_superseded(frame, spec.supersede)
    frame = apply_payers(frame, payer=payer, aliases=aliases)
    names = frame.collect_schema().names()
    flags = [c for c in names if c.startswith(REJECT_PREFIX)]
    return frame.select(*(c for c in names if c not in flags), *flags)


def describe_layout(spec: Layout) -> str:
    """One layout's declared mapping as Markdown (docs/layouts.md holds these blocks verbatim; a test checks)."""
    lines = [f"### `{spec.name}`", "", f"{spec.description}.", "", f"- grain: {spec.grain}"]
    if spec.format == "table" and spec.name != CANONICAL_LAYOUT:
        sep = _SEPARATOR_NAMES.get(spec.separator, repr(spec.separator))
        nulls = ", ".join(f"`{t}`" for t in spec.null_tokens) or "empty field only"
        lines.append(f"- file: {sep}-separated text with a header; null: {nulls}")
    if spec.required_columns and spec.name != CANONICAL_LAYOUT:
        lines.append(f"- required columns: {', '.join(f'`{c}`' for c in spec.required_columns)}")
    if spec.slots is not None:
        slots = spec.slots
        stems = ", ".join(f"`{stem}_n`" for stem in slots.stems)
        lines.append(
            f"- line slots n = 1..{slots.count}: {stems} (required: "
            f"{', '.join(f'`{s}_n`' for s in slots.required_stems)}); slot n is a line when "
            f"`{slots.present}_n` is not blank; its columns lose the `_n`, and `{slots.number_column}` = n"
        )
    for rule in spec.rejects:
        lines.append(f"- row-level reject `{rule.check}`: {rule.description}")
    if spec.supersede is not None:
        lines.append(f"- row-level reject `{spec.supersede.check}`: {spec.supersede.description}")
    lines += ["", "| canonical column | from |", "|---|---|"]
    lines += [f"| {c} | {spec.mapping[c].describe()} |" for c in CANONICAL_COLUMNS]
    if spec.notes:
        lines += ["", *(f"- {note}" for note in spec.notes)]
    return "\n".join(lines) + "\n"


def describe_layouts() -> str:
    """Every layout's ``describe_layout``, in ``LAYOUTS`` order."""
    return "\n".join(describe_layout(spec) for spec in LAYOUT_SPECS.values())
