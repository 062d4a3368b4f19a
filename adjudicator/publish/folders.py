"""A run's temporary folders beside OUT (scratch and staging), the removal of those killed runs left, and the
atomic publish of a staged result into OUT."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from adjudicator.embedded.events import RUN_ID_PATTERN
from adjudicator.errors import OutputError
from adjudicator.publish.disk import raise_if_disk_full, spill_parent
from adjudicator.publish.guards import check_replaceable
from adjudicator.publish.locks import hold, lock

#: the temporary folders a run or a diff makes beside OUT: ``.OUT.scratch-<id>``, ``.OUT.tmp-<id>``,
#: ``.OUT.old-<id>``, where <id> is a run id (``new_run_id``, or an orchestrator's ``--run-id``)
_TEMPORARY_KINDS = ("scratch", "tmp", "old")
#: how long a publish waits for another run that is replacing the same OUT
PUBLISH_WAIT_S = 5.0


def _temporary(out: Path, kind: str, run_id: str) -> str:
    return f".{out.name}.{kind}-{run_id}"


def _clear_stale(folder: Path) -> None:
    """Remove ``folder``, a temporary folder of this run's name that a killed run with the same run id left (an
    orchestrator retrying with its own ``--run-id``); one a live run holds is an ``OutputError``: two runs with
    one id on one OUT would share their temporary folders."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError("is in the way of this run's temporary folder; move it away", path=folder)
    if not folder.exists():
        return
    fd = lock(folder, wait_s=0.0)
    if fd is None:
        raise OutputError(
            "another run with the same run id is working here; give each run its own --run-id", path=folder
        )
    try:
        shutil.rmtree(folder)
    finally:
        os.close(fd)


def _make_fresh(folder: Path) -> None:
    """Make the temporary folder ``folder``, after ``_clear_stale``."""
    _clear_stale(folder)
    try:
        folder.mkdir()
    except FileExistsError as exc:
        raise OutputError(
            "another run with the same run id made this folder meanwhile; give each run its own --run-id",
            path=folder,
        ) from exc


@contextlib.contextmanager
def scratch(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out`` for a run's spill files (staged input, key partitions); always removed."""
    folder = spill_parent(out) / _temporary(out, "scratch", run_id)
    _make_fresh(folder)
    fd = hold(folder)
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
def no_scratch(out: Path) -> Iterator[None]:
    """No scratch folder, for an engine that does not spill; a full disk met before the staging folder exists is
    still ``DiskFullError``, as inside ``scratch`` and ``staging``."""
    try:
        yield None
    except BaseException as exc:
        raise_if_disk_full(exc, out)
        raise


@contextlib.contextmanager
def staging(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out``; removed on any failure, so OUT is never half-written."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / _temporary(out, "tmp", run_id)
    _make_fresh(tmp)
    fd = hold(tmp)
    try:
        yield tmp
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise_if_disk_full(exc, out)
        raise
    finally:
        os.close(fd)


def remove_stale(out: Path) -> list[Path]:
    """Remove the scratch, staging and old-result folders that earlier killed runs left beside ``out``.

    Only folders named exactly as this tool names them for this OUT (``.OUT.scratch-<id>``,
    ``.OUT.tmp-<id>``, ``.OUT.old-<id>``), and only those no live run holds locked (see ``locks.lock``): a
    killed run's staged copy of the claims must not stay on disk. Returns the folders removed.
    """
    pattern = re.compile(rf"^\.{re.escape(out.name)}\.({'|'.join(_TEMPORARY_KINDS)})-({RUN_ID_PATTERN.pattern})$")
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
            fd = lock(folder, wait_s=0.0)
        except OSError:
            continue
        if fd is None:
            continue  # a live run's folder
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


def _fsync_tree(tmp: Path) -> None:
    """The staged folder and its files on disk before they are renamed into place."""
    for path in (tmp, *tmp.iterdir()):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def publish(tmp: Path, out: Path, run_id: str, *, overwrite: bool) -> None:
    """Move a complete staged result to ``out``, replacing an older one, then remove stale temporary
    folders of earlier killed runs beside it.

    Each step is a rename within one folder: a run killed at any moment leaves
    the previous complete result (possibly under ``.OUT.old-*``) or the new one,
    never a mix. An OUT that appeared while the run worked (another job, a
    rerun by hand) is replaced only with ``overwrite`` and only when it is an
    output of this tool; otherwise ``OutputError`` and OUT is left untouched.
    """
    _fsync_tree(tmp)
    old = out.resolve().parent / _temporary(out, "old", run_id)
    held: int | None = None
    if out.exists() or out.is_symlink():
        if not overwrite:
            raise OutputError(
                "the output folder appeared while this run was working; left untouched, nothing "
                "published (pass --overwrite to replace it)",
                path=out,
            )
        check_replaceable(out)
        _clear_stale(old)
        held = lock(out, wait_s=PUBLISH_WAIT_S)
        if held is None:
            raise OutputError("another run is publishing this output folder right now; left untouched", path=out)
        out.rename(old)
    try:
        _rename_into_place(tmp, out, old)
    finally:
        if held is not None:
            os.close(held)
    remove_stale(out)


def _rename_into_place(tmp: Path, out: Path, old: Path) -> None:
    """``tmp`` renamed to ``out``, and the previous result (moved to ``old``) removed; on any failure the
    previous result is put back."""
    try:
        tmp.rename(out)
    except OSError as exc:
        if old.exists() and not out.exists():
            old.rename(out)
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise OutputError(
                "the output folder appeared while this run was publishing; left untouched, nothing published",
                path=out,
            ) from None
        raise
    except BaseException:
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


__all__ = ["PUBLISH_WAIT_S", "no_scratch", "publish", "remove_stale", "scratch", "staging"]
