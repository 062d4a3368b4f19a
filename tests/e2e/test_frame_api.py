"""``adjudicator.adjudicate_frame``: a polars frame in memory gives the results, rejects and counts of a file run of
the same lines, stamps the caller's run id, and leaves no file behind, also when it fails."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import adjudicator
from adjudicator.cli import main
from adjudicator.contract import CLAIM_ID, LINE_NUMBER, RUN_ID, SOURCE_FILE
from adjudicator.errors import AdjudicatorError, InputError
from adjudicator.rules.tables import DEFAULT_RULES_DIR, RuleSet
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


@pytest.fixture()
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder every temporary file goes to: empty again once a call returns."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(scope="module")
def file_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]:
    out = tmp_path_factory.mktemp("file-run") / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    return (
        pl.read_parquet(out / "results.parquet"),
        pl.read_parquet(out / "rejects.parquet"),
        json.loads((out / "manifest.json").read_text()),
    )


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop(SOURCE_FILE, RUN_ID).sort(CLAIM_ID, LINE_NUMBER, nulls_last=True)


@pytest.mark.parametrize("lazy", [False, True], ids=["DataFrame", "LazyFrame"])
def test_a_frame_gives_the_file_run_s_results_rejects_and_counts(
    lazy: bool, scratch: Path, file_run: tuple[pl.DataFrame, pl.DataFrame, dict[str, object]]
) -> None:
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    done = adjudicator.adjudicate_frame(frame.lazy() if lazy else frame, run_id="notebook-7")
    results, rejects, manifest = file_run
    assert _comparable(done.results).equals(_comparable(results))
    assert _comparable(done.rejects).equals(_comparable(rejects))
    assert done.counts == manifest["counts"] and done.counts["reconciled"]
    assert done.manifest["timings"]["execute_s"] is not None and "summary" in done.manifest
    # the caller's id on every line and on the manifest; the frame, not a temporary file, as the source
    assert set(done.results[RUN_ID]) == set(done.rejects[RUN_ID]) == {"notebook-7"}
    assert done.manifest["run_id"] == "notebook-7"
    assert set(done.results[SOURCE_FILE]) == {"dataframe"}
    assert [i["path"] for i in done.manifest["inputs"]] == ["dataframe"]
    assert str(scratch) not in json.dumps(done.manifest)
    assert done.manifest["versions"]["adjudicator"] == adjudicator.__version__
    assert list(scratch.iterdir()) == []


def test_typed_columns_and_a_loaded_rule_set(scratch: Path, rules: RuleSet) -> None:
    frame = pl.read_csv(SAMPLE, infer_schema=False).with_columns(
        pl.col("service_date").str.to_date(strict=False), pl.col("units").cast(pl.Int64, strict=False)
    )
    done = adjudicator.adjudicate_frame(frame, rules=rules)
    assert done.counts["read"] == frame.height == done.results.height + done.rejects.height
    assert list(scratch.iterdir()) == []


def test_a_rules_folder_as_text_with_plans_and_an_as_of_day(scratch: Path) -> None:
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    done = adjudicator.adjudicate_frame(
        frame,
        rules=str(DEFAULT_RULES_DIR),
        plans=DEFAULT_RULES_DIR / "plans.csv",
        rules_as_of=dt.date(2030, 1, 1),
    )
    assert done.manifest["rules_as_of"] == "2030-01-01" and done.counts["reconciled"]


def test_a_frame_missing_a_required_column_is_the_run_s_one_line_error_and_leaves_nothing(scratch: Path) -> None:
    frame = pl.read_csv(SAMPLE, infer_schema=False).drop("service_date")
    with pytest.raises(InputError) as raised:
        adjudicator.adjudicate_frame(frame)
    assert "service_date" in str(raised.value) and "\n" not in str(raised.value)
    assert list(scratch.iterdir()) == []


Call = Callable[[pl.DataFrame, RuleSet], object]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda f, r: adjudicator.adjudicate_frame(f.to_dicts()), TypeError),  # type: ignore[arg-type]
        (lambda f, r: adjudicator.adjudicate_frame(f, run_id=" "), AdjudicatorError),
        (lambda f, r: adjudicator.adjudicate_frame(f, rules=r, plans="plans.csv"), AdjudicatorError),
    ],
    ids=["not a frame", "blank run id", "plans beside a loaded RuleSet"],
)
def test_arguments_it_cannot_use_are_refused(call: Call, error: type[Exception], rules: RuleSet, scratch: Path) -> None:
    with pytest.raises(error):
        call(pl.read_csv(SAMPLE, infer_schema=False), rules)
    assert list(scratch.iterdir()) == []
