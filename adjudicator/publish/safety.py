"""What a run must never destroy: the files and folders it reads, which OUT may neither be nor contain."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from adjudicator.errors import InputError
from adjudicator.options import RunOptions
from adjudicator.publish import output
from adjudicator.readers.paths import expand_globs
from adjudicator.rules.tables import DEFAULT_RULES_DIR

if TYPE_CHECKING:
    from pathlib import Path


def protected_paths(options: RunOptions) -> list[str | Path]:
    """Everything a run reads: its inputs, the rules folder, the plans file and the claims list."""
    # lenient: a missing file is reported by the reader, in its own words, later
    protected: list[str | Path] = list(expand_globs(options.inputs, strict=False))
    protected.append(options.rules_dir if options.rules_dir is not None else DEFAULT_RULES_DIR)
    if options.plans is not None:
        protected.append(options.plans)
    if options.slice.claims_file is not None:
        protected.append(options.slice.claims_file)
    return protected


def check_out(options: RunOptions) -> None:
    """Refuse, before anything is read or written, an OUT that the run must not replace (exit 2)."""
    output.check_out_dir(options.out, overwrite=options.overwrite, protected=protected_paths(options))


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

    def verify(self) -> None:
        """Raise ``InputError`` naming the first file that changed since the watch began (exit 2; the run
        publishes nothing)."""
        for path, before in self._before.items():
            now = _stat_key(path)
            if now == before:
                continue
            if now is None:
                what = "it was removed"
            elif before is not None and now[:2] != before[:2]:
                what = "it was replaced by another file"
            elif before is not None and now[2] != before[2]:
                what = f"its size went from {before[2]:,} to {now[2]:,} bytes"
            else:
                what = "it was written to"
            raise InputError(
                f"{path}: changed while the run was reading it ({what}); nothing was published and OUT was "
                "left as it was. Rerun once the file is complete"
            )


def watch_inputs(paths: list[str], options: RunOptions) -> InputWatch:
    """Watch the run's input files and its claims list (the rule tables are read whole, before, and hashed
    as loaded)."""
    watched: list[str | Path] = list(paths)
    if options.slice.claims_file is not None:
        watched.append(options.slice.claims_file)
    return InputWatch(watched)
