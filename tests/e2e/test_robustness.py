"""Bad input never crashes a run, never loses a row, never leaves half a result (issue 3)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK
from adjudicator.rules.tables import DEFAULT_RULES_DIR
from tests.helpers import ROOT, SAMPLE, snapshot

pytestmark = pytest.mark.e2e

HEADER = SAMPLE.read_text().splitlines()[0]
GOOD_LINE = "C1,1,M1,HCSC,HCSC-PPO-100,2024-05-01,97545,1,180.00,11,1234567890"


@pytest.fixture()
def previous_out(tmp_path: Path) -> Path:
    """An OUT holding a previous complete result, which a failed run must leave exactly as it was."""
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    return out


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _truncated_parquet(tmp: Path) -> Path:
    whole = tmp / "whole.parquet"
    pl.read_csv(SAMPLE, infer_schema=False).write_parquet(whole)
    data = whole.read_bytes()
    return _write(tmp / "truncated.parquet", data[: len(data) // 2])


# (case, make the input file(s) in tmp, words the one-line message must contain)
BAD_FILES = [
    ("missing file", lambda t: t / "nope.csv", ["nope.csv", "not found"]),
    ("glob matching nothing", lambda t: t / "none-*.csv", ["no file matches"]),
    ("empty file", lambda t: _write(t / "empty.csv", ""), ["empty.csv", "empty"]),
    ("truncated parquet", _truncated_parquet, ["truncated.parquet", "Parquet"]),
    (
        "semicolon-delimited",
        lambda t: _write(t / "semi.csv", HEADER.replace(",", ";") + "\n"),
        ["semi.csv", "delimited"],
    ),
    (
        "missing required columns",
        lambda t: _write(t / "cols.csv", "claim_id,line_number\nC1,1\n"),
        ["cols.csv", "missing required columns", "member_id"],
    ),
    (
        "non-UTF-8 bytes",
        lambda t: _write(
            t / "latin1.csv",
            (HEADER + "\n" + GOOD_LINE + "\n").encode() + "C2,1,Mü,HCSC,,2024-05-01,97545,1,1,11,x\n".encode("latin-1"),
        ),
        ["latin1.csv", "line 3", "UTF-8"],
    ),
    ("a folder", lambda t: t, ["is a folder"]),
    (
        "a row with extra fields",
        lambda t: _write(t / "ragged.csv", HEADER + "\n" + GOOD_LINE + ",EXTRA\n"),
        ["ragged.csv", "line 2", "12 fields"],
    ),
    (
        "an unclosed quote",
        lambda t: _write(t / "quote.csv", HEADER + "\n" + GOOD_LINE + "\n" + 'C2,1,"M2,HCSC\n'),
        ["quote.csv", "line 3"],
    ),
]


@pytest.mark.parametrize(("case", "make", "words"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_stops_cleanly_and_leaves_out_untouched(
    tmp_path: Path, previous_out: Path, capsys: pytest.CaptureFixture[str], case: str, make, words: list[str]
) -> None:
    source = tmp_path / "inputs"
    source.mkdir()
    path = make(source)
    before = snapshot(previous_out)
    capsys.readouterr()
    code = main(["run", str(path), "--out", str(previous_out), "--overwrite", "--quiet"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, err
    assert snapshot(previous_out) == before
    assert not [p for p in previous_out.parent.iterdir() if p.name.startswith(f".{previous_out.name}.")]


def test_broken_rules_table_stops_cleanly(
    tmp_path: Path, previous_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    with (rules / "medical_policies.csv").open("a") as f:
        f.write("HCSC,THE803,x,97545,2010-01-01,2010-01-31,NOT_MEDICALLY_NECESSARY,,,seed\n")
    before = snapshot(previous_out)
    code = main(["run", str(SAMPLE), "--out", str(previous_out), "--overwrite", "--rules", str(rules)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT
    assert "medical_policies.csv" in err and "line 52" in err and "overlaps" in err
    assert snapshot(previous_out) == before


def test_broken_plans_file_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = (DEFAULT_RULES_DIR / "plans.csv").read_text()
    plans = _write(tmp_path / "plans.csv", shipped + "P9,HCSC,TRICARE,2020-01-01,,true,false\n")
    code = main(["run", str(SAMPLE), "--out", str(tmp_path / "o"), "--plans", str(plans)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "plans.csv" in err and "line_of_business" in err
    assert not (tmp_path / "o").exists()


def test_existing_out_needs_overwrite(previous_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(previous_out)
    assert main(["run", str(SAMPLE), "--out", str(previous_out)]) == EXIT_BAD_INPUT
    assert "--overwrite" in capsys.readouterr().err
    assert snapshot(previous_out) == before
    assert main(["run", str(SAMPLE), "--out", str(previous_out), "--overwrite", "--quiet"]) == EXIT_OK
    assert (
        json.loads((previous_out / "manifest.json").read_text())["run_id"]
        != json.loads(before["manifest.json"])["run_id"]
    )


def test_header_only_file_is_a_valid_empty_run(tmp_path: Path) -> None:
    path = _write(tmp_path / "header.csv", HEADER + "\n")
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--quiet"]) == EXIT_OK
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["counts"]["read"] == 0 and manifest["counts"]["reconciled"]
    assert pl.read_parquet(tmp_path / "o" / "results.parquet").height == 0


def test_internal_error_is_one_line_with_its_own_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from adjudicator.embedded import driver

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(driver, "adjudicate_batch", boom)
    assert main(["run", str(SAMPLE), "--out", str(tmp_path / "o")]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "internal error" in err and "simulated bug" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["--debug", "run", str(SAMPLE), "--out", str(tmp_path / "o")]) == EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def test_rows_read_equal_results_plus_rejects_per_file(tmp_path: Path) -> None:
    second = _write(tmp_path / "second.csv", HEADER + "\n" + GOOD_LINE.replace("C1,", "Z1,") + "\nZ2,1,,,,x,1,0,-1,,\n")
    out = tmp_path / "o"
    assert main(["run", str(SAMPLE), str(second), "--out", str(out), "--quiet"]) == EXIT_OK
    manifest = json.loads((out / "manifest.json").read_text())
    by_path = {i["path"]: i for i in manifest["inputs"]}
    assert by_path[str(second)]["read"] == 2 and by_path[str(second)]["rejects"] == 1
    assert by_path[str(SAMPLE)]["read"] == len(SAMPLE.read_text().splitlines()) - 1
    for item in manifest["inputs"]:
        assert item["read"] == item["results"] + item["rejects"] and item["reconciled"]
    results = pl.read_parquet(out / "results.parquet")
    rejects = pl.read_parquet(out / "rejects.parquet")
    assert results.height + rejects.height == manifest["counts"]["read"]


def test_same_inputs_same_results(tmp_path: Path) -> None:
    """Deterministic: rows, values and order match, run id and timings aside; checksums match too."""
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    a, b = (pl.read_parquet(o / "results.parquet").drop("run_id") for o in outs)
    assert a.equals(b)
    ra, rb = (pl.read_parquet(o / "rejects.parquet").drop("run_id") for o in outs)
    assert ra.equals(rb)
    ma, mb = (json.loads((o / "manifest.json").read_text()) for o in outs)
    assert [i["sha256"] for i in ma["inputs"]] == [i["sha256"] for i in mb["inputs"]]
    assert ma["rules"] == mb["rules"] and ma["counts"] == mb["counts"]


def test_results_keep_input_order(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    results = pl.read_parquet(out / "results.parquet")
    source = pl.read_csv(SAMPLE, infer_schema=False)
    kept = source.join(
        results.select("claim_id", pl.col("line_number").cast(pl.String)),
        on=["claim_id", "line_number"],
        how="semi",
        maintain_order="left",
    )
    assert results["claim_id"].to_list() == kept["claim_id"].to_list()


def _big_csv(path: Path, copies: int) -> Path:
    body = SAMPLE.read_text().splitlines()[1:]
    with path.open("w") as f:
        f.write(HEADER + "\n")
        for k in range(copies):
            for line in body:
                claim, rest = line.split(",", 1)
                f.write(f"{claim}-{k},{rest}\n")
    return path


@pytest.mark.slow
def test_killed_run_leaves_previous_result_or_none(tmp_path: Path, previous_out: Path) -> None:
    """SIGKILL at several moments: OUT is always either the previous complete result or the new complete one."""
    big = _big_csv(tmp_path / "big.csv", 2000)  # ~500k lines: the run takes a few seconds
    before = snapshot(previous_out)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "adjudicator",
                "run",
                str(big),
                "--out",
                str(previous_out),
                "--overwrite",
                "--quiet",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = snapshot(previous_out)
        if now != before:  # the new run finished before the kill: it must be whole
            manifest = json.loads(now["manifest.json"])
            assert manifest["counts"]["reconciled"]
            assert pl.read_parquet(previous_out / "results.parquet").height == manifest["counts"]["results"]
            assert manifest["run_id"].encode() in now["report.html"]  # the report of this very run
            before = now
        # the report is staged and published with the outputs: never one without the others
        assert set(now) == {"results.parquet", "rejects.parquet", "manifest.json", "report.html"}


def test_out_parents_are_created(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "out"
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet"]) == EXIT_OK
    assert (out / "manifest.json").exists()


def test_text_input_staged_once_gives_the_same_run_as_parquet(tmp_path: Path) -> None:
    """A CSV input is staged to Parquet in a scratch folder beside OUT: same results and rejects as the
    same text in a Parquet file (not staged), and nothing is left beside OUT afterwards."""
    as_parquet = tmp_path / "claims.parquet"
    pl.read_csv(SAMPLE, infer_schema=False).write_parquet(as_parquet)
    runs = {}
    for name, path in (("csv", SAMPLE), ("parquet", as_parquet)):
        out = tmp_path / name
        assert main(["run", str(path), "--out", str(out), "--quiet"]) == EXIT_OK
        runs[name] = [
            pl.read_parquet(out / f).drop("run_id", "source_file") for f in ("results.parquet", "rejects.parquet")
        ]
    assert runs["csv"][0].height > 0 and runs["csv"][1].height > 0
    assert runs["csv"][0].equals(runs["parquet"][0]) and runs["csv"][1].equals(runs["parquet"][1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.parquet", "csv", "parquet"]
