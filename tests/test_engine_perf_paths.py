"""The fast verdict path (lines decided in the prepass, looked up by key hash) against the per-line path."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

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
    with tempfile.TemporaryDirectory() as spill:
        keys = engine.repeated_keys(typed, Path(spill) / "keys", 3)
    exact = None
    if engine.collisions(keys).len():
        exact = engine.exact_duplicates_query(typed, keys[engine.KEY_HASH]).collect()
    concerned = engine.concerned_query(raw, rules).collect()
    return typed, engine.batch_facts(keys, concerned, rules, exact_duplicates=exact)


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


def test_partitioned_key_counts_equal_one_group_by(tmp_path: Path) -> None:
    """Spilling the key hashes to many partitions finds exactly the repeated keys one group_by finds."""
    rows = [{"claim_id": f"C{i % 40}", "line_number": str(i % 3 + 1)} for i in range(200)]
    typed = engine.typed_lines(raw_frame(rows))
    one = engine.repeated_keys(typed, tmp_path / "one", 1).sort(engine.KEY_HASH)
    many = engine.repeated_keys(typed, tmp_path / "many", 7).sort(engine.KEY_HASH)
    # 200 lines over 120 distinct keys (40 claims x 3 line numbers, lcm 120): 80 keys are seen twice
    assert one.height == 80 and many.equals(one)
    assert many["_copies"].to_list() == [2] * 80
    assert len(list((tmp_path / "many").rglob("*.parquet"))) == 7


def test_no_repeated_key_gives_an_empty_frame_with_the_columns(tmp_path: Path) -> None:
    typed = engine.typed_lines(raw_frame([{"claim_id": "A"}, {"claim_id": "B"}]))
    keys = engine.repeated_keys(typed, tmp_path / "k", 4)
    assert keys.height == 0 and keys.columns == [engine.KEY_HASH, "_copies", "_check_min", "_check_max"]


@pytest.mark.parametrize(("rows", "parts"), [(0, 1), (1, 1), (2_500_000, 1), (2_500_001, 2), (20_000_000, 8),
                                              (10**12, 256)])
def test_partitions_grow_with_the_input_and_are_bounded(rows: int, parts: int) -> None:
    assert engine.partitions_for(rows) == parts


def test_the_prepass_removes_its_spill(tmp_path: Path, rules: RuleSet) -> None:
    engine.plan_in_memory(raw_frame([{"claim_id": "A"}, {"claim_id": "A"}]), rules, run_id="r",
                          spill_dir=tmp_path, expected_rows=10_000_000)
    assert list(tmp_path.iterdir()) == []


def test_reader_settings_are_applied_unless_the_environment_sets_them(monkeypatch: pytest.MonkeyPatch) -> None:
    from adjudicator.tuning import READER_SETTINGS, tune_reader

    first, *rest = READER_SETTINGS
    monkeypatch.setenv(first, "7")
    for name in rest:
        monkeypatch.delenv(name, raising=False)
    tune_reader()
    import os

    assert os.environ[first] == "7"
    assert all(os.environ[name] == READER_SETTINGS[name] for name in rest)


def test_a_concerned_line_missing_from_the_verdicts_fails_instead_of_passing_as_no_action(rules: RuleSet) -> None:
    typed, facts = _facts(raw_frame([{"claim_id": "A"}]), rules)
    assert facts.verdicts is not None and facts.verdicts.height == 1
    broken = dataclasses.replace(facts, verdicts=facts.verdicts.clear())
    with pytest.raises(pl.exceptions.OutOfBoundsError):
        _results(typed, rules, broken)


def _same_facts(a: engine.BatchFacts, b: engine.BatchFacts) -> None:
    for name in ("duplicate", "addon_without_primary", "units_exceed_limit"):
        assert sorted(getattr(a, name).to_list()) == sorted(getattr(b, name).to_list()), name
    assert a.verdicts is not None and b.verdicts is not None
    assert a.verdicts.sort(engine.KEY_HASH).equals(b.verdicts.sort(engine.KEY_HASH))


@pytest.mark.parametrize("partitions", [1, 5])  # 5: 48 concerned lines, 10 per partition
def test_spilled_batch_facts_equal_in_memory_ones(
    tmp_path: Path, rules: RuleSet, partitions: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partitioned by claim for the add-on edit and the verdicts, by member for the unit limit: same facts."""
    rows = [
        # a member over the daily limit across two claims (units), an add-on with and without its primary
        {"claim_id": "U1", "line_number": "1", "member_id": "MU", "units": "3"},
        {"claim_id": "U2", "line_number": "1", "member_id": "MU", "units": "3"},
        {"claim_id": "A1", "line_number": "1", "procedure_code": "97545"},
        {"claim_id": "A1", "line_number": "2", "procedure_code": "97546"},
        {"claim_id": "A2", "line_number": "1", "procedure_code": "97546"},
        # a duplicated key and a line failing a check: neither counts
        {"claim_id": "D", "line_number": "1"}, {"claim_id": "D", "line_number": "1"},
        {"claim_id": "B", "line_number": "1", "units": "0"},
        *({"claim_id": f"K{i}", "line_number": "1", "member_id": f"M{i % 7}"} for i in range(40)),
    ]
    raw = raw_frame(rows)
    typed = engine.typed_lines(raw)
    keys = engine.repeated_keys(typed, tmp_path / "keys", partitions)
    concerned = engine.concerned_query(raw, rules)
    monkeypatch.setattr(engine, "CONCERNED_ROWS_PER_PARTITION", 10 if partitions > 1 else 10**6)
    spilled = engine.batch_facts_spilled(keys, concerned, rules, tmp_path / "c")
    in_memory = engine.batch_facts(keys, concerned.collect(), rules)
    _same_facts(spilled, in_memory)
    assert spilled.units_exceed_limit.len() >= 2 and spilled.addon_without_primary.len() == 1
    by_claim = list((tmp_path / "c" / "by_claim_id").rglob("*.parquet"))
    assert len(by_claim) == (0 if partitions == 1 else 5)


def test_spilled_batch_facts_equal_in_memory_ones_on_the_sample(tmp_path: Path, rules: RuleSet) -> None:
    raw = scan_canonical([SAMPLE])
    keys = engine.repeated_keys(engine.typed_lines(raw), tmp_path / "keys", 3)
    concerned = engine.concerned_query(raw, rules)
    _same_facts(engine.batch_facts_spilled(keys, concerned, rules, tmp_path / "c"),
                engine.batch_facts(keys, concerned.collect(), rules))
