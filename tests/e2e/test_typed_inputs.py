"""Misread values (issue 13): typed inputs get the same checks as text, integers never pass through a float,
a line's verdict does not depend on the other files of the run, and header names are read as meant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import BASE_LINE, ROOT, SAMPLE
from tests.support.typed_values import HEADERS_MAPPED, TYPED_CASES, WHOLE_NUMBER_TEXTS, header_csv, typed_parquet

pytestmark = pytest.mark.e2e

# one or two cases each end to end; every case is checked at the reader and the row checks
# (tests/unit/readers/test_typed_values.py)
E2E_TYPED_CASES = [c for c in TYPED_CASES if c[0] in ("float money, 2 decimals", "float money, 3 decimals")]
E2E_HEADERS_MAPPED = [h for h in HEADERS_MAPPED if h[0] in ("CRLF line ends", "optional columns named in words")]


def _run(tmp_path: Path, *inputs: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    out = tmp_path / "out"
    assert main(["run", *map(str, inputs), "--out", str(out), "--quiet"]) == EXIT_OK
    return pl.read_parquet(out / "results.parquet"), pl.read_parquet(out / "rejects.parquet")


@pytest.mark.parametrize(
    ("case", "column", "dtype", "value", "expected"), E2E_TYPED_CASES, ids=[c[0] for c in E2E_TYPED_CASES]
)
def test_typed_parquet_values_get_the_same_checks_as_text(
    tmp_path: Path, case: str, column: str, dtype: pl.DataType, value: Any, expected: Any
) -> None:
    path = typed_parquet(tmp_path / "typed.parquet", [{column: value}], {column: dtype})
    results, rejects = _run(tmp_path, path)
    if isinstance(expected, str) and expected.islower() and "_" in expected:
        assert results.height == 0 and rejects.height == 1, (results, rejects)
        assert expected in rejects["failed_checks"][0], rejects
    else:
        assert rejects.height == 0, rejects
        assert results[column][0] == expected


def test_a_typed_file_keeps_its_verdicts_when_read_with_a_csv(tmp_path: Path) -> None:
    """Each file is typed on its own: a Parquet file's timestamps and float amounts read the same alone and
    beside a text file (which turns the combined columns into text)."""
    rows = [
        {"service_date": dt.datetime(2024, 5, 1, 23, 0, tzinfo=dt.UTC), "billed_amount": 180.5},
        {"service_date": dt.datetime(2019, 12, 31, 20, 0, tzinfo=dt.UTC), "billed_amount": 12.345},
        {"service_date": dt.datetime(2020, 1, 5, 0, 0, tzinfo=dt.UTC), "units": 2.0},
    ]
    path = typed_parquet(
        tmp_path / "typed.parquet",
        rows,
        {
            "service_date": pl.Datetime("us", "UTC"),
            "billed_amount": pl.Float64(),
            "units": pl.Float64(),
        },
        zone="America/New_York",
    )
    alone = tmp_path / "alone"
    alone.mkdir()
    results, rejects = _run(alone, path)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    with_csv = _run(mixed, path, SAMPLE)
    keep = pl.col("source_file") == str(path)
    assert results.height == 2 and rejects.height == 1
    assert results["service_date"].to_list() == [dt.date(2024, 5, 1), dt.date(2020, 1, 4)]
    # the text file brings an extra column (null on the typed file's lines); the typed file's own are compared
    same = [c for c in results.columns if c != "run_id"]
    assert results.select(same).equals(with_csv[0].filter(keep).select(same))
    same = [c for c in rejects.columns if c != "run_id"]
    assert rejects.select(same).equals(with_csv[1].filter(keep).select(same))


def test_integers_never_pass_through_a_float(tmp_path: Path) -> None:
    """Two line numbers 1 apart beyond 2**53 are two lines, not duplicates, in text and in Parquet; units keep
    every digit."""
    big = 2**53
    header = ",".join(BASE_LINE)
    lines = [",".join(str(v) for v in {**BASE_LINE, "line_number": n, "units": n}.values()) for n in (big, big + 1)]
    text = tmp_path / "big.csv"
    text.write_text("\n".join([header, *lines]) + "\n")
    typed = typed_parquet(
        tmp_path / "big.parquet",
        [{"line_number": big, "units": big + 1}, {"line_number": big + 1, "units": big + 1}],
        {},
    )
    for path in (text, typed):
        folder = tmp_path / path.suffix[1:]
        folder.mkdir()
        results, rejects = _run(folder, path)
        assert rejects.height == 0, rejects
        assert sorted(results["line_number"].to_list()) == [big, big + 1]
        assert big + 1 in results["units"].to_list()


@pytest.mark.parametrize(("text", "ok"), [w for w in WHOLE_NUMBER_TEXTS if w[0] in ("3.0", "3.5")])
def test_text_whole_numbers(tmp_path: Path, text: str, ok: bool) -> None:
    path = tmp_path / "c.csv"
    path.write_text(",".join(BASE_LINE) + "\n" + ",".join(str(v) for v in {**BASE_LINE, "units": text}.values()) + "\n")
    results, rejects = _run(tmp_path, path)
    assert (results.height == 1) is ok, (text, rejects)


@pytest.mark.parametrize(("case", "header", "newline"), E2E_HEADERS_MAPPED, ids=[h[0] for h in E2E_HEADERS_MAPPED])
def test_header_names_are_trimmed_and_matched_regardless_of_case(
    tmp_path: Path, case: str, header: list[str], newline: str
) -> None:
    results, rejects = _run(tmp_path, header_csv(tmp_path / "h.csv", header, newline=newline))
    assert results.height == 1 and rejects.height == 0, rejects
    assert results["claim_id"][0] == "C1" and results["place_of_service"][0] == "11"
    assert results["plan_id"][0] == "HCSC-PPO-100"
    assert not [c for c in results.columns if c.strip() != c or c.lower() != c]


HEADERS_REFUSED = [
    ("a duplicated name", [*BASE_LINE, "note", "note"], "more than one column named 'note'"),
    ("a canonical name twice, by case", [*BASE_LINE, "CLAIM_ID"], "'claim_id'"),
    ("a duplicated name after trimming", [*BASE_LINE, "note", " note"], "'note'"),
    ("a column the adjudicator writes", [*BASE_LINE, "determination"], "'determination'"),
    ("the run id", [*BASE_LINE, "run_id"], "'run_id'"),
    ("an internal column", [*BASE_LINE, "_valid"], "'_valid'"),
    ("a raw-value column", [*BASE_LINE, "_raw_units"], "'_raw_units'"),
]


@pytest.mark.parametrize(("case", "header", "words"), HEADERS_REFUSED, ids=[h[0] for h in HEADERS_REFUSED])
def test_bad_header_names_stop_with_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, header: list[str], words: str
) -> None:
    values = [str(v) for v in BASE_LINE.values()] + ["x"] * (len(header) - len(BASE_LINE))
    path = header_csv(tmp_path / "h.csv", header, values)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and words in err, err
    assert "duplicated" not in err and "Error" not in err and not (tmp_path / "o").exists()


def test_parquet_with_a_duplicated_column_name_stops_with_one_plain_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [*BASE_LINE, "note", "note"]
    table = pa.table([pa.array([str(v)]) for v in [*BASE_LINE.values(), "a", "b"]], names=names)
    path = tmp_path / "dup.parquet"
    pq.write_table(table, path)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "more than one column named 'note'" in err and "DuplicateError" not in err, err


def test_a_column_of_a_type_with_no_text_form_stops_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.parquet"
    pl.DataFrame([BASE_LINE]).with_columns(pl.concat_list("units").alias("units")).write_parquet(path)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
    assert "column 'units'" in capsys.readouterr().err


def test_sample_as_typed_parquet_gives_the_csv_verdicts(tmp_path: Path) -> None:
    """The pair of the cases above: the shipped sample, typed as a payer's Parquet would type it (Int32,
    Float64 amounts, timestamps), gives the same results as its text."""
    text = pl.read_csv(SAMPLE, infer_schema=False)
    ok = text.filter(
        pl.col("billed_amount").str.contains(r"^\d+(\.\d{1,2})?$")
        & pl.col("service_date").str.contains(r"^\d{4}-\d{2}-\d{2}$")
        & pl.col("service_date").str.to_date(strict=False).is_not_null()
        & pl.col("units").str.contains(r"^\d+$")
        & pl.col("line_number").str.contains(r"^\d+$")
    )
    typed = ok.with_columns(
        pl.col("line_number").cast(pl.Int32),
        pl.col("units").cast(pl.Float64),
        pl.col("billed_amount").cast(pl.Float64),
        pl.col("service_date").str.to_datetime("%Y-%m-%d").dt.replace_time_zone("Europe/Paris"),
    )
    csv_path, parquet_path = tmp_path / "ok.csv", tmp_path / "ok.parquet"
    ok.write_csv(csv_path)
    typed.write_parquet(parquet_path)
    runs = []
    for path in (csv_path, parquet_path):
        folder = tmp_path / path.suffix[1:]
        folder.mkdir()
        runs.append([f.drop("run_id", "source_file") for f in _run(folder, path)])
    assert runs[0][0].height > 100
    assert runs[0][0].equals(runs[1][0]) and runs[0][1].height == runs[1][1].height


def test_a_layout_file_with_a_duplicated_header_name_stops_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (ROOT / "tests" / "fixtures" / "layouts" / "cclf5_partb.csv").read_text().splitlines()
    path = tmp_path / "cclf5.csv"
    path.write_text("\n".join([lines[0] + ",NOTE,NOTE", *(line + ",a,b" for line in lines[1:])]) + "\n")
    code = main(["run", str(path), "--layout", "cclf5", "--payer", "MEDICARE", "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "more than one column named 'NOTE'" in err, err
