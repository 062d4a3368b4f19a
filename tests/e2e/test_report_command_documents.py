"""``adjudicate report`` on a run's manifest or a diff's summary that is missing keys or holds values of the wrong
type: exit 2, one line naming the file and the key, and no report written (never an internal error)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.publish.manifest import DIFF_SUMMARY, MANIFEST, REPORT
from tests.helpers import SAMPLE

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A run folder and a diff folder, as the tool writes them."""
    base = tmp_path_factory.mktemp("documents")
    assert main(["run", str(SAMPLE), "--out", str(base / "run"), "--quiet"]) == EXIT_OK
    assert main(["diff", str(base / "run"), str(base / "run"), "--out", str(base / "diff"), "--quiet"]) == EXIT_OK
    return base / "run", base / "diff"


def _deleted(document: dict[str, Any], dotted: str) -> None:
    *outer, key = dotted.split(".")
    for part in outer:
        document = document[part]
    del document[key]


def _set(document: dict[str, Any], dotted: str, value: Any) -> None:
    *outer, key = dotted.split(".")
    for part in outer:
        document = document[part]
    document[key] = value


# (case, document, edit: ("del", key) or ("set", key, value), what the error names)
EDITS = [
    ("no counts", MANIFEST, ("del", "counts"), "missing key 'counts'"),
    ("no run id", MANIFEST, ("del", "run_id"), "missing key 'run_id'"),
    ("no lines read", MANIFEST, ("del", "counts.read"), "missing key 'counts.read'"),
    ("no reasons", MANIFEST, ("del", "counts.by_reason"), "missing key 'counts.by_reason'"),
    ("counts a number", MANIFEST, ("set", "counts", 5), "key 'counts' is 5, not an object"),
    ("lines read as text", MANIFEST, ("set", "counts.read", "12"), "key 'counts.read' is \"12\""),
    ("inputs an object", MANIFEST, ("set", "inputs", {}), "key 'inputs' is {}, not a list"),
    ("options a list", MANIFEST, ("set", "options", []), "key 'options' is [], not an object"),
    ("a summary list a number", MANIFEST, ("set", "summary.top_claims", 3), "key 'summary.top_claims' is 3"),
    ("a reason row without its amount", MANIFEST, ("set", "counts.by_reason", [{"lines": 1}]), "missing key"),
    ("no totals", DIFF_SUMMARY, ("del", "totals"), "missing key 'totals'"),
    ("matrix a number", DIFF_SUMMARY, ("set", "matrix", 1), "key 'matrix' is 1, not a list"),
    ("old run a list", DIFF_SUMMARY, ("set", "old", []), "key 'old' is [], not an object"),
]


@pytest.mark.parametrize(("case", "name", "edit", "named"), EDITS, ids=[e[0] for e in EDITS])
def test_a_document_missing_keys_or_of_wrong_types_is_exit_2_naming_the_key(
    tmp_path: Path,
    folders: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    case: str,
    name: str,
    edit: tuple[Any, ...],
    named: str,
) -> None:
    folder = tmp_path / "copy"
    shutil.copytree(folders[0] if name == MANIFEST else folders[1], folder)
    (folder / REPORT).unlink()
    document = json.loads((folder / name).read_text())
    edited = copy.deepcopy(document)
    if edit[0] == "del":
        _deleted(edited, edit[1])
    else:
        _set(edited, edit[1], edit[2])
    (folder / name).write_text(json.dumps(edited))
    capsys.readouterr()
    code = main(["report", str(folder)])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT, err
    assert len(err.splitlines()) == 1 and str(folder / name) in err and named in err, err
    assert "internal error" not in err
    assert not (folder / REPORT).exists()


@pytest.mark.parametrize("which", [0, 1], ids=["run", "diff"])
def test_the_documents_the_tool_writes_pass(folders: tuple[Path, Path], which: int) -> None:
    assert main(["report", str(folders[which]), "--quiet"]) == EXIT_OK
