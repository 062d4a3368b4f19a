"""OUT is created or replaced whole, so ``--out .``, ``--out ''`` (a path reads it as ``.``) and a folder above
the working folder are refused (exit 2, one line) before anything is read, written or deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT
from adjudicator.rules.tables import RuleSet
from tests.helpers import SAMPLE
from tests.support.diff_runs import BASE, write_run

OUTS = [".", "", "./", "..", "../.."]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]], ids=["new", "overwrite"])
@pytest.mark.parametrize("out", OUTS, ids=[repr(o) for o in OUTS])
@pytest.mark.parametrize("command", ["run", "diff"])
def test_out_is_never_the_working_folder_or_above_it(
    tmp_path: Path,
    rules: RuleSet,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: str,
    out: str,
    overwrite: list[str],
) -> None:
    work = tmp_path / "a" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    operands = [str(SAMPLE)] if command == "run" else [str(tmp_path / "old"), str(tmp_path / "new")]
    if command == "diff":
        for name in ("old", "new"):
            write_run(tmp_path / name, BASE, rules, name)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    code = main([command, *operands, "--out", out, "--quiet", *overwrite])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT
    assert len(err.splitlines()) == 1 and "working folder" in err, err
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
