"""The suite's ``--cores`` option: a contender pinned to N cores, and the ratios and targets read on the same
cores. No timings."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.run import (
    ADJUDICATOR,
    DUCKDB,
    FLOOR,
    Cell,
    Contender,
    Sample,
    parse_args,
    summarize,
    targets,
    with_cores,
)


def _cell(contender: str, wall: float, lines: int = 20_000_000) -> Cell:
    return Cell("parquet", lines, contender, samples=[Sample(wall, 900.0, 0.0, 0.0, 0, False, 1, "log")])


def test_a_pinned_contender_runs_under_taskset_with_as_many_threads() -> None:
    peer = Contender(DUCKDB, "sql", lambda i, o: ["python", "-m", "peer", str(i), str(o)])
    one, two = with_cores([peer], [1, 2])
    assert (one.name, two.name) == (f"{DUCKDB}@1c", f"{DUCKDB}@2c")
    argv = two.command(Path("in.parquet"), Path("out"))
    assert argv[:5] == ["taskset", "-c", "0-1", "env", "POLARS_MAX_THREADS=2"]
    assert argv[5:] == ["python", "-m", "peer", "in.parquet", "out", "--threads", "2"]
    assert with_cores([peer], []) == [peer]


def test_ratios_and_targets_compare_contenders_on_the_same_cores() -> None:
    cells = [
        _cell(f"{FLOOR}@1c", 4.0),
        _cell(f"{DUCKDB}@1c", 6.0),
        _cell(f"{ADJUDICATOR}@1c", 9.0),
        _cell(f"{FLOOR}@2c", 2.0),
        _cell(f"{DUCKDB}@2c", 4.0),
        _cell(f"{ADJUDICATOR}@2c", 7.0),
    ]
    rows = {r["contender"]: r for r in summarize(cells)}
    assert rows[f"{ADJUDICATOR}@1c"]["vs_floor"] == pytest.approx(2.25)
    assert rows[f"{ADJUDICATOR}@2c"]["vs_floor"] == pytest.approx(3.5)
    assert rows[f"{ADJUDICATOR}@2c"]["vs_duckdb"] == pytest.approx(1.75)
    got = {t["target"]: (round(t["value"], 3), t["met"]) for t in targets(cells)}
    assert got["wall / I/O floor@1c"] == (2.25, True)
    assert got["wall / I/O floor@2c"] == (3.5, False)
    assert got["wall / DuckDB peer@2c"] == (1.75, False)
    assert got["1 core / 2 cores (speed-up)"] == (round(9.0 / 7.0, 3), False)
    assert "wall / DuckDB peer@1c" not in got


def test_cores_are_checked_against_the_machine() -> None:
    assert parse_args(["--cores", "1,2"]).cores == [1, 2]
    assert parse_args([]).cores == []
    with pytest.raises(SystemExit):
        parse_args(["--cores", "100000"])
