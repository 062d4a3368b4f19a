"""Text that polars reads obscurely, or not at all, is one clear line naming the file and the line (exit 2):
bare-CR line ends, a quote the end of the file leaves open, a rule table with ``\\r\\r\\n`` line ends, a symbolic
link loop as an input, a delimited layout row with more fields than its header."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from adjudicator.cli import main
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e

RIF_HEADER = "DML_IND|BENE_ID|CLM_ID|LINE_NUM|LINE_1ST_EXPNS_DT|HCPCS_CD|LINE_SRVC_CNT|LINE_SBMTD_CHRG_AMT"


def _sample_lines(count: int = 6) -> list[str]:
    return SAMPLE.read_text().splitlines()[:count]


def _bare_cr(folder: Path) -> list[str]:
    path = folder / "cr.csv"
    path.write_bytes("\r".join(_sample_lines()).encode() + b"\r")
    return [str(path)]


def _open_quote(folder: Path) -> list[str]:
    path = folder / "quote.csv"
    lines = _sample_lines()
    # a place of service opened with a quote and never closed: the CSV reader takes the rest of the file
    lines.insert(3, lines[3].rsplit(",", 2)[0] + ',"11,1329032660')
    path.write_text("\n".join(lines) + "\n")
    return [str(path)]


def _symlink_loop(folder: Path) -> list[str]:
    (folder / "a.csv").symlink_to(folder / "b.csv")
    (folder / "b.csv").symlink_to(folder / "a.csv")
    return [str(folder / "a.csv")]


def _rif_extra_fields(folder: Path) -> list[str]:
    path = folder / "rif.txt"
    rows = ["INSERT|B1|C1|1|27-OCT-1999|97545|1|75", "INSERT|B1|C1|2|27-OCT-1999|97546|1|75|extra"]
    path.write_text("\n".join([RIF_HEADER, *rows]) + "\n")
    return [str(path), "--layout", "rif-carrier"]


def _rules_crcrlf(folder: Path) -> list[str]:
    rules = folder / "rules"
    rules.mkdir()
    for table in (Path(__file__).parents[2] / "rules").glob("*.csv"):
        (rules / table.name).write_bytes(table.read_bytes())
    limits = rules / "unit_limits.csv"
    limits.write_bytes(limits.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\r\n"))
    return [str(SAMPLE), "--rules", str(rules)]


# (case, arguments made in a folder, the file the message names, words it holds)
CASES: list[tuple[str, Callable[[Path], list[str]], str, tuple[str, ...]]] = [
    ("bare CR line ends", _bare_cr, "cr.csv", ("line 1", "bare carriage return")),
    ("quote open at the end", _open_quote, "quote.csv", ("line 4", "quoted field", "end of the file")),
    ("symlink loop", _symlink_loop, "a.csv", ("symbolic link loop",)),
    ("delimited row with more fields", _rif_extra_fields, "rif.txt", ("line 3", "9 fields where the header has 8")),
    ("rule table with \\r\\r\\n", _rules_crcrlf, "unit_limits.csv", ("line 1", "\\r\\r\\n")),
]


@pytest.mark.parametrize(("case", "make", "named", "words"), CASES, ids=[c[0] for c in CASES])
def test_unreadable_text_is_one_line_naming_the_file_and_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    case: str,
    make: Callable[[Path], list[str]],
    named: str,
    words: tuple[str, ...],
) -> None:
    (tmp_path / "in").mkdir()
    args = make(tmp_path / "in")
    code = main(["run", *args, "--out", str(tmp_path / "o"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and named in err, err
    for word in words:
        assert word in err, err
    assert "Schema" not in err and "could not parse" not in err, err
    assert not (tmp_path / "o").exists()
