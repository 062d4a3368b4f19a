"""Input layouts (issue 5): each layout's mapping, its file-level errors, its row-level rejects, end to end.

The public samples under ``tests/fixtures/samples`` (copies of small upstream
files; ``PROVENANCE.md`` there names each source and licence) are read, never
changed: tests that need 97545/97546 change a copy in ``tmp_path``. The CCLF5
file and one 837P interchange under ``tests/fixtures/layouts`` are authored
for these tests.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import CANONICAL_COLUMNS, REJECT_PREFIX, SOURCE_FILE
from adjudicator.errors import InputError, RulesError
from adjudicator.readers.catalog import LAYOUT_SPECS
from adjudicator.readers.describe import describe_layout
from adjudicator.readers.detect import detect_layout
from adjudicator.readers.normalize import NORMALIZERS
from adjudicator.readers.payers import PAYER_ID_AS_READ
from adjudicator.readers.scan import scan_layout
from adjudicator.readers.specs import LAYOUTS
from adjudicator.rules.payer_aliases import load_payer_aliases
from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import ROOT

SAMPLES = ROOT / "tests" / "fixtures" / "samples"
FIXTURES = ROOT / "tests" / "fixtures" / "layouts"
ALIASES = ROOT / "rules" / "samples" / "payer_aliases.csv"


def rules() -> RuleSet:
    return load_rules()


def sample(relative: str) -> str:
    return str(SAMPLES / relative)


def read(layout: str, *paths: str, **options: Any) -> pl.DataFrame:
    return scan_layout(layout, list(paths), **options).collect()


def adjudicate(
    tmp_path: Path, layout: str, inputs: list[Path | str], *extra: str
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Run the command line on ``inputs``; its results, rejects and manifest."""
    out = tmp_path / "out"
    code = main(["run", *map(str, inputs), "--layout", layout, "--out", str(out), "--quiet", *extra])
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    return pl.read_parquet(out / "results.parquet"), pl.read_parquet(out / "rejects.parquet"), manifest


def text_value(value: Any) -> Any:
    """Typed values as the text of the raw frame, for comparing expected text with results."""
    return None if value is None else str(value)


# ------------------------------------------------------------------------------------------
# The public samples: line counts, a few lines mapped by hand, reconciliation
# ------------------------------------------------------------------------------------------

# (layout, file, lines it holds)
SAMPLE_COUNTS = [
    ("rif-carrier", "rif-carrier/sample-a-bcarrier-multiple-lines.txt", 7),
    ("rif-carrier", "rif-carrier/sample-a-bcarrier.txt", 1),
    ("synpuf-carrier", "desynpuf-carrier/DE1_0_2008_to_2010_Carrier_Claims_Sample_0A.csv", 1),
    ("synpuf-carrier", "desynpuf-carrier/DE1_0_2008_to_2010_Carrier_Claims_Sample_0B.csv", 3),
    ("synpuf-carrier", "desynpuf-carrier/carrier_claims.csv", 4),
    ("x12-837p", "x12-837p/demo.ambulance.example5.837", 4),
    ("x12-837p", "x12-837p/demo.autoaccident.837", 2),
    ("x12-837p", "x12-837p/demo.cob.2ndary.example4.837", 1),
    ("x12-837p", "x12-837p/demo.cob.example3.A.837", 3),
    ("x12-837p", "x12-837p/demo.cob.example3.B.837", 3),
    ("x12-837p", "x12-837p/demo.cob.example3.C.837", 3),
    ("x12-837p", "x12-837p/demo.cob.example4.837", 1),
    ("x12-837p", "x12-837p/demo.drug.example10.1.837", 2),
    ("x12-837p", "x12-837p/demo.drug.example10.2.837", 6),
    ("x12-837p", "x12-837p/demo.drug.example10.3.837", 6),
    ("x12-837p", "x12-837p/demo.example1.837", 4),
    ("x12-837p", "x12-837p/demo.example11.837", 2),
    ("x12-837p", "x12-837p/demo.example12.837", 1),
    ("x12-837p", "x12-837p/demo.example2.837", 4),
    ("x12-837p", "x12-837p/demo.example6.837", 1),
    ("x12-837p", "x12-837p/demo.example7.837", 2),
    ("x12-837p", "x12-837p/demo.example8.837", 1),
    ("x12-837p", "x12-837p/demo.example9.837", 1),
]


