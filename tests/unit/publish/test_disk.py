"""A full disk is told from other failures (issue 13): its cause under an input error still makes it exit 3."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from adjudicator.errors import EXIT_INTERNAL, DiskFullError
from adjudicator.publish import disk


def test_a_full_disk_behind_an_input_error_is_still_a_full_disk(tmp_path: Path) -> None:
    """A reader's or writer's failure is reported as an input error raised from the engine's error; the
    disk-full cause underneath wins (exit 3, naming OUT's filesystem)."""
    from adjudicator.errors import InputError

    try:
        try:
            raise pl.exceptions.ComputeError("sink failed: No space left on device (os error 28)")
        except pl.exceptions.ComputeError as exc:
            raise InputError("claims.csv: cannot be read: sink failed") from exc
    except InputError as exc:
        with pytest.raises(DiskFullError, match="no space left on the filesystem") as caught:
            disk.raise_if_disk_full(exc, tmp_path / "out")
    assert caught.value.exit_code == EXIT_INTERNAL
    disk.raise_if_disk_full(InputError("claims.csv: line 3 is not valid UTF-8"), tmp_path / "out")  # no-op
