"""Smoke tests of the benchmark suite: generator shape and determinism, and the peers' agreement.

No timing assertions: targets are met in the suite (`python -m benchmarks.run`),
never in tests. Everything runs as a subprocess from the repository root, the
way the suite runs it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.helpers import ROOT

LINES = 10_000
WORK_HARDENING = ("97545", "97546")


def _missing(*modules: str) -> list[str]:
    return [m for m in modules if importlib.util.find_spec(m) is None]


# the suite's own dependencies are the `bench` extra (numpy comes with pandas), not the package's
# slow: the module's generated claims take a few seconds to write, the peers a few more to run
pytestmark = [
    pytest.mark.skipif(bool(_missing("numpy")), reason="benchmark generator needs numpy: pip install -e '.[bench]'"),
    pytest.mark.slow,
]


def _generate(out: Path, *, seed: int, fmt: str = "both", lines: int = LINES) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.generate",
            "--lines",
            str(lines),
            "--seed",
            str(seed),
            "--format",
            fmt,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bench")
    _generate(folder / "a", seed=7)
    _generate(folder / "b", seed=7)
    _generate(folder / "c", seed=8, fmt="parquet")
    return folder


def test_generator_writes_exactly_the_lines_asked_in_both_formats(generated: Path) -> None:
    assert pl.scan_parquet(generated / "a.parquet").select(pl.len()).collect().item() == LINES
    assert pl.read_csv(generated / "a.csv", infer_schema=False).height == LINES


def test_generator_parquet_has_the_canonical_columns_and_types(generated: Path) -> None:
    schema = pl.read_parquet_schema(generated / "a.parquet")
    assert schema == {
        "claim_id": pl.String,
        "line_number": pl.Int64,
        "member_id": pl.String,
        "payer_id": pl.String,
        "plan_id": pl.String,
        "service_date": pl.Date,
        "procedure_code": pl.String,
        "units": pl.Int64,
        "billed_amount": pl.Decimal(18, 2),
        "place_of_service": pl.String,
    }


def test_generator_puts_work_hardening_on_3_to_5_percent_of_lines(generated: Path) -> None:
    share = (
        pl.read_parquet(generated / "a.parquet").select(pl.col("procedure_code").is_in(WORK_HARDENING).mean()).item()
    )
    assert 0.03 <= share <= 0.05


def test_generator_shape_claims_members_payers_dates(generated: Path) -> None:
    claims = pl.read_parquet(generated / "a.parquet")
    assert claims["line_number"].min() == 1
    assert claims["line_number"].max() == 6  # claims of 1-6 lines
    claims_per_member = claims.group_by("member_id").agg(pl.col("claim_id").n_unique())
    assert (claims_per_member["claim_id"] >= 3).any()
    payers = set(claims["payer_id"].drop_nulls())
    assert {"ARCHIVE", "HCSC", "AETNA", "CAM", "MEDICARE"} <= payers
    assert len(payers) > 5, "unknown payers are part of the mix"
    assert claims["plan_id"].null_count() > 0
    assert str(claims["service_date"].min()) < "1996-01-01"
    assert str(claims["service_date"].max()) > "2027-01-01"


def test_generator_adds_the_patterns_the_edits_look_for(generated: Path) -> None:
    claims = pl.read_parquet(generated / "a.parquet")
    primary = claims.filter(pl.col("procedure_code") == "97545")
    addon = claims.filter(pl.col("procedure_code") == "97546")
    assert (primary["units"] == 2).any()
    same_member_day = primary.group_by("member_id", "service_date").len()
    assert (same_member_day["len"] > 1).any()
    with_primary = addon.join(primary, on=["claim_id", "service_date"], how="semi")
    assert 0 < with_primary.height < addon.height, "97546 mostly follows a 97545, sometimes alone"


def test_generator_csv_has_a_small_share_of_bad_rows(generated: Path) -> None:
    text = pl.read_csv(generated / "a.csv", infer_schema=False)
    bad = text.filter(
        pl.col("service_date").str.to_date("%Y-%m-%d", strict=False).is_null()
        | pl.col("units").str.to_integer(strict=False).fill_null(0).lt(1)
        | pl.col("billed_amount").str.starts_with("-")
        | (pl.col("procedure_code").str.len_chars() != 5)
        | pl.col("member_id").is_null()
        | pl.struct("claim_id", "line_number").is_duplicated()
    )
    assert 0 < bad.height <= LINES * 0.005


def test_generator_is_deterministic_for_a_seed(generated: Path) -> None:
    a = pl.read_parquet(generated / "a.parquet")
    assert a.equals(pl.read_parquet(generated / "b.parquet"))
    assert (generated / "a.csv").read_bytes() == (generated / "b.csv").read_bytes()


def test_generator_differs_between_seeds(generated: Path) -> None:
    assert not pl.read_parquet(generated / "a.parquet").equals(pl.read_parquet(generated / "c.parquet"))


@pytest.mark.skipif(
    bool(_missing("duckdb", "pandas")), reason="peers need duckdb and pandas: pip install -e '.[bench]'"
)
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_duckdb_and_pandas_peers_agree_on_every_decision(generated: Path, fmt: str) -> None:
    """The SQL peer is only a fair yardstick if it decides what the naive version decides."""
    decided = {}
    for peer in ("duckdb_sql", "pandas_merge"):
        out = generated / f"{peer}_{fmt}"
        subprocess.run(
            [
                sys.executable,
                "-m",
                f"benchmarks.peers.{peer}",
                str(generated / f"a.{fmt}"),
                str(out),
            ],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        decided[peer] = (
            pl.read_parquet(out / "results.parquet")
            .select(
                "claim_id",
                "line_number",
                "procedure_code",
                "member_id",
                pl.col("units").cast(pl.Float64),
                "determination",
                "reason",
                "policy_id",
                "message",
            )
            .sort(pl.all(), nulls_last=True)
        )
    assert decided["duckdb_sql"].height == LINES
    assert decided["duckdb_sql"].equals(decided["pandas_merge"])
    assert decided["duckdb_sql"]["reason"].n_unique() >= 8
