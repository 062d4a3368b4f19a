"""837P files with envelope defects lose no lines: every SV1 is read (or rejected with the check saying why),
the defects are reported per file in plain words, and only a file that is not an 837P is refused.

The fixtures under ``tests/fixtures/x12-defects`` are ``tests/fixtures/layouts/professional.837`` with one
defect each (two transaction sets where the defect needs them).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import REJECT_PREFIX
from adjudicator.errors import InputError
from adjudicator.readers.scan import scan_layout
from tests.helpers import ROOT

# the reader's reject checks, spelled out: the contract must name them so (adjudicator.contract)
X12_CLAIM_UNKNOWN = "x12_claim_unknown"
X12_LINE_NUMBER_UNKNOWN = "x12_line_number_unknown"
X12_SEGMENT_CUT_OFF = "x12_segment_cut_off"

DEFECTS = ROOT / "tests" / "fixtures" / "x12-defects"
PROFESSIONAL = ROOT / "tests" / "fixtures" / "layouts" / "professional.837"

# (fixture, service lines read, (segment, words the defect's problem holds))
CASES = [
    ("hl-numbering-carried-on.837", 6, (36, "HL01 is '3' where 1 was expected")),
    ("iea-control-number-differs.837", 3, (32, "IEA02 control number 000000999 differs from the ISA13")),
    ("se-count-wrong.837", 3, (30, "SE01 says 30 segments, but transaction set 0001 has 28")),
    ("empty-n4.837", 3, (11, "the segment is empty")),
    ("repeated-control-number.837", 6, (31, "ST02 transaction set control number 0001 is repeated")),
    ("line-without-claim-or-lx.837", 3, (19, "SV1 outside a claim")),
]


@pytest.mark.parametrize(("name", "lines", "defect"), CASES, ids=[c[0] for c in CASES])
def test_an_envelope_defect_leaves_every_service_line_read_and_is_reported(
    name: str, lines: int, defect: tuple[int, str]
) -> None:
    path = str(DEFECTS / name)
    frame = scan_layout("x12-837p", [path]).collect()
    assert frame.height == lines
    from adjudicator.readers.x12 import envelope_defects

    found = envelope_defects(path)
    segment, words = defect
    assert any(d.segment == segment and words in d.problem for d in found), found
    assert all("My HL count" not in d.problem and "I count" not in d.problem for d in found)


def test_a_clean_file_has_no_envelope_defect() -> None:
    from adjudicator.readers.x12 import read_837p_file

    assert read_837p_file(str(PROFESSIONAL)).defects == ()


def test_lines_without_a_claim_or_a_line_number_are_flagged_with_the_check_saying_why() -> None:
    frame = scan_layout("x12-837p", [str(DEFECTS / "line-without-claim-or-lx.837")]).collect()
    flags = frame.select(
        "claim_id", "line_number", REJECT_PREFIX + X12_CLAIM_UNKNOWN, REJECT_PREFIX + X12_LINE_NUMBER_UNKNOWN
    ).rows()
    assert flags == [(None, "1", True, False), (None, "2", True, False), ("WH-1002", None, False, True)]
    from adjudicator.contract import LAYOUT_REJECT_CHECKS, X12_REJECT_CHECKS

    assert X12_REJECT_CHECKS == (X12_CLAIM_UNKNOWN, X12_LINE_NUMBER_UNKNOWN, X12_SEGMENT_CUT_OFF)
    assert set(X12_REJECT_CHECKS) <= set(LAYOUT_REJECT_CHECKS)


@pytest.mark.parametrize(
    ("pyx12_text", "expected"),
    [
        ("My HL count 1 does not match your HL count 3", "HL01 is '3' where 1 was expected"),
        ("SE count of 30 for SE02=0001 is wrong. I count 28", "SE01 says 30 segments, but transaction set 0001 has 28"),
        ("IEA id=9 does not match ISA id=1", "IEA02 control number 9 differs from the ISA13 it closes (1)"),
        ("GE count of 2 for GE02=7 is wrong. I count 1", "GE01 says 2 transaction set(s), but group 7 has 1"),
        ("ISA Interchange Control Number 5 not unique within file", "ISA13 control number 5 is repeated"),
        ('Mandatory segment "Interchange Control Trailer" (IEA=5) missing', "the file ends without the IEA"),
        ("something pyx12 may add one day", "something pyx12 may add one day"),
    ],
)
def test_pyx12_findings_are_put_in_plain_words(pyx12_text: str, expected: str) -> None:
    from adjudicator.readers.x12_envelope import plain

    assert expected in plain(pyx12_text)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (lambda t: t.replace("X*005010X222A2", "X*005010X223A2"), "an 837 institutional (X223) file, not professional"),
        (lambda t: t.replace("X*005010X222A2", "X*005010X224A2"), "an 837 dental (X224) file, not professional"),
        (lambda t: t.replace("ST*837*", "ST*835*"), "an 835 payment/remittance advice, not an 837 professional"),
        (lambda t: "hello\n", "not an X12 file"),
    ],
    ids=["institutional", "dental", "835", "not x12"],
)
def test_only_a_file_that_is_not_an_837p_is_refused_and_the_message_says_what_it_is(
    tmp_path: Path, content: object, words: str
) -> None:
    path = tmp_path / "x.837"
    path.write_text(content(PROFESSIONAL.read_text()))  # type: ignore[operator]
    with pytest.raises(InputError) as caught:
        scan_layout("x12-837p", [str(path)]).collect()
    message = str(caught.value)
    assert words in message and "malformed interchange" not in message and "\n" not in message


@pytest.mark.e2e
def test_a_run_accounts_for_every_line_and_records_the_defects_per_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    inputs = [str(DEFECTS / "line-without-claim-or-lx.837"), str(DEFECTS / "se-count-wrong.837")]
    code = main(["run", *inputs, "--layout", "x12-837p", "--out", str(out), "--quiet"])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["read"] == 6 and manifest["counts"]["reconciled"]
    rejects = pl.read_parquet(out / "rejects.parquet")
    checks = rejects.filter(pl.col("source_file") == inputs[0])["failed_checks"].to_list()
    assert sum(X12_CLAIM_UNKNOWN in c for c in checks) == 2
    assert sum(X12_LINE_NUMBER_UNKNOWN in c for c in checks) == 1
    per_file = {Path(i["path"]).name: i["envelope_defects"] for i in manifest["inputs"]}
    assert [d["segment"] for d in per_file["se-count-wrong.837"]] == [30]
    assert [i["envelope_defects_found"] for i in manifest["inputs"]] == [6, 1]
    assert "SE01 says 30 segments" in per_file["se-count-wrong.837"][0]["problem"]
    html = (out / "report.html").read_text()
    assert 'id="envelope-defects"' in html and "SE01 says 30 segments" in html


def _changed(*, drop: int = 0, cut: int | None = None, replace: tuple[str, str] | None = None) -> str:
    text = PROFESSIONAL.read_text()
    if replace is not None:
        text = text.replace(*replace)
    if drop:
        text = "~\n".join(text.split("~\n")[: -drop - 1]) + "~\n"
    if cut is not None:
        text = text[:cut]
    return text


# (case, content, service lines read, words a defect holds): files refused whole before, read now
READ_PAST = [
    ("truncated mid-segment", _changed(cut=700), 2, "the file ends inside this segment"),
    ("truncated in IEA", _changed(cut=-6), 3, "the file ends inside this segment"),
    ("without its trailers", _changed(drop=3), 3, "the file ends without the IEA"),
    (
        "SV1 without LX",
        _changed(replace=("HI*ABK:S39012A~\nLX*1~\nSV1*HC:97545*", "HI*ABK:S39012A~\nSV1*HC:97545*")),
        3,
        "SV1 without LX",
    ),
    ("two SV1 in one LX", _changed(replace=("LX*2~\n", "")), 3, "second SV1 in service line LX*1"),
    ("LX without SV1", _changed(replace=("SV1*HC:97545*180.00*UN*1***1~\n", "")), 2, "LX*1 has no SV1"),
]


@pytest.mark.parametrize(("case", "content", "lines", "words"), READ_PAST, ids=[c[0] for c in READ_PAST])
def test_structural_defects_are_read_past_with_the_defect_named(
    tmp_path: Path, case: str, content: str, lines: int, words: str
) -> None:
    path = tmp_path / "x.837"
    path.write_text(content)
    assert scan_layout("x12-837p", [str(path)]).collect().height == lines
    from adjudicator.readers.x12 import envelope_defects

    assert any(words in d.problem for d in envelope_defects(str(path))), envelope_defects(str(path))


def test_a_service_line_cut_by_the_end_of_the_file_is_flagged(tmp_path: Path) -> None:
    path = tmp_path / "cut.837"
    path.write_text(_changed(cut=PROFESSIONAL.read_text().index("SV1*HC:97545*180.00") + 15))
    from adjudicator.readers.x12 import read_837p_file

    lines = read_837p_file(str(path)).lines
    assert lines[REJECT_PREFIX + X12_SEGMENT_CUT_OFF].to_list() == [False, False, True]
