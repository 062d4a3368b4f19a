"""``adjudicate --version`` prints the package's version and distribution name; ``--help`` names every layout and
engine, from the lists the readers and the engine option take."""

from __future__ import annotations

import pytest

from adjudicator.about import DISTRIBUTION, __version__
from adjudicator.cli import main
from adjudicator.cli.args import ENGINES
from adjudicator.readers.specs import LAYOUTS


def test_version_prints_the_version_and_the_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"adjudicate {__version__} ({DISTRIBUTION})"


def test_the_distribution_is_not_the_public_index_s_adjudicator() -> None:
    # 'adjudicator' on the public index is an unrelated genome-annotation tool
    assert DISTRIBUTION == "claims-adjudicator"


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]])
def test_help_names_every_layout_and_engine(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    shown = " ".join(capsys.readouterr().out.split())
    for name in (*LAYOUTS, *ENGINES):
        assert name in shown
