"""The 837P reader: ASC X12 005010X222A2 interchanges to one row per SV1 service line, as source columns.

pyx12's envelope-level reader (``pyx12.x12file.X12Reader``) splits segments
with the delimiters the ISA declares (element separator ISA character 4,
component separator ISA16, segment terminator after it) and checks the
envelope: ISA/IEA, GS/GE and ST/SE pairing, control numbers, segment and
transaction counts, HL parents and LX numbering. pyx12's map-driven parser is
not used: it ships no 005010X222A2 map. The loop walk below is ours and only
follows what the mapping needs.

Grain of ``read_837p``: one row per SV1 (loop 2400), with the claim (2300),
subscriber (2000B/2010BA), payer (2010BB) and envelope fields it belongs to.
Columns are named by X12 reference designator (``CLM01``, ``SV101_2``, ...);
``adjudicator.readers.catalog`` maps them to the canonical layout. Every value is text.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

import polars as pl

from adjudicator.errors import InputError

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

#: implementation guides read as professional claims (GS08); 4010's 837P has the same SV1/LX/CLM shape
_PROFESSIONAL_GUIDES: Final = ("005010X222", "004010X098")
#: pyx12 findings that do not make an interchange unreadable (trailing empty elements)
_TOLERATED: Final = frozenset({"SEG1"})


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
    lines: list[dict[str, str | None]] = field(default_factory=list)


class _Malformed(Exception):
    """A structural problem; ``read_837p`` turns it into an ``InputError`` naming the segment."""


def _value(seg: Segment, ref: str) -> str | None:
    got = seg.get_value(ref)
    return got if got not in (None, "") else None


class _Walker:
    """The loop state of one transaction set, fed segment by segment."""

    def __init__(self) -> None:
        self.rows: list[dict[str, str | None]] = []
        self.isa13: str | None = None
        self.gs06: str | None = None
        self.st02: str | None = None
        self._reset_transaction()

    def _reset_transaction(self) -> None:
        self.loop: str | None = None
        self.subscribers: dict[str, _Subscriber] = {}
        self.subscriber: _Subscriber | None = None
        self.claim: _Claim | None = None
        self.line: dict[str, str | None] | None = None
        self.lx: str | None = None

    def _close_line(self) -> None:
        if self.lx is not None and self.line is None:
            raise _Malformed(f"LX*{self.lx} has no SV1 service line")
        self.line = None
        self.lx = None

    def _close_claim(self) -> None:
        self._close_line()
        claim = self.claim
        if claim is None:
            return
        if not claim.lines:
            raise _Malformed(f"claim CLM*{claim.clm01} has no service line (LX/SV1)")
        sub = claim.subscriber or _Subscriber()
        for line in claim.lines:
            line.update(
                CLM01=claim.clm01,
                CLM02=claim.clm02,
                CLM05_1=claim.clm05_1,
                DTP03_472_CLAIM=claim.date_472,
                NM109_IL=sub.member,
                NM109_PR=sub.payer,
                NM103_PR=sub.payer_name,
                SBR03=sub.group,
                SBR09=sub.filing,
                ISA13=self.isa13,
                GS06=self.gs06,
                ST02=self.st02,
            )
            self.rows.append(line)
        self.claim = None

    def feed(self, seg: Segment, number: int) -> None:
        seg_id = seg.get_seg_id()
        handler = getattr(self, f"_on_{seg_id}", None)
        if handler is not None:
            handler(seg, number)

    def _on_ISA(self, seg: Segment, number: int) -> None:
        self.isa13 = _value(seg, "ISA13")

    def _on_GS(self, seg: Segment, number: int) -> None:
        guide = _value(seg, "GS08") or ""
        if not guide.startswith(_PROFESSIONAL_GUIDES):
            raise _Malformed(
                f"GS08 {guide!r} is not a professional claim guide ({' or '.join(_PROFESSIONAL_GUIDES)}...)"
            )
        self.gs06 = _value(seg, "GS06")

    def _on_ST(self, seg: Segment, number: int) -> None:
        if _value(seg, "ST01") != "837":
            raise _Malformed(f"transaction set {_value(seg, 'ST01')!r} is not an 837")
        self.st02 = _value(seg, "ST02")
        self._reset_transaction()
        self.loop = "header"

    def _on_SE(self, seg: Segment, number: int) -> None:
        self._close_claim()
        self._reset_transaction()

    def _on_HL(self, seg: Segment, number: int) -> None:
        self._close_claim()
        level = _value(seg, "HL03")
        if level == "22":
            self.subscriber = _Subscriber()
            self.subscribers[_value(seg, "HL01") or ""] = self.subscriber
            self.loop = "2000B"
        elif level == "23":
            self.subscriber = self.subscribers.get(_value(seg, "HL02") or "")
            self.loop = "2000C"
        else:
            self.subscriber = None
            self.loop = "2000A"

    def _on_SBR(self, seg: Segment, number: int) -> None:
        if self.loop == "2000B" and self.subscriber is not None:
            self.subscriber.group = _value(seg, "SBR03")
            self.subscriber.filing = _value(seg, "SBR09")
        elif self.claim is not None:
            self._close_line()
            self.loop = "2320"  # other subscriber (coordination of benefits): not this claim's payer

    def _on_NM1(self, seg: Segment, number: int) -> None:
        if self.loop == "2000B" and self.subscriber is not None:
            entity = _value(seg, "NM101")
            if entity == "IL":
                self.subscriber.member = _value(seg, "NM109")
            elif entity == "PR":
                self.subscriber.payer = _value(seg, "NM109")
                self.subscriber.payer_name = _value(seg, "NM103")
        elif self.loop == "2400":
            self.loop = "2420"

    def _on_CLM(self, seg: Segment, number: int) -> None:
        self._close_claim()
        if self.loop not in ("2000B", "2000C", "2300", "2320", "2400", "2420", "2430"):
            raise _Malformed("CLM outside a subscriber or patient loop (no HL*22 or HL*23 before it)")
        self.claim = _Claim(
            clm01=_value(seg, "CLM01"),
            clm02=_value(seg, "CLM02"),
            clm05_1=_value(seg, "CLM05-1"),
            subscriber=self.subscriber,
        )
        self.loop = "2300"

    def _on_DTP(self, seg: Segment, number: int) -> None:
        if _value(seg, "DTP01") != "472":
            return
        if self.loop == "2300" and self.claim is not None:
            self.claim.date_472 = _value(seg, "DTP03")
        elif self.loop == "2400" and self.line is not None:
            self.line["DTP03_472_LINE"] = _value(seg, "DTP03")

    def _on_LX(self, seg: Segment, number: int) -> None:
        if self.claim is None:
            raise _Malformed("LX outside a claim (no CLM before it)")
        self._close_line()
        self.lx = _value(seg, "LX01")
        self.loop = "2400"

    def _on_SV1(self, seg: Segment, number: int) -> None:
        if self.claim is None or self.lx is None or self.loop != "2400":
            raise _Malformed("SV1 without LX (a service line must open with LX)")
        if self.line is not None:
            raise _Malformed(f"second SV1 in service line LX*{self.lx}")
        self.line = {
            "LX01": self.lx,
            "SV101": _value(seg, "SV101"),
            **{f"SV101_{i}": _value(seg, f"SV101-{i}") for i in range(1, 7)},
            "SV102": _value(seg, "SV102"),
            "SV103": _value(seg, "SV103"),
            "SV104": _value(seg, "SV104"),
            "SV105": _value(seg, "SV105"),
            "DTP03_472_LINE": None,
            "X12_SEGMENT": str(number),
        }
        self.claim.lines.append(self.line)

    def _on_SVD(self, seg: Segment, number: int) -> None:
        if self.loop in ("2400", "2420"):
            self.loop = "2430"


def _shown(seg: Segment) -> str:
    text = seg.format().rstrip(seg.seg_term or "~")
    return text if len(text) <= 60 else text[:57] + "..."


def read_837p(path: str) -> pl.DataFrame:
    """Every SV1 service line of the 837P interchange(s) in ``path``, one row each, columns ``COLUMNS``.

    Raises ``InputError`` naming the file and the segment (its number from the
    ISA, counting from 1, and its text) for a malformed interchange: a broken
    envelope (missing IEA/GE/SE, a count or control number that does not
    match), an SV1 without LX, an LX without SV1, a claim with no line.
    """
    try:
        import pyx12.errors
        import pyx12.x12file
    except ImportError:  # pragma: no cover - pyx12 is a dependency; this names it if an install lacks it
        raise InputError("reading 837P files needs the pyx12 package (pip install pyx12)", path=path) from None

    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read as X12 text: {exc}", path=path) from None
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("ISA"):
        raise InputError(f"malformed interchange: segment 1 {stripped[:20]!r} is not an ISA segment", path=path)

    walker = _Walker()
    number = 0
    last = "ISA"
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(stripped))
    except pyx12.errors.X12Error as exc:
        raise InputError(f"malformed interchange: segment 1 (ISA): {exc}", path=path) from None
    reader.check_837_lx = True
    try:
        for seg in reader:
            number += 1
            last = _shown(seg)
            # the loop walk first: its finding (an SV1 without LX) is more telling than the count it upsets
            walker.feed(seg, number)
            problems = [e for e in reader.pop_errors() if e[1] not in _TOLERATED]
            if problems:
                raise _Malformed(problems[0][2])
        # RawX12File stops at the last segment terminator: text after it is a cut-off segment
        leftover = reader.raw.buffer.strip()
        if leftover:
            raise InputError(
                f"malformed interchange: after segment {number} {last!r}: {leftover[:40]!r} is not a "
                "terminated segment (file truncated, or an empty segment before it?)",
                path=path,
            )
        reader.cleanup()
        problems = [e for e in reader.pop_errors() if e[1] not in _TOLERATED]
        if problems:
            raise InputError(
                f"malformed interchange: after segment {number} {last!r}: {problems[0][2]} (file truncated?)", path=path
            )
        if walker.claim is not None or walker.line is not None:
            raise InputError(f"malformed interchange: after segment {number} {last!r}: SE missing", path=path)
    except _Malformed as exc:
        raise InputError(f"malformed interchange: segment {number} {last!r}: {exc}", path=path) from None
    except pyx12.errors.X12Error as exc:
        raise InputError(f"malformed interchange: segment {number} {last!r}: {exc}", path=path) from None

    data = {c: [row.get(c) for row in walker.rows] for c in COLUMNS}
    return pl.DataFrame(data, schema={c: pl.String for c in COLUMNS})
