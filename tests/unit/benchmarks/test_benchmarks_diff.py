"""The benchmark's diff scenario (issue 14): its second plans table, and how its targets are read. No timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjudicator.rules.tables import load_rules
from benchmarks import _rules
from benchmarks.run import DIFF, RUN, Cell, Sample, diff_rows, diff_targets, parse_args


def test_corrected_plans_differ_from_the_shipped_ones_in_one_row_and_load(tmp_path: Path) -> None:
    corrected = _rules.corrected_plans(tmp_path / "plans.csv")
    shipped = (_rules.SHIPPED_RULES / _rules.PLANS).read_text().splitlines()
    edited = corrected.read_text().splitlines()
    assert len(edited) == len(shipped)
    assert [(a, b) for a, b in zip(shipped, edited, strict=True) if a != b] == [
        ("HCSC-PPO-100,HCSC,COMMERCIAL,2020-01-01,,true,false", "HCSC-PPO-100,HCSC,COMMERCIAL,2020-01-01,,false,false")
    ]
    load_rules(plans=corrected)


def _cell(lines: int, contender: str, wall: float, peak: float) -> Cell:
    return Cell("parquet", lines, contender, samples=[Sample(wall, peak, 0.0, 0.0, 0, False, 1, "log")])


# (case, cells, expected {(lines, target): (value, met)})
TARGET_CASES = [
    (
        "10M met",
        [_cell(10_000_000, RUN, 20.0, 1000.0), _cell(10_000_000, DIFF, 10.0, 900.0)],
        {(10_000_000, "wall / one run"): (0.5, True), (10_000_000, "peak RSS MiB"): (900.0, True)},
    ),
    (
        "slower than the run, too large",
        [_cell(10_000_000, RUN, 10.0, 1000.0), _cell(10_000_000, DIFF, 12.0, 2048.0)],
        {(10_000_000, "wall / one run"): (1.2, False), (10_000_000, "peak RSS MiB"): (2048.0, False)},
    ),
    (
        "growth from 10M to 100M",
        [_cell(10_000_000, DIFF, 10.0, 800.0), _cell(100_000_000, DIFF, 100.0, 1000.0)],
        {
            (10_000_000, "peak RSS MiB"): (800.0, True),
            (100_000_000, "peak RSS MiB"): (1000.0, True),
            (100_000_000, "peak(100M) / peak(10M)"): (1.25, False),
        },
    ),
]


@pytest.mark.parametrize(("case", "cells", "expected"), TARGET_CASES, ids=[c[0] for c in TARGET_CASES])
def test_diff_targets(case: str, cells: list[Cell], expected: dict[tuple[int, str], tuple[float, bool]]) -> None:
    got = {(t["lines"], t["target"]): (t["value"], t["met"]) for t in diff_targets(cells)}
    assert got == expected
    ratios = {(r["lines"], r["contender"]): r["vs_run"] for r in diff_rows(cells)}
    assert all(v is None or v > 0 for v in ratios.values())


def test_diff_scenario_defaults_to_parquet_and_run_against_diff() -> None:
    args = parse_args(["--scenario", "diff"])
    assert (args.formats, args.contenders) == (["parquet"], [RUN, DIFF])
    assert parse_args([]).contenders == ["io_floor", "duckdb_sql", "pandas_merge", "adjudicator"]
