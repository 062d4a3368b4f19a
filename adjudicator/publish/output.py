"""Publishing a run: a temporary folder beside OUT for the outputs and the manifest, renamed into place."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from adjudicator.errors import DiskFullError, OutputError
from adjudicator.rules.tables import sha256 as file_sha256

RESULTS = "results.parquet"
REJECTS = "rejects.parquet"
MANIFEST = "manifest.json"
REPORT = "report.html"
#: what ``adjudicate diff`` writes (adjudicator.diff.runs imports this module, so the names live here)
DIFF_CHANGES = "changes.parquet"
DIFF_SUMMARY = "summary.json"

#: the temporary folders a run or a diff makes beside OUT: ``.OUT.scratch-<id>``, ``.OUT.tmp-<id>``,
#: ``.OUT.old-<id>``, where <id> is a run id (``new_run_id``)
_TEMPORARY_KINDS = ("scratch", "tmp", "old")
#: how long a publish waits for another run that is replacing the same OUT
PUBLISH_WAIT_S = 5.0


def new_run_id() -> str:
    return uuid.uuid4().hex


def checksums_in_background(paths: list[str]) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {p: pool.submit(file_sha256, p) for p in paths}


def check_out_dir(out: Path, *, overwrite: bool, protected: Iterable[str | Path] = ()) -> None:
    """Refuse an OUT the run must not write: one that exists without ``overwrite``, one that is not a
    previous output of this tool (``--overwrite`` never deletes anything else), and one that is, or
    holds, a file or folder the run reads (``protected``: inputs, rule tables, plans, claims list, diff
    operands). Raises ``OutputError`` (exit 2) before anything is written."""
    check_not_protected(out, protected)
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: output folder exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    if out.exists():
        check_replaceable(out)
    # the nearest folder that exists must let us create OUT's parents (made when the run publishes)
    existing = spill_parent(out)
    if not existing.is_dir():
        raise OutputError(f"{out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"{out}: folder {existing} is not writable")


def check_not_protected(out: Path, protected: Iterable[str | Path]) -> None:
    """OUT must not be, or contain, any of ``protected`` (compared after resolving symlinks)."""
    target = Path(os.path.realpath(out))
    for path in protected:
        real = Path(os.path.realpath(path))
        if real == target or target in real.parents:
            held = "is" if real == target else "contains"
            raise OutputError(
                f"{out}: the output folder {held} {path}, which this run reads; choose another --out "
                "(nothing was written or deleted)"
            )


def is_previous_output(folder: Path) -> bool:
    """True when ``folder`` holds an output of this tool: a run's manifest, or a diff's summary and changes
    (the only folders ``--overwrite`` may replace), or nothing at all."""
    try:
        entries = {p.name for p in folder.iterdir()}
    except OSError:
        return False
    if not entries:
        return True
    if MANIFEST in entries:
        document = _json_object(folder / MANIFEST)
        return document is not None and {"run_id", "options", "inputs", "counts"} <= document.keys()
    if DIFF_SUMMARY in entries and DIFF_CHANGES in entries:
        document = _json_object(folder / DIFF_SUMMARY)
        return document is not None and {"old", "new", "totals", "by_change_kind"} <= document.keys()
    return False


def _json_object(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def check_replaceable(out: Path) -> None:
    """``--overwrite`` replaces only a previous output of this tool (see ``is_previous_output``)."""
    if out.is_symlink() or not is_previous_output(out):
        raise OutputError(
            f"{out}: exists and is not an adjudicator output (no {MANIFEST} of a run, nor a diff's "
            f"{DIFF_SUMMARY}); --overwrite replaces only those. Choose another --out"
        )


def spill_parent(out: Path) -> Path:
    """The nearest existing folder above OUT: where a run's scratch folder goes (on the disk the results are
    written to), and the folder that must let the run create OUT's parents."""
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    return parent


def _temporary(out: Path, kind: str, run_id: str) -> str:
    return f".{out.name}.{kind}-{run_id}"


def _lock(folder: Path, *, wait_s: float | None = None) -> int | None:
    """Hold an exclusive lock on ``folder`` for as long as the descriptor is open: it marks the folder as
    in use, so ``remove_stale`` never removes a live run's folder (the kernel drops the lock when the
    process dies, however it dies). ``wait_s``: give up after that long and return None (another run
    holds it); None waits as long as it takes (a folder this run has just made)."""
    fd = os.open(folder, os.O_RDONLY)
    if wait_s is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except OSError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


def _held(folder: Path) -> int:
    fd = _lock(folder)
    assert fd is not None  # a blocking lock always comes back with its descriptor
    return fd


