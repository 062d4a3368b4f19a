"""Inputs and options (issue 13): literal file names, one file under two spellings, tolerant claims lists,
date options, diff against a slice, files that are not regular UTF-8 files, Ctrl-C during the engine."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e

SAMPLE_LINES = len(SAMPLE.read_text().splitlines()) - 1


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


@pytest.mark.parametrize("name", ["claims [1].csv", "claims [1].parquet", "claims{a,b}.csv", "claims?.csv"])
def test_a_file_name_with_glob_characters_is_read_as_given(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        pl.read_csv(SAMPLE, infer_schema=False).write_parquet(path)
    else:
        shutil.copy(SAMPLE, path)
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_OK
    assert _manifest(tmp_path / "o")["counts"]["read"] == SAMPLE_LINES


def test_a_star_in_an_existing_name_pulls_in_no_other_file(tmp_path: Path) -> None:
    star = tmp_path / "claims*.csv"
    shutil.copy(SAMPLE, star)
    shutil.copy(SAMPLE, tmp_path / "claims-other.csv")
    assert main(["run", str(star), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_OK
    manifest = _manifest(tmp_path / "o")
    assert [i["path"] for i in manifest["inputs"]] == [str(star)]
    assert manifest["counts"]["read"] == SAMPLE_LINES and manifest["counts"]["rejects"] < SAMPLE_LINES / 2


# (case, the second spelling of tmp/claims.csv, given the tmp folder)
SPELLINGS = [
    ("absolute and relative", lambda t: os.path.relpath(t / "claims.csv")),
    ("with ./ and a ..", lambda t: str(t / "sub" / ".." / "." / "claims.csv")),
    ("a symlink", lambda t: str(_link(t / "link.csv", t / "claims.csv"))),
    ("a hard link", lambda t: str(_hard(t / "hard.csv", t / "claims.csv"))),
]


def _link(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _hard(link: Path, target: Path) -> Path:
    os.link(target, link)
    return link


@pytest.mark.parametrize(("case", "spell"), SPELLINGS, ids=[s[0] for s in SPELLINGS])
def test_the_same_file_twice_under_another_spelling_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, spell
) -> None:
    shutil.copy(SAMPLE, tmp_path / "claims.csv")
    (tmp_path / "sub").mkdir()
    other = spell(tmp_path)
    code = main(["run", str(tmp_path / "claims.csv"), other, "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "given more than once" in err and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


CLAIMS_LISTS = [
    ("plain", b"CLM000001\nCLM000002\n"),
    ("BOM and CRLF", b"\xef\xbb\xbfCLM000001\r\nCLM000002\r\n"),
    ("quoted, with a header", b'"claim_id"\n"CLM000001"\n\'CLM000002\'\n'),
    ("header, spaces, blank lines", b"Claim ID\n\n  CLM000001  \n\nCLM000002"),
]


@pytest.mark.parametrize(("case", "content"), CLAIMS_LISTS, ids=[c[0] for c in CLAIMS_LISTS])
def test_claims_lists_tolerate_bom_crlf_quotes_and_a_header(tmp_path: Path, case: str, content: bytes) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_bytes(content + b"\nNOT-A-CLAIM\n")
    out = tmp_path / "o"
    assert main(["run", str(SAMPLE), "--claims", str(ids), "--out", str(out), "--quiet"]) == EXIT_OK
    manifest = _manifest(out)
    kept = pl.read_parquet(out / "results.parquet")["claim_id"].unique().sort().to_list()
    assert kept == ["CLM000001", "CLM000002"]
    report = manifest["claims_list"]
    assert report["ids"] == 3 and report["matched"] == 2
    assert report["unmatched"] == 1 and report["unmatched_ids"] == ["NOT-A-CLAIM"]


def test_a_claims_list_where_every_id_matches_reports_none_unmatched(tmp_path: Path) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("CLM000001\n")
    out = tmp_path / "o"
    assert main(["run", str(SAMPLE), "--claims", str(ids), "--out", str(out), "--quiet"]) == EXIT_OK
    assert _manifest(out)["claims_list"]["unmatched"] == 0


DATE_OPTIONS = [
    ("from after to", ["--service-from", "2024-06-01", "--service-to", "2024-05-01"], "is after --service-to"),
    ("not a date", ["--service-from", "2024-13-01"], "--service-from: '2024-13-01' is not a date"),
    ("another layout", ["--service-to", "05/01/2024"], "--service-to: '05/01/2024' is not a date"),
    ("basic ISO form", ["--rules-as-of", "20240501"], "--rules-as-of: '20240501' is not a date"),
]


@pytest.mark.parametrize(("case", "options", "words"), DATE_OPTIONS, ids=[d[0] for d in DATE_OPTIONS])
def test_date_options_are_checked_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, options: list[str], words: str
) -> None:
    code = main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), *options, "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and words in err and err.count("\n") == 1 and "usage:" not in err, err


def test_the_same_day_for_both_ends_of_the_slice_is_fine(tmp_path: Path) -> None:
    args = ["--service-from", "1995-11-15", "--service-to", "1995-11-15"]
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), *args, "--quiet"]) == EXIT_OK


@pytest.mark.parametrize(
    "slice_args",
    [
        ["--service-from", "2020-01-01"],
        ["--only-payer", "HCSC"],
    ],
    ids=["date slice", "payer slice"],
)
def test_diff_of_a_full_run_against_a_slice_compares_only_lines_both_adjudicated(
    tmp_path: Path, slice_args: list[str]
) -> None:
    full, part = tmp_path / "full", tmp_path / "part"
    assert main(["run", str(SAMPLE), "--out", str(full), "--quiet"]) == EXIT_OK
    assert main(["run", str(SAMPLE), "--out", str(part), *slice_args, "--quiet"]) == EXIT_OK
    assert _manifest(part)["counts"]["skipped"] > 0
    for old, new, name in ((full, part, "d1"), (part, full, "d2")):
        assert main(["diff", str(old), str(new), "--out", str(tmp_path / name), "--fail-on-change", "--quiet"]) == 0
        summary = json.loads((tmp_path / name / "summary.json").read_text())
        assert summary["totals"]["changed"] == 0, summary["by_change_kind"]
        assert summary["totals"]["lines_compared"] > 0


def test_utf16_input_gets_an_encoding_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, encoding in (("bom.csv", "utf-16"), ("le.csv", "utf-16-le")):
        path = tmp_path / name
        path.write_bytes(SAMPLE.read_text().encode(encoding))
        assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
        err = capsys.readouterr().err
        assert "UTF-16" in err and str(path) in err and err.count("\n") == 1, err


def test_a_fifo_gets_a_clear_message_not_file_is_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "claims.csv"
    os.mkfifo(fifo)
    assert main(["run", str(fifo), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "named pipe" in err and "empty" not in err, err
    assert main(["run", "/dev/null", "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_BAD_INPUT
    assert "device" in capsys.readouterr().err


def test_ctrl_c_that_becomes_an_engine_panic_is_one_line_and_exit_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The engine may turn the interruption into a panic of its own; it is still Ctrl-C: one line, 130."""
    from adjudicator import run

    def interrupted(*args: object, **kwargs: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGINT)
        except KeyboardInterrupt:
            raise pl.exceptions.PanicException("called `Result::unwrap()` on an `Err` value") from None

    monkeypatch.setattr(run, "stage_text_inputs", interrupted)
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--quiet"]) == 130
    err = capsys.readouterr().err
    assert err == "adjudicate: interrupted; OUT left as it was\n", err
    assert not (tmp_path / "o").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".o.")]


def test_an_engine_panic_without_a_signal_is_one_line_and_exit_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from adjudicator import run

    def panics(*args: object, **kwargs: object) -> None:
        raise pl.exceptions.PanicException("index out of bounds")

    monkeypatch.setattr(run, "stage_text_inputs", panics)
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--quiet"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "engine panic" in err and "Traceback" not in err, err
