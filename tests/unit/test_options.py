"""``adjudicator.options``: the frozen values a run is given, and their JSON round trips."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from adjudicator.options import DEFAULT_SETTINGS, EngineSettings, RunOptions, Slice, recorded_path


def test_engine_settings_round_trip_through_json() -> None:
    settings = EngineSettings(batch_size=7, rows_per_partition=2, hashes_in_memory=0, spill_files_open=3)
    assert EngineSettings.from_json(json.loads(json.dumps(settings.as_json()))) == settings
    assert EngineSettings.from_json({}) == DEFAULT_SETTINGS


@pytest.mark.parametrize(
    ("recorded", "named"),
    [
        ({"batch": 7}, "unknown engine settings ['batch']"),
        ({"batch_size": 0}, "EngineSettings.batch_size must be at least 1"),
        ({"batch_size": -1}, "EngineSettings.batch_size must be a number >= 0"),
        ({"batch_size": "7"}, "EngineSettings.batch_size must be a number >= 0"),
        ({"batch_size": True}, "EngineSettings.batch_size must be a number >= 0"),
        ({"spill_files_open": 1}, "EngineSettings.spill_files_open must be at least 2"),
    ],
)
def test_engine_settings_refuse_unknown_keys_and_bad_sizes_naming_them(recorded: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        EngineSettings.from_json(recorded)


def test_engine_settings_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_SETTINGS.batch_size = 1  # type: ignore[misc]


def test_a_slice_round_trips_and_finds_a_relative_claims_list_from_the_recording_folder(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("C1\n")
    spec = Slice(dt.date(2020, 1, 1), dt.date(2020, 12, 31), ("HCSC",), Path("ids.txt"))
    again = Slice.from_json(spec.as_json(), cwd=str(tmp_path))
    assert again == dataclasses.replace(spec, claims_file=tmp_path / "ids.txt")
    assert Slice.from_json(None) == Slice()


def test_a_slice_by_claims_needs_its_ids_read_first() -> None:
    with pytest.raises(ValueError, match="must be read first"):
        Slice(claims_file=Path("ids.txt")).predicate()
    keep = Slice(claims_file=Path("ids.txt")).predicate(pl.Series(["C1"]))
    assert keep is not None
    assert pl.DataFrame({"claim_id": ["C1", "C2"]}).filter(keep)["claim_id"].to_list() == ["C1"]
    assert Slice().predicate() is None


def test_run_options_round_trip_through_their_manifest_record(tmp_path: Path) -> None:
    options = RunOptions(
        inputs=(str(tmp_path / "a.csv"),),
        out=tmp_path / "out",
        rules_dir=tmp_path / "rules",
        layout="canonical",
        payer="HCSC",
        rules_as_of=dt.date(2026, 5, 31),
        slice=Slice(payers=("HCSC",)),
        settings=EngineSettings(batch_size=7),
    )
    again = RunOptions.from_json(json.loads(json.dumps(options.as_json())))
    # the settings are not recorded (they never change an output), nor is the command line used to replay
    assert again == dataclasses.replace(options, settings=DEFAULT_SETTINGS)


def test_a_recorded_relative_path_is_found_from_the_recording_folder(tmp_path: Path) -> None:
    assert recorded_path("/abs/x.csv", str(tmp_path)) == "/abs/x.csv"
    assert recorded_path("surely-not-here.csv", str(tmp_path)) == str(tmp_path / "surely-not-here.csv")
