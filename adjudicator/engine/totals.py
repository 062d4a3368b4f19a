"""The run's totals: each batch's counts and summary partials added up as the batches pass (small frames).

``Totals`` is pure: it sums what ``BatchOutput`` counted. Where the report's
per-claim sums go is the caller's choice (``ClaimSums``): the local driver
spills them to disk (``adjudicator.embedded.driver.ClaimSpill``); without
one they stay in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import polars as pl

from adjudicator.contract import DETERMINATION, REASON, SOURCE_FILE
from adjudicator.engine.batch import BatchOutput
from adjudicator.engine.facts import BatchFacts
from adjudicator.engine.summary import TOP_CLAIMS, finish_summary, merge_summary_parts
from adjudicator.errors import InternalError

#: partial frames kept per count before they are summed into one (``Totals.add``)
FOLD_AFTER = 64


class ClaimSums(Protocol):
    """Where the report's flagged dollars per claim go, batch by batch, and where the top claims come from."""

    def add(self, frame: pl.DataFrame) -> None:
        """Keep one batch's per-claim partial (``top_claims`` of ``BatchOutput.summary_parts``)."""

    def top(self, n: int) -> pl.DataFrame | None:
        """The claims among which the run's ``n`` top claims are (summed by claim); None when none came."""


@dataclass
class Totals:
    """The run's counts, added up as the batches pass (small frames, summed once at the end).

    ``claims``: where the report's per-claim sums go (``ClaimSums``); None
    keeps them in memory (small runs, tests).
    """

    claims: ClaimSums | None = None
    counts: list[pl.DataFrame] = field(default_factory=list)
    by_reason: list[pl.DataFrame] = field(default_factory=list)
    by_check: list[pl.DataFrame] = field(default_factory=list)
    #: the report's partial tables (``adjudicator.engine.summary``)
    parts: list[dict[str, pl.DataFrame]] = field(default_factory=list)
    fired_lines: int = 0
    lines: int = 0
    rejects: int = 0
    #: ``time.perf_counter()`` when the first batch of lines had been read
    first_batch_at: float | None = None

    def add(self, out: BatchOutput) -> None:
        self.counts.append(out.counts)
        self.by_reason.append(out.by_reason)
        self.by_check.append(out.by_check)
        parts = out.summary_parts(row_offset=self.rejects)
        if self.claims is not None:
            self.claims.add(parts["top_claims"])
            parts["top_claims"] = parts["top_claims"].clear()
        self.parts.append(parts)
        self.rejects += out.rejects.height
        self.fired_lines += out.fired_lines
        self.lines += int(out.counts["read"].sum())
        if len(self.counts) >= FOLD_AFTER:
            self._fold()

    def _fold(self) -> None:
        """Sum the partial counts so far into one frame each, so the lists stay short on long runs."""
        self.counts = [_sum(self.counts, [SOURCE_FILE])]
        self.by_reason = [_sum(self.by_reason, [DETERMINATION, REASON])]
        self.by_check = [_sum(self.by_check, ["check"])]
        self.parts = [merge_summary_parts(self.parts)]

    def check_against(self, facts: BatchFacts) -> None:
        """The batches must have met every line the prepass named for an edit; any other count means the two
        disagree (a bug), and the run stops instead of writing such a line as NO_ACTION."""
        if self.fired_lines != facts.edit_lines:
            raise InternalError(
                f"the prepass found {facts.edit_lines} lines an edit fires on, the batches met {self.fired_lines}"
            )

    def summary(self) -> dict[str, Any]:
        """Per-file counts (read, skipped, results, rejects), results by reason, rejects by check, and
        ``extended``: the manifest's ``summary`` (``adjudicator.engine.summary``)."""
        merged = merge_summary_parts(self.parts)
        if self.claims is not None:
            top = self.claims.top(TOP_CLAIMS)
            merged["top_claims"] = top if top is not None else merged["top_claims"]
        return {
            "extended": finish_summary(merged),
            "per_file": _sum(self.counts, [SOURCE_FILE]),
            "by_reason": _sum(self.by_reason, [DETERMINATION, REASON]).sort(DETERMINATION, REASON, nulls_last=True),
            "by_check": _sum(self.by_check, ["check"]).sort("check"),
        }


def _sum(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    return pl.concat(frames).group_by(keys, maintain_order=True).agg(pl.all().sum())


__all__ = ["ClaimSums", "Totals"]
