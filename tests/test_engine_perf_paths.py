"""The fast verdict path (lines decided in the prepass, looked up by key hash) against the per-line path."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from adjudicator import engine
from adjudicator.canonical import scan_canonical
from adjudicator.rules import RuleSet, load_rules
from tests.helpers import raw_frame

SAMPLE = "sample_claims/claims.csv"


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def _facts(raw: pl.LazyFrame, rules: RuleSet) -> tuple[pl.LazyFrame, engine.BatchFacts]:
    typed = engine.typed_lines(raw)
    keys_query, concerned_query = engine.fact_queries(typed, rules)
    keys = keys_query.collect()
    exact = None
    if engine.collisions(keys).len():
        exact = engine.exact_duplicates_query(typed, keys.filter(pl.col("_copies") > 1)[engine.KEY_HASH]).collect()
    return typed, engine.batch_facts(keys, concerned_query.collect(), rules, exact_duplicates=exact)


def _results(typed: pl.LazyFrame, rules: RuleSet, facts: engine.BatchFacts) -> pl.DataFrame:
    return engine.build(typed, rules, facts, run_id="r").results.collect(engine="streaming")


def test_verdict_path_equals_per_line_decision_on_the_sample(rules: RuleSet) -> None:
    """Same rows, same order, same values, same dtypes: the lookup changes only how the verdict is found."""
    typed, facts = _facts(scan_canonical([SAMPLE]), rules)
    assert facts.verdicts is not None and facts.verdicts.height > 0
    fast = _results(typed, rules, facts)
    slow = _results(typed, rules, dataclasses.replace(facts, verdicts=None))
    assert fast.schema == slow.schema
    assert fast.equals(slow)


def test_verdicts_hold_only_valid_unique_concerned_lines(rules: RuleSet) -> None:
    """A duplicated key or a line failing a check is never in the verdicts; a code nothing names is never looked up."""
    raw = raw_frame([
        {"claim_id": "A", "line_number": "1"},
        {"claim_id": "D", "line_number": "1"},
        {"claim_id": "D", "line_number": "1"},
        {"claim_id": "B", "line_number": "1", "units": "0"},
        {"claim_id": "N", "line_number": "1", "procedure_code": "99213"},
    ])
    typed, facts = _facts(raw, rules)
    assert facts.verdicts is not None
    looked = typed.filter(pl.col(engine.KEY_HASH).is_in(facts.verdicts[engine.KEY_HASH].implode()))
    assert looked.select("claim_id").collect()["claim_id"].to_list() == ["A"]
    results = _results(typed, rules, facts)
    assert results.select("claim_id", "determination").rows() == [("A", "NOT_MEDICALLY_NECESSARY"), ("N", "NO_ACTION")]
    assert results["edits"].to_list() == [[], []]


def test_a_key_hash_collision_falls_back_to_the_per_line_decision(
    rules: RuleSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With every key on one hash, verdicts cannot be looked up by hash: the prepass leaves them out."""
    monkeypatch.setattr(engine, "key_hash", lambda: pl.lit(7, dtype=pl.UInt64))
    typed, facts = _facts(raw_frame([{"claim_id": "A"}, {"claim_id": "B"}]), rules)
    assert facts.verdicts is None
    assert _results(typed, rules, facts)["determination"].to_list() == ["NOT_MEDICALLY_NECESSARY"] * 2
