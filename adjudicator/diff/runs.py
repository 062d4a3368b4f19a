"""``adjudicate diff``'s entry point: compare two run folders and publish DIFF_OUT (changes, summary, report).

Memory does not grow with the runs, on either of two paths with the same
outputs. The partitioned path spills each run's keys and compared columns to
partition files by a hash of the key (``line_hash``) and compares the
partitions one at a time on the exact key (a fully outer join), so a hash
collision only puts two keys in one partition. The aligned path, taken only
when verified (``_compare_aligned``), zips two runs whose results hold the
same unique keys in the same order (two runs of the same inputs), reading each
file once. Changed lines are sunk to ``changes.parquet``; only small counts
are collected (docs/benchmarks.md, "diff").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.diff.aligned import _compare_aligned, aligned_steps
from adjudicator.diff.compare import _compare_runs
from adjudicator.diff.sides import (
    COMPARED_FIELDS,
    KeyHash,
    _check_run,
    _has_key,
    _rows,
    _Run,
    line_hash,
    reject_keys,
    slice_of,
)
from adjudicator.diff.summary import _summary
from adjudicator.embedded.events import Meter, RunLog
from adjudicator.embedded.spill import partitions_for
from adjudicator.embedded.tuning import tune_reader
from adjudicator.errors import InputError, OutputError
from adjudicator.options import DEFAULT_SETTINGS, EngineSettings
from adjudicator.publish.folders import publish, scratch, staging
from adjudicator.publish.guards import check_out_dir
from adjudicator.publish.manifest import DIFF_CHANGES, DIFF_SUMMARY, REJECTS, RESULTS
from adjudicator.report.diff_report import write_diff_report

CHANGES: Final = DIFF_CHANGES
SUMMARY: Final = DIFF_SUMMARY


#: the steps of "checking the runs" (``_check_runs``): each run read, then the types and ``out``
CHECK_STEPS: Final = 3
#: the steps of "writing the report": the runs' counts, the summary, summary.json, report.html, published
REPORT_STEPS: Final = 5


def _check_runs(old_out: Path, new_out: Path, out: Path, *, overwrite: bool, meter: Meter | None = None) -> None:
    """Both runs readable with the compared fields typed alike, and ``out`` writable and neither of them.
    ``meter``: advanced by each of its ``CHECK_STEPS``."""
    step = (meter or Meter("checking the runs")).advance
    old_schemas = _check_run(old_out)
    step()
    new_schemas = _check_run(new_out)
    step()
    for field in COMPARED_FIELDS:
        old_type, new_type = old_schemas[0][field], new_schemas[0][field]
        if old_type != new_type and pl.Null() not in (old_type, new_type):
            raise InputError(
                f"column {field} is {new_type}, but {old_type} in {old_out / RESULTS}", path=new_out / RESULTS
            )
    if out.resolve() in (old_out.resolve(), new_out.resolve()):
        raise OutputError("is one of the runs being compared; choose another --out", path=out)
    check_out_dir(out, overwrite=overwrite, protected=(old_out, new_out))
    step()


def _reading(runs: dict[str, _Run], folders: dict[str, tuple[Path, pl.Expr | None]]) -> dict[str, dict[str, int]]:
    """What each run holds before its keys are compared: ``lines`` (rows of its results and rejects, from the
    footers), ``outside_other_slice`` (those outside the other run's slice) and ``unkeyed_rejects`` (rejects
    inside it whose key does not parse); see ``reconciliation``. Counts only: the slice's columns are read
    when there is a slice, the rejects' keys always."""
    queries = {}
    for name, run in runs.items():
        queries[name, "unkeyed_rejects"] = reject_keys(run.all_rejects).filter(~_has_key()).select(pl.len())
        if folders[name][1] is not None:
            queries[name, "inside"] = pl.concat([run.results.select(pl.len()), run.all_rejects.select(pl.len())])
    got = dict(zip(queries, pl.collect_all(list(queries.values()), engine="streaming"), strict=True))
    reading = {}
    for name, (folder, keep) in folders.items():
        lines = _rows(folder / RESULTS) + _rows(folder / REJECTS)
        inside = int(got[name, "inside"]["len"].sum()) if keep is not None else lines
        reading[name] = {
            "lines": lines,
            "outside_other_slice": lines - inside,
            "unkeyed_rejects": int(got[name, "unkeyed_rejects"].item()),
        }
    return reading


