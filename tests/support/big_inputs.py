"""Inputs large enough for a run to be caught mid-way (stopped, killed), made from the shipped sample, and the wait
for the moment to catch it."""

from __future__ import annotations

import subprocess
import time
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


def wait_for(pattern: str, folder: Path, proc: subprocess.Popen[bytes], limit: float = 120) -> bool:
    """Whether a file matching ``pattern`` appeared in ``folder`` while ``proc`` still ran, within ``limit`` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if list(folder.glob(pattern)):
            return True
        time.sleep(0.02)
    return False
