"""polars settings that keep a run's memory flat; light on purpose (the benchmark's I/O floor imports it too).

Without them polars 2.1's Parquet reader decodes whole row groups ahead of a
slower consumer, so peak memory grew with the input (docs/benchmarks.md,
"Profiling notes, second round", and "The figures behind the code's choices").
"""

from __future__ import annotations

import os

#: read by polars when a query starts or, some of them, once when polars is imported: the command line applies
#: them before it imports polars (a library caller gets the rest); a value already in the environment wins
READER_SETTINGS = {
    # decode one row group at a time ...
    "POLARS_ROW_GROUP_PREFETCH_SIZE": "1",
    # ... in slices of this many values per thread, not the whole row group at once
    "POLARS_PARQUET_DECODE_TARGET_VALUES_PER_THREAD": "262144",
    # morsels of 25k rows, not 100k, and one morsel buffered between the streaming engine's stages: the
    # reader runs ahead of the batches by fewer rows, a lower peak in the same CPU time (docs/benchmarks.md)
    "POLARS_IDEAL_MORSEL_SIZE": "25000",
    "POLARS_DEFAULT_LINEARIZER_BUFFER_SIZE": "1",
    "POLARS_DEFAULT_DISTRIBUTOR_BUFFER_SIZE": "1",
    "POLARS_DEFAULT_ZIP_HEAD_BUFFER_SIZE": "1",
}


def tune_reader() -> None:
    """Apply ``READER_SETTINGS`` unless the environment already sets them."""
    for name, value in READER_SETTINGS.items():
        os.environ.setdefault(name, value)
