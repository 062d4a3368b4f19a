"""The in-memory prepass (``find_facts(..., in_memory=True)``): the facts the spilled prepass finds, to the key,
with no file or folder made; a spill folder beside it is refused."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adjudicator.embedded.prepass import find_facts
from adjudicator.embedded.spill import spill_hash, spill_parts
from adjudicator.engine.facts import DUPLICATE, FIRED, BatchFacts
from adjudicator.options import EngineSettings
from adjudicator.readers.inputs import frame_inputs
from adjudicator.readers.redelivery import supersede_rule
from adjudicator.readers.scan import scan_layout
from adjudicator.rules.compiled import CompiledRules
from benchmarks.generate import Vocabulary, make_chunk
from tests.helpers import ROOT
from tests.support.file_writes import recording

LINES = 6_000
CCLF = ROOT / "tests" / "fixtures" / "layouts" / "cclf5_partb.csv"

# (case, the spilled prepass's settings): every spill it can make, and none
SPILLED = [
    (
        "keys and edits spilled",
        EngineSettings(rows_per_partition=500, hashes_in_memory=0, concerned_rows_per_partition=25),
    ),
    ("edits spilled, keys hashed in memory", EngineSettings(concerned_rows_per_partition=25)),
    ("more partitions than files open", EngineSettings(rows_per_partition=100, hashes_in_memory=0, spill_files_open=8)),
    ("one partition", EngineSettings()),
]


@pytest.fixture(scope="module")
def generated() -> pl.LazyFrame:
    """Generated canonical lines (add-on and unit-limit lines, bad rows), some copied at the end (duplicated
    keys far apart), as a run reads them."""
    frame = pl.from_arrow(make_chunk(5, 0, LINES - 15, Vocabulary.from_rules()).typed)
    assert isinstance(frame, pl.DataFrame)
    return frame_inputs(pl.concat([frame, frame[100:110], frame[3_000:3_005]]).lazy(), "generated").raw


def _keys(facts: BatchFacts) -> pl.DataFrame:
    return facts.keys.sort(pl.all())


@pytest.mark.parametrize(("case", "settings"), SPILLED, ids=[c for c, _ in SPILLED])
def test_in_memory_facts_equal_the_spilled_ones(
    generated: pl.LazyFrame, compiled: CompiledRules, tmp_path: Path, case: str, settings: EngineSettings
) -> None:
    spilled = find_facts(generated, compiled, spill_dir=tmp_path, expected_rows=LINES, settings=settings)
    held = find_facts(generated, compiled, in_memory=True, settings=settings)
    assert _keys(held).equals(_keys(spilled))
    assert held.edit_lines == spilled.edit_lines > 0
    assert list(tmp_path.iterdir()) == []


def test_in_memory_facts_hold_duplicates_and_both_edits(generated: pl.LazyFrame, compiled: CompiledRules) -> None:
    """What makes the comparison above worth having."""
    held = find_facts(generated, compiled, in_memory=True)
    for flag in (DUPLICATE, *FIRED.values()):
        assert held.keys[flag].any(), flag


def test_in_memory_re_deliveries_equal_the_spilled_ones(compiled: CompiledRules, tmp_path: Path) -> None:
    """A CCLF feed's latest deliveries, spilled one key per partition or held in memory."""
    raw = scan_layout("cclf5", [str(CCLF)], flag_supersede=False).collect().lazy()
    rule = supersede_rule("cclf5")
    assert rule is not None
    tiny = EngineSettings(rows_per_partition=1, hashes_in_memory=0)
    spilled = find_facts(raw, compiled, supersede=rule, spill_dir=tmp_path, expected_rows=100, settings=tiny)
    held = find_facts(raw, compiled, supersede=rule, in_memory=True, settings=tiny)
    assert spilled.deliveries is not None and held.deliveries is not None
    assert spilled.deliveries.height > 0
    assert held.deliveries.sort(pl.all()).equals(spilled.deliveries.sort(pl.all()))
    assert _keys(held).equals(_keys(spilled))


def test_the_in_memory_prepass_writes_nothing(generated: pl.LazyFrame, compiled: CompiledRules) -> None:
    find_facts(generated, compiled, in_memory=True)  # imports done before watching
    with recording() as events:
        find_facts(generated, compiled, in_memory=True, expected_rows=LINES, settings=SPILLED[0][1])
    assert events == []


def test_the_spilled_prepass_is_seen_writing(generated: pl.LazyFrame, compiled: CompiledRules, tmp_path: Path) -> None:
    """The watcher above is not blind to the spill it replaces."""
    with recording() as events:
        find_facts(generated, compiled, spill_dir=tmp_path, expected_rows=LINES, settings=SPILLED[0][1])
    assert "tempfile.mkdtemp" in {event for event, _ in events}


def test_a_spill_folder_for_an_in_memory_prepass_is_refused(
    generated: pl.LazyFrame, compiled: CompiledRules, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="in-memory"):
        find_facts(generated, compiled, in_memory=True, spill_dir=tmp_path)


def test_a_spill_of_many_partitions_needs_a_folder_and_one_partition_none() -> None:
    frame = pl.LazyFrame({"k": [1, 2, 3]})
    (only,) = spill_parts(frame, spill_hash(pl.col("k")), 1, None, files_open=8)
    assert only.equals(frame.collect())
    with pytest.raises(ValueError, match="need a folder"):
        list(spill_parts(frame, spill_hash(pl.col("k")), 2, None, files_open=8))
