"""House style gates in the test run: ruff (lint and format) over the project and mypy over the package."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_is_clean() -> None:
    if shutil.which("ruff") is None:
        pytest.fail("ruff is not installed: install the test extras (pip install -e '.[test]')")
    result = _run("ruff", "check", "adjudicator", "tests", "benchmarks", "sample_claims")
    assert result.returncode == 0, result.stdout + result.stderr
    formatted = _run("ruff", "format", "--check", "adjudicator", "tests", "benchmarks", "sample_claims")
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    result = _run(sys.executable, "-m", "mypy", "adjudicator")
    assert result.returncode == 0, result.stdout + result.stderr
