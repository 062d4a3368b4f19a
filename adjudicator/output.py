"""Publishing a run: stream both outputs into a temporary folder beside OUT, write the manifest, rename into place."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.contract import BILLED_AMOUNT, CANONICAL_COLUMNS, CLAIM_ID, PAYER_ID, SERVICE_DATE, SOURCE_FILE
from adjudicator.engine import DETERMINATION, EDITS, FAILED_CHECKS, REASON
from adjudicator.errors import OutputError
from adjudicator.rules import sha256 as file_sha256

RESULTS = "results.parquet"
REJECTS = "rejects.parquet"
MANIFEST = "manifest.json"
REPORT = "report.html"
#: the determination of lines no policy targets; every other one is "flagged"
NO_ACTION: Final = "NO_ACTION"


def new_run_id() -> str:
    return uuid.uuid4().hex


def checksums_in_background(paths: list[str]) -> tuple[ThreadPoolExecutor, dict[str, Future[str]]]:
    """Hash the inputs on a thread while polars reads them (hashlib releases the GIL on big blocks)."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
    return pool, {p: pool.submit(file_sha256, p) for p in paths}


def check_out_dir(out: Path, *, overwrite: bool) -> None:
    if out.exists() and not overwrite:
        raise OutputError(f"{out}: output folder exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    # the nearest folder that exists must let us create OUT's parents (made when the run publishes)
    existing = spill_parent(out)
    if not existing.is_dir():
        raise OutputError(f"{out}: {existing} is not a folder")
    if not os.access(existing, os.W_OK):
        raise OutputError(f"{out}: folder {existing} is not writable")


def spill_parent(out: Path) -> Path:
    """The nearest existing folder above OUT: where a run's scratch folder goes (on the disk the results are
    written to), and the folder that must let the run create OUT's parents."""
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    return parent


@contextlib.contextmanager
def scratch(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out`` for a run's spill files (staged input, key partitions); always removed."""
    folder = spill_parent(out) / f".{out.name}.scratch-{run_id}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def staging(out: Path, run_id: str) -> Iterator[Path]:
    """A temporary folder beside ``out``; removed on any failure, so OUT is never half-written."""
    parent = out.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".{out.name}.tmp-{run_id}"
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def publish(tmp: Path, out: Path, run_id: str) -> None:
    """Move a complete staged result to ``out``, replacing an older one.

    Each step is a rename within one folder: a run killed at any moment leaves
    the previous complete result (possibly under ``.OUT.old-*``) or the new one,
    never a mix.
    """
    for path in (tmp, *tmp.iterdir()):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    old = out.resolve().parent / f".{out.name}.old-{run_id}"
    if out.exists():
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old.exists() and not out.exists():
            old.rename(out)
        raise
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_outputs(
    results: pl.LazyFrame,
    rejects: pl.LazyFrame,
    read_counts: pl.LazyFrame,
    folder: Path,
) -> pl.DataFrame:
    """Sink both outputs, then count rows read per file: three streaming executions, one after the other.

    Not one ``collect_all``: one scan feeding both outputs held memory that
    grew with the input (6.9 GB at 20M lines, against 1.1 GB for the results
    alone), and was no faster on two cores (docs/benchmarks.md).
    Returns the per-file counts of rows read (``source_file``, ``read``).
    """
    results.sink_parquet(folder / RESULTS, engine="streaming")
    rejects.sink_parquet(folder / REJECTS, engine="streaming")
    return read_counts.collect(engine="streaming")


def summarize(folder: Path) -> dict[str, Any]:
    """Counts for the manifest and the terminal, read back from the written outputs (a few columns)."""
    results = pl.scan_parquet(folder / RESULTS)
    rejects = pl.scan_parquet(folder / REJECTS)
    by_reason = (
        results.group_by(DETERMINATION, REASON)
        .agg(pl.len().alias("lines"), pl.col("billed_amount").sum().alias("billed"))
        .sort(DETERMINATION, REASON, nulls_last=True)
    )
    by_check = (
        rejects.select(pl.col(FAILED_CHECKS).explode().alias("check"))
        .group_by("check")
        .agg(pl.len().alias("lines"))
        .sort("check")
    )
    per_file_results = results.group_by(SOURCE_FILE).agg(pl.len().alias("results"))
    per_file_rejects = rejects.group_by(SOURCE_FILE).agg(pl.len().alias("rejects"))
    reason_df, check_df, res_df, rej_df = pl.collect_all(
        [by_reason, by_check, per_file_results, per_file_rejects]
    )
    return {
        "by_reason": reason_df,
        "by_check": check_df,
        "per_file_results": res_df,
        "per_file_rejects": rej_df,
        "extended": extended_summary(results, rejects),
    }


# ------------------------------------------------------------------------------------------
# The manifest's "summary": what the report draws, as sums and counts by key
# ------------------------------------------------------------------------------------------
#
# Every piece is a decomposable aggregate: ``summary_parts`` computes each piece's partial
# table over any slice of the outputs (one batch, or the whole run), ``merge_summary_parts``
# combines the partials of several slices (sums of sums; the reject examples and the claims'
# flagged sums are kept per key and cut only when finished), and ``finish_summary`` turns the
# merged partials into the manifest's JSON. A run that summarizes batch by batch calls the
# first per batch, the second as it goes, and the third once; ``extended_summary`` is the
# three over the written outputs.

#: key columns of each summed piece; every one adds ``lines`` and ``billed_amount``
SUMMED_PIECES: Final[dict[str, tuple[str, ...]]] = {
    "by_month": ("month", DETERMINATION),
    "by_payer": (PAYER_ID, DETERMINATION),
    "by_policy": ("policy_id", "policy_version", DETERMINATION),
    "edits": ("edit",),
}
#: reject rows kept per failed check, and claims listed by flagged dollars
REJECT_EXAMPLES: Final = 3
TOP_CLAIMS: Final = 10
#: the partial of the reject examples: the row's position in its file order, and the check it failed
ROW: Final = "_row"
CHECK: Final = "check"
FLAGGED_LINES: Final = "flagged_lines"
FLAGGED_BILLED: Final = "flagged_billed_amount"


def _lines_and_billed() -> list[pl.Expr]:
    return [pl.len().alias("lines"), pl.col(BILLED_AMOUNT).sum().alias(BILLED_AMOUNT)]


def summary_parts(results: pl.LazyFrame, rejects: pl.LazyFrame, *, row_offset: int = 0) -> dict[str, pl.LazyFrame]:
    """The partial table of each summary piece over one slice of the outputs (pure; nothing is read here).

    Grain of each: one row per key of ``SUMMED_PIECES`` with ``lines`` and
    ``billed_amount``; ``top_claims``: one row per claim with a flagged line
    (``flagged_lines``, ``flagged_billed_amount``); ``reject_examples``: up to
    ``REJECT_EXAMPLES`` rows per failed check, the earliest by ``_row`` (the
    reject's position in file order, counted from ``row_offset``), with the
    canonical columns (as text) and source_file.
    """
    flagged = results.filter(pl.col(DETERMINATION) != NO_ACTION)
    parts = {
        "by_month": results.group_by(pl.col(SERVICE_DATE).dt.strftime("%Y-%m").alias("month"), DETERMINATION),
        "by_payer": results.group_by(PAYER_ID, DETERMINATION),
        "by_policy": results.group_by("policy_id", "policy_version", DETERMINATION),
        "edits": results.select(pl.col(EDITS).alias("edit"), BILLED_AMOUNT)
        .explode("edit", empty_as_null=False)
        .drop_nulls("edit")
        .group_by("edit"),
    }
    out = {name: grouped.agg(_lines_and_billed()) for name, grouped in parts.items()}
    out["top_claims"] = flagged.group_by(CLAIM_ID).agg(
        pl.len().alias(FLAGGED_LINES), pl.col(BILLED_AMOUNT).sum().alias(FLAGGED_BILLED)
    )
    present = rejects.collect_schema().names()
    text = [
        (pl.col(c).cast(pl.String) if c in present else pl.lit(None, pl.String)).alias(c)
        for c in (*CANONICAL_COLUMNS, SOURCE_FILE)
    ]
    numbered = rejects.with_row_index(ROW, offset=row_offset)
    first_rows = (
        numbered.select(ROW, pl.col(FAILED_CHECKS).alias(CHECK))
        .explode(CHECK, empty_as_null=False)
        .drop_nulls(CHECK)
        .group_by(CHECK)
        .agg(pl.col(ROW).bottom_k(REJECT_EXAMPLES))
        .explode(ROW)
    )
    out["reject_examples"] = first_rows.join(numbered.select(ROW, *text), on=ROW, how="left")
    return out


def merge_summary_parts(parts: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    """The partials of several slices combined into the partials of their union (sums by key; first rows)."""
    merged: dict[str, pl.DataFrame] = {}
    for name, keys in SUMMED_PIECES.items():
        merged[name] = (
            pl.concat([p[name] for p in parts], how="vertical_relaxed")
            .group_by(keys)
            .agg(pl.col("lines").sum(), pl.col(BILLED_AMOUNT).sum())
        )
    merged["top_claims"] = (
        pl.concat([p["top_claims"] for p in parts], how="vertical_relaxed")
        .group_by(CLAIM_ID)
        .agg(pl.col(FLAGGED_LINES).sum(), pl.col(FLAGGED_BILLED).sum())
    )
    merged["reject_examples"] = (
        pl.concat([p["reject_examples"] for p in parts], how="vertical_relaxed")
        .sort(CHECK, ROW)
        .group_by(CHECK, maintain_order=True)
        .head(REJECT_EXAMPLES)
    )
    return merged


def _amount(value: Decimal | int | None) -> str:
    """A dollar amount as the manifest writes it: a decimal string with two places."""
    return str(Decimal(value or 0).quantize(Decimal("0.01")))


def finish_summary(parts: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """The manifest's ``summary`` from the (merged) partials: sorted lists, amounts as decimal strings."""
    summary: dict[str, Any] = {}
    for name, keys in SUMMED_PIECES.items():
        frame = parts[name].sort(keys, nulls_last=True)
        summary[name] = [
            {**{k: row[k] for k in keys}, "lines": int(row["lines"]), "billed_amount": _amount(row[BILLED_AMOUNT])}
            for row in frame.iter_rows(named=True)
        ]
    examples = parts["reject_examples"].sort(CHECK, ROW)
    summary["reject_examples"] = {
        check: [{c: row[c] for c in (*CANONICAL_COLUMNS, SOURCE_FILE)} for row in rows.iter_rows(named=True)]
        for (check,), rows in examples.group_by(CHECK, maintain_order=True)
    }
    top = parts["top_claims"].sort([FLAGGED_BILLED, CLAIM_ID], descending=[True, False]).head(TOP_CLAIMS)
    summary["top_claims"] = [
        {CLAIM_ID: row[CLAIM_ID], FLAGGED_LINES: int(row[FLAGGED_LINES]), FLAGGED_BILLED: _amount(row[FLAGGED_BILLED])}
        for row in top.iter_rows(named=True)
    ]
    return summary


def extended_summary(results: pl.LazyFrame, rejects: pl.LazyFrame) -> dict[str, Any]:
    """The manifest's ``summary`` (what ``adjudicator.report`` draws) over a run's results and rejects.

    Keys: ``by_month`` (month of service_date), ``by_payer``, ``by_policy``
    (version in effect), each by determination with lines and billed_amount;
    ``edits`` (results lines carrying each edit); ``reject_examples`` (the first
    ``REJECT_EXAMPLES`` rejects per failed check, in file order, canonical
    columns as their original text and source_file); ``top_claims`` (the
    ``TOP_CLAIMS`` claims with the most billed on lines that are not NO_ACTION,
    ties by claim_id). Amounts are decimal strings, like ``counts.by_reason``.
    """
    queries = summary_parts(results, rejects)
    collected = dict(zip(queries, pl.collect_all(list(queries.values()), engine="streaming"), strict=True))
    return finish_summary(merge_summary_parts([collected]))


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    with (folder / MANIFEST).open("w") as f:
        json.dump(manifest, f, indent=2, default=str)
        f.write("\n")
