"""``adjudicate report``: a folder that holds no run's or diff's manifest is refused in one line, and no report
is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT
from adjudicator.publish.manifest import MANIFEST, REPORT


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({}, "neither manifest.json"),
        ({MANIFEST: "{not json"}, "cannot be read as JSON"),
        ({MANIFEST: "[]"}, "is not an adjudicator"),
    ],
)
def test_report_command_refuses_a_folder_that_is_not_a_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], files: dict[str, str], message: str
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert main(["report", str(tmp_path)]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err
    assert not (tmp_path / REPORT).exists()