def diff_runs(
    old_out: Path,
    new_out: Path,
    out: Path,
    *,
    overwrite: bool = False,
    partitions: int | None = None,
    key_hash: KeyHash = line_hash,
    aligned: bool = True,
    settings: EngineSettings = DEFAULT_SETTINGS,
    log: RunLog | None = None,
) -> dict[str, Any]:
    """Compare the runs in ``old_out`` and ``new_out``; publish ``out``/changes.parquet, summary.json, report.html.

    Returns the summary (see ``format_diff_summary``). ``out`` is written in a
    temporary folder beside it and renamed into place, so it is either the
    complete new diff or left as it was. ``partitions``: how many spill
    partitions (default: from the runs' row counts, ``partitions_for``; 1
    compares the runs without spilling them); ``key_hash`` picks a line's
    partition; ``aligned``: try the fast path first (``_compare_aligned``).
    None of them changes the outcome: partitions are compared on exact keys.
    ``log``: the phases and their progress (``RunLog``; its run id is the diff's): checking the runs and writing
    the report in steps, comparing in slices or partitions.
    """
    tune_reader()
    log = log if log is not None else RunLog(progress=False)
    old_out, new_out, out = Path(old_out), Path(new_out), Path(out)
    with log.phase("checking the runs", total=CHECK_STEPS, unit="steps") as meter:
        _check_runs(old_out, new_out, out, overwrite=overwrite, meter=meter)
    if partitions is None:
        rows = max(_rows(f / RESULTS) + _rows(f / REJECTS) for f in (old_out, new_out))
        partitions = partitions_for(rows, settings.diff_rows_per_partition)
    if partitions < 1:
        raise ValueError(f"'partitions' must be at least 1, got {partitions!r}")

    # a line one run skipped (outside its slice) was not adjudicated there: each side keeps only the lines
    # the other run's slice holds, so a full run against a slice compares the lines both adjudicated
    keep_old, keep_new = slice_of(new_out), slice_of(old_out)
    runs = {"old": _Run(old_out, keep_old, settings), "new": _Run(new_out, keep_new, settings)}
    # the aligned path zips whole files: a sliced comparison takes the partitioned one
    aligned = aligned and keep_old is None and keep_new is None
    diff_id = log.run_id
    with staging(out, diff_id) as tmp, scratch(out, diff_id) as spill:
        # sized before it starts (a progress line always has its percentage): the aligned path's slices, or the
        # partitioned path's steps (each run spilled, each partition compared)
        partitioned = (len(runs) if partitions > 1 else 0) + partitions
        steps = aligned_steps(_rows(old_out / RESULTS), settings) if aligned else 0
        with log.phase("comparing", total=steps or partitioned, unit="slices" if steps else "steps") as meter:
            counts = (
                _compare_aligned(old_out, new_out, key_hash(), tmp / CHANGES, spill, settings, meter=meter)
                if aligned
                else None
            )
            if counts is None:
                if steps:  # the runs are not aligned: the partitioned path's steps from here
                    meter.start_over(partitioned, "steps")
                if partitions > 1:
                    for name, run in runs.items():
                        run.spill_to(spill / name, key_hash(), partitions)
                        meter.advance()
                counts = _compare_runs(runs["old"], runs["new"], partitions, tmp / CHANGES, spill, meter=meter)
        shutil.rmtree(spill, ignore_errors=True)
        with log.phase("writing the report", total=REPORT_STEPS, unit="steps") as meter:
            reading = _reading(runs, {"old": (old_out, keep_old), "new": (new_out, keep_new)})
            meter.advance()
            summary = _summary(counts, pl.scan_parquet(tmp / CHANGES, glob=False), reading, old_out, new_out)
            meter.advance()
            with (tmp / SUMMARY).open("w", encoding="utf-8") as f:
                json.dump(summary, f, indent=2)
                f.write("\n")
            meter.advance()
            write_diff_report(tmp, summary)
            meter.advance()
            publish(tmp, out, diff_id, overwrite=overwrite)
            meter.advance()
    return summary


__all__ = ["CHANGES", "SUMMARY", "diff_runs"]
