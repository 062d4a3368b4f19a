"""Spark's Python workers run the interpreter that runs ``adjudicate`` (not the ``python3`` on PATH) when the
command line starts a session, and a worker that cannot import the package stops the run with one line saying how
to fix it. Skipped, with the reason, where Java or pyspark is missing; CI installs both."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from adjudicator.cli import main
from adjudicator.errors import EXIT_BAD_INPUT
from tests.helpers import SAMPLE
from tests.support.blocked_python import python_without_the_package

pytestmark = [pytest.mark.spark, pytest.mark.e2e, pytest.mark.slow]

if shutil.which("java") is None:
    pytest.skip("the Spark engine's tests need Java (17) on PATH; none found", allow_module_level=True)
pytest.importorskip("pyspark", reason="the Spark engine's tests need the 'spark' extra: pip install -e '.[spark]'")

from adjudicator.spark import run as spark_engine  # noqa: E402  (after the skips: it needs pyspark)


def test_a_session_made_here_runs_its_workers_on_this_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    session, made = spark_engine.session("local[1]")
    try:
        assert made
        ran = session.sparkContext.parallelize([0], 1).map(lambda _: sys.executable).collect()
        assert ran == [sys.executable]
    finally:
        session.stop()
    # the variable is the session's, not left behind for the rest of the process
    assert "PYSPARK_PYTHON" not in os.environ


def test_a_worker_that_cannot_import_the_package_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PYSPARK_PYTHON", str(python_without_the_package(tmp_path)))
    out = tmp_path / "out"
    code = main(["run", str(SAMPLE), "--out", str(out), "--quiet", "--engine", "spark", "--spark-master", "local[1]"])
    err = capsys.readouterr().err.strip()
    assert code == EXIT_BAD_INPUT, err
    assert err.count("\n") == 0
    assert "Spark's Python workers cannot import the adjudicator package" in err
    assert "install claims-adjudicator on every node, or set PYSPARK_PYTHON" in err
    assert not out.exists()
