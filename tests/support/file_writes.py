"""Watching a call for anything it writes to the file system, from Python: an audit hook (``sys.addaudithook``)
that records, while ``recording`` is on, every ``open`` with a mode or flags that write, every folder or file made,
moved or removed, every temporary file or folder, and every child process.

An audit hook cannot be removed, so one hook is installed the first time and stays off outside ``recording``.
It sees what Python does (``open``, ``os``, ``shutil``, ``tempfile``, ``subprocess``), not a file written by
native code on its own; the callers check the folders such code could write to as well.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: events that make, change or remove a file or folder, or start a process that could
_WRITING_EVENTS = frozenset(
    {
        "os.mkdir",
        "os.makedirs",
        "os.rename",
        "os.replace",
        "os.remove",
        "os.rmdir",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.chmod",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.move",
        "tempfile.mkdtemp",
        "tempfile.mkstemp",
        "subprocess.Popen",
        "os.posix_spawn",
        "os.fork",
        "os.exec",
    }
)
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC

_lock = threading.Lock()
_installed = False
_recorded: list[list[tuple[str, tuple[Any, ...]]]] = []


def writes(event: str, args: tuple[Any, ...]) -> bool:
    """Whether an audit event writes to the file system (or starts a process that could)."""
    if event == "open":
        mode, flags = (args[1], args[2]) if len(args) >= 3 else (None, 0)
        if isinstance(mode, str):
            return any(c in mode for c in "wax+")
        return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
    return event in _WRITING_EVENTS


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # stays cheap and never raises: it sees every audited event of the process from now on
    if _recorded and writes(event, args):
        for each in list(_recorded):
            each.append((event, tuple(repr(a) for a in args)))


def _install() -> None:
    global _installed
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True


@contextmanager
def recording() -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """The events that write (``writes``) while the block runs, on any thread: a list filled as they come."""
    _install()
    found: list[tuple[str, tuple[Any, ...]]] = []
    _recorded.append(found)
    try:
        yield found
    finally:
        _recorded.remove(found)


__all__ = ["recording", "writes"]
