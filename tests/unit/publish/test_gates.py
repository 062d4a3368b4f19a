"""The data-quality gates (``adjudicator.publish.gates``): warnings and breached gates read from a run's counts,
the thresholds' checks, the manifest's ``gates``, and results dated after the run date counted from the files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.publish.gates import (
    ALL_REJECTED,
    FUTURE_SERVICE_DATES,
    MAX_REJECT_RATE,
    MIN_RESULTS,
    NO_RESULTS,
    Gates,
    failed_gates,
    findings,
    future_service_lines,
    gates_entry,
    record_gates,
    reject_rate,
)

RUN_DATE = dt.date(2024, 5, 1)


def _counts(read: int, results: int, rejects: int, skipped: int) -> dict[str, int]:
    assert read == results + rejects + skipped
    return {"read": read, "results": results, "rejects": rejects, "skipped": skipped}


#: (case, counts, gates, future lines, only payers, expected codes, expected gate codes)
CASES: list[tuple[str, dict[str, int], Gates, int, tuple[str, ...], list[str], list[str]]] = [
    ("a healthy run", _counts(100, 95, 5, 0), Gates(), 0, (), [], []),
    ("an empty input", _counts(0, 0, 0, 0), Gates(), 0, (), [NO_RESULTS], []),
    ("every line outside the slice", _counts(10, 0, 0, 10), Gates(), 0, (), [NO_RESULTS], []),
    ("--only-payer not in the data", _counts(10, 0, 0, 10), Gates(), 0, ("NOPE",), [NO_RESULTS], []),
    ("every line rejected", _counts(10, 0, 10, 0), Gates(), 0, (), [ALL_REJECTED], []),
    ("every line inside the slice rejected", _counts(10, 0, 4, 6), Gates(), 0, (), [ALL_REJECTED], []),
    ("dates after the run date", _counts(10, 10, 0, 0), Gates(), 3, (), [FUTURE_SERVICE_DATES], []),
    ("reject rate at the gate", _counts(100, 95, 5, 0), Gates(max_reject_rate=0.05), 0, (), [], []),
    ("reject rate over the gate", _counts(100, 94, 6, 0), Gates(max_reject_rate=0.05), 0, (), [MAX_REJECT_RATE],
     [MAX_REJECT_RATE]),
    ("skipped lines are not looked at", _counts(200, 95, 5, 100), Gates(max_reject_rate=0.05), 0, (), [], []),
    ("results at the minimum", _counts(10, 10, 0, 0), Gates(min_results=10), 0, (), [], []),
    ("results under the minimum", _counts(10, 9, 1, 0), Gates(min_results=10), 0, (), [MIN_RESULTS], [MIN_RESULTS]),
    ("no line and a minimum", _counts(0, 0, 0, 0), Gates(min_results=1), 0, (), [NO_RESULTS, MIN_RESULTS],
     [MIN_RESULTS]),
    (
        "both gates and a warning",
        _counts(10, 0, 10, 0),
        Gates(max_reject_rate=0.5, min_results=1),
        0,
        (),
        [ALL_REJECTED, MAX_REJECT_RATE, MIN_RESULTS],
        [MAX_REJECT_RATE, MIN_RESULTS],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "counts", "gates", "future", "payers", "codes", "breached"), CASES, ids=[c[0] for c in CASES]
)
def test_findings_from_the_counts(
    case: str,
    counts: dict[str, int],
    gates: Gates,
    future: int,
    payers: tuple[str, ...],
    codes: list[str],
    breached: list[str],
) -> None:
    found = findings(counts, gates, run_date=RUN_DATE, future_lines=future, only_payers=payers)
    assert [f.code for f in found] == codes, case
    assert [f.code for f in found if f.gate] == breached, case
    assert all("\n" not in f.message for f in found)


def test_the_messages_name_the_payer_the_date_and_the_gate() -> None:
    (payer,) = findings(_counts(3, 0, 0, 3), Gates(), run_date=RUN_DATE, only_payers=("NOPE", "XX"))
    assert "--only-payer NOPE, XX" in payer.message
    (future,) = findings(_counts(3, 3, 0, 0), Gates(), run_date=RUN_DATE, future_lines=2)
    assert future.message == "2 results have a date of service after the run date 2024-05-01"
    (rate,) = findings(_counts(100, 90, 10, 0), Gates(max_reject_rate=0.05), run_date=RUN_DATE)
    assert rate.message == "gate --max-reject-rate 0.05 failed: 10 of 100 lines rejected (0.1)"


@pytest.mark.parametrize(
    ("counts", "rate"), [(_counts(0, 0, 0, 0), 0.0), (_counts(10, 0, 0, 10), 0.0), (_counts(20, 5, 5, 10), 0.5)]
)
def test_the_reject_rate_is_over_the_lines_looked_at(counts: dict[str, int], rate: float) -> None:
    assert reject_rate(counts) == rate


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"max_reject_rate": -0.1}, "max_reject_rate"),
        ({"max_reject_rate": 1.5}, "max_reject_rate"),
        ({"max_reject_rate": float("nan")}, "max_reject_rate"),
        ({"max_reject_rate": True}, "max_reject_rate"),
        ({"min_results": -1}, "min_results"),
        ({"min_results": 2.5}, "min_results"),
    ],
)
def test_gates_refuse_thresholds_out_of_range(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ValueError, match=f"'{parameter}'"):
        Gates(**kwargs)


def test_the_manifest_entry_names_the_failed_gates_and_the_warnings() -> None:
    manifest: dict[str, Any] = {"counts": _counts(10, 0, 10, 0)}
    found = record_gates(manifest, Gates(min_results=1), run_date=RUN_DATE, future_lines=0)
    entry = manifest["gates"]
    assert entry == gates_entry(Gates(min_results=1), found, future_lines=0)
    assert (entry["max_reject_rate"], entry["min_results"], entry["future_service_lines"]) == (None, 1, 0)
    assert [f["code"] for f in entry["failed"]] == [MIN_RESULTS]
    assert [w["code"] for w in entry["warnings"]] == [ALL_REJECTED]
    assert failed_gates(manifest) == [MIN_RESULTS]
    assert failed_gates({}) == []


def _results(path: Path, days: list[dt.date], *, row_group_size: int = 2) -> None:
    pl.DataFrame({"service_date": days, "claim_id": [f"C{i}" for i in range(len(days))]}).write_parquet(
        path, row_group_size=row_group_size, statistics=True
    )


def test_results_after_the_run_date_are_counted_in_a_file_and_in_a_dataset(tmp_path: Path) -> None:
    day = dt.date(2024, 5, 1)
    after = [day + dt.timedelta(days=1), day + dt.timedelta(days=400)]
    single = tmp_path / "embedded"
    single.mkdir()
    _results(single / "results.parquet", [day, day - dt.timedelta(days=1), *after, day])
    assert future_service_lines(single, day) == 2
    dataset = tmp_path / "spark" / "results"
    dataset.mkdir(parents=True)
    _results(dataset / "part-00000.parquet", [day, after[0]])
    _results(dataset / "part-00001.parquet", [after[1], day])
    assert future_service_lines(tmp_path / "spark", day) == 2
    assert future_service_lines(tmp_path / "spark", after[1]) == 0
    assert future_service_lines(tmp_path / "none", day) == 0
