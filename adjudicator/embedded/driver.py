"""The local driver: one streaming read of the input, each batch through ``adjudicate_batch``, two Parquet writers.

The raw frame (Parquet read in place, or text staged once to Parquet) is read
once, in batches of ``batch_size`` lines. Each batch goes through the pure
batch function on the driver's thread; its results (their Arrow table made
on their writer's thread) and rejects are handed to two writer threads
(``ParquetSink``), and its counts to a thread that adds them to the run's
totals (``Worker``) as the batches pass, so the summary needs no extra scan
and no read-back of the written files. Memory does not grow with the input
(10M to 100M lines: x1.13); most of it is the reader decoding ahead of the
batches (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import queue
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from adjudicator.contract import (
    BILLED_AMOUNT,
    CLAIM_ID,
    DECISION_COLUMNS,
    DETERMINATION,
    MEMBER_ID,
    RUN_ID,
    SERVICE_DATE,
)
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.spill import partitions_for, spill_hash, spill_parts
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.summary import top_claims
from adjudicator.engine.totals import Totals
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.rules.compiled import CompiledRules

#: Parquet compression of the outputs (polars' default for sink_parquet)
COMPRESSION = "zstd"
#: columns written without statistics: one value per line (claim_id, member_id), and the decision columns but
#: the determination, and run_id: a row group of 100k lines holds a few percent of flagged lines with every
#: policy, plan and message among them, so their min/max prune nothing; they cost a sixth of the writing (2M
#: results lines: 0.73 against 0.85 CPU s). The determination keeps its statistics: a row group of only
#: NO_ACTION lines is skipped by a reader looking for flagged ones.
NO_STATISTICS = frozenset({CLAIM_ID, MEMBER_ID, RUN_ID, *(c for c in DECISION_COLUMNS if c != DETERMINATION)})
#: columns written without a dictionary: values mostly distinct within a row group, where trying a dictionary
#: first cost more than the plain encoding and made a larger file (2M results lines: 0.19 of 1.05 CPU seconds
#: of writing; claim_id 3.3 MB with a dictionary, 1.0 MB without)
NO_DICTIONARY = frozenset({CLAIM_ID, MEMBER_ID, SERVICE_DATE, BILLED_AMOUNT})


def arrow(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow without copying its text: polars' string views are handed over as they are
    (converting to Arrow's contiguous strings cost a third of the writing)."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


class Worker:
    """Calls ``work`` on each item handed to it, in order, on a thread of its own.

    ``put`` waits while the previous item is still at work, so one item is
    held at a time (the driver works on the next batch meanwhile: two batches
    in memory, not three); ``close`` drains the queue, joins the thread and
    re-raises the first error ``work`` met (later items are then skipped).
    """

    def __init__(self, work: Callable[[Any], None], name: str) -> None:
        self._work = work
        self._queue: queue.Queue[tuple[Any] | None] = queue.Queue()
        self._free = threading.BoundedSemaphore(1)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.error is None:
                try:
                    self._work(item[0])
                except BaseException as exc:  # re-raised in the driver's thread by put/close
                    self.error = exc
            del item
            self._free.release()

    def put(self, item: Any) -> None:
        self._free.acquire()
        if self.error is not None:
            self._free.release()
            raise self.error
        self._queue.put((item,))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self.error is not None:
            raise self.error


class ParquetSink:
    """One output file, written row group by row group by pyarrow on a thread of its own (``Worker``).

    Not polars' own sink fed from a Python source: it encodes on all cores
    but pulls frames ahead of its encoder, and a 20M-line run peaked at
    2,074 MiB against 1,718 MiB with this writer (docs/benchmarks.md).

    ``write`` hands the thread a frame, a table, or a function that makes the
    table there (its work then leaves the driver's thread); ``close`` drains
    the queue, closes the file and re-raises any error the thread met. A file
    is always written, with ``schema``, even when no frame comes.
    """

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        statistics = [name for name in schema.names if name not in NO_STATISTICS]
        dictionary = [name for name in schema.names if name not in NO_DICTIONARY]
        # no Arrow schema in the footer: readers see plain Parquet strings and values, not the view and
        # dictionary types handed over
        self._writer = pq.ParquetWriter(
            path,
            schema,
            compression=COMPRESSION,
            write_statistics=statistics,
            use_dictionary=dictionary,
            store_schema=False,
        )
        self._schema = schema
        self._worker = Worker(self._write, name=f"write-{path.name}")

    def _write(self, item: pa.Table | Callable[[], pa.Table]) -> None:
        table = item() if callable(item) else item
        if table.num_rows:
            if table.schema != self._schema:
                table = table.cast(self._schema)
            self._writer.write_table(table, row_group_size=table.num_rows)

    def write(self, data: pl.DataFrame | pa.Table | Callable[[], pa.Table]) -> None:
        if callable(data):
            self._worker.put(data)
        elif data.shape[0]:
            self._worker.put(arrow(data) if isinstance(data, pl.DataFrame) else data)

    def close(self) -> None:
        try:
            self._worker.close()
        finally:
            self._writer.close()


class ClaimSpill:
    """The report's flagged dollars per claim, kept on disk: one row per claim and batch, not in memory.

    Claims with a flagged line are a few percent of the lines, so their sums
    grew a run's memory with its size (100M lines: about 1.5M claims held to
    the end). Each batch's per-claim partial goes to a spill file; at the end
    the file is split by a hash of the claim, each part is summed on its own,
    and its top claims kept: every claim's whole sum is in one part, so the
    run's top claims are among the parts' (exact, in one part's memory).
    """

    def __init__(self, folder: Path, settings: EngineSettings = DEFAULT_SETTINGS) -> None:
        self.folder = folder
        self.settings = settings
        self.path = folder / "claims.parquet"
        self.sink: ParquetSink | None = None
        self.rows = 0

    def add(self, frame: pl.DataFrame) -> None:
        if self.sink is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.sink = ParquetSink(self.path, arrow(frame).schema)
        self.sink.write(frame)
        self.rows += frame.height

    def top(self, n: int) -> pl.DataFrame | None:
        """Every part's ``n`` claims with the most flagged dollars (ties by claim_id); None when none came."""
        if self.sink is None:
            return None
        self.sink.close()
        parts = spill_parts(
            pl.scan_parquet(self.path, glob=False),
            spill_hash(pl.col(CLAIM_ID)),
            partitions_for(self.rows, self.settings.claims_per_partition),
            self.folder / "by_claim",
            files_open=self.settings.spill_files_open,
        )
        return pl.concat([top_claims(part, n) for part in parts])


class Progress:
    """A line on stderr (lines done of expected, lines/s), rewritten in place; only on a terminal."""

    def __init__(
        self,
        expected: int,
        *,
        enabled: bool,
        after_s: float = DEFAULT_SETTINGS.progress_after_s,
        stream: IO[str] | None = None,
    ) -> None:
        self.expected = expected
        self.after_s = after_s
        self.stream = stream or sys.stderr
        self.enabled = enabled and self.stream.isatty()
        self.started = time.perf_counter()
        self.shown = False

    def update(self, done: int) -> None:
        elapsed = time.perf_counter() - self.started
        if not self.enabled or elapsed < self.after_s:
            return
        of = f" of {self.expected:,}" if self.expected else ""
        self.stream.write(f"\radjudicating: {done:,}{of} lines, {done / elapsed:,.0f} lines/s ")
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def batches(raw: pl.LazyFrame, batch_size: int) -> Iterator[pl.DataFrame]:
    """The raw frame read once, in order, ``batch_size`` lines at a time (the last may be shorter)."""
    yield from raw.collect_batches(chunk_size=batch_size, maintain_order=True)


def run_batches(
    raw: pl.LazyFrame,
    facts: BatchFacts,
    compiled: CompiledRules,
    run_id: str,
    results_path: Path,
    rejects_path: Path,
    *,
    keep: pl.Expr | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
    expected_lines: int = 0,
    progress: bool = False,
    scratch: Path | None = None,
    after_read: Callable[[], object] | None = None,
    between_batches: Callable[[], object] | None = None,
) -> Totals:
    """Adjudicate every line of ``raw`` into the two files; returns the run's totals.

    An empty slice of the input is adjudicated first: it fixes both files'
    schemas (written even when no line reaches them) and proves the plan
    before any line is read. ``scratch``: a folder for the report's per-claim
    sums (``ClaimSpill``); None keeps them in memory. ``after_read``: called
    once every batch has been read, while the outputs are finished.
    ``between_batches``: called after each batch; what it raises stops the run
    (``RulesCheck.failed``: the rule tables failed their check meanwhile).
    """
    empty = adjudicate_batch(raw.head(0).collect(), facts, compiled, run_id, keep=keep)
    claims = ClaimSpill(scratch / "claims", settings) if scratch is not None else None
    totals = Totals(claims=claims)
    totals.add(empty)
    sinks = [
        ParquetSink(results_path, empty.results_table().schema),
        ParquetSink(rejects_path, arrow(empty.rejects).schema),
    ]
    shown = Progress(expected_lines, enabled=progress, after_s=settings.progress_after_s)
    # the driver's thread reads and adjudicates; the results' Arrow table is made and written on the results
    # writer's thread and the totals added on one of their own, so the three overlap (10M lines: the batch
    # loop 7.15 s with all three on the driver's thread)
    adder = Worker(totals.add, name="totals")
    closing: list[ParquetSink | Worker] = [*sinks, adder]
    done = 0
    try:
        for lines in batches(raw, settings.batch_size):
            if totals.first_batch_at is None:
                totals.first_batch_at = time.perf_counter()
            out = adjudicate_batch(lines, facts, compiled, run_id, keep=keep)
            sinks[0].write(out.results_table)
            sinks[1].write(out.rejects)
            adder.put(out.counted())
            done += lines.height
            shown.update(done)
            if between_batches is not None:
                between_batches()
        if after_read is not None:
            after_read()
    except BaseException:
        for each in closing:
            with contextlib.suppress(Exception):  # the first error is the one to report
                each.close()
        raise
    finally:
        shown.finish()
    for each in closing:
        each.close()
    totals.check_against(facts)
    return totals


def adjudicate_frame(
    raw: pl.LazyFrame,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    supersede: Supersede | None = None,
    batch_size: int | None = None,
    settings: EngineSettings = DEFAULT_SETTINGS,
) -> tuple[pl.DataFrame, pl.DataFrame, Totals]:
    """A whole run held in memory, for small frames (tests, notebooks): prepass, then every batch.

    ``batch_size`` None is one batch; any other size gives the same rows.
    Returns (results, rejects, totals).
    """
    with tempfile.TemporaryDirectory(prefix="adjudicator-frame-") as spill:
        lines = int(raw.select(pl.len()).collect().item())
        facts = find_facts(
            raw, compiled, supersede=supersede, spill_dir=Path(spill), expected_rows=lines, settings=settings
        )
    totals = Totals()
    empty = adjudicate_batch(raw.head(0).collect(), facts, compiled, run_id, keep=keep)
    results, rejects = [empty.results], [empty.rejects]
    frames = [raw.collect()] if batch_size is None else batches(raw, batch_size)
    for frame in frames:
        out = adjudicate_batch(frame, facts, compiled, run_id, keep=keep)
        results.append(out.results)
        rejects.append(out.rejects)
        totals.add(out)
    totals.check_against(facts)
    return pl.concat(results), pl.concat(rejects), totals


__all__ = ["adjudicate_frame", "ParquetSink", "Progress", "batches", "run_batches"]
