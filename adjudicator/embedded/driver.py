"""The local driver: one streaming read of the input, each batch through ``adjudicate_batch``, two Parquet writers.

The raw frame (Parquet read in place, or text staged once to Parquet) is read
once, in batches of ``batch_size`` lines. Each batch goes through the pure
batch function on the driver's thread; its results (their Arrow table made
on their writer's thread) and rejects are handed to two writer threads
(``ParquetSink``), and its counts to a thread that adds them to the run's
totals (``Worker``) as the batches pass, so the summary needs no extra scan
and no read-back of the written files. Memory does not grow with the input;
most of it is the reader decoding ahead of the batches (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from adjudicator.embedded.claim_spill import ClaimSpill
from adjudicator.embedded.events import Meter
from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.progress import Progress
from adjudicator.embedded.sinks import ParquetSink, arrow
from adjudicator.embedded.worker import Worker
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.facts import BatchFacts, Supersede
from adjudicator.engine.totals import Totals
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.rules.compiled import CompiledRules


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
    progress: bool | Meter = False,
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
    ``progress``: a line on a terminal (True), or the run log's meter of the phase, fed the lines done.
    """
    empty = adjudicate_batch(raw.head(0).collect(), facts, compiled, run_id, keep=keep)
    claims = ClaimSpill(scratch / "claims", settings) if scratch is not None else None
    totals = Totals(claims=claims)
    totals.add(empty)
    sinks = [
        ParquetSink(results_path, empty.results_table().schema),
        ParquetSink(rejects_path, arrow(empty.rejects).schema),
    ]
    meter = progress if isinstance(progress, Meter) else None
    shown = Progress(expected_lines, enabled=progress is True, after_s=settings.progress_after_s, meter=meter)
    # the driver's thread reads and adjudicates; the results' Arrow table is made and written on the results
    # writer's thread and the totals added on one of their own, so the three overlap (docs/benchmarks.md)
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


def adjudicate_lines(
    raw: pl.LazyFrame,
    facts: BatchFacts,
    compiled: CompiledRules,
    *,
    run_id: str,
    keep: pl.Expr | None = None,
    batch_size: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, Totals]:
    """Every line of ``raw`` through ``adjudicate_batch`` into frames in memory, with the prepass's ``facts``:
    (results, rejects, totals), the totals settled. ``batch_size`` None is one batch; any other size gives the
    same rows and counts. Writes nothing."""
    totals = Totals()
    empty = adjudicate_batch(raw.head(0).collect(), facts, compiled, run_id, keep=keep)
    # the empty batch fixes the columns' types when no line comes, and counts nothing: as in ``run_batches``
    totals.add(empty)
    results, rejects = [empty.results], [empty.rejects]
    frames = [raw.collect()] if batch_size is None else batches(raw, batch_size)
    for frame in frames:
        if totals.first_batch_at is None:
            totals.first_batch_at = time.perf_counter()
        out = adjudicate_batch(frame, facts, compiled, run_id, keep=keep)
        results.append(out.results)
        rejects.append(out.rejects)
        totals.add(out)
    totals.check_against(facts)
    totals.settle()
    return pl.concat(results), pl.concat(rejects), totals


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
    """A whole run held in memory, for frames that fit in it (tests, notebooks): the in-memory prepass
    (``find_facts(..., in_memory=True)``), then every batch (``adjudicate_lines``). No file is written.

    ``batch_size`` None is one batch; any other size gives the same rows.
    Returns (results, rejects, totals).
    """
    facts = find_facts(raw, compiled, supersede=supersede, in_memory=True, settings=settings)
    return adjudicate_lines(raw, facts, compiled, run_id=run_id, keep=keep, batch_size=batch_size)


__all__ = ["adjudicate_frame", "adjudicate_lines", "batches", "run_batches"]
