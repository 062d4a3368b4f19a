"""The 837P reader's envelope findings in plain words: the defects that leave service lines readable (reported
per file, never fatal), and the plain message for a file that is not an 837 professional file at all.

pyx12 words its findings from its own point of view ("My HL count 4 does not match your HL count 7");
``plain`` rewrites each kind it emits into what is wrong with the file, naming the element (HL01, SE01, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class EnvelopeDefect:
    """One defect of a file's envelope or loop structure that the reader read past.

    ``segment`` counts from the ISA (1); ``text`` is the segment as written (shortened), empty for a finding at
    the end of the file; ``problem`` says what is wrong, in plain words.
    """

    segment: int
    text: str
    problem: str

    def as_json(self) -> dict[str, object]:
        return {"segment": self.segment, "text": self.text, "problem": self.problem}


_Rewrite = Callable[[re.Match[str]], str]

#: pyx12's wording (``pyx12.x12file``) -> plain words, one entry per kind of finding it emits
_PLAIN: Final[tuple[tuple[re.Pattern[str], _Rewrite], ...]] = tuple(
    (re.compile(pattern), rewrite)
    for pattern, rewrite in (
        (
            r"My HL count (\d+) does not match your HL count (.*)",
            lambda m: (
                f"HL01 is {m[2]!r} where {m[1]} was expected: HL segments number from 1 in each "
                "transaction set (numbering carried on from an earlier set?)"
            ),
        ),
        (
            r"HL parent \((.*)\) is not a valid parent",
            lambda m: f"HL02 names parent {m[1]!r}, which is no open HL level of this transaction set",
        ),
        (
            r"Your 2400/LX01 Service Line Number (.*) does not match my count of (\d+)",
            lambda m: f"LX01 is {m[1]!r} where {m[2]} was expected: service lines number from 1 in each claim",
        ),
        (r'Segment "(.*)" is empty', lambda m: "the segment is empty (it has no elements)"),
        (r'Segment identifier "(.*)" is invalid', lambda m: f"{m[1]!r} is not a segment identifier"),
        (r"Segment contains a leading space", lambda m: "the segment starts with a space"),
        (
            r"ISA Interchange Control Number (.*) not unique within file",
            lambda m: f"ISA13 control number {m[1]} is repeated: an earlier interchange of the file has it",
        ),
        (
            r"GS Interchange Control Number (.*) not unique within file",
            lambda m: f"GS06 group control number {m[1]} is repeated within its interchange",
        ),
        (
            r"ST Interchange Control Number (.*) not unique within file",
            lambda m: f"ST02 transaction set control number {m[1]} is repeated within its group",
        ),
        (
            r"IEA id=(.*) does not match ISA id=(.*)",
            lambda m: f"IEA02 control number {m[1]} differs from the ISA13 it closes ({m[2]})",
        ),
        (
            r"IEA count for IEA02=(.*) is wrong",
            lambda m: f"IEA01 does not match the number of functional groups in interchange {m[1]}",
        ),
        (
            r"GE id=(.*) does not match GS id=(.*)",
            lambda m: f"GE02 control number {m[1]} differs from the GS06 it closes ({m[2]})",
        ),
        (
            r"GE count of (.*) for GE02=(.*) is wrong\. I count (\d+)",
            lambda m: f"GE01 says {m[1]} transaction set(s), but group {m[2]} has {m[3]}",
        ),
        (
            r"SE id=(.*) does not match ST id=(.*)",
            lambda m: f"SE02 control number {m[1]} differs from the ST02 it closes ({m[2]})",
        ),
        (
            r"SE count of (.*) for SE02=(.*) is wrong\. I count (\d+)",
            lambda m: f"SE01 says {m[1]} segments, but transaction set {m[2]} has {m[3]}",
        ),
        (
            r"Unterminated Loop (.*)",
            lambda m: "IEA closes the interchange while a functional group is open (GE missing)",
        ),
        (
            r"Unterminated segment (.*)",
            lambda m: f"GE closes the group while transaction set {m[1]} is open (SE missing)",
        ),
        (
            r'Mandatory segment "Transaction Set Trailer" \(SE=(.*)\) missing',
            lambda m: f"the file ends without the SE closing transaction set {m[1]} (file truncated?)",
        ),
        (
            r'Mandatory segment "Functional Group Trailer" \(GE=(.*)\) missing',
            lambda m: f"the file ends without the GE closing group {m[1]} (file truncated?)",
        ),
        (
            r'Mandatory segment "Interchange Control Trailer" \(IEA=(.*)\) missing',
            lambda m: f"the file ends without the IEA closing interchange {m[1]} (file truncated?)",
        ),
    )
)


def plain(pyx12_text: str) -> str:
    """pyx12's finding in plain words (its own text when it is a kind not known here)."""
    for pattern, rewrite in _PLAIN:
        found = pattern.fullmatch(pyx12_text.strip())
        if found is not None:
            return rewrite(found)
    return pyx12_text


#: implementation guides (GS08) read as professional claims; 4010's 837P has the same SV1/LX/CLM shape
PROFESSIONAL_GUIDES: Final = ("005010X222", "004010X098")
#: other 837 guides, named in the message that refuses them
_OTHER_837: Final = {
    "X223": "an 837 institutional (X223) file",
    "X096": "an 837 institutional (X096) file",
    "X224": "an 837 dental (X224) file",
    "X097": "an 837 dental (X097) file",
}
#: transaction sets people mistake for claims, named in the message that refuses them
_OTHER_SETS: Final = {
    "835": "an 835 payment/remittance advice",
    "834": "an 834 enrollment file",
    "270": "a 270 eligibility inquiry",
    "271": "a 271 eligibility response",
    "276": "a 276 claim status inquiry",
    "277": "a 277 claim status response",
    "278": "a 278 services review",
    "999": "a 999 acknowledgment",
    "997": "a 997 acknowledgment",
}


def guide_problem(guide: str) -> str | None:
    """Why a functional group's guide (GS08) is not an 837 professional one; None when it is."""
    if guide.startswith(PROFESSIONAL_GUIDES):
        return None
    for code, kind in _OTHER_837.items():
        if code in guide:
            return f"{kind}, not professional (GS08 is {guide!r}; the x12-837p layout reads 005010X222 claims)"
    return f"not an 837 professional file: GS08 {guide!r} names no professional claim guide (005010X222...)"


def transaction_problem(kind: str | None) -> str | None:
    """Why a transaction set (ST01) is not an 837 claim; None when it is."""
    if kind == "837":
        return None
    named = _OTHER_SETS.get(kind or "", f"transaction set {kind!r}")
    return f"{named}, not an 837 professional claim file (ST01 is {kind!r})"


__all__ = ["PROFESSIONAL_GUIDES", "EnvelopeDefect", "guide_problem", "plain", "transaction_problem"]