@pytest.mark.parametrize(("layout", "relative", "lines"), SAMPLE_COUNTS, ids=[c[1] for c in SAMPLE_COUNTS])
def test_each_sample_gives_its_number_of_lines_and_is_detected(layout: str, relative: str, lines: int) -> None:
    frame = read(layout, sample(relative))
    assert frame.height == lines
    assert frame.columns[: len(CANONICAL_COLUMNS)] == list(CANONICAL_COLUMNS)
    assert frame[SOURCE_FILE].unique().to_list() == [sample(relative)]
    assert detect_layout(sample(relative)) == layout


def test_a_glob_reads_every_matching_file_in_sorted_order() -> None:
    frame = read("x12-837p", sample("x12-837p/*.837"))
    expected = [(sample(rel), n) for layout, rel, n in SAMPLE_COUNTS if layout == "x12-837p"]
    got = frame.group_by(SOURCE_FILE, maintain_order=True).len().rows()
    assert got == sorted(expected)


# (layout, file, claim_id, line_number, expected values, checked by hand against the file)
SAMPLE_LINES: list[tuple[str, str, str, str, dict[str, str | None]]] = [
    (
        "rif-carrier",
        "rif-carrier/sample-a-bcarrier-multiple-lines.txt",
        "9991831999",
        "3",
        {
            "member_id": "567834",
            "payer_id": "MEDICARE",
            "plan_id": None,
            "service_date": "1999-10-27",
            "procedure_code": "92997",
            "units": "1.0",
            "billed_amount": "85",
            "place_of_service": "11",
            "DML_IND": "INSERT",
            "HCPCS_1ST_MDFR_CD": "LT",
            "LINE_ALOWD_CHRG_AMT": "47.84",
        },
    ),
    (
        "synpuf-carrier",
        "desynpuf-carrier/DE1_0_2008_to_2010_Carrier_Claims_Sample_0B.csv",
        "436463304724170",
        "2",
        {
            "member_id": "0004D03F1BD5E607",
            "payer_id": "MEDICARE",
            "plan_id": None,
            "service_date": "2008-08-28",
            "procedure_code": "90775",
            "units": "1",
            "billed_amount": "10",
            "place_of_service": None,
            "LINE_NCH_PMT_AMT": "10",
            "LINE_ICD9_DGNS_CD": "V0481",
            "PRF_PHYSN_NPI": "6513947302",
            "ICD9_DGNS_CD_1": "V0751",
        },
    ),
    (
        # SV105 is empty: place of service falls back to CLM05-1 ("41:...")
        "x12-837p",
        "x12-837p/demo.ambulance.example5.837",
        "051068",
        "2",
        {
            "member_id": "012345678A",
            "payer_id": "123245",
            "plan_id": None,
            "service_date": "2005-02-08",
            "procedure_code": "A0425",
            "units": "21.00",
            "billed_amount": "8.20",
            "place_of_service": "41",
            "SV101_3": "RH",
            "NM103_PR": "MEDICARE PART B",
            "SBR09": "MB",
        },
    ),
    (
        # a date range (RD8) gives its first day; SV105 is given
        "x12-837p",
        "x12-837p/demo.drug.example10.2.837",
        "CLMNO12345",
        "1",
        {
            "member_id": "MBRID01234",
            "payer_id": "PLANID12345",
            "plan_id": "GRP01020102",
            "service_date": "2004-02-01",
            "procedure_code": "S9500",
            "units": "7.00",
            "billed_amount": "1400.00",
            "place_of_service": "12",
            "DTP03_472_LINE": "20040201-20040207",
        },
    ),
    (
        # coordination of benefits: the subscriber (2010BA) and payer (2010BB), not the other payer's loops
        "x12-837p",
        "x12-837p/demo.cob.example3.A.837",
        "26407789",
        "1",
        {
            "member_id": "111223333",
            "payer_id": "999996666",
            "plan_id": None,
            "service_date": "2005-10-03",
            "procedure_code": "99213",
            "units": "1.00",
            "billed_amount": "43.00",
            "place_of_service": "11",
        },
    ),
    (
        "x12-837p",
        "x12-837p/demo.example1.837",
        "26463774",
        "3",
        {
            "member_id": "JS00111223333",
            "payer_id": "999996666",
            "plan_id": "2222-SJ",
            "service_date": "2006-10-10",
            "procedure_code": "99214",
            "units": "1.00",
            "billed_amount": "35.00",
            "place_of_service": "11",
        },
    ),
    (
        # this sample writes composites with '>' while its ISA16 declares ':': the composite is passed
        # whole, so the line is rejected as malformed rather than guessed at
        "x12-837p",
        "x12-837p/demo.example6.837",
        "125WILL",
        "1",
        {"procedure_code": "HC>98940", "place_of_service": "11>B>1", "SV101_2": None},
    ),
]


