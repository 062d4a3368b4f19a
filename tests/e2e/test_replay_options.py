"""``--replay`` takes a run's options as the command line would: every file where the run found it (a relative
path from the run's own working folder, never a same-named file here), and the command line's checks on the
recorded values (types, dates YYYY-MM-DD, dates in order)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


def _manifest(out: Path) -> dict[str, Any]:
    return json.loads((out / "manifest.json").read_text())


def test_a_replay_reads_the_runs_own_files_not_same_named_ones_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, elsewhere = tmp_path / "first", tmp_path / "elsewhere"
    for folder in (first, elsewhere):
        folder.mkdir()
    shutil.copy(SAMPLE, first / "claims.csv")
    (first / "ids.txt").write_text("CLM000001\nCLM000002\n")
    # here, files of the same names that are other files
    (elsewhere / "claims.csv").write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    (elsewhere / "ids.txt").write_text("OTHER\n")
    monkeypatch.chdir(first)
    assert main(["run", "claims.csv", "--claims", "ids.txt", "--out", "out", "--quiet"]) == EXIT_OK
    monkeypatch.chdir(elsewhere)
    capsys.readouterr()
    code = main(["run", "--replay", str(first / "out" / "manifest.json"), "--out", "again", "--quiet"])
    assert (code, capsys.readouterr().err) == (EXIT_OK, "")
    again = _manifest(elsewhere / "again")
    assert [i["path"] for i in again["inputs"]] == [str(first / "claims.csv")]
    assert again["options"]["slice"]["claims_file"] == str(first / "ids.txt")
    assert again["counts"] == _manifest(first / "out")["counts"]


# (case, the recorded option changed, its new value, what the error names)
BAD_RECORDS = [
    ("dates out of order", ("slice", "service_from"), "2024-06-01", "service_from 2024-06-01 is after service_to"),
    ("a date not YYYY-MM-DD", ("rules_as_of",), "20250101", "rules_as_of: '20250101' is not a date YYYY-MM-DD"),
    ("payers not a list", ("slice", "only_payers"), "HCSC", "slice.only_payers: 'HCSC' is not a list of text"),
    ("a payer not text", ("payer",), 7, "payer: 7 is not text"),
    ("a plans file not text", ("plans",), ["plans.csv"], "plans: ['plans.csv'] is not text"),
]


@pytest.mark.parametrize(("case", "where", "value", "named"), BAD_RECORDS, ids=[b[0] for b in BAD_RECORDS])
def test_a_replay_applies_the_command_lines_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, where: tuple[str, ...], value: Any, named: str
) -> None:
    data = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, data)
    out = tmp_path / "first"
    argv = [
        "run",
        str(data),
        "--out",
        str(out),
        "--quiet",
        "--service-from",
        "2020-01-01",
        "--service-to",
        "2024-05-31",
    ]
    assert main(argv) == EXIT_OK
    manifest = _manifest(out)
    record = manifest["options"]
    for key in where[:-1]:
        record = record[key]
    record[where[-1]] = value
    (out / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    code = main(["run", "--replay", str(out / "manifest.json"), "--out", str(tmp_path / "again")])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT
    assert named in err and "refusing to replay" in err and str(out / "manifest.json") in err, err
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "again").exists()