@contextlib.contextmanager
def scratch(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out`` for a run's spill files (staged input, key partitions); always removed."""
    folder = spill_parent(out) / _temporary(out, "scratch", run_id)
    folder.mkdir()
    fd = _held(folder)
    try:
        yield folder
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise_if_disk_full(exc, out)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


@contextlib.contextmanager
def staging(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out``; removed on any failure, so OUT is never half-written."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / _temporary(out, "tmp", run_id)
    tmp.mkdir()
    fd = _held(tmp)
    try:
        yield tmp
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise_if_disk_full(exc, out)
        raise
    finally:
        os.close(fd)


#: how a full disk or quota shows: an OSError's errno, or the text of an error raised by polars' writers
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXT = re.compile(r"no space left on device|disk quota exceeded|os error (28|122)\b", re.IGNORECASE)


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc``, or an error it was raised from, says the disk (or the quota) is full."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _DISK_FULL_ERRNOS:
            return True
        if _DISK_FULL_TEXT.search(str(current)):
            return True
        current = current.__cause__ or current.__context__
    return False


def mount_point(path: Path) -> Path:
    """The mount point of the filesystem holding ``path`` (or its nearest existing folder)."""
    current = Path(os.path.realpath(spill_parent(path) if not path.exists() else path))
    while not os.path.ismount(current):
        current = current.parent
    return current


def raise_if_disk_full(exc: BaseException, out: Path) -> None:
    """Turn a full disk, however it surfaced (an OSError, a polars write error, an input error raised from
    one), into ``DiskFullError`` naming OUT's filesystem (exit 3)."""
    if isinstance(exc, DiskFullError) or not is_disk_full(exc):
        return
    mount = mount_point(out)
    try:
        free = f"{shutil.disk_usage(mount).free / 2**20:,.0f} MiB free now"
    except OSError:
        free = "free space unknown"
    raise DiskFullError(
        f"{out}: no space left on the filesystem holding the output (mounted at {mount}, {free}); "
        "OUT left as it was. Free some space or choose --out on another disk"
    ) from exc


def remove_stale(out: Path) -> list[Path]:
    """Remove the scratch, staging and old-result folders that earlier killed runs left beside ``out``.

    Only folders named exactly as this tool names them for this OUT (``.OUT.scratch-<id>``,
    ``.OUT.tmp-<id>``, ``.OUT.old-<id>``), and only those no live run holds locked (see ``_lock``): a
    killed run's staged copy of the claims must not stay on disk. Returns the folders removed.
    """
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.({'|'.join(_TEMPORARY_KINDS)})-[0-9a-f]{{32}}$")
    parent = out.resolve().parent
    removed: list[Path] = []
    try:
        candidates = [p for p in parent.iterdir() if pattern.match(p.name)]
    except OSError:
        return removed
    for folder in candidates:
        if folder.is_symlink() or not folder.is_dir():
            continue
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live run's folder
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def publish(tmp: Path, out: Path, run_id: str, *, overwrite: bool) -> None:
    """Move a complete staged result to ``out``, replacing an older one, then remove stale temporary
    folders of earlier killed runs beside it.

    Each step is a rename within one folder: a run killed at any moment leaves
    the previous complete result (possibly under ``.OUT.old-*``) or the new one,
    never a mix. An OUT that appeared while the run worked (another job, a
    rerun by hand) is replaced only with ``overwrite`` and only when it is an
    output of this tool; otherwise ``OutputError`` and OUT is left untouched.
    """
    for path in (tmp, *tmp.iterdir()):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    old = out.resolve().parent / _temporary(out, "old", run_id)
    held: int | None = None
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise OutputError(
                f"{out}: the output folder appeared while this run was working; left untouched, nothing "
                "published (pass --overwrite to replace it)"
            )
        check_replaceable(out)
        held = _lock(out, wait_s=PUBLISH_WAIT_S)
        if held is None:
            raise OutputError(f"{out}: another run is publishing this output folder right now; left untouched")
        out.rename(old)
    try:
        try:
            tmp.rename(out)
        except OSError as exc:
            if old.exists() and not out.exists():
                old.rename(out)
            if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                raise OutputError(
                    f"{out}: the output folder appeared while this run was publishing; left untouched, "
                    "nothing published"
                ) from None
            raise
        except BaseException:
            if old.exists() and not out.exists():
                old.rename(out)
            raise
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if held is not None:
            os.close(held)
    remove_stale(out)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    with (folder / MANIFEST).open("w") as f:
        json.dump(manifest, f, indent=2, default=str)
        f.write("\n")