@pytest.mark.parametrize(
    ("layout", "relative", "claim_id", "line_number", "expected"),
    SAMPLE_LINES,
    ids=[f"{c[0]}:{Path(c[1]).name}:{c[2]}/{c[3]}" for c in SAMPLE_LINES],
)
def test_sample_lines_map_as_checked_by_hand(
    layout: str, relative: str, claim_id: str, line_number: str, expected: dict[str, str | None]
) -> None:
    frame = read(layout, sample(relative))
    line = frame.filter((pl.col("claim_id") == claim_id) & (pl.col("line_number") == line_number))
    assert line.height == 1
    got = line.row(0, named=True)
    assert {k: got[k] for k in expected} == expected


# (layout, input glob, reject checks expected among the rejects)
RECONCILE = [
    ("rif-carrier", "rif-carrier/*.txt", {"duplicate_key"}),  # both files hold claim 9991831999 line 6
    ("synpuf-carrier", "desynpuf-carrier/*.csv", {"duplicate_key"}),  # carrier_claims.csv = 0A + 0B: all rejects
    ("x12-837p", "x12-837p/*.837", {"duplicate_key", "malformed_procedure_code", "malformed_place_of_service"}),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("layout", "pattern", "checks"), RECONCILE, ids=[c[0] for c in RECONCILE])
def test_samples_reconcile_read_equals_results_plus_rejects(
    tmp_path: Path, layout: str, pattern: str, checks: set[str]
) -> None:
    read_per_file = dict(scan_layout(layout, [sample(pattern)]).group_by(SOURCE_FILE).len().collect().rows())
    results, rejects, manifest = adjudicate(tmp_path, layout, [sample(pattern)])
    assert results.height + rejects.height == sum(read_per_file.values())
    assert {i["path"]: i["read"] for i in manifest["inputs"]} == read_per_file
    assert all(i["reconciled"] for i in manifest["inputs"])
    assert manifest["counts"]["reconciled"]
    assert checks <= set(rejects["failed_checks"].explode().drop_nulls().to_list())
    assert set(results["determination"].unique().to_list()) <= {"NO_ACTION"}  # no sample bills 97545/97546


# ------------------------------------------------------------------------------------------
# Fixtures authored for the tests: CCLF5 and one 837P
# ------------------------------------------------------------------------------------------


def test_cclf5_unpads_numbers_reads_tilde_as_null_and_keeps_identifiers() -> None:
    frame = read("cclf5", str(FIXTURES / "cclf5_partb.csv"))
    assert frame.height == 5
    first = frame.row(2, named=True)  # claim 101 line 2
    assert {k: first[k] for k in CANONICAL_COLUMNS} == {
        "claim_id": "0000000000000101",
        "line_number": "2",
        "member_id": "1EG4TE5MK73",
        "payer_id": "MEDICARE",
        "plan_id": None,
        "service_date": "2024-05-01",
        "procedure_code": "97546",
        "units": "2.0000",
        "billed_amount": "90.00",
        "place_of_service": "11",
    }
    assert first["CLM_LINE_NUM"] == "0000000002"  # the source column passes through as read
    assert first["HCPCS_1_MDFR_CD"] == "GP"
    assert frame.row(3, named=True)["place_of_service"] is None  # CLM_POS_CD '~'
    assert frame.row(4, named=True)["service_date"] is None  # CLM_LINE_FROM_DT '~'


def test_cclf5_older_deliveries_of_a_line_are_flagged_superseded_and_the_latest_kept() -> None:
    frame = read("cclf5", str(FIXTURES / "cclf5_partb.csv"))
    flagged = frame.filter(pl.col(REJECT_PREFIX + "superseded_delivery"))
    assert flagged.select("claim_id", "line_number", "FILE_DATE").rows() == [("0000000000000101", "1", "2024-06-01")]
    kept = frame.filter((pl.col("claim_id") == "0000000000000101") & (pl.col("line_number") == "1"))
    assert kept.filter(~pl.col(REJECT_PREFIX + "superseded_delivery"))["FILE_DATE"].to_list() == ["2024-07-01"]


