"""What a run must never destroy: the files and folders it reads, which OUT may neither be nor contain."""

from __future__ import annotations

import glob
import os
from typing import TYPE_CHECKING

from adjudicator import output
from adjudicator.rules import DEFAULT_RULES_DIR

if TYPE_CHECKING:
    from pathlib import Path

    from adjudicator.run import RunOptions


def expand_leniently(inputs: tuple[str, ...] | list[str]) -> list[str]:
    """The input arguments with globs expanded as the reader expands them, never raising: a missing file is
    reported by the reader, in its own words, later."""
    paths: list[str] = []
    for item in inputs:
        if glob.has_magic(item) and not os.path.exists(item):
            paths.extend(glob.glob(item))
        else:
            paths.append(item)
    return paths


def protected_paths(options: RunOptions) -> list[str | Path]:
    """Everything a run reads: its inputs, the rules folder, the plans file and the claims list."""
    protected: list[str | Path] = list(expand_leniently(options.inputs))
    protected.append(options.rules_dir if options.rules_dir is not None else DEFAULT_RULES_DIR)
    if options.plans is not None:
        protected.append(options.plans)
    if options.slice.claims_file is not None:
        protected.append(options.slice.claims_file)
    return protected


def check_out(options: RunOptions) -> None:
    """Refuse, before anything is read or written, an OUT that the run must not replace (exit 2)."""
    output.check_out_dir(options.out, overwrite=options.overwrite, protected=protected_paths(options))
