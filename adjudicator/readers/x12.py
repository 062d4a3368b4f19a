"""The 837P reader: ASC X12 005010X222A2 interchanges to one row per SV1 service line, as source columns.

pyx12's envelope-level reader (``pyx12.x12file.X12Reader``) splits segments
with the delimiters the ISA declares (element separator ISA character 4,
component separator ISA16, segment terminator after it) and checks the
envelope: ISA/IEA, GS/GE and ST/SE pairing, control numbers, segment and
transaction counts, HL parents and LX numbering. Its findings, and the loop
walk's, are envelope defects (``x12_envelope``): recorded per file and read
past, so that every service line is a row. pyx12's map-driven parser is not
used: it ships no 005010X222A2 map. The loop walk below is ours and only
follows what the mapping needs.

Grain of ``read_837p``: one row per SV1 (loop 2400), with the claim (2300),
subscriber (2000B/2010BA), payer (2010BB) and envelope fields it belongs to.
Columns are named by X12 reference designator (``CLM01``, ``SV101_2``, ...);
``adjudicator.readers.catalog`` maps them to the canonical layout. Every value is text.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import polars as pl

from adjudicator.contract import (
    REJECT_PREFIX,
    X12_CLAIM_UNKNOWN,
    X12_LINE_NUMBER_UNKNOWN,
    X12_REJECT_CHECKS,
    X12_SEGMENT_CUT_OFF,
)
from adjudicator.errors import InputError
from adjudicator.readers.x12_envelope import EnvelopeDefect, guide_problem, plain, transaction_problem
from adjudicator.readers.x12_text import WalkProgress, x12_text

if TYPE_CHECKING:
    from pyx12.segment import Segment

#: the columns ``read_837p`` returns, in order
COLUMNS: Final = (
    "CLM01",
    "LX01",
    "NM109_IL",
    "NM109_PR",
    "NM103_PR",
    "SBR03",
    "SBR09",
    "DTP03_472_LINE",
    "DTP03_472_CLAIM",
    "SV101",
    "SV101_1",
    "SV101_2",
    "SV101_3",
    "SV101_4",
    "SV101_5",
    "SV101_6",
    "SV102",
    "SV103",
    "SV104",
    "SV105",
    "CLM02",
    "CLM05_1",
    "ISA13",
    "GS06",
    "ST02",
    "X12_SEGMENT",
)

#: the reader's row-level reject flags (``REJECT_PREFIX`` + check), Boolean, after ``COLUMNS``
FLAGS: Final = tuple(REJECT_PREFIX + c for c in X12_REJECT_CHECKS)
#: pyx12 findings not worth a word (trailing empty elements are allowed by the guides' writers in practice)
_TOLERATED: Final = frozenset({"SEG1"})


#: one service line being read: source columns (text) and reject flags
_Row = dict[str, str | bool | None]


@dataclass
class _Subscriber:
    """2000B subscriber loop: the member, payer and group of every claim below it."""

    member: str | None = None
    payer: str | None = None
    payer_name: str | None = None
    group: str | None = None
    filing: str | None = None


@dataclass
class _Claim:
    """2300 claim loop."""

    clm01: str | None
    clm02: str | None
    clm05_1: str | None
    subscriber: _Subscriber | None
    date_472: str | None = None
    lines: list[_Row] = field(default_factory=list)


class _NotProfessional(Exception):
    """The file is X12 but not an 837 professional claim file; ``read_837p_file`` names the segment."""


def _value(seg: Segment, ref: str) -> str | None:
    got = seg.get_value(ref)
    return got if got not in (None, "") else None


def _subscriber_fields(sub: _Subscriber | None) -> _Row:
    sub = sub or _Subscriber()
    return {
        "NM109_IL": sub.member,
        "NM109_PR": sub.payer,
        "NM103_PR": sub.payer_name,
        "SBR03": sub.group,
        "SBR09": sub.filing,
    }


def _shown(seg: Segment) -> str:
    text = seg.format().rstrip(seg.seg_term or "~")
    return text if len(text) <= 60 else text[:57] + "..."


class _Walker:
    """The loop state of one file, fed segment by segment; a defect that leaves lines readable is noted
    (``defects``) and the walk goes on, so every SV1 becomes a row."""

    def __init__(self) -> None:
        self.rows: list[_Row] = []
        self.defects: list[EnvelopeDefect] = []
        self.number = 0
        self.shown = ""
        self.isa13: str | None = None
        self.gs06: str | None = None
        self.st02: str | None = None
        self._reset_transaction()

    def _reset_transaction(self) -> None:
        self.loop: str | None = None
        self.subscribers: dict[str, _Subscriber] = {}
        self.subscriber: _Subscriber | None = None
        self.claim: _Claim | None = None
        self.line: _Row | None = None
        self.lx: str | None = None
        self.lx_at: tuple[int, str] = (0, "")

    def note(self, problem: str, *, at_end: bool = False) -> None:
        """A defect of the segment being read (``at_end``: found at the end of the file)."""
        self.defects.append(EnvelopeDefect(self.number, "" if at_end else self.shown, problem))

    def _close_line(self) -> None:
        if self.lx is not None and self.line is None:
            number, shown = self.lx_at
            self.defects.append(EnvelopeDefect(number, shown, f"LX*{self.lx} has no SV1 service line"))
        self.line = None
        self.lx = None

    def _envelope(self) -> _Row:
        return {"ISA13": self.isa13, "GS06": self.gs06, "ST02": self.st02}

    def close_claim(self) -> None:
        self._close_line()
        claim = self.claim
        if claim is None:
            return
        if not claim.lines:
            self.note(f"claim CLM*{claim.clm01} has no service line (LX/SV1)")
        for line in claim.lines:
            line.update(
                CLM01=claim.clm01,
                CLM02=claim.clm02,
                CLM05_1=claim.clm05_1,
                DTP03_472_CLAIM=claim.date_472,
                **_subscriber_fields(claim.subscriber),
            )
            self.rows.append(line)
        self.claim = None

    def feed(self, seg: Segment, number: int, shown: str, *, cut_off: bool = False) -> None:
        self.number, self.shown = number, shown
        seg_id = seg.get_seg_id()
        if seg_id == "SV1":
            self._on_SV1(seg, cut_off=cut_off)
            return
        handler = getattr(self, f"_on_{seg_id}", None)
        if handler is not None:
            handler(seg)

    def _on_ISA(self, seg: Segment) -> None:
        self.close_claim()
        self.isa13 = _value(seg, "ISA13")

    def _on_GS(self, seg: Segment) -> None:
        self.close_claim()
        problem = guide_problem(_value(seg, "GS08") or "")
        if problem is not None:
            raise _NotProfessional(problem)
        self.gs06 = _value(seg, "GS06")

    def _on_ST(self, seg: Segment) -> None:
        # a claim still open here lost its SE: its lines are read all the same (pyx12 reports the SE)
        self.close_claim()
        problem = transaction_problem(_value(seg, "ST01"))
        if problem is not None:
            raise _NotProfessional(problem)
        self.st02 = _value(seg, "ST02")
        self._reset_transaction()
        self.loop = "header"

    def _on_SE(self, seg: Segment) -> None:
        self.close_claim()
        self._reset_transaction()

    def _on_HL(self, seg: Segment) -> None:
        self.close_claim()
        level = _value(seg, "HL03")
        if level == "22":
            self.subscriber = _Subscriber()
            self.subscribers[_value(seg, "HL01") or ""] = self.subscriber
            self.loop = "2000B"
        elif level == "23":
            self.subscriber = self.subscribers.get(_value(seg, "HL02") or "")
            if self.subscriber is None:
                self.note(f"the patient level HL*{_value(seg, 'HL01')} names no subscriber HL of its set")
            self.loop = "2000C"
        else:
            self.subscriber = None
            self.loop = "2000A"

    def _on_SBR(self, seg: Segment) -> None:
        if self.loop == "2000B" and self.subscriber is not None:
            self.subscriber.group = _value(seg, "SBR03")
            self.subscriber.filing = _value(seg, "SBR09")
        elif self.claim is not None:
            self._close_line()
            self.loop = "2320"  # other subscriber (coordination of benefits): not this claim's payer

    def _on_NM1(self, seg: Segment) -> None:
        if self.loop == "2000B" and self.subscriber is not None:
            entity = _value(seg, "NM101")
            if entity == "IL":
                self.subscriber.member = _value(seg, "NM109")
            elif entity == "PR":
                self.subscriber.payer = _value(seg, "NM109")
                self.subscriber.payer_name = _value(seg, "NM103")
        elif self.loop == "2400":
            self.loop = "2420"

    def _on_CLM(self, seg: Segment) -> None:
        self.close_claim()
        if self.loop not in ("2000B", "2000C", "2300", "2320", "2400", "2420", "2430"):
            # its lines are read; with no subscriber they lack member and payer, and are rejected for it
            self.note("CLM outside a subscriber or patient loop (no HL*22 or HL*23 before it)")
        self.claim = _Claim(
            clm01=_value(seg, "CLM01"),
            clm02=_value(seg, "CLM02"),
            clm05_1=_value(seg, "CLM05-1"),
            subscriber=self.subscriber,
        )
        self.loop = "2300"

    def _on_DTP(self, seg: Segment) -> None:
        if _value(seg, "DTP01") != "472":
            return
        if self.loop == "2300" and self.claim is not None:
            self.claim.date_472 = _value(seg, "DTP03")
        elif self.loop == "2400" and self.line is not None:
            self.line["DTP03_472_LINE"] = _value(seg, "DTP03")

    def _on_LX(self, seg: Segment) -> None:
        self._close_line()
        if self.claim is None:
            self.note("LX outside a claim (no CLM before it in its transaction set)")
        self.lx = _value(seg, "LX01")
        self.lx_at = (self.number, self.shown)
        self.loop = "2400"

    def _on_SV1(self, seg: Segment, *, cut_off: bool) -> None:
        own_lx = self.lx is not None and self.loop == "2400" and self.line is None
        if self.lx is not None and self.line is not None:
            self.note(f"second SV1 in service line LX*{self.lx}: its line number is unknown")
        elif not own_lx and self.claim is not None:
            self.note("SV1 without LX (a service line must open with LX): its line number is unknown")
        line: _Row = {
            "LX01": self.lx if own_lx else None,
            "SV101": _value(seg, "SV101"),
            **{f"SV101_{i}": _value(seg, f"SV101-{i}") for i in range(1, 7)},
            "SV102": _value(seg, "SV102"),
            "SV103": _value(seg, "SV103"),
            "SV104": _value(seg, "SV104"),
            "SV105": _value(seg, "SV105"),
            "DTP03_472_LINE": None,
            "X12_SEGMENT": str(self.number),
            **self._envelope(),
            REJECT_PREFIX + X12_CLAIM_UNKNOWN: self.claim is None,
            REJECT_PREFIX + X12_LINE_NUMBER_UNKNOWN: not own_lx,
            REJECT_PREFIX + X12_SEGMENT_CUT_OFF: cut_off,
        }
        if own_lx:
            self.line = line
        if self.claim is None:
            self.note("SV1 outside a claim (no CLM before it in its transaction set): its claim is unknown")
            # the subscriber above it still says whose line it is, for the reject
            line.update(_subscriber_fields(self.subscriber))
            self.rows.append(line)
        else:
            self.claim.lines.append(line)
        self.loop = "2400"

    def _on_SVD(self, seg: Segment) -> None:
        if self.loop in ("2400", "2420"):
            self.loop = "2430"


@dataclass(frozen=True)
class X12File:
    """One 837P file read: its service lines (``COLUMNS`` as text, then ``FLAGS``) and its envelope's defects."""

    lines: pl.DataFrame
    defects: tuple[EnvelopeDefect, ...]


