"""The embedded engine: this process runs the engine around its I/O (staging, the prepass's spills, the batch
loop, the Parquet sinks, progress)."""
