"""Reprocessing (issue 6): slices, rules as they were, replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.rules.tables import DEFAULT_RULES_DIR
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e

VERDICT = ["claim_id", "line_number", "determination", "reason", "policy_id", "policy_version", "edits"]


def _run(out: Path, *args: str) -> dict:
    assert main(["run", *args, "--out", str(out), "--quiet"]) == EXIT_OK
    return json.loads((out / "manifest.json").read_text())


@pytest.fixture(scope="module")
def full_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full") / "out"
    _run(out, str(SAMPLE))
    return out


SLICES = [
    (
        "dates",
        ["--service-from", "2008-03-01", "--service-to", "2018-06-14"],
        (pl.col("service_date") >= pl.date(2008, 3, 1)) & (pl.col("service_date") <= pl.date(2018, 6, 14)),
    ),
    ("one payer", ["--only-payer", "HCSC"], pl.col("payer_id") == "HCSC"),
    ("two payers", ["--only-payer", "CAM", "--only-payer", "AETNA"], pl.col("payer_id").is_in(["CAM", "AETNA"])),
]


@pytest.mark.parametrize(("case", "args", "inside"), SLICES, ids=[s[0] for s in SLICES])
def test_slice_gives_the_full_runs_verdicts_for_its_lines(
    tmp_path: Path, full_run: Path, case: str, args: list[str], inside: pl.Expr
) -> None:
    manifest = _run(tmp_path / "slice", str(SAMPLE), *args)
    sliced = pl.read_parquet(tmp_path / "slice" / "results.parquet").select(VERDICT)
    full = pl.read_parquet(full_run / "results.parquet").filter(inside).select(VERDICT)
    assert sliced.height > 0
    assert sliced.equals(full)
    counts = manifest["counts"]
    assert counts["skipped"] > 0
    assert counts["read"] == counts["results"] + counts["rejects"] + counts["skipped"]
    assert counts["reconciled"]


def test_claims_slice(tmp_path: Path, full_run: Path) -> None:
    full = pl.read_parquet(full_run / "results.parquet")
    wanted = full["claim_id"].unique().sort().head(7).to_list()
    claims = tmp_path / "claims.txt"
    claims.write_text("\n".join(wanted) + "\n\n")
    manifest = _run(tmp_path / "o", str(SAMPLE), "--claims", str(claims))
    sliced = pl.read_parquet(tmp_path / "o" / "results.parquet")
    assert sorted(set(sliced["claim_id"])) == wanted
    assert sliced.select(VERDICT).equals(full.filter(pl.col("claim_id").is_in(wanted)).select(VERDICT))
    assert manifest["claims_file_sha256"]


def _rules_with_revision(tmp_path: Path) -> Path:
    """CAM publishes on 2026-06-01 a retroactive revision: from 2020-01-01 the service is a benefit exclusion."""
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    with (rules / "medical_policies.csv").open("a") as f:
        for code in ("97545", "97546"):
            f.write(
                f"CAM,CAM-80306,1996-11-01,{code},1996-11-01,2019-12-31,NOT_MEDICALLY_NECESSARY,OUTPATIENT,"
                "2026-06-01,example revision (test)\n"
            )
            f.write(
                f"CAM,CAM-80306-R,2020-01-01,{code},2020-01-01,,BENEFIT_EXCLUSION,,2026-06-01,example revision (test)\n"
            )
    return rules


def test_rules_as_of_before_a_revision_reproduce_the_old_results(tmp_path: Path, full_run: Path) -> None:
    rules = _rules_with_revision(tmp_path)
    _run(tmp_path / "before", str(SAMPLE), "--rules", str(rules), "--rules-as-of", "2026-05-31")
    _run(tmp_path / "after", str(SAMPLE), "--rules", str(rules))
    old = pl.read_parquet(full_run / "results.parquet").select(VERDICT)
    before = pl.read_parquet(tmp_path / "before" / "results.parquet").select(VERDICT)
    after = pl.read_parquet(tmp_path / "after" / "results.parquet").select(VERDICT)
    assert before.equals(old)
    moved = old.join(after, on=["claim_id", "line_number"], suffix="_new").filter(
        pl.col("policy_version").ne_missing(pl.col("policy_version_new"))
        | pl.col("reason").ne_missing(pl.col("reason_new"))
    )
    full = pl.read_parquet(full_run / "results.parquet")
    expected = full.filter(
        (pl.col("payer_id") == "CAM")
        & (pl.col("service_date") >= pl.date(2020, 1, 1))
        & pl.col("procedure_code").is_in(["97545", "97546"])
    )
    assert expected.height > 0
    assert sorted(moved["claim_id"].to_list()) == sorted(expected["claim_id"].to_list())
    assert set(moved["policy_version_new"]) == {"2020-01-01"}


def test_replay_reproduces_a_run(tmp_path: Path) -> None:
    data = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, data)
    first = _run(tmp_path / "first", str(data), "--only-payer", "HCSC", "--rules-as-of", "2025-01-01")
    assert (
        main(
            ["run", "--replay", str(tmp_path / "first" / "manifest.json"), "--out", str(tmp_path / "again"), "--quiet"]
        )
        == EXIT_OK
    )
    again = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert again["counts"] == first["counts"]
    assert again["options"]["slice"] == first["options"]["slice"]
    assert again["rules_as_of"] == "2025-01-01"
    a = pl.read_parquet(tmp_path / "first" / "results.parquet").drop("run_id")
    b = pl.read_parquet(tmp_path / "again" / "results.parquet").drop("run_id")
    assert a.equals(b)


@pytest.mark.parametrize("changed", ["input", "rules"])
def test_replay_refuses_after_a_change(tmp_path: Path, capsys: pytest.CaptureFixture[str], changed: str) -> None:
    data = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, data)
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    _run(tmp_path / "first", str(data), "--rules", str(rules))
    target = data if changed == "input" else rules / "plans.csv"
    extra = "\n" if changed == "input" else "NEW-PLAN-1,HCSC,COMMERCIAL,2020-01-01,,true,false\n"
    target.write_text(target.read_text() + extra)
    code = main(["run", "--replay", str(tmp_path / "first" / "manifest.json"), "--out", str(tmp_path / "again")])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert str(target) in err and "refusing to replay" in err
    assert not (tmp_path / "again").exists()


def test_a_slice_keeps_the_batch_wide_checks(tmp_path: Path) -> None:
    """Duplicates and edits look at the whole batch, also for lines outside the slice."""
    data = tmp_path / "claims.csv"
    header = SAMPLE.read_text().splitlines()[0]
    data.write_text(
        header + "\n"
        "D1,1,M1,HCSC,HCSC-PPO-100,2024-05-01,99213,1,10,11,1\n"
        "D1,1,M1,HCSC,HCSC-PPO-100,2024-07-01,99213,1,10,11,1\n"  # the other copy, outside the slice
        "U1,1,M2,HCSC,HCSC-PPO-100,2024-05-01,97545,1,10,11,1\n"
        "U2,1,M2,AETNA,AETNA-OPEN-100,2024-05-01,97545,1,10,11,1\n"  # same member and day, other payer
    )
    manifest = _run(tmp_path / "o", str(data), "--service-to", "2024-06-30", "--only-payer", "HCSC")
    results = pl.read_parquet(tmp_path / "o" / "results.parquet")
    rejects = pl.read_parquet(tmp_path / "o" / "rejects.parquet")
    assert rejects["claim_id"].to_list() == ["D1"] and rejects["failed_checks"][0].to_list() == ["duplicate_key"]
    assert results["claim_id"].to_list() == ["U1"]
    assert results["edits"][0].to_list() == ["UNITS_EXCEED_DAILY_LIMIT"]
    assert manifest["counts"]["skipped"] == 2 and manifest["counts"]["reconciled"]
