"""Reading 837P files with progress: ``read_837p``'s callback is told every byte of every file as the walk goes
(``adjudicator.readers.x12_text.WalkProgress``), and ``read_inputs`` opens its "reading" phase only for a layout
whose files are read whole."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from adjudicator.options import RunOptions
from adjudicator.readers import x12_text
from adjudicator.readers.inputs import read_inputs
from adjudicator.readers.x12 import read_837p
from adjudicator.rules.tables import load_rules
from tests.helpers import ROOT, SAMPLE

PROFESSIONAL = ROOT / "tests" / "fixtures" / "layouts" / "professional.837"
RULES = ROOT / "rules"


def test_the_callback_is_told_every_byte_of_the_file() -> None:
    told: list[int] = []
    lines = read_837p(str(PROFESSIONAL), progress=told.append)
    assert lines.height > 0
    assert sum(told) == PROFESSIONAL.stat().st_size and all(n > 0 for n in told)


def _big_837p(path: Path, claims: int) -> Path:
    """The fixture's interchange with its first claim repeated ``claims`` times (the SE count then disagrees:
    an envelope defect, read past)."""
    text = PROFESSIONAL.read_text()
    head, rest = text.split("CLM*WH-1001", 1)
    claim = "CLM*WH-1001" + rest.split("CLM*WH-1002", 1)[0]
    tail = "SE*" + rest.split("SE*", 1)[1]
    path.write_text(head + "".join(claim.replace("WH-1001", f"WH-{n}") for n in range(claims)) + tail)
    return path


def test_the_callback_is_told_as_the_walk_goes_segment_by_segment(tmp_path: Path) -> None:
    big = _big_837p(tmp_path / "big.837", claims=400)
    told: list[int] = []
    lines = read_837p(str(big), progress=told.append)
    assert lines.height == 800
    # told every REPORT_EVERY segments, not only at the end (the file holds three times as many)
    assert big.read_text().count("~") > 3 * x12_text.REPORT_EVERY
    assert len(told) >= 3
    assert sum(told) == big.stat().st_size and all(n > 0 for n in told)


def test_reports_come_as_often_as_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(x12_text, "REPORT_EVERY", 1)
    big = _big_837p(tmp_path / "big.837", claims=400)
    told: list[int] = []
    read_837p(str(big), progress=told.append)
    # one report per buffer pyx12 takes (a segment that takes none adds nothing), adding up to the file
    assert len(told) > big.stat().st_size // (16 * 1024)
    assert sum(told) == big.stat().st_size


def test_reading_without_a_callback_reads_the_same_lines() -> None:
    assert read_837p(str(PROFESSIONAL)).equals(read_837p(str(PROFESSIONAL), progress=lambda n: None))


class _Phases:
    """A ``reading`` factory that records each phase's total and the bytes it was told."""

    def __init__(self) -> None:
        self.phases: list[tuple[int, list[int]]] = []

    def __call__(self, total: int) -> contextlib.AbstractContextManager[Callable[[int], None]]:
        told: list[int] = []
        self.phases.append((total, told))

        @contextlib.contextmanager
        def phase() -> Iterator[Callable[[int], None]]:
            yield told.append

        return phase()


def test_read_inputs_reads_every_837p_file_in_one_phase_told_every_byte(tmp_path: Path) -> None:
    paths = [tmp_path / f"{name}.837" for name in ("a", "b")]
    for path in paths:
        shutil.copy(PROFESSIONAL, path)
    phases = _Phases()
    options = RunOptions(inputs=tuple(str(p) for p in paths), out=tmp_path / "out", rules_dir=RULES)
    inputs = read_inputs(options, load_rules(RULES, validate=False), reading=phases)
    assert inputs.layout == "x12-837p"
    total = 2 * PROFESSIONAL.stat().st_size
    assert [(t, sum(told)) for t, told in phases.phases] == [(total, total)]


def test_read_inputs_opens_no_phase_for_a_layout_polars_reads_lazily(tmp_path: Path) -> None:
    phases = _Phases()
    options = RunOptions(inputs=(str(SAMPLE),), out=tmp_path / "out", rules_dir=RULES)
    read_inputs(options, load_rules(RULES, validate=False), reading=phases)
    assert phases.phases == []
