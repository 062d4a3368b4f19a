"""The audit trail must be true (issue 13): the manifest's sizes and checksums describe the bytes the run read;
an input that changes while the run reads it stops the run (exit 2, nothing published)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from adjudicator import run
from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from tests.helpers import SAMPLE, snapshot

pytestmark = pytest.mark.e2e

EXTRA_LINE = "Z9,1,M9,HCSC,HCSC-PPO-100,2024-05-01,97545,1,180.00,11\n"


def _change_while_writing(monkeypatch: pytest.MonkeyPatch, change: Callable[[], None]) -> None:
    """Change a file after the run has read it (its outputs and manifest are staged), before it publishes."""
    real = run.write_manifest

    def writing(*args, **kwargs):
        real(*args, **kwargs)
        change()

    monkeypatch.setattr(run, "write_manifest", writing)


def _append(path: Path) -> None:
    with path.open("a") as f:
        f.write(EXTRA_LINE)


def _rewrite_same_size_and_mtime(path: Path) -> None:
    """The sneakiest change: same size, modification time set back; only the inode's ctime tells."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[-3:-1] = b"99" if data[-3:-1] != b"99" else b"98"
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _replace_by_rename(path: Path) -> None:
    other = path.with_name("other.parquet")
    pl.read_parquet(path).head(3).write_parquet(other)
    other.replace(path)


CHANGES = [
    ("csv appended", "claims.csv", _append, "size went from"),
    ("csv rewritten in place, same size and mtime", "claims.csv", _rewrite_same_size_and_mtime, "written to"),
    ("parquet replaced by rename", "claims.parquet", _replace_by_rename, "replaced by another file"),
    ("csv removed", "claims.csv", lambda p: p.unlink(), "removed"),
]


@pytest.mark.parametrize(("case", "name", "change", "words"), CHANGES, ids=[c[0] for c in CHANGES])
def test_an_input_changed_while_read_publishes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    case: str,
    name: str,
    change: Callable[[Path], None],
    words: str,
) -> None:
    path = tmp_path / name
    if name.endswith(".parquet"):
        pl.read_csv(SAMPLE, infer_schema=False).write_parquet(path)
    else:
        shutil.copy(SAMPLE, path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == EXIT_OK
    before = snapshot(out)
    _change_while_writing(monkeypatch, lambda: change(path))
    capsys.readouterr()
    assert main(["run", str(path), "--out", str(out), "--overwrite", "--quiet"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and "changed while the run was reading it" in err, err
    assert words in err, err
    assert snapshot(out) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_a_claims_list_changed_while_read_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "ids.txt"
    ids.write_text("C1\n")
    _change_while_writing(monkeypatch, lambda: ids.write_text("C1\nC2\n"))
    out = tmp_path / "out"
    assert main(["run", str(SAMPLE), "--claims", str(ids), "--out", str(out), "--quiet"]) == EXIT_BAD_INPUT
    assert str(ids) in capsys.readouterr().err
    assert not out.exists()


def test_manifest_checksums_are_those_of_the_bytes_read(tmp_path: Path) -> None:
    """The pair of the failure cases above: an unchanged input is published with its own size and sha256,
    and a replay verifies against them."""
    path = tmp_path / "claims.csv"
    shutil.copy(SAMPLE, path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == EXIT_OK
    recorded = json.loads((out / "manifest.json").read_text())["inputs"][0]
    assert recorded["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert recorded["bytes"] == path.stat().st_size
    assert recorded["read"] == len(path.read_text().splitlines()) - 1
    assert main(["run", "--replay", str(out / "manifest.json"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
