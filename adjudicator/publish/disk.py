"""The filesystem OUT is written to: the nearest existing folder above OUT, its mount point, and a full disk
reported as ``DiskFullError``."""

from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path

from adjudicator.errors import DiskFullError

#: how a full disk or quota shows: an OSError's errno, or the text of an error raised by polars' writers
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXT = re.compile(r"no space left on device|disk quota exceeded|os error (28|122)\b", re.IGNORECASE)


def spill_parent(out: Path) -> Path:
    """The nearest existing folder above OUT: where a run's scratch folder goes (on the disk the results are
    written to), and the folder that must let the run create OUT's parents."""
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    return parent


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
        f"no space left on the filesystem holding the output (mounted at {mount}, {free}); "
        "OUT left as it was. Free some space or choose --out on another disk",
        path=out,
    ) from exc


__all__ = ["is_disk_full", "mount_point", "raise_if_disk_full", "spill_parent"]
