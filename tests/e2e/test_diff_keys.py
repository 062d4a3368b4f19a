"""The diff compares keys exactly as the run does: a reject's claim id trimmed and typed like the results' keys,
and a sliced run's slice as the run took it (the claims list it read, kept in its folder), whatever became of the
list file since."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import SOURCE_FILE
from adjudicator.diff.runs import CHANGES, diff_runs
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.publish.manifest import CLAIMS_LIST, MANIFEST
from adjudicator.rules.tables import RuleSet
from tests.helpers import raw_frame
from tests.support.diff_runs import BASE, own_line, replaced, write_run

pytestmark = pytest.mark.e2e


def _changes(folder: Path) -> dict[tuple[str, int], str]:
    rows = pl.read_parquet(folder / CHANGES).to_dicts()
    return {(r["claim_id"], r["line_number"]): r["change_kind"] for r in rows}


# (case, old lines, new lines): the HMO line is rejected in the old run, its claim id or line number written
# otherwise than the new run's result holds it; it is the same line, rejected in old
PADDED_REJECTS = [
    ("claim id padded", replaced(BASE, "HMO", claim_id="  HMO  ", units="0"), BASE),
    ("claim id tab-padded", replaced(BASE, "HMO", claim_id="\tHMO", units="0"), BASE),
    ("line number written 1.0", replaced(BASE, "HMO", line_number="1.0", units="0"), BASE),
]


@pytest.mark.parametrize("partitions", [1, 3, None], ids=["whole", "partitioned", "aligned"])
@pytest.mark.parametrize(("case", "old", "new"), PADDED_REJECTS, ids=[c[0] for c in PADDED_REJECTS])
def test_a_reject_fixed_in_the_new_run_is_rejected_in_old(
    tmp_path: Path,
    rules: RuleSet,
    case: str,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    partitions: int | None,
) -> None:
    summary = diff_runs(
        write_run(tmp_path / "old", old, rules, "old"),
        write_run(tmp_path / "new", new, rules, "new"),
        tmp_path / "diff",
        partitions=partitions,
        aligned=partitions is None,
    )
    assert _changes(tmp_path / "diff") == {("HMO", 1): "rejected_in_old"}
    assert summary["totals"]["lines_compared"] == len(BASE)


def test_a_padded_reject_in_both_runs_is_unchanged(tmp_path: Path, rules: RuleSet) -> None:
    old = replaced(BASE, "HMO", claim_id=" HMO", units="0")
    new = replaced(BASE, "HMO", claim_id="HMO ", units="x")
    summary = diff_runs(
        write_run(tmp_path / "old", old, rules, "old"), write_run(tmp_path / "new", new, rules, "new"), tmp_path / "d"
    )
    assert _changes(tmp_path / "d") == {}
    assert summary["totals"]["lines_compared"] == len(BASE)


# ------------------------------------------------------------------------------------------
# A sliced run's slice is the list the run read
# ------------------------------------------------------------------------------------------

ROWS = [*BASE, own_line("NMN2"), own_line("NMN3")]


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    raw_frame(rows).drop(SOURCE_FILE).collect().write_csv(path)
    return path


def _run(out: Path, claims: Path, *extra: str) -> Path:
    assert main(["run", str(claims), "--out", str(out), "--quiet", *extra]) == EXIT_OK
    return out


@pytest.fixture
def sliced_runs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A full run, a run sliced to the claims listed in ids.txt (NMN, HMO), and the list."""
    claims = _csv(tmp_path / "claims.csv", ROWS)
    listed = tmp_path / "ids.txt"
    listed.write_text("claim_id\nNMN\nHMO\n")
    full = _run(tmp_path / "full", claims)
    # the new run's rules differ for NMN alone: HMO's plan has no NMN exclusion either way
    sliced = _run(
        tmp_path / "sliced",
        _csv(tmp_path / "changed.csv", replaced(ROWS, "NMN", plan_id="HCSC-HMO-200")),
        "--claims",
        str(listed),
    )
    return full, sliced, listed


def _diff(full: Path, sliced: Path, out: Path) -> tuple[dict[tuple[str, int], str], dict[str, Any]]:
    summary = diff_runs(full, sliced, out)
    return _changes(out), summary


EXPECTED = {("NMN", 1): "changed"}


@pytest.mark.parametrize("after", ["kept", "edited", "emptied", "deleted"])
def test_a_sliced_run_is_compared_on_the_slice_it_took(
    tmp_path: Path, sliced_runs: tuple[Path, Path, Path], after: str
) -> None:
    full, sliced, listed = sliced_runs
    assert pl.read_parquet(sliced / CLAIMS_LIST)["claim_id"].to_list() == ["HMO", "NMN"]
    if after == "edited":
        listed.write_text("NMN\nNMN2\nNMN3\nOFF\n")
    elif after == "emptied":
        listed.write_text("")
    elif after == "deleted":
        listed.unlink()
    changes, summary = _diff(full, sliced, tmp_path / "diff")
    assert changes == EXPECTED
    assert summary["totals"]["lines_compared"] == 2
    changes, summary = _diff(sliced, full, tmp_path / "back")
    assert set(changes) == set(EXPECTED)
    assert summary["totals"]["lines_compared"] == 2


def test_a_run_without_its_ids_is_compared_only_on_the_unchanged_list(
    tmp_path: Path, sliced_runs: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A run made before runs kept their list's ids: the list file is used while its checksum is the run's;
    once it changes, the diff refuses (exit 2, naming the list) rather than invent changes."""
    full, sliced, listed = sliced_runs
    (sliced / CLAIMS_LIST).unlink()
    manifest = json.loads((sliced / MANIFEST).read_text())
    manifest["claims_list"].pop("ids_file")
    (sliced / MANIFEST).write_text(json.dumps(manifest))
    assert _diff(full, sliced, tmp_path / "diff")[0] == EXPECTED
    listed.write_text("NMN\nNMN2\n")
    capsys.readouterr()
    code = main(["diff", str(full), str(sliced), "--out", str(tmp_path / "again"), "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert str(listed) in err and "changed since the run" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "again").exists()
