"""CCLF re-deliveries are matched on the key the duplicate check uses (typed and trimmed): a fixed-width padded
claim id, or a line number written ``1.0``, is a later copy of the same line, not a second line with its key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_OK
from tests.helpers import ROOT

pytestmark = pytest.mark.e2e

CCLF = ROOT / "tests" / "fixtures" / "layouts" / "cclf5_partb.csv"
#: the fixture's first two rows are line 1 of claim 101 delivered on 2024-06-01, then again on 2024-07-01
FIRST, LATER = 1, 2

# (case, claim id of the later copy, line number of the later copy)
WRITTEN_OTHERWISE = [
    ("as delivered", "0000000000000101", "0000000001"),
    ("claim id padded to a fixed width", "0000000000000101    ", "0000000001"),
    ("claim id padded on the left", "   0000000000000101", "0000000001"),
    ("line number written 1.0", "0000000000000101", "1.0"),
    ("line number without zeros", "0000000000000101", "1"),
]


def _cclf(path: Path, claim_id: str, line_number: str) -> Path:
    lines = CCLF.read_text().splitlines()
    fields = lines[LATER].split(",")
    fields[0], fields[1] = claim_id, line_number
    lines[LATER] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(tmp_path: Path, inputs: Path, *extra: str) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    out = tmp_path / "out"
    assert main(["run", str(inputs), "--layout", "cclf5", "--out", str(out), "--quiet", *extra]) == EXIT_OK
    manifest = json.loads((out / "manifest.json").read_text())
    return pl.read_parquet(out / "results.parquet"), pl.read_parquet(out / "rejects.parquet"), manifest


@pytest.mark.parametrize(("case", "claim_id", "line_number"), WRITTEN_OTHERWISE, ids=[c[0] for c in WRITTEN_OTHERWISE])
def test_a_later_copy_written_otherwise_supersedes_the_first(
    tmp_path: Path, case: str, claim_id: str, line_number: str
) -> None:
    results, rejects, manifest = _run(tmp_path, _cclf(tmp_path / "cclf5.csv", claim_id, line_number))
    line = results.filter((pl.col("claim_id") == "0000000000000101") & (pl.col("line_number") == 1))
    assert line.height == 1  # the later copy is adjudicated
    assert str(line["billed_amount"][0]) == "175.00"
    superseded = rejects.filter(pl.col("failed_checks").list.contains("superseded_delivery"))
    assert superseded.height == 1
    assert superseded["failed_checks"].to_list() == [["superseded_delivery"]]
    assert "duplicate_key" not in manifest["counts"]["rejects_by_check"]
