"""The run's totals keep each batch's tallies keyed by decision row, fold them every ``FOLD_AFTER`` batches and
decode them once: the summary must be the one of a single batch, whatever the folds, and decoded partials an
engine adds itself (the Spark engine's tasks) must merge with them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from adjudicator.embedded.driver import adjudicate_frame
from adjudicator.embedded.prepass import find_facts
from adjudicator.engine.batch import adjudicate_batch
from adjudicator.engine.totals import FOLD_AFTER, Totals
from adjudicator.readers.canonical import scan_canonical
from adjudicator.rules.compiled import compile_rules
from adjudicator.rules.tables import RuleSet


def _sample(sample_claims: Path) -> pl.LazyFrame:
    return scan_canonical([str(sample_claims)])


def test_many_folds_give_the_summary_of_one_batch(sample_claims: Path, rules: RuleSet) -> None:
    compiled = compile_rules(rules)
    raw = _sample(sample_claims)
    lines = raw.select(pl.len()).collect().item()
    size = max(1, lines // (2 * FOLD_AFTER + 1))  # at least two folds
    _, _, whole = adjudicate_frame(raw, compiled, run_id="r")
    _, _, folded = adjudicate_frame(raw, compiled, run_id="r", batch_size=size)
    one, many = whole.summary(), folded.summary()
    assert one["extended"] == many["extended"]
    for name in ("per_file", "by_reason", "by_check"):
        assert one[name].equals(many[name]), name
    assert one["by_reason"]["lines"].sum() > 0 and one["extended"]["top_claims"]


def test_decoded_partials_added_by_an_engine_merge_with_the_batches_own(
    sample_claims: Path, rules: RuleSet, tmp_path: Path
) -> None:
    """As the Spark engine does: one batch added, the other's decoded partials appended to the lists."""
    compiled = compile_rules(rules)
    raw = _sample(sample_claims)
    frame = raw.collect()
    _, _, reference = adjudicate_frame(raw, compiled, run_id="r")
    facts = find_facts(raw, compiled, spill_dir=tmp_path, expected_rows=frame.height)
    half = frame.height // 2
    first, second = (adjudicate_batch(part, facts, compiled, "r") for part in (frame[:half], frame[half:]))
    totals = Totals()
    totals.add(first)
    totals.counts.append(second.counts)
    totals.by_reason.append(second.by_reason)
    totals.by_check.append(second.by_check)
    totals.parts.append(second.summary_parts(row_offset=first.rejects.height))
    got, want = totals.summary(), reference.summary()
    assert got["extended"] == want["extended"]
    for name in ("per_file", "by_reason", "by_check"):
        assert got[name].sort(pl.all()).equals(want[name].sort(pl.all())), name
