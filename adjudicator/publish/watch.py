"""The watch on a run's input files: proof, before publishing, that they did not change while read."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from adjudicator.errors import InputError
from adjudicator.options import RunOptions

#: what identifies a file's content without reading it: a write changes size or mtime, and always ctime
#: (which no tool can set back); a file replaced by rename has another inode
_StatKey = tuple[int, int, int, int, int]


def _stat_key(path: str | Path) -> _StatKey | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class InputWatch:
    """The state of every file a run reads, taken before the run reads their rows; ``verify`` after the last
    read (and after the checksums are computed) proves the results, the rejects and the manifest's sizes and
    sha256 all describe the same bytes."""

    def __init__(self, paths: list[str | Path]) -> None:
        self._before = {str(p): _stat_key(p) for p in paths}

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """The run's reading under the watch: an error met while reading (a file gone from under polars or
        the OS) is reported as the input that changed (``verify``: exit 2 naming it) when one did, and passes
        on unchanged when none did."""
        try:
            yield
        except Exception:
            self.verify()
            raise

    def verify(self) -> None:
        """Raise ``InputError`` naming the first file that changed since the watch began (exit 2; the run
        publishes nothing)."""
        for path, before in self._before.items():
            now = _stat_key(path)
            if now == before:
                continue
            raise InputError(
                f"changed while the run was reading it ({_change(before, now)}); nothing was published and OUT "
                "was left as it was. Rerun once the file is complete",
                path=path,
            )


def _change(before: _StatKey | None, now: _StatKey | None) -> str:
    """How a file changed, in words, from its two states."""
    if now is None:
        return "it was removed"
    if before is not None and now[:2] != before[:2]:
        return "it was replaced by another file"
    if before is not None and now[2] != before[2]:
        return f"its size went from {before[2]:,} to {now[2]:,} bytes"
    return "it was written to"


def watch_inputs(paths: list[str], options: RunOptions) -> InputWatch:
    """Watch the run's input files and its claims list (the rule tables are read whole, before, and hashed
    as loaded)."""
    watched: list[str | Path] = list(paths)
    if options.slice.claims_file is not None:
        watched.append(options.slice.claims_file)
    return InputWatch(watched)


__all__ = ["InputWatch", "watch_inputs"]
