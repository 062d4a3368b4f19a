"""The report's per-claim partials (flagged dollars and context), spilled to disk as the batches pass and merged
part by part (``ClaimSpill``)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from adjudicator.contract import CLAIM_ID
from adjudicator.embedded.sinks import ParquetSink, arrow
from adjudicator.embedded.spill import partitions_for, spill_hash, spill_parts
from adjudicator.engine.summary import top_claims
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings


class ClaimSpill:
    """The report's per-claim partials (``summary.claim_partials``), kept on disk: one row per claim and batch.

    Claims with a flagged line are a few percent of the lines, so their sums
    grew a run's memory with its size (docs/benchmarks.md). Each batch's
    per-claim partial goes to a spill file; at the end
    the file is split by a hash of the claim, each part is merged on its own,
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


__all__ = ["ClaimSpill"]