def _findings(reader: Any, walker: _Walker, *, at_end: bool = False) -> None:
    for finding in reader.pop_errors():
        if finding[1] not in _TOLERATED:
            walker.note(plain(finding[2]), at_end=at_end)


def read_837p_file(path: str, *, progress: Callable[[int], None] | None = None) -> X12File:
    """Every SV1 service line of the 837P interchange(s) in ``path``, one row each, and the envelope's defects.

    A defect that leaves the lines readable is recorded, never fatal: HL or LX
    numbering, control numbers or counts that do not match, repeated control
    numbers, an empty segment, missing trailers. A line whose claim (no CLM) or
    line number (no LX of its own) cannot be determined, or that the end of the
    file cuts, is still a row, flagged for rejection (``FLAGS``). Raises
    ``InputError`` only for a file that is not X12 or not an 837 professional
    claim file, saying which. ``progress``: called with the bytes more read as the walk goes (they add up to
    the file's size once it is read).
    """
    try:
        import pyx12.errors
        import pyx12.segment
        import pyx12.x12file
    except ImportError:  # pragma: no cover - pyx12 is a dependency; this names it if an install lacks it
        raise InputError("reading 837P files needs the pyx12 package (pip install pyx12)", path=path) from None

    text, size = x12_text(path)
    walker = _Walker()
    stream = io.StringIO(text)
    reported = WalkProgress(stream, size, progress)
    try:
        reader = pyx12.x12file.X12Reader(stream)
    except pyx12.errors.X12Error as exc:
        raise InputError(f"not an X12 file: segment 1 (ISA) cannot be read: {exc}", path=path) from None
    reader.check_837_lx = True
    try:
        for seg in reader:
            # the loop walk first: its finding (an SV1 without LX) is more telling than the count it upsets
            walker.feed(seg, walker.number + 1, _shown(seg))
            _findings(reader, walker)
            reported.now(walker.number)
        # RawX12File stops at the last segment terminator: text after it is a cut-off segment
        leftover = reader.raw.buffer.strip()
        if leftover:
            seg = pyx12.segment.Segment(leftover, reader.seg_term, reader.ele_term, reader.subele_term)
            walker.feed(seg, walker.number + 1, _shown(seg), cut_off=True)
            walker.note("the file ends inside this segment (no segment terminator): file truncated?")
        walker.close_claim()
        reader.cleanup()
        _findings(reader, walker, at_end=True)
    except _NotProfessional as exc:
        raise InputError(f"{exc} (segment {walker.number} {walker.shown!r})", path=path) from None
    except pyx12.errors.X12Error as exc:
        raise InputError(
            f"not a readable X12 file: segment {walker.number} {walker.shown!r}: {exc}", path=path
        ) from None

    data: dict[str, list[Any]] = {c: [row.get(c) for row in walker.rows] for c in (*COLUMNS, *FLAGS)}
    schema = {**{c: pl.String for c in COLUMNS}, **{c: pl.Boolean for c in FLAGS}}
    lines = pl.DataFrame(data, schema=schema)
    reported.end()
    return X12File(lines, tuple(walker.defects))


def read_837p(path: str, *, progress: Callable[[int], None] | None = None) -> pl.DataFrame:
    """``read_837p_file``'s lines only; the file's defects are kept for ``envelope_defects``. ``progress``: as
    ``read_837p_file``'s."""
    read = read_837p_file(path, progress=progress)
    _DEFECTS[_identity(path)] = read.defects
    return read.lines


#: the defects found when a file was read, by the file's identity: the manifest names them without reading the
#: file again (the run's input watch proves the file did not change in between)
_DEFECTS: dict[tuple[object, ...], tuple[EnvelopeDefect, ...]] = {}


def _identity(path: str) -> tuple[object, ...]:
    st = os.stat(path)
    return (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def envelope_defects(path: str) -> tuple[EnvelopeDefect, ...]:
    """The envelope defects of the 837P file ``path`` (read again only if it was not read in this process)."""
    known = _DEFECTS.get(_identity(path))
    return known if known is not None else read_837p_file(path).defects
