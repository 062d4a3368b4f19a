"""The diff's two paths: the aligned runs zipped line by line, taken only when verified, and the partitioned one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.diff import runs as diff
from adjudicator.options import EngineSettings
from adjudicator.publish.manifest import RESULTS
from adjudicator.rules.tables import RuleSet, load_rules
from tests.support.diff_runs import BASE, observed, own_line, plans_without_nmn_exclusion, replaced, write_run

pytestmark = pytest.mark.e2e


def rules() -> RuleSet:
    return load_rules()


def _results_reversed(folder: Path) -> None:
    pl.read_parquet(folder / RESULTS).reverse().write_parquet(folder / RESULTS)


def _first_result_twice(folder: Path) -> None:
    results = pl.read_parquet(folder / RESULTS)
    pl.concat([results, results.head(1)]).write_parquet(folder / RESULTS)


def _unchanged(folder: Path) -> None:
    pass


BATCH = [*BASE, own_line("NMN2"), own_line("BAD", units="0"), own_line("DUP"), own_line("DUP", billed_amount="1.00")]

# (case, new lines, how the old run's folder is then edited, how the new one's is, diff_runs options,
#  whether the aligned path takes the runs)
PATH_CASES: list[
    tuple[str, list[dict[str, Any]], Callable[[Path], None], Callable[[Path], None], dict[str, Any], bool]
] = [
    ("same lines, one plan corrected", BATCH, _unchanged, _unchanged, {}, True),
    (
        "same lines, other rejects",
        [*replaced(BATCH, "BAD", units="x"), own_line("NEWBAD", line_number="0")],
        _unchanged,
        _unchanged,
        {},
        True,
    ),
    ("a line fewer", BATCH[1:], _unchanged, _unchanged, {}, False),
    ("same keys, another order", BATCH, _unchanged, _results_reversed, {}, False),
    ("same count, another key", [*BATCH[1:], own_line("OTHER")], _unchanged, _unchanged, {}, False),
    ("a key twice in both runs' results", BATCH, _first_result_twice, _first_result_twice, {}, False),
    (
        "a key-hash collision",
        BATCH,
        _unchanged,
        _unchanged,
        {"key_hash": lambda: pl.col("line_number").cast(pl.UInt64)},
        False,
    ),
]


@pytest.mark.parametrize("zip_rows", [3, 1_000_000])
@pytest.mark.parametrize(
    ("case", "new_rows", "edit_old", "edit_new", "options", "aligned"), PATH_CASES, ids=[c[0] for c in PATH_CASES]
)
def test_aligned_path_only_when_verified_and_then_equal_to_the_partitioned_path(
    tmp_path: Path,
    rules: RuleSet,
    zip_rows: int,
    case: str,
    new_rows: list[dict[str, Any]],
    edit_old: Callable[[Path], None],
    edit_new: Callable[[Path], None],
    options: dict[str, Any],
    aligned: bool,
) -> None:
    settings = EngineSettings(diff_zip_rows=zip_rows)  # 3: the runs are zipped in several slices
    corrected = load_rules(plans=plans_without_nmn_exclusion(tmp_path, "HCSC-PPO-100"))
    old = write_run(tmp_path / "old", BATCH, rules, "old")
    new = write_run(tmp_path / "new", new_rows, corrected, "new")
    edit_old(old)
    edit_new(new)
    spill = tmp_path / "spill"
    spill.mkdir()
    hash_ = options.get("key_hash", diff.line_hash)()
    took = diff._compare_aligned(old, new, hash_, tmp_path / "changes.parquet", spill, settings) is not None
    assert took == aligned
    diff.diff_runs(old, new, tmp_path / "auto", **options, settings=settings)
    diff.diff_runs(old, new, tmp_path / "partitioned", aligned=False, partitions=3, settings=settings)
    assert observed(tmp_path / "auto", old, new) == observed(tmp_path / "partitioned", old, new)


def test_aligned_path_leaves_large_rejects_to_the_partitioned_path(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BATCH, rules, "old")
    new = write_run(tmp_path / "new", BATCH, rules, "new")
    settings = EngineSettings(diff_aligned_max_rejects=2)  # each run rejects 3 lines (BAD, DUP twice)
    assert diff._compare_aligned(old, new, diff.line_hash(), tmp_path / "c.parquet", tmp_path, settings) is None


def test_partitions_must_be_positive(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    with pytest.raises(ValueError, match="'partitions' must be at least 1, got 0"):
        diff.diff_runs(old, old, tmp_path / "diff", partitions=0)


def test_runs_without_any_result_take_the_aligned_path_and_equal_the_partitioned_path(
    tmp_path: Path, rules: RuleSet
) -> None:
    old = write_run(tmp_path / "old", [own_line("A", units="0"), own_line("B", units="x")], rules, "old")
    new = write_run(tmp_path / "new", [own_line("A", units="0")], rules, "new")
    spill = tmp_path / "spill"
    spill.mkdir()
    changes = tmp_path / "changes.parquet"
    assert diff._compare_aligned(old, new, diff.line_hash(), changes, spill, EngineSettings()) is not None
    summary = diff.diff_runs(old, new, tmp_path / "auto")
    diff.diff_runs(old, new, tmp_path / "partitioned", aligned=False, partitions=3)
    assert observed(tmp_path / "auto", old, new) == observed(tmp_path / "partitioned", old, new)
    assert summary["by_change_kind"]["only_in_old"] == 1
    assert summary["totals"] == {"lines_compared": 2, "changed": 1, "unchanged": 1}
