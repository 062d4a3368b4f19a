"""Spark work items name each input by the driver's absolute path, and a task that cannot open one says so,
naming the node and what it sees there (issue 25)."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import polars as pl
import pytest

from adjudicator.spark.reading import ReadItems, _work_items
from tests.helpers import SAMPLE


def test_work_items_carry_the_absolute_path_beside_the_path_as_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLE, "claims.csv")
    pl.read_csv(SAMPLE, infer_schema=False).write_parquet("claims.parquet")
    items = _work_items(["claims.csv", "claims.parquet"], "canonical", 100)
    assert items[0] == (0, "claims.csv", str(tmp_path / "claims.csv"), 0, -1)
    assert {(i[1], i[2]) for i in items[1:]} == {("claims.parquet", str(tmp_path / "claims.parquet"))}
    assert len(items) > 2  # the Parquet file in ranges


def test_a_task_that_cannot_open_an_input_names_the_node_and_its_view(tmp_path: Path) -> None:
    raw = pl.read_csv(SAMPLE, infer_schema=False).with_columns(pl.lit("x").alias("source_file")).schema
    task = ReadItems("canonical", None, None, raw, 1_000)
    elsewhere = str(tmp_path / "not-on-this-node" / "claims.csv")
    with pytest.raises(Exception) as caught:
        list(task._read(0, "claims.csv", elsewhere, 0, -1))
    message = str(caught.value)
    assert message.startswith("adjudicator-input-error: claims.csv: cannot be opened on the Spark node"), message
    assert socket.gethostname() in message and elsewhere in message and os.getcwd() in message
    assert "file not found" not in message


def test_a_task_keeps_the_path_as_given_in_source_file(tmp_path: Path) -> None:
    copy = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, copy)
    raw = pl.read_csv(SAMPLE, infer_schema=False).with_columns(pl.lit("x").alias("source_file")).schema
    task = ReadItems("canonical", None, None, raw, 1_000)
    frames = list(task._read(0, "claims.csv", str(copy), 0, -1))
    files = pl.concat(frames)["source_file"].unique().to_list()
    assert files == ["claims.csv"]
