"""The names of the files in OUT, a run's id, and the manifest written beside the outputs."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

RESULTS = "results.parquet"
REJECTS = "rejects.parquet"
MANIFEST = "manifest.json"
REPORT = "report.html"
#: what ``adjudicate diff`` writes (named here, with a run's files, so that what ``--overwrite`` may replace is
#: known in one place)
DIFF_CHANGES = "changes.parquet"
DIFF_SUMMARY = "summary.json"


def new_run_id() -> str:
    return uuid.uuid4().hex


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    with (folder / MANIFEST).open("w") as f:
        json.dump(manifest, f, indent=2, default=str)
        f.write("\n")


__all__ = ["DIFF_CHANGES", "DIFF_SUMMARY", "MANIFEST", "REJECTS", "REPORT", "RESULTS", "new_run_id", "write_manifest"]
