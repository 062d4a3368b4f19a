"""Publishing a run: a temporary folder beside OUT for the outputs and the manifest, renamed into place."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from adjudicator.errors import OutputError
from adjudicator.rules import sha256 as file_sha256

RESULTS = "results.parquet"
REJECTS = "rejects.parquet"
MANIFEST = "manifest.json"
REPORT = "report.html"


def new_run_id() -> str:
    return uuid.uuid4().hex


def checksums_in_background(paths: list[str]) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {p: pool.submit(file_sha256, p) for p in paths}


def check_out_dir(out: Path, *, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: output folder exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    # the nearest folder that exists must let us create OUT's parents (made when the run publishes)
    existing = spill_parent(out)
    if not existing.is_dir():
        raise OutputError(f"{out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"{out}: folder {existing} is not writable")


def spill_parent(out: Path) -> Path:
    """The nearest existing folder above OUT: where a run's scratch folder goes (on the disk the results are
    written to), and the folder that must let the run create OUT's parents."""
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    return parent


@contextlib.contextmanager
def scratch(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out`` for a run's spill files (staged input, key partitions); always removed."""
    folder = spill_parent(out) / f".{out.name}.scratch-{run_id}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def staging(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out``; removed on any failure, so OUT is never half-written."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}.tmp-{run_id}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, out: Path, run_id: str) -> None:
    """Move a complete staged result to ``out``, replacing an older one.

    Each step is a rename within one folder: a run killed at any moment leaves
    the previous complete result (possibly under ``.OUT.old-*``) or the new one,
    never a mix.
    """
    for path in (tmp, *tmp.iterdir()):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    old = out.resolve().parent / f".{out.name}.old-{run_id}"
    if out.exists():
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    with (folder / MANIFEST).open("w") as f:
        json.dump(manifest, f, indent=2, default=str)
        f.write("\n")
