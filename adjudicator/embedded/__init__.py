"""The embedded engine: this process runs the engine around its I/O (staging, the prepass's spills, the batch
loop, the Parquet sinks, progress).

Modules: ``staging`` (text inputs staged to Parquet, expected lines), ``prepass`` (the batch-wide facts),
``spill`` (hash-partitioned spill files), ``claim_spill`` (the report's per-claim sums on disk), ``driver`` (the
batch loop), ``worker`` (a thread fed one item at a time), ``sinks`` (the Parquet output
writers), ``progress`` (the terminal's progress line), ``events`` (the run's log: phases, progress
lines, warnings, text or JSON), ``tuning`` (the polars reader settings).
"""