def test_cclf5_supersedes_across_files_of_one_run(tmp_path: Path) -> None:
    text = (FIXTURES / "cclf5_partb.csv").read_text().splitlines()
    (tmp_path / "d1.csv").write_text("\n".join([text[0], text[1]]) + "\n")  # 2024-06-01 copy
    (tmp_path / "d2.csv").write_text("\n".join([text[0], text[2]]) + "\n")  # 2024-07-01 copy
    frame = read("cclf5", str(tmp_path / "d*.csv"))
    flags = dict(zip(frame["FILE_DATE"], frame[REJECT_PREFIX + "superseded_delivery"], strict=True))
    assert flags == {"2024-06-01": True, "2024-07-01": False}


@pytest.mark.e2e
def test_cclf5_copies_with_the_same_file_date_are_not_guessed_between(tmp_path: Path) -> None:
    text = (FIXTURES / "cclf5_partb.csv").read_text().splitlines()
    same = text[2].replace("2024-07-01", "2024-06-01")
    path = tmp_path / "tie.csv"
    path.write_text("\n".join([text[0], text[1], same]) + "\n")
    results, rejects, _ = adjudicate(tmp_path, "cclf5", [path])
    assert results.height == 0
    assert rejects["failed_checks"].to_list() == [["duplicate_key"], ["duplicate_key"]]


def test_837p_fixture_maps_claim_line_subscriber_and_dates() -> None:
    frame = read("x12-837p", str(FIXTURES / "professional.837"))
    got = frame.select(
        "claim_id",
        "line_number",
        "member_id",
        "payer_id",
        "plan_id",
        "service_date",
        "procedure_code",
        "units",
        "billed_amount",
        "place_of_service",
        "SV101_3",
    ).rows()
    assert got == [
        ("WH-1001", "1", "MEM0001", "999996666", "HCSC-PPO-100", "2024-05-01", "97545", "1", "180.00", "11", "GP"),
        ("WH-1001", "2", "MEM0001", "999996666", "HCSC-PPO-100", "2024-05-01", "97546", "2", "120.00", "22", "GP"),
        # no line-level DTP*472: the claim's
        ("WH-1002", "1", "MEM0001", "999996666", "HCSC-PPO-100", "2024-05-02", "97545", "1", "180.00", "11", None),
    ]


# ------------------------------------------------------------------------------------------
# Normalisers and detection
# ------------------------------------------------------------------------------------------

# (normaliser, text in, text out)
NORMALIZER_CASES = [
    ("unpad_number", "0000000001", "1"),
    ("unpad_number", "000000000000000001.0000", "1.0000"),
    ("unpad_number", "000000000000018.00", "18.00"),
    ("unpad_number", "0000", "0"),
    ("unpad_number", "-0000012.30", "-12.30"),
    ("unpad_number", "12A", "12A"),  # not a number: left for the validator
    ("date_dd_mon_yyyy", "27-OCT-1999", "1999-10-27"),
    ("date_dd_mon_yyyy", "03-jan-2000", "2000-01-03"),
    ("date_dd_mon_yyyy", "31-FEB-1999", "31-FEB-1999"),  # not a day: stays unparseable text
    ("date_yyyymmdd", "20080229", "2008-02-29"),
    ("date_yyyymmdd", "2008022", "2008022"),
    ("date_yyyymmdd", "20080231", "20080231"),
    ("date_yyyymmdd", "2008-02-29", "2008-02-29"),
    ("x12_date_period", "20050208", "2005-02-08"),
    ("x12_date_period", "20040201-20040207", "2004-02-01"),
    ("x12_date_period", "2004020", "2004020"),
]


@pytest.mark.parametrize(("name", "text", "expected"), NORMALIZER_CASES)
def test_normalisers_give_iso_or_numbers_and_leave_what_they_cannot_read(name: str, text: str, expected: str) -> None:
    got = pl.select(NORMALIZERS[name](pl.lit(text, dtype=pl.String))).item()
    assert got == expected


def test_every_layout_maps_every_canonical_column_with_known_normalisers() -> None:
    assert tuple(LAYOUT_SPECS) == LAYOUTS
    for spec in LAYOUT_SPECS.values():
        assert set(spec.mapping) == set(CANONICAL_COLUMNS), spec.name
        assert {s.normalize for s in spec.mapping.values()} <= set(NORMALIZERS), spec.name


def test_docs_show_every_declared_mapping_as_declared() -> None:
    text = (ROOT / "docs" / "layouts.md").read_text()
    for spec in LAYOUT_SPECS.values():
        assert describe_layout(spec) in text, f"docs/layouts.md is out of date for {spec.name}: regenerate its block"


