"""Inputs large enough for a run to be caught mid-way (stopped, killed), made from the shipped sample."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import SAMPLE


def big_csv(path: Path, copies: int) -> Path:
    """The sample's lines ``copies`` times, each copy's claim ids suffixed ``-k`` so no key repeats; 262 lines a
    copy."""
    lines = SAMPLE.read_text().splitlines()
    with path.open("w") as f:
        f.write(lines[0] + "\n")
        for k in range(copies):
            for line in lines[1:]:
                claim, rest = line.split(",", 1)
                f.write(f"{claim}-{k},{rest}\n")
    return path
