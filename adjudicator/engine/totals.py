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

from adjudicator.contract import BILLED_AMOUNT, DETERMINATION, EDITS, PAYER_ID, REASON, SOURCE_FILE
from adjudicator.engine.batch import DECISION_ROW, EDIT_ROW, BatchOutput, decoded
from adjudicator.engine.facts import BatchFacts
from adjudicator.engine.summary import (
    CHECK,
    MONTH,
    REJECT_EXAMPLES,
    TALLY_COLUMNS,
    TOP_CLAIMS,
    finish_summary,
    merge_summary_parts,
    merged_reject_examples,
    merged_top_claims,
    reject_examples_part,
    summed_parts,
)
from adjudicator.errors import InternalError
from adjudicator.rules.compiled import CompiledRules

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

    A batch's tallies are kept as the batch made them, keyed by decision row
    (``BatchOutput.tallies``, ``edit_tallies``), and summed by key every
    ``FOLD_AFTER`` batches; ``settle`` decodes them into the decision's columns
    once, for the summary, instead of once per batch (docs/benchmarks.md).
    ``by_reason`` and ``parts`` hold decoded partials (``settle``'s, and those
    an engine adds itself).

    ``claims``: where the report's per-claim sums go (``ClaimSums``); None
    keeps them in memory (small runs, tests).
    """

    claims: ClaimSums | None = None
    counts: list[pl.DataFrame] = field(default_factory=list)
    by_reason: list[pl.DataFrame] = field(default_factory=list)
    by_check: list[pl.DataFrame] = field(default_factory=list)
    #: the report's partial tables (``adjudicator.engine.summary``)
    parts: list[dict[str, pl.DataFrame]] = field(default_factory=list)
    #: the batches' own partials until ``settle``: results by (month of service, payer, decision row) and by
    #: edit row (``BatchOutput``), the reject examples, and the per-claim partials when ``claims`` is None
    tallies: list[pl.DataFrame] = field(default_factory=list)
    edit_tallies: list[pl.DataFrame] = field(default_factory=list)
    reject_examples: list[pl.DataFrame] = field(default_factory=list)
    flagged_claims: list[pl.DataFrame] = field(default_factory=list)
    compiled: CompiledRules | None = None
    #: reject examples kept so far per check (``reject_examples``)
    examples_kept: dict[str, int] = field(default_factory=dict)
    fired_lines: int = 0
    lines: int = 0
    rejects: int = 0
    #: ``time.perf_counter()`` when the first batch of lines had been read
    first_batch_at: float | None = None

    def add(self, out: BatchOutput) -> None:
        self.compiled = out.compiled
        self.counts.append(out.counts)
        self.tallies.append(out.tallies)
        self.edit_tallies.append(out.edit_tallies)
        self.by_check.append(out.by_check)
        if not self.reject_examples or self._may_give_examples(out.by_check):
            part = reject_examples_part(out.rejects, row_offset=self.rejects)
            self.reject_examples.append(part)
            for check in part[CHECK].to_list():
                self.examples_kept[check] = self.examples_kept.get(check, 0) + 1
        if self.claims is not None:
            self.claims.add(out.flagged_claims)
        if self.claims is None or not self.flagged_claims:
            # with ``claims``, an empty partial only keeps the column types
            self.flagged_claims.append(out.flagged_claims if self.claims is None else out.flagged_claims.clear())
        self.rejects += out.rejects.height
        self.fired_lines += out.fired_lines
        self.lines += int(out.counts["read"].sum())
        if len(self.tallies) >= FOLD_AFTER:
            self._fold()

    def _may_give_examples(self, by_check: pl.DataFrame) -> bool:
        """Whether a batch's rejects can be among the reject examples: batches come in file order, so once
        a check has its ``REJECT_EXAMPLES`` earliest rows, no later reject of that check can replace them
        (and a batch's reject examples cost more than its other partials together: docs/benchmarks.md)."""
        kept = self.examples_kept
        return any(kept.get(check, 0) < REJECT_EXAMPLES for check in by_check["check"].to_list())

    def _fold(self) -> None:
        """Sum the partial counts so far into one frame each, so the lists stay short on long runs."""
        self.counts = [_sum(self.counts, [SOURCE_FILE])]
        self.by_check = [_sum(self.by_check, ["check"])]
        self.tallies = [_summed(self.tallies, [MONTH, PAYER_ID, DECISION_ROW])]
        self.edit_tallies = [_summed(self.edit_tallies, [EDIT_ROW])]
        self.reject_examples = [merged_reject_examples(self.reject_examples)]
        self.flagged_claims = [merged_top_claims(self.flagged_claims)]

    def settle(self) -> None:
        """Decode the batches' own partials (``tallies`` and the rest) into ``by_reason`` and one dict of
        ``parts``, once; the totals then hold decoded partials only, as an engine that adds them itself."""
        compiled = self.compiled
        if compiled is None or not self.tallies:
            return
        self._fold()
        tallies = decoded(self.tallies[0], compiled, TALLY_COLUMNS)
        edits = self.edit_tallies[0].select(
            pl.lit(compiled.edit_names).gather(pl.col(EDIT_ROW)).alias(EDITS), "lines", BILLED_AMOUNT
        )
        self.by_reason.append(
            tallies.group_by(DETERMINATION, REASON).agg(
                pl.col("lines").sum().cast(pl.Int64), pl.col(BILLED_AMOUNT).sum().alias("billed")
            )
        )
        self.parts.append(
            {
                **summed_parts(tallies, edits),
                "top_claims": self.flagged_claims[0],
                "reject_examples": self.reject_examples[0],
            }
        )
        self.tallies, self.edit_tallies, self.reject_examples, self.flagged_claims = [], [], [], []

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
        self.settle()
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


def _summed(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Tallies summed by ``keys``: ``lines`` and ``billed_amount``."""
    return (
        pl.concat(frames, how="vertical_relaxed")
        .group_by(keys)
        .agg(pl.col("lines").sum().cast(pl.Int64), pl.col(BILLED_AMOUNT).sum())
    )


def _sum(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    return pl.concat(frames).group_by(keys, maintain_order=True).agg(pl.all().sum())


__all__ = ["ClaimSums", "Totals"]
