"""Options read back from a manifest: relative paths from the recording run's folder, the command line's checks."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from adjudicator.options import RunOptions, Slice, parse_date, recorded_path


def test_a_relative_path_is_the_recording_runs_even_when_one_of_that_name_is_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    (here / "claims.csv").write_text("another file\n")
    monkeypatch.chdir(here)
    assert recorded_path("claims.csv", str(there)) == str(there / "claims.csv")
    assert recorded_path("claims.csv", None) == "claims.csv"  # nothing recorded: as given


# (case, text, the date or the error's words)
DATES = [
    ("a day", "2024-02-29", dt.date(2024, 2, 29)),
    ("absent", None, None),
    ("no dashes", "20240229", "is not a date YYYY-MM-DD"),
    ("not a day", "2023-02-29", "is not a date YYYY-MM-DD"),
    ("not text", 20240229, "is not a date YYYY-MM-DD"),
]


@pytest.mark.parametrize(("case", "text", "expected"), DATES, ids=[d[0] for d in DATES])
def test_dates_are_taken_as_the_command_line_takes_them(case: str, text: object, expected: object) -> None:
    if isinstance(expected, str):
        with pytest.raises(ValueError, match=expected):
            parse_date("--service-from", text)
    else:
        assert parse_date("--service-from", text) == expected


def test_a_slice_of_no_day_is_refused() -> None:
    with pytest.raises(ValueError, match="service_from 2024-06-02 is after service_to 2024-06-01"):
        Slice(service_from=dt.date(2024, 6, 2), service_to=dt.date(2024, 6, 1))


# (case, the recorded options, the error's words)
RECORDS = [
    ("inputs not a list", {"inputs": "a.csv", "out": "o"}, "inputs: 'a.csv' is not a list of text"),
    ("no out", {"inputs": ["a.csv"], "out": ""}, "out: '' is not a folder"),
    ("a slice not an object", {"inputs": ["a.csv"], "out": "o", "slice": ["x"]}, "slice: ['x'] is not an object"),
    ("a claims list not text", {"inputs": ["a.csv"], "out": "o", "slice": {"claims_file": 1}}, "claims_file: 1"),
]


@pytest.mark.parametrize(("case", "recorded", "words"), RECORDS, ids=[r[0] for r in RECORDS])
def test_recorded_options_meet_the_command_lines_checks(case: str, recorded: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")):
        RunOptions.from_json(recorded)
