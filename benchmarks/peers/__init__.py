"""The contenders the adjudicator is measured against: `python -m benchmarks.peers.NAME IN OUT`."""

from __future__ import annotations

import argparse
from pathlib import Path


def input_format(path: Path) -> str:
    """'parquet' or 'csv' from the file's suffix."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("parquet", "csv"):
        msg = f"input must end in .parquet or .csv, got {path.name!r}"
        raise ValueError(msg)
    return suffix


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The peers' shared command line: INPUT OUTDIR [--rules DIR] [--threads N]."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("input", type=Path)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--rules", type=Path, default=None, help="rules folder (default rules/)")
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    args = parser.parse_args(argv)
    args.outdir.mkdir(parents=True, exist_ok=True)
    return args
