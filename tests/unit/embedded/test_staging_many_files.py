"""Many small input files are staged group by group, so a run's time is linear in its files: no query stacks
more than ``FILES_PER_PART`` scans, and the staged frame is the same rows, columns and types as stacking every
file at once (extra columns in some files, typed Parquet beside CSV text)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from adjudicator.embedded import staging
from adjudicator.embedded.staging import stage_text_inputs
from tests.helpers import SAMPLE


def _many_files(folder: Path, count: int) -> list[str]:
    """``count`` small canonical files: CSV, one with an extra column, one typed Parquet."""
    header, *rows = SAMPLE.read_text().splitlines()
    paths = []
    for n in range(count):
        chunk = rows[(3 * n) % len(rows) : (3 * n) % len(rows) + 3]
        path = folder / f"c{n:04d}.csv"
        if n == 5:
            path.write_text("\n".join([header + ",note", *(r + ",x" for r in chunk)]) + "\n")
        elif n == 7:
            path = folder / f"c{n:04d}.parquet"
            frame = pl.read_csv(("\n".join([header, *chunk]) + "\n").encode(), infer_schema=False)
            frame.with_columns(pl.col("units").cast(pl.Int64)).write_parquet(path)
        else:
            path.write_text("\n".join([header, *chunk]) + "\n")
        paths.append(str(path))
    return paths


def test_many_files_stage_in_groups_to_the_same_frame(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "FILES_PER_PART", 4)
    (tmp_path / "in").mkdir()
    paths = _many_files(tmp_path / "in", 11)
    from adjudicator.readers.scan import scan_layout_parts, stack_parts

    parts = scan_layout_parts("canonical", paths)
    raw = stack_parts("canonical", parts, flag_supersede=False)
    whole = raw.collect()
    stacked: list[int] = []
    concat = pl.concat

    def counted(items: list[pl.LazyFrame], **kwargs: object) -> pl.LazyFrame:
        stacked.append(len(items))
        return concat(items, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(staging.pl, "concat", counted)
    staged = stage_text_inputs(raw, paths, tmp_path, parts=parts).collect()
    assert stacked == [4, 4, 3]  # one query per group, never one over every file
    assert len(list(tmp_path.glob("input-*.parquet"))) == 3
    assert_frame_equal(staged, whole)


def test_few_files_stage_as_one_parquet_file(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    paths = _many_files(tmp_path / "in", 3)
    from adjudicator.readers.scan import scan_layout_parts, stack_parts

    parts = scan_layout_parts("canonical", paths)
    raw = stack_parts("canonical", parts, flag_supersede=False)
    staged = stage_text_inputs(raw, paths, tmp_path, parts=parts).collect()
    assert [p.name for p in tmp_path.glob("input*.parquet")] == ["input.parquet"]
    assert_frame_equal(staged, raw.collect())
