"""The in-memory prepass reads a nightly history (contract section 7) as the spilled one does: the same facts and
the same history effects for tonight's lines, after a night committed by ``adjudicate run --history``."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.embedded.prepass import find_facts
from adjudicator.errors import EXIT_OK
from adjudicator.options import EngineSettings
from adjudicator.readers.history import HistoryAt, latest_version
from adjudicator.readers.inputs import frame_inputs
from adjudicator.rules.compiled import compile_rules
from adjudicator.rules.tables import RuleSet
from benchmarks.generate import Vocabulary, make_chunk

pytestmark = pytest.mark.e2e

LINES = 8_000


def test_in_memory_facts_and_history_effects_equal_the_spilled_ones(tmp_path: Path, rules: RuleSet) -> None:
    frame = pl.from_arrow(make_chunk(17, 0, LINES, Vocabulary.from_rules()).typed)
    assert isinstance(frame, pl.DataFrame)
    # the generator draws each member's claims near each other: cut inside them, so tonight meets last night
    last_night, tonight = tmp_path / "night1.parquet", frame[LINES // 2 :]
    frame[: LINES // 2 + 200].write_parquet(last_night)
    history = tmp_path / "history"
    args = ["run", str(last_night), "--out", str(tmp_path / "out1"), "--quiet", "--history", str(history)]
    assert main(args) == EXIT_OK
    at = HistoryAt(str(history), latest_version(str(history)))
    raw = frame_inputs(tonight.lazy(), "tonight").raw
    compiled = compile_rules(rules)
    sized = EngineSettings(rows_per_partition=400, hashes_in_memory=0, concerned_rows_per_partition=20)
    spill = tmp_path / "spill"
    spill.mkdir()
    spilled = find_facts(raw, compiled, spill_dir=spill, expected_rows=tonight.height, settings=sized, history=at)
    held = find_facts(raw, compiled, in_memory=True, history=at)
    assert held.keys.sort(pl.all()).equals(spilled.keys.sort(pl.all()))
    assert spilled.history_effects is not None and held.history_effects is not None
    assert spilled.history_effects.height > 0  # the history changed some of tonight's lines
    assert held.history_effects.sort(pl.all()).equals(spilled.history_effects.sort(pl.all()))
    assert list(spill.iterdir()) == []
