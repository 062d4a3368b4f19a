"""The Spark engine gives the local engine's results, rejects and manifest counts, line for line (issue 11).

Each test runs the same input through the embedded engine and through Spark
at ``local[2]`` (one session for the module: it takes seconds to start) and
compares the outputs sorted by input order (file, then row). Skipped, with
the reason, where Java or pyspark is missing; CI installs both.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import RUN_ID, SOURCE_FILE
from adjudicator.engine.checks import CHECKS, DUPLICATE_KEY
from adjudicator.errors import EXIT_BAD_INPUT
from tests.helpers import BASE_LINE, FIXTURES, ROOT, SAMPLE
from tests.support.spark_session import local_session

pytestmark = [pytest.mark.spark, pytest.mark.e2e]

LAYOUTS = FIXTURES / "layouts"
SAMPLES = FIXTURES / "samples"

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")

from adjudicator.spark import run as spark_engine  # noqa: E402  (after the skips: it needs pyspark)


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """One local[2] session for the module, with few shuffle partitions (the inputs are small)."""
    with local_session(**{"spark.sql.execution.arrow.maxRecordsPerBatch": "250"}) as session:
        yield session


def _in_input_order(frame: pl.DataFrame, inputs: list[str]) -> pl.DataFrame:
    """Spark's output in input order (the manifest's file order, then the row in the file), as locally."""
    order = pl.DataFrame({SOURCE_FILE: inputs, "_file": list(range(len(inputs)))})
    return (
        frame.join(order, on=SOURCE_FILE, how="left")
        .sort("_file", spark_engine.SOURCE_ROW)
        .drop("_file", spark_engine.SOURCE_ROW)
    )


def _run_both(
    tmp_path: Path, args: list[str], *, name: str = "run", settings: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same ``adjudicate run`` arguments through both engines; asserts identical outputs and counts.

    ``settings``: engine settings (``--engine-settings``) given to both runs. Returns both manifests.
    """
    if settings is not None:
        args = [*args, "--engine-settings", json.dumps(settings)]
    local_out, spark_out = tmp_path / f"{name}-local", tmp_path / f"{name}-spark"
    assert main(["run", *args, "--out", str(local_out), "--quiet"]) == 0
    assert main(["run", *args, "--out", str(spark_out), "--quiet", "--engine", "spark"]) == 0
    local = json.loads((local_out / "manifest.json").read_text())
    on_spark = json.loads((spark_out / "manifest.json").read_text())
    inputs = [i["path"] for i in on_spark["inputs"]]
    for single, folder in (("results.parquet", "results"), ("rejects.parquet", "rejects")):
        expected = pl.read_parquet(local_out / single).drop(RUN_ID)
        got = _in_input_order(pl.read_parquet(spark_out / folder / "*.parquet").drop(RUN_ID), inputs)
        assert got.schema == expected.schema, folder
        assert got.equals(expected), folder
    assert on_spark["counts"] == local["counts"]
    assert on_spark["inputs"] == local["inputs"]
    assert on_spark["summary"] == local["summary"]
    assert on_spark["engine"]["name"] == "spark"
    assert (spark_out / "report.html").is_file()
    return local, on_spark


def test_sample_claims_through_the_cli_match_the_local_engine(spark: Any, tmp_path: Path) -> None:
    _, on_spark = _run_both(tmp_path, [str(SAMPLE)])
    assert on_spark["counts"]["reconciled"]
    assert on_spark["counts"]["rejects_by_check"][DUPLICATE_KEY] == 2


#: one line per row check, with the value that fails it (the table the reject kinds are checked against)
BAD_VALUES: dict[str, dict[str, str | None]] = {
    **{c.name: {c.name.removeprefix("missing_"): None} for c in CHECKS if c.name.startswith("missing_")},
    "unparseable_line_number": {"line_number": "3.5"},
    "line_number_below_1": {"line_number": "0"},
    "unparseable_service_date": {"service_date": "2023-02-29"},
    "malformed_procedure_code": {"procedure_code": "9754"},
    "unparseable_units": {"units": "x"},
    "units_below_1": {"units": "0"},
    "unparseable_billed_amount": {"billed_amount": "12.345"},
    "negative_billed_amount": {"billed_amount": "-1.00"},
    "malformed_place_of_service": {"place_of_service": "1"},
}


def _generated_inputs(folder: Path) -> list[Path]:
    """Two Parquet files and one CSV cut from the suite's generator: claims and members split across files,
    keys duplicated across files, one line per row check, and the sample claims (every decision row)."""
    from benchmarks.generate import generate

    made = generate(lines=3_000, seed=11, formats=("parquet", "csv"), out=folder / "gen", quiet=True)
    typed = pl.read_parquet(made["parquet"])
    text = pl.read_csv(made["csv"], infer_schema=False)
    first, second = folder / "a.parquet", folder / "b.parquet"
    typed[:1_250].write_parquet(first, row_group_size=200)
    typed[1_250:2_300].write_parquet(second, row_group_size=200)
    bad = [{**BASE_LINE, "claim_id": f"BAD-{i}", **values} for i, values in enumerate(BAD_VALUES.values())]
    sample = pl.read_csv(SAMPLE, infer_schema=False)
    third = pl.concat(
        [
            text[2_300:],
            text[10:14],  # copies of keys in a.parquet: duplicates across files, and across formats
            pl.DataFrame(bad, schema=dict.fromkeys(BASE_LINE, pl.String)),
            sample.select(text.columns),
        ],
        how="vertical",
    )
    csv = folder / "c.csv"
    third.write_csv(csv)
    # what the test is meant to cover is in the data
    files = pl.concat(
        [
            typed[:1_250].select("claim_id", "member_id", pl.lit("a").alias("f")),
            typed[1_250:2_300].select("claim_id", "member_id", pl.lit("b").alias("f")),
            third.select("claim_id", "member_id", pl.lit("c").alias("f")),
        ]
    )
    assert files.group_by("claim_id").agg(pl.col("f").n_unique()).filter(pl.col("f") > 1).height
    assert files.group_by("member_id").agg(pl.col("f").n_unique()).filter(pl.col("f") > 1).height
    return [first, second, csv]