def test_a_file_name_with_glob_characters_is_read_as_given(tmp_path: Path) -> None:
    path = tmp_path / "batch[1].837"
    shutil.copy(FIXTURES / "professional.837", path)
    assert read("x12-837p", str(path)).height == 3


# (file content, layout detected)
DETECT_CASES = [
    ("claim_id,line_number,member_id,payer_id,service_date,procedure_code,units,billed_amount\n", "canonical"),
    ("a,b\n1,2\n", "canonical"),  # unknown: canonical, whose missing-column error says what is wrong
    ("DML_IND|BENE_ID|CLM_ID|LINE_NUM|HCPCS_CD|LINE_SBMTD_CHRG_AMT\n", "rif-carrier"),
    ('"DESYNPUF_ID","CLM_ID","CLM_FROM_DT","HCPCS_CD_1"\n', "synpuf-carrier"),
    ("CUR_CLM_UNIQ_ID,CLM_LINE_NUM,CLM_LINE_HCPCS_CD\n", "cclf5"),
    ("\nISA*00*...", "x12-837p"),
]


@pytest.mark.parametrize(("content", "layout"), DETECT_CASES)
def test_detect_layout_from_the_first_bytes(tmp_path: Path, content: str, layout: str) -> None:
    path = tmp_path / "input"
    path.write_text(content)
    assert detect_layout(str(path)) == layout


