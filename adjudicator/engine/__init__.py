"""The pure engine: row checks, batch-wide facts and edits, the batch function, the summary parts; no files,
no threads, no writers (``adjudicator.embedded`` and ``adjudicator.spark`` run it)."""
