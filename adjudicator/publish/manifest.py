"""The manifest of a run and the names of the files in OUT: what a run read (paths, sizes, checksums, per-file
counts), with which rules and options, what it found (counts by determination, reason and check, the report's
summary), its timings and the versions; and a run's id."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.contract import DETERMINATION, REASON, SOURCE_FILE
from adjudicator.options import RunOptions
from adjudicator.readers.specs import X12_837P
from adjudicator.rules.tables import RuleSet, sha256

RESULTS = "results.parquet"
REJECTS = "rejects.parquet"
MANIFEST = "manifest.json"
REPORT = "report.html"
#: a sliced run's claims list as the run read it (one column, claim_id): the diff takes the run's slice from it,
#: never from the list file as it is later
CLAIMS_LIST = "claims_list.parquet"

#: how many envelope defects of an 837P file the manifest lists (all are counted: a file with a defect on every
#: claim would otherwise make a manifest as large as the file)
ENVELOPE_DEFECTS_SHOWN = 100
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


MANIFEST_VERSION = 1


def versions() -> dict[str, str]:
    from importlib import metadata  # here, at the end of a run: at import, it adds to the start-up (docs/benchmarks.md)

    from adjudicator.about import __version__

    # the package's own version, not the index's: the distribution is named claims-adjudicator, and a checkout run
    # with PYTHONPATH has no distribution at all
    found = {"python": platform.python_version(), "adjudicator": __version__}
    for package in ("polars", "pyarrow", "pandera"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _described(path: str, hashes: dict[str, Any], in_memory: Collection[str]) -> dict[str, Any]:
    """An input's ``bytes`` and ``sha256``: its file's, or None for a frame held in memory (``in_memory``)."""
    if path in in_memory:
        return {"bytes": None, "sha256": None, "in_memory": True}
    return {"bytes": os.path.getsize(path), "sha256": hashes[path].result()}


def build_manifest(
    options: RunOptions,
    rules: RuleSet,
    layout: str,
    paths: list[str],
    hashes: dict[str, Any],
    summary: dict[str, Any],
    run_id: str,
    *,
    started_at: dt.datetime,
    timings: dict[str, float | None],
    in_memory: Collection[str] = (),
) -> dict[str, Any]:
    """The manifest of a run (the module's docstring says what it holds).

    ``paths``: the inputs, each with its checksum's future in ``hashes``. ``in_memory``: those of ``paths`` that
    name a frame held in memory (``adjudicator.adjudicate_frame``), not a file: such an input has no file to
    measure or hash, so its ``bytes`` and ``sha256`` are None (not the frame's memory, or a hash of its rows,
    which no file or later run could be compared with) and ``in_memory`` is true.
    """
    per_file = (
        pl.DataFrame({SOURCE_FILE: paths})
        .join(summary["per_file"], on=SOURCE_FILE, how="left", maintain_order="left")
        .fill_null(0)
    )
    inputs = [
        {
            "path": row[SOURCE_FILE],
            **_described(row[SOURCE_FILE], hashes, in_memory),
            "read": row["read"],
            "results": row["results"],
            "rejects": row["rejects"],
            "skipped": row["skipped"],
            "reconciled": row["read"] == row["results"] + row["rejects"] + row["skipped"],
        }
        for row in per_file.iter_rows(named=True)
    ]
    if layout == X12_837P:
        from adjudicator.readers.x12 import envelope_defects

        # the envelope defects the reader read past, per file: a payer still accounts for every line of the file
        for entry in inputs:
            found = envelope_defects(entry["path"])
            entry["envelope_defects"] = [d.as_json() for d in found[:ENVELOPE_DEFECTS_SHOWN]]
            entry["envelope_defects_found"] = len(found)
    read = sum(i["read"] for i in inputs)
    n_results = sum(i["results"] for i in inputs)
    n_rejects = sum(i["rejects"] for i in inputs)
    n_skipped = sum(i["skipped"] for i in inputs)
    by_reason = summary["by_reason"]
    flagged = by_reason.filter(pl.col(DETERMINATION) != "NO_ACTION")
    return {
        "manifest_version": MANIFEST_VERSION,
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(),
        "layout": layout,
        "options": options.as_json(),
        "inputs": inputs,
        "rules": {name: {"path": str(path), "sha256": rules.checksums[name]} for name, path in rules.files.items()},
        "rules_as_of": rules.as_of.isoformat() if rules.as_of else None,
        "claims_file_sha256": sha256(options.slice.claims_file) if options.slice.claims_file else None,
        "counts": {
            "read": read,
            "results": n_results,
            "rejects": n_rejects,
            "skipped": n_skipped,
            "reconciled": read == n_results + n_rejects + n_skipped and all(i["reconciled"] for i in inputs),
            "by_determination": {
                k: v
                for k, v in by_reason.group_by(DETERMINATION).agg(pl.col("lines").sum()).sort(DETERMINATION).iter_rows()
            },
            "by_reason": [
                {
                    "determination": r[DETERMINATION],
                    "reason": r[REASON],
                    "lines": r["lines"],
                    "billed_amount": str(r["billed"]),
                }
                for r in by_reason.iter_rows(named=True)
            ],
            "rejects_by_check": dict(summary["by_check"].iter_rows()),
            "flagged_lines": int(flagged["lines"].sum()),
            "flagged_billed_amount": str(flagged["billed"].sum()),
        },
        "timings": timings,
        "versions": versions(),
        "summary": summary["extended"],
    }


__all__ = [
    "CLAIMS_LIST",
    "DIFF_CHANGES",
    "DIFF_SUMMARY",
    "MANIFEST",
    "MANIFEST_VERSION",
    "REJECTS",
    "REPORT",
    "RESULTS",
    "build_manifest",
    "new_run_id",
    "versions",
    "write_manifest",
]