def test_detect_layout_knows_parquet(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    pl.DataFrame({"claim_id": ["1"]}).write_parquet(path)
    assert detect_layout(str(path)) == "canonical"


# ------------------------------------------------------------------------------------------
# Bad files: one line naming the file and the problem
# ------------------------------------------------------------------------------------------


def _837(*, drop: int = 0, cut: int | None = None, replace: tuple[str, str] | None = None) -> str:
    text = (FIXTURES / "professional.837").read_text()
    if replace is not None:
        text = text.replace(*replace)
    if drop:
        text = "~\n".join(text.split("~\n")[: -drop - 1]) + "~\n"
    if cut is not None:
        text = text[:cut]
    return text


SYNPUF_HEADER = ",".join(
    ["DESYNPUF_ID", "CLM_ID", "CLM_FROM_DT", "CLM_THRU_DT", "ICD9_DGNS_CD_1"]
    + [f"{stem}_{n}" for stem in ("HCPCS_CD", "LINE_ALOWD_CHRG_AMT", "LINE_NCH_PMT_AMT") for n in range(1, 14)]
)

# (case, layout, file name, content, fragments the message must hold)
BAD_FILES: list[tuple[str, str, str, str | bytes, tuple[str, ...]]] = [
    (
        "837 institutional",
        "x12-837p",
        "inst.837",
        _837(replace=("X*005010X222A2", "X*005010X223A2")),
        ("segment 2", "GS08", "005010X223A2"),
    ),
    ("837 not X12", "x12-837p", "text.837", "hello\n", ("segment 1", "not an ISA")),
    ("837 short ISA", "x12-837p", "isa.837", "ISA*00*~GS*HC~", ("segment 1",)),
    (
        "cclf5 missing column",
        "cclf5",
        "cclf.csv",
        "CUR_CLM_UNIQ_ID,CLM_LINE_NUM,BENE_MBI_ID,CLM_LINE_FROM_DT,CLM_LINE_SRVC_UNIT_QTY,"
        "CLM_LINE_ALOWD_CHRG_AMT,FILE_DATE\n1,1,M,2024-01-01,1,1,2024-01-01\n",
        ("lacks required cclf5 column(s) CLM_LINE_HCPCS_CD",),
    ),
    (
        "rif written with commas",
        "rif-carrier",
        "rif.txt",
        "CLM_ID,LINE_NUM,BENE_ID\n1,1,2\n",
        ("single column", "pipe-separated", "comma-separated"),
    ),
    (
        "synpuf lacks a slot",
        "synpuf-carrier",
        "syn.csv",
        SYNPUF_HEADER.replace(",HCPCS_CD_13", "") + "\n",
        ("lacks required synpuf-carrier column(s) HCPCS_CD_13",),
    ),
    ("canonical with semicolons", "canonical", "semi.csv", "claim_id;line_number\n1;1\n", ("';'-delimited",)),
    (
        "canonical missing columns",
        "canonical",
        "short.csv",
        "claim_id,line_number\n1;1\n",
        ("missing required columns", "member_id"),
    ),
    ("empty file", "cclf5", "empty.csv", "", ("empty",)),
    ("binary", "rif-carrier", "bin.txt", b"\x00\x01\x02\xff\n", ("bin.txt",)),
]


@pytest.mark.parametrize(("case", "layout", "name", "content", "fragments"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_raise_one_line_naming_the_file_and_problem(
    tmp_path: Path, case: str, layout: str, name: str, content: str | bytes, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(InputError) as caught:
        scan_layout(layout, [str(path)]).collect()
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


# (case, inputs, fragment)
BAD_PATHS = [
    ("missing file", ["nope.csv"], "file not found"),
    ("glob without match", ["*.nothing"], "no file matches this pattern"),
    ("a folder", ["."], "is a folder"),
]


@pytest.mark.parametrize(("case", "inputs", "fragment"), BAD_PATHS, ids=[b[0] for b in BAD_PATHS])
def test_bad_paths_are_input_errors(tmp_path: Path, case: str, inputs: list[str], fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        scan_layout("canonical", [str(tmp_path / i) if i != "." else str(tmp_path) for i in inputs])


def test_unknown_layout_names_the_choices() -> None:
    with pytest.raises(InputError, match="'layout' must be one of canonical, cclf5"):
        scan_layout("hl7", ["x"])


def test_a_header_only_file_is_zero_lines(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(SYNPUF_HEADER + "\n")
    assert read("synpuf-carrier", str(path)).height == 0


# ------------------------------------------------------------------------------------------
# Row-level behaviour: rows stay rows, rejects name their check
# ------------------------------------------------------------------------------------------


def _synpuf_row(clm: str, from_dt: str, codes: list[str]) -> str:
    slots = codes + [""] * (13 - len(codes))
    amounts = ["50" if c else "0" for c in slots]
    return ",".join(["M1", clm, from_dt, from_dt, "7245", *slots, *amounts, *amounts])


@pytest.mark.e2e
def test_synpuf_empty_slots_are_not_lines_and_a_malformed_date_stays_a_rejected_row(tmp_path: Path) -> None:
    path = tmp_path / "syn.csv"
    rows = [
        _synpuf_row("C1", "20240501", ["97545", "97546"]),
        _synpuf_row("C2", "2024051", ["99213"]),
        _synpuf_row("C3", "20240502", []),
    ]
    path.write_text("\n".join([SYNPUF_HEADER, *rows]) + "\n")
    raw = scan_layout("synpuf-carrier", [str(path)])
    frame = raw.collect()
    assert frame.select("claim_id", "line_number", "service_date").rows() == [
        ("C1", "1", "2024-05-01"),
        ("C2", "1", "2024051"),
        ("C1", "2", "2024-05-01"),
    ]
    results, rejects, _ = adjudicate(tmp_path, "synpuf-carrier", [path])
    assert results.height == 2
    assert rejects["failed_checks"].to_list() == [["unparseable_service_date"]]
    assert rejects["service_date"].to_list() == ["2024051"]


@pytest.mark.e2e
def test_rif_delete_records_are_rejected_and_bad_dates_kept_as_text(tmp_path: Path) -> None:
    header = "DML_IND|BENE_ID|CLM_ID|LINE_NUM|LINE_1ST_EXPNS_DT|HCPCS_CD|LINE_SRVC_CNT|LINE_SBMTD_CHRG_AMT"
    rows = [
        "INSERT|B1|C1|1|27-OCT-1999|97545|1|75",
        "DELETE|B1|C1|2|27-OCT-1999|97546|1|75",
        "UPDATE|B1|C1|3|31-FEB-1999|99213|1|75",
    ]
    path = tmp_path / "rif.txt"
    path.write_text("\n".join([header, *rows]) + "\n")
    raw = scan_layout("rif-carrier", [str(path)])
    frame = raw.collect()
    assert frame[REJECT_PREFIX + "deleted_record"].to_list() == [False, True, False]
    assert frame["service_date"].to_list() == ["1999-10-27", "1999-10-27", "31-FEB-1999"]
    assert frame["place_of_service"].to_list() == [None, None, None]  # optional column absent
    results, rejects, _ = adjudicate(tmp_path, "rif-carrier", [path])
    assert results["line_number"].to_list() == [1]
    assert sorted(rejects["failed_checks"].to_list()) == [["deleted_record"], ["unparseable_service_date"]]


# ------------------------------------------------------------------------------------------
# Payers: the alias table and --payer
# ------------------------------------------------------------------------------------------


def test_shipped_payer_aliases_load_and_name_rule_table_payers(rules: RuleSet) -> None:
    aliases = load_payer_aliases(ALIASES)
    assert aliases.columns == ["alias", "payer_id", "source"]
    assert set(aliases["payer_id"]) <= set(rules.policies["payer_id"])
    assert all(s.startswith("sample") for s in aliases["source"])


# (case, table text, fragments of the RulesError)
BAD_ALIAS_TABLES = [
    (
        "duplicate alias",
        "alias,payer_id,source\nA1,HCSC,x\nB2,CAM,x\nA1,AETNA,x\n",
        ("payer_aliases.csv line 4", "'A1' is listed twice (first on line 2)"),
    ),
    ("empty payer", "alias,payer_id,source\nA1,,x\n", ("line 2", "payer_id is empty")),
    ("wrong columns", "alias,payer,source\nA1,HCSC,x\n", ("columns must be exactly alias,payer_id,source",)),
]


@pytest.mark.parametrize(("case", "text", "fragments"), BAD_ALIAS_TABLES, ids=[b[0] for b in BAD_ALIAS_TABLES])
def test_bad_alias_tables_are_rules_errors_naming_table_and_row(
    tmp_path: Path, case: str, text: str, fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "payer_aliases.csv"
    path.write_text(text)
    with pytest.raises(RulesError) as caught:
        load_payer_aliases(path)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_aliases_map_known_identifiers_keep_unknown_ones_and_payer_overrides_all(tmp_path: Path) -> None:
    aliases = load_payer_aliases(ALIASES)
    other = _837(replace=("PI*999996666", "PI*UNLISTED1"))
    (tmp_path / "b.837").write_text(other)
    shutil.copy(FIXTURES / "professional.837", tmp_path / "a.837")
    paths = [str(tmp_path / "a.837"), str(tmp_path / "b.837")]
    mapped = read("x12-837p", *paths, aliases=aliases)
    assert mapped["payer_id"].to_list() == ["HCSC"] * 3 + ["UNLISTED1"] * 3
    assert mapped[PAYER_ID_AS_READ].to_list() == ["999996666"] * 3 + ["UNLISTED1"] * 3
    forced = read("x12-837p", *paths, aliases=aliases, payer="AETNA")
    assert set(forced["payer_id"]) == {"AETNA"}
    assert PAYER_ID_AS_READ not in read("x12-837p", *paths).columns


# ------------------------------------------------------------------------------------------
# End to end: a copy of each sample billing 97545/97546, through the command line
# ------------------------------------------------------------------------------------------


def _decisions(results: pl.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(
        results.select(
            pl.col("claim_id"), pl.col("line_number"), "procedure_code", "determination", "reason", "edits"
        ).rows()
    )


def _copy_with(tmp_path: Path, source: str, name: str, replacements: list[tuple[str, str]]) -> Path:
    text = Path(source).read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.e2e
def test_end_to_end_837p_copy_for_an_hcsc_plan(tmp_path: Path) -> None:
    copy = _copy_with(
        tmp_path,
        sample("x12-837p/demo.example1.837"),
        "hcsc.837",
        [
            ("HC:99213", "HC:97545"),
            ("HC:87070", "HC:97546"),
            ("HC:99214", "HC:97545"),
            ("HC:86663", "HC:97546"),
            ("D8*20061003", "D8*20240501"),
            ("D8*20061010", "D8*20240502"),
            ("SBR*P**2222-SJ", "SBR*P**HCSC-PPO-100"),
        ],
    )
    results, rejects, _ = adjudicate(tmp_path, "x12-837p", [copy], "--payer", "HCSC")
    assert rejects.height == 0
    nmn = ("NOT_MEDICALLY_NECESSARY", "NOT_MEDICALLY_NECESSARY", [])
    assert _decisions(results) == [
        ("26463774", 1, "97545", *nmn),
        ("26463774", 2, "97546", *nmn),
        ("26463774", 3, "97545", *nmn),
        ("26463774", 4, "97546", *nmn),
    ]
    assert set(results["policy_id"]) == {"THE803.012"}


@pytest.mark.e2e
def test_end_to_end_837p_fixture_for_an_hcsc_plan(tmp_path: Path) -> None:
    results, rejects, _ = adjudicate(tmp_path, "x12-837p", [FIXTURES / "professional.837"], "--payer", "HCSC")
    assert rejects.height == 0
    nmn = ("NOT_MEDICALLY_NECESSARY", "NOT_MEDICALLY_NECESSARY", [])
    assert _decisions(results) == [
        ("WH-1001", 1, "97545", *nmn),
        ("WH-1001", 2, "97546", *nmn),
        ("WH-1002", 1, "97545", *nmn),
    ]
    assert results["plan_id"].unique().to_list() == ["HCSC-PPO-100"]


@pytest.mark.e2e
def test_end_to_end_rif_copy_is_medicare_carrier_discretion(tmp_path: Path) -> None:
    copy = _copy_with(
        tmp_path,
        sample("rif-carrier/sample-a-bcarrier-multiple-lines.txt"),
        "rif.txt",
        [("|92999|", "|97545|"), ("|92998|", "|97546|")],
    )
    results, rejects, _ = adjudicate(tmp_path, "rif-carrier", [copy])
    assert rejects.height == 0
    review = ("BENEFIT_PLAN_REVIEW", "MEDICARE_CARRIER_DISCRETION", [])
    decisions = _decisions(results)
    assert decisions[:2] == [("9991831999", 1, "97545", *review), ("9991831999", 2, "97546", *review)]
    assert {d[3] for d in decisions[2:]} == {"NO_ACTION"}


@pytest.mark.e2e
def test_end_to_end_rif_copy_with_payer_override_has_no_plan(tmp_path: Path) -> None:
    copy = _copy_with(tmp_path, sample("rif-carrier/sample-a-bcarrier.txt"), "rif.txt", [("|92999|", "|97545|")])
    results, _, _ = adjudicate(tmp_path, "rif-carrier", [copy], "--payer", "CAM")
    assert _decisions(results) == [("9991831999", 6, "97545", "BENEFIT_PLAN_REVIEW", "PLAN_NOT_FOUND", [])]


@pytest.mark.e2e
def test_end_to_end_synpuf_copy_unpivots_and_edits_an_addon_alone(tmp_path: Path) -> None:
    copy = _copy_with(
        tmp_path,
        sample("desynpuf-carrier/carrier_claims.csv"),
        "syn.csv",
        [(",66984,", ",97546,"), (",99337,90775,", ",97545,97546,")],
    )
    results, rejects, _ = adjudicate(tmp_path, "synpuf-carrier", [copy])
    assert rejects.height == 0
    review = ("BENEFIT_PLAN_REVIEW", "MEDICARE_CARRIER_DISCRETION")
    assert _decisions(results) == [
        ("436313306961904", 1, "97546", *review, ["ADDON_WITHOUT_PRIMARY"]),
        ("436463304724170", 1, "97545", *review, []),
        ("436463304724170", 2, "97546", *review, []),
        ("436463304724170", 3, "17003", "NO_ACTION", None, []),
    ]


@pytest.mark.e2e
def test_end_to_end_cclf5_sends_superseded_copies_to_rejects(tmp_path: Path) -> None:
    results, rejects, _ = adjudicate(tmp_path, "cclf5", [FIXTURES / "cclf5_partb.csv"])
    assert sorted(rejects["failed_checks"].to_list()) == [["missing_service_date"], ["superseded_delivery"]]
    review = ("BENEFIT_PLAN_REVIEW", "MEDICARE_CARRIER_DISCRETION", [])
    assert _decisions(results) == [
        ("0000000000000101", 1, "97545", *review),
        ("0000000000000101", 2, "97546", *review),
        ("0000000000000102", 1, "99213", "NO_ACTION", None, []),
    ]
    kept = results.filter(pl.col("procedure_code") == "97545").row(0, named=True)
    assert text_value(kept["billed_amount"]) == "175.00"


def test_every_copied_sample_is_named_in_the_provenance_with_its_checksum() -> None:
    """The copies stay byte-for-byte what PROVENANCE.md says they are, and none goes unlisted."""
    import hashlib

    provenance = (SAMPLES / "PROVENANCE.md").read_text()
    files = sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in ("LICENSE", "PROVENANCE.md"))
    assert len(files) == len(SAMPLE_COUNTS)
    for path in files:
        relative = path.relative_to(SAMPLES).as_posix()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        assert f"| `{relative}` | {path.stat().st_size:,} | `{digest}` |" in provenance, relative
    for folder in ("x12-837p", "desynpuf-carrier"):
        assert "Apache License" in (SAMPLES / folder / "LICENSE").read_text()
