"""The Parquet output files: each written row group by row group on a thread of its own (``ParquetSink``), with
the write options every output shares."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

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
from adjudicator.embedded.worker import Worker

#: Parquet compression of the outputs (polars' default for sink_parquet)
COMPRESSION = "zstd"
#: columns written without statistics: one value per line (claim_id, member_id), and the decision columns but
#: the determination, and run_id: a row group of 100k lines holds a few percent of flagged lines with every
#: policy, plan and message among them, so their min/max prune nothing, while writing them has a cost
#: (docs/benchmarks.md). The determination keeps its statistics: a row group of only NO_ACTION lines is
#: skipped by a reader looking for flagged ones.
NO_STATISTICS = frozenset({CLAIM_ID, MEMBER_ID, RUN_ID, *(c for c in DECISION_COLUMNS if c != DETERMINATION)})
#: columns written without a dictionary: values mostly distinct within a row group, where trying a dictionary
#: first cost more than the plain encoding and made a larger file (docs/benchmarks.md)
NO_DICTIONARY = frozenset({CLAIM_ID, MEMBER_ID, SERVICE_DATE, BILLED_AMOUNT})


def arrow(frame: pl.DataFrame) -> pa.Table:
    """The frame as Arrow without copying its text: polars' string views are handed over as they are
    (converting to Arrow's contiguous strings was a large share of the writing: docs/benchmarks.md)."""
    return frame.to_arrow(compat_level=pl.CompatLevel.newest())


class ParquetSink:
    """One output file, written row group by row group by pyarrow on a thread of its own (``Worker``).

    Not polars' own sink fed from a Python source: it encodes on all cores
    but pulls frames ahead of its encoder, and a run peaked higher with it
    than with this writer (docs/benchmarks.md).

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


__all__ = ["COMPRESSION", "NO_DICTIONARY", "NO_STATISTICS", "ParquetSink", "arrow"]