def test_generated_parquet_and_csv_inputs_match_the_local_engine(spark: Any, tmp_path: Path) -> None:
    """Parquet read in ranges of 500 rows (several tasks a file), batches of 300 lines in each task."""
    inputs = _generated_inputs(tmp_path)
    local, on_spark = _run_both(
        tmp_path, [str(p) for p in inputs], settings={"spark_rows_per_item": 500, "batch_size": 300}
    )
    checks = on_spark["counts"]["rejects_by_check"]
    assert set(BAD_VALUES) | {DUPLICATE_KEY} <= set(checks)
    reasons = {r["reason"] for r in on_spark["counts"]["by_reason"]}
    from adjudicator.rules.tables import load_rules

    assert reasons >= set(load_rules().reasons["reason"].to_list()) | {None}
    edits = {e["edit"] for e in on_spark["summary"]["edits"]}
    assert edits == {"ADDON_WITHOUT_PRIMARY", "UNITS_EXCEED_DAILY_LIMIT"}
    assert all(i["reconciled"] for i in on_spark["inputs"])


def test_a_slice_with_rules_as_of_and_plans_matches_the_local_engine(spark: Any, tmp_path: Path) -> None:
    claims = tmp_path / "claims.txt"
    claims.write_text("claim_id\nCLM000006\nCLM000010\nCLM000012\nNOT-A-CLAIM\n")
    plans = tmp_path / "plans.csv"
    plans.write_text((ROOT / "rules" / "plans.csv").read_text())
    local, on_spark = _run_both(
        tmp_path,
        [
            str(SAMPLE),
            "--claims",
            str(claims),
            "--service-from",
            "2010-01-01",
            "--rules-as-of",
            "2026-01-01",
            "--plans",
            str(plans),
        ],
    )
    assert on_spark["counts"]["skipped"] > 0
    assert on_spark["claims_list"] == local["claims_list"]


@pytest.mark.parametrize(
    ("inputs", "options"),
    [
        ([LAYOUTS / "cclf5_partb.csv"], []),  # a re-delivered line: superseded_delivery
        (sorted((SAMPLES / "rif-carrier").glob("*.txt")), ["--payer", "MEDICARE"]),  # deleted_record
        ([LAYOUTS / "professional.837", SAMPLES / "x12-837p" / "demo.example1.837"], []),  # payer aliases
    ],
    ids=["cclf5", "rif-carrier", "x12-837p"],
)
def test_layouts_match_the_local_engine(spark: Any, tmp_path: Path, inputs: list[Path], options: list[str]) -> None:
    _run_both(tmp_path, [*(str(p) for p in inputs), *options])


def test_a_file_level_error_in_a_task_leaves_out_untouched(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row with too many fields is found only when a task parses the file: exit 2, one line naming the
    file, and the earlier OUT as it was."""
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad.csv"
    lines = SAMPLE.read_text().splitlines()
    bad.write_text("\n".join([*lines[:100], lines[100] + ",extra,fields", *lines[101:]]) + "\n")
    capsys.readouterr()
    code = main(["run", str(bad), "--out", str(out), "--overwrite", "--quiet", "--engine", "spark"])
    assert code == EXIT_BAD_INPUT
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and str(bad) in error[0], error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out"]


def test_a_missing_column_stops_before_spark_reads_anything(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "no_units.csv"
    bad.write_text(pl.read_csv(SAMPLE, infer_schema=False).drop("units").write_csv())
    out = tmp_path / "out"
    assert main(["run", str(bad), "--out", str(out), "--quiet", "--engine", "spark"]) == EXIT_BAD_INPUT
    assert "units" in capsys.readouterr().err
    assert not out.exists()


def test_a_notebook_dataframe_gives_the_local_results(spark: Any, tmp_path: Path) -> None:
    """``adjudicate(raw_df, ...)``: a Spark DataFrame in the canonical layout (typed as a table would be)."""
    from adjudicator.embedded.driver import adjudicate_frame
    from adjudicator.readers.canonical import scan_canonical
    from adjudicator.rules.compiled import compile_rules
    from adjudicator.rules.tables import load_rules

    typed = tmp_path / "typed.parquet"
    pl.read_csv(SAMPLE, infer_schema=False).with_columns(pl.col("units").cast(pl.Int32, strict=False)).write_parquet(
        typed
    )
    rules = load_rules()
    expected, expected_rejects, _ = adjudicate_frame(scan_canonical([str(typed)]), compile_rules(rules), run_id="r")
    raw_df = spark.read.parquet(str(typed)).drop(SOURCE_FILE)
    results, rejects = spark_engine.adjudicate(raw_df, rules, run_id="r", source=str(typed))
    got = pl.from_arrow(results.toArrow())
    got_rejects = pl.from_arrow(rejects.toArrow())
    assert isinstance(got, pl.DataFrame) and isinstance(got_rejects, pl.DataFrame)
    assert got.sort(spark_engine.SOURCE_ROW).drop(spark_engine.SOURCE_ROW).equals(expected)
    assert got_rejects.sort(spark_engine.SOURCE_ROW).drop(spark_engine.SOURCE_ROW).equals(expected_rejects)


def test_spark_master_needs_the_spark_engine(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--spark-master", "local[1]"])
    assert code == EXIT_BAD_INPUT
    assert "--engine spark" in capsys.readouterr().err
