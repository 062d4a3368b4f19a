"""What a run may write to: the checks, before anything is read or written, that OUT is neither a folder the
run must not replace nor one holding a file the run reads."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adjudicator.errors import OutputError
from adjudicator.options import RunOptions
from adjudicator.publish.disk import spill_parent
from adjudicator.publish.manifest import DIFF_CHANGES, DIFF_SUMMARY, MANIFEST
from adjudicator.readers.paths import expand_globs
from adjudicator.rules.tables import DEFAULT_RULES_DIR


def check_out(options: RunOptions) -> None:
    """Refuse, before anything is read or written, an OUT that the run must not replace (exit 2)."""
    check_out_dir(options.out, overwrite=options.overwrite, protected=protected_paths(options))


def check_out_dir(out: Path, *, overwrite: bool, protected: Iterable[str | Path] = ()) -> None:
    """Refuse an OUT the run must not write: one that exists without ``overwrite``, one that is not a
    previous output of this tool (``--overwrite`` never deletes anything else), and one that is, or
    holds, a file or folder the run reads (``protected``: inputs, rule tables, plans, claims list, diff
    operands). Raises ``OutputError`` (exit 2) before anything is written."""
    check_not_working_folder(out)
    check_not_protected(out, protected)
    if out.exists() and not overwrite:
        raise OutputError("output folder exists; pass --overwrite to replace it", path=out)
    if out.exists() and not out.is_dir():
        raise OutputError("exists and is not a folder", path=out)
    if out.exists():
        check_replaceable(out)
    # the nearest folder that exists must let us create OUT's parents (made when the run publishes)
    existing = spill_parent(out)
    if not existing.is_dir():
        raise OutputError(f"{existing} is not a folder", path=out)
    if not os.access(existing, os.W_OK):
        raise OutputError(f"folder {existing} is not writable", path=out)


def check_not_working_folder(out: Path) -> None:
    """OUT is created or replaced whole, so it is never the working folder (``--out .``, or ``--out ''``, which
    a path reads as ``.``) nor a folder above it."""
    try:
        here = Path(os.path.realpath(os.getcwd()))
    except OSError:  # the working folder was deleted: OUT cannot be it
        return
    target = Path(os.path.realpath(out))
    if target == here or target in here.parents:
        held = "is" if target == here else "holds"
        raise OutputError(
            f"the output folder {held} the working folder ({here}); OUT is created or replaced whole, so name a "
            "folder of its own (--out '' is the working folder too; nothing was written or deleted)",
            path=out,
        )


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


def check_not_protected(out: Path, protected: Iterable[str | Path]) -> None:
    """OUT must not be, or contain, any of ``protected`` (compared after resolving symlinks)."""
    target = Path(os.path.realpath(out))
    for path in protected:
        real = Path(os.path.realpath(path))
        if real == target or target in real.parents:
            held = "is" if real == target else "contains"
            raise OutputError(
                f"the output folder {held} {path}, which this run reads; choose another --out "
                "(nothing was written or deleted)",
                path=out,
            )


def check_replaceable(out: Path) -> None:
    """``--overwrite`` replaces only a previous output of this tool (see ``is_previous_output``)."""
    if out.is_symlink() or not is_previous_output(out):
        raise OutputError(
            f"exists and is not an adjudicator output (no {MANIFEST} of a run, nor a diff's "
            f"{DIFF_SUMMARY}); --overwrite replaces only those. Choose another --out",
            path=out,
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


__all__ = [
    "check_not_protected",
    "check_not_working_folder",
    "check_out",
    "check_out_dir",
    "check_replaceable",
    "is_previous_output",
    "protected_paths",
]
