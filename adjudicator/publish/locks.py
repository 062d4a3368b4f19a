"""The locks that mark a temporary folder, or an OUT being replaced, as in use by a live run."""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from adjudicator.errors import InternalError


def lock(folder: Path, *, wait_s: float | None = None) -> int | None:
    """Hold an exclusive lock on ``folder`` for as long as the descriptor is open: it marks the folder as
    in use, so ``remove_stale`` never removes a live run's folder (the kernel drops the lock when the
    process dies, however it dies). ``wait_s``: give up after that long and return None (another run
    holds it; 0 tries once); None waits as long as it takes (a folder this run has just made)."""
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


def hold(folder: Path) -> int:
    """``lock`` that waits as long as it takes; the descriptor to close when the folder is done with."""
    fd = lock(folder)
    if fd is None:
        raise InternalError("a blocking lock came back without its descriptor", path=folder)
    return fd


__all__ = ["hold", "lock"]
