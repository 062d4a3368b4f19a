"""The staging's progress (``adjudicator.embedded.staging.StagingGauge``): the bytes the process read, less the
checksum thread's, of the text inputs' size; parts written or footers read where bytes cannot be measured; and
the phase's lines and events that show it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest

from adjudicator.embedded import staging
from adjudicator.embedded.events import Meter, RunLog, format_progress
from adjudicator.embedded.staging import StagingGauge, bytes_read, staged_rows, staging_gauge
from adjudicator.publish.hashing import BytesRead, checksums_in_background


class _Counter:
    """A byte count the test moves by hand (the process's ``rchar``, or the checksum thread's)."""

    def __init__(self, value: int | None = 0) -> None:
        self.value = value

    def __call__(self) -> int | None:
        return self.value


def test_bytes_done_are_the_process_bytes_read_since_the_start_less_the_checksum_threads() -> None:
    read, others = _Counter(5_000), _Counter(700)
    gauge = StagingGauge(text_bytes=1_000, parts=1, others=others, read=read)  # type: ignore[arg-type]
    assert (gauge.unit, gauge.total) == ("bytes", 1_000)
    assert gauge() == (0, 1_000)
    read.value = 5_000 + 600  # staging read 400, the checksum thread 200
    others.value = 700 + 200
    assert gauge() == (400, 1_000)
    others.value = 700 + 300  # the checksum thread's count has moved on before the process's: never backwards
    assert gauge() == (400, 1_000)
    read.value = 5_000 + 5_000  # more than the files (a pipe read, a buffer read ahead): never past the total
    assert gauge() == (1_000, 1_000)


def test_without_a_bytes_read_count_the_parts_written_are_counted_and_clamped() -> None:
    gauge = StagingGauge(text_bytes=1_000, parts=3, read=_Counter(None))
    assert (gauge.unit, gauge.total) == ("parts", 3)
    assert gauge() == (0, 3)
    gauge.advance()
    assert gauge() == (1, 3)
    for _ in range(5):
        gauge.advance()
    assert gauge() == (3, 3)


def test_a_count_that_vanishes_midway_keeps_the_last_bytes_done() -> None:
    read = _Counter(0)
    gauge = StagingGauge(text_bytes=100, parts=1, read=read)
    read.value = 30
    assert gauge() == (30, 100)
    read.value = None
    assert gauge() == (30, 100)


def test_bytes_read_is_rchar_of_proc_io_or_none_where_there_is_none(tmp_path: Path) -> None:
    io_file = tmp_path / "io"
    io_file.write_text("rchar: 123456\nwchar: 42\nsyscr: 7\n")
    assert bytes_read(io_file) == 123456
    assert bytes_read(tmp_path / "missing") is None
    io_file.write_text("wchar: 42\n")
    assert bytes_read(io_file) is None


def test_this_process_bytes_read_grow_as_it_reads_a_file(tmp_path: Path) -> None:
    if bytes_read() is None:
        pytest.skip("no /proc/self/io here")
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 300_000)
    before = bytes_read()
    path.read_bytes()
    after = bytes_read()
    assert before is not None and after is not None and after - before >= 300_000


def test_the_gauge_of_text_inputs_is_in_bytes_of_the_files_polars_reads(tmp_path: Path) -> None:
    paths = []
    for name, size in (("a.csv", 1_000), ("b.csv", 234)):
        (tmp_path / name).write_bytes(b"x" * size)
        paths.append(str(tmp_path / name))
    gauge = staging_gauge(paths, paths, len(paths), others=BytesRead())
    if bytes_read() is None:
        assert (gauge.unit, gauge.total) == ("parts", 1)
    else:
        assert (gauge.unit, gauge.total) == ("bytes", 1_234)
    # an 837P is read whole before staging: nothing is left to read, so the parts written are counted
    assert (staging_gauge(paths, [], len(paths)).unit, staging_gauge(paths, [], 130).total) == ("parts", 3)


def test_inputs_all_parquet_count_the_footers_read(tmp_path: Path) -> None:
    paths = []
    for i in range(3):
        pl.DataFrame({"x": list(range(i + 1))}).write_parquet(tmp_path / f"{i}.parquet")
        paths.append(str(tmp_path / f"{i}.parquet"))
    gauge = staging_gauge(paths, [], len(paths))
    assert (gauge.unit, gauge.total, gauge()) == ("files", 3, (0, 3))
    raw = pl.scan_parquet(paths)
    assert staging.stage_text_inputs(raw, paths, tmp_path, gauge=gauge) is raw
    assert staged_rows(raw, paths, gauge=gauge) == 6
    assert gauge() == (3, 3)


def test_staging_in_groups_counts_each_part_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staging, "FILES_PER_PART", 2)
    paths = []
    for i in range(5):
        (tmp_path / f"{i}.csv").write_text(f"x\n{i}\n")
        paths.append(str(tmp_path / f"{i}.csv"))
    parts = [pl.scan_csv(path) for path in paths]
    gauge = StagingGauge(text_bytes=0, parts=3)
    staged = staging.stage_text_inputs(pl.concat(parts), paths, tmp_path, parts=parts, gauge=gauge)
    assert staged.collect()["x"].to_list() == [0, 1, 2, 3, 4]
    assert gauge() == (3, 3)


def test_the_checksum_thread_counts_every_byte_it_reads(tmp_path: Path) -> None:
    paths = []
    for name, size in (("a.csv", 5 << 20), ("b.csv", 10)):
        (tmp_path / name).write_bytes(b"y," * (size // 2))
        paths.append(str(tmp_path / name))
    counted = BytesRead()
    pool, futures = checksums_in_background(paths, quoted={paths[0]: ","}, counted=counted)
    for future in futures.values():
        future.result()
    pool.shutdown()
    assert counted() == (5 << 20) + 10


def test_a_polled_phase_ends_with_the_last_count_the_poll_knows() -> None:
    stream = io.StringIO()
    log = RunLog(log_format="json", stream=stream, progress=False)
    gauge = StagingGauge(text_bytes=0, parts=2)
    with log.phase("staging", total=gauge.total, unit=gauge.unit) as meter:
        meter.poll = gauge
        gauge.advance()
        gauge.advance()
    end = json.loads(stream.getvalue().splitlines()[-1])
    assert (end["event"], end["done"], end["total"], end["unit"]) == ("phase_end", 2, 2, "parts")


def test_a_polled_phase_whose_poll_forgets_its_total_keeps_the_last_it_saw() -> None:
    # a Spark stage's tasks are gone once it ends: the phase's end keeps the counts last shown
    stream = io.StringIO()
    log = RunLog(log_format="json", stream=stream, progress=False)
    with log.phase("adjudicating", total=None, unit="tasks") as meter:
        meter.done, meter.total = 8, 8
        meter.poll = lambda: (0, None)
    end = json.loads(stream.getvalue().splitlines()[-1])
    assert (end["done"], end["total"]) == (8, 8)


@pytest.mark.parametrize(
    ("unit", "done", "total", "text"),
    [
        ("bytes", 400_000, 1_000_000, "staging: 40% (400,000 of 1,000,000 bytes), 4s elapsed, ETA 6s"),
        ("steps", 3, 6, "staging: 50% (3 of 6 steps), 4s elapsed, ETA 4s"),
        ("parts", 0, 2, "staging: 0% (0 of 2 parts), 4s elapsed, ETA unknown"),
    ],
)
def test_a_text_line_with_a_total_shows_the_percentage_and_an_eta(unit: str, done: int, total: int, text: str) -> None:
    meter = Meter("staging", total, unit, started=10.0, done=done)
    assert format_progress(meter, 14.0) == text
