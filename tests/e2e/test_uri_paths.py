"""A path with a scheme, wherever the command line takes a path, is exit 2 with one line naming it, and leaves
no local folder named after the scheme (``s3:``) behind; a ``file://`` URI is its local path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e

CASES = [
    ("--out", ["run", str(SAMPLE), "--out", "s3://bucket/out"], "s3://bucket/out"),
    ("input", ["run", "s3://bucket/claims.csv", "--out", "out"], "s3://bucket/claims.csv"),
    ("input", ["run", "gs://bucket/claims/*.parquet", "--out", "out"], "gs://bucket/claims/*.parquet"),
    ("--rules", ["run", str(SAMPLE), "--out", "out", "--rules", "abfss://c@a.dfs.core.windows.net/r"], "abfss://"),
    ("--plans", ["run", str(SAMPLE), "--out", "out", "--plans", "s3://bucket/plans.csv"], "s3://bucket/plans.csv"),
    ("--claims", ["run", str(SAMPLE), "--out", "out", "--claims", "s3://bucket/ids.txt"], "s3://bucket/ids.txt"),
    ("--replay", ["run", "--replay", "s3://bucket/out/manifest.json"], "s3://bucket/out/manifest.json"),
    ("--out", ["diff", "a", "b", "--out", "gs://bucket/diff"], "gs://bucket/diff"),
    ("OLD_OUT", ["diff", "s3://bucket/old", "b", "--out", "d"], "s3://bucket/old"),
    ("NEW_OUT", ["diff", "a", "s3://bucket/new", "--out", "d"], "s3://bucket/new"),
    ("OUT", ["report", "s3://bucket/out"], "s3://bucket/out"),
    # the history is a Delta table: a URI went to deltalake's object stores (credentials looked up on the network,
    # an error of many lines); it is a local or mounted path like every other
    ("--history", ["run", str(SAMPLE), "--out", "out", "--history", "s3://bucket/history"], "s3://bucket/history"),
    ("PATH", ["history", "gs://bucket/history"], "gs://bucket/history"),
    ("OUT", ["history", "commit", "s3://bucket/out"], "s3://bucket/out"),
]


@pytest.mark.parametrize(("named", "argv", "uri"), CASES, ids=[" ".join(c[1][:1] + [c[0]]) for c in CASES])
def test_a_uri_is_refused_naming_it_and_no_scheme_folder_appears(
    named: str,
    argv: list[str],
    uri: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"adjudicate: error: {named} {uri}") and "is not supported" in err
    assert "\n" not in err
    assert os.listdir(tmp_path) == []


def test_file_uris_are_local_paths(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", SAMPLE.as_uri(), "--out", out.as_uri(), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["path"] == str(SAMPLE)
    assert manifest["counts"]["reconciled"]


def test_a_file_uri_history_is_its_local_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, history = tmp_path / "out", tmp_path / "history"
    assert main(["run", str(SAMPLE), "--out", str(out), "--history", history.as_uri(), "--quiet"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["history"] == str(history)
    assert manifest["history"]["version_written"] == 1
    assert (history / "_delta_log").is_dir()
