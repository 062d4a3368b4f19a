"""Every child interpreter a run starts is isolated: a module in the folder where ``adjudicate`` is run (a stray
``argparse.py`` or ``json.py``) is never imported by it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_OK
from adjudicator.rules.check import import_path
from tests.helpers import SAMPLE

pytestmark = [pytest.mark.e2e, pytest.mark.rules_helper]

#: module names a child interpreter imports early (the helper's own imports, and the standard library's)
HOSTILE_MODULES = ("argparse", "json", "importlib_metadata", "pandera", "polars")


def hostile_folder(folder: Path, marker: Path) -> Path:
    """A working folder whose modules, once imported, leave ``marker`` behind (and then fail)."""
    folder.mkdir()
    for name in HOSTILE_MODULES:
        (folder / f"{name}.py").write_text(
            f"open({str(marker)!r}, 'a').write({name!r} + '\\n')\nraise SystemExit('hostile {name} imported')\n"
        )
    return folder


def test_a_run_never_imports_modules_from_its_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker"
    monkeypatch.chdir(hostile_folder(tmp_path / "work", marker))
    code = main(["run", str(SAMPLE), "--out", str(tmp_path / "out"), "--quiet"])
    # the sample's 2027 lines draw the data-quality warning (dates after the run date); nothing else may be said
    said = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("adjudicate: warning:")]
    assert (code, said) == (EXIT_OK, [])
    assert not marker.exists(), marker.read_text()
    assert (tmp_path / "out" / "manifest.json").is_file()


def test_the_import_path_handed_to_a_child_leaves_out_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", ".", "lib", str(tmp_path), "/usr/lib/python3"])
    assert import_path() == ["/usr/lib/python3"]
