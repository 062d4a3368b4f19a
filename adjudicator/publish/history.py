"""Writing the history table (contract section 7): a night's rows staged in OUT, one atomic Delta commit merged
on the line key, the manifest told what was written, and the completion of a run whose commit did not happen.

Order: OUT is published first, its manifest saying the commit is pending, with the rows to commit in
``OUT/history_rows.parquet``; then the history is committed, the commit naming the run in its metadata; then the
manifest in OUT records the version written. A run stopped anywhere after publishing leaves a state
``complete`` (``adjudicate history commit OUT``) finishes: it commits only when no commit names the run.
Commits are serialised by a lock file in the table's folder (local paths), and a Delta commit conflict is
retried (any path), so two runs on one history neither lose nor double-count a commit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.engine.history import HISTORY_SCHEMA, SERVICE_MONTH, effect_counts, empty_effects, night_rows
from adjudicator.errors import HistoryCommitError, InputError
from adjudicator.options import local_path
from adjudicator.publish.manifest import MANIFEST
from adjudicator.readers.history import (
    COMMIT_LOCK,
    LINES_KEY,
    RUN_ID_KEY,
    HistoryAt,
    committed_version,
    deltalake_module,
)
from adjudicator.rules.compiled import CompiledRules

#: in OUT: the rows the run adds to the history, and what the history changed on the run's lines
HISTORY_ROWS = "history_rows.parquet"
HISTORY_EDITS = "history_edits.parquet"
#: the manifest's ``history.state``
PENDING, COMMITTED, READ_ONLY, REPLAYED = "pending", "committed", "read-only", "replay"
#: Delta commit conflicts retried before the run gives up (each retry re-reads the table)
COMMIT_ATTEMPTS = 5
#: names a point where a test kills the run with SIGKILL (tests/e2e/test_history_repair.py)
KILL_AT_ENV = "ADJUDICATOR_TEST_KILL_AT"
KEY = ("claim_id", "line_number")


def stage(
    tmp: Path,
    results: Path,
    compiled: CompiledRules,
    run_id: str,
    adjudicated_at: Any,
    history: HistoryAt,
    effects: pl.DataFrame | None,
    *,
    writes: bool,
    replay: bool,
) -> dict[str, Any]:
    """Stage the history's files in the run's staging folder; returns the manifest's ``history`` section.
    ``results``: the run's results, a Parquet file or a dataset's folder of part files (Spark)."""
    found = effects if effects is not None else empty_effects()
    found.write_parquet(tmp / HISTORY_EDITS)
    parts = sorted(results.glob("*.parquet")) if results.is_dir() else [results]
    if parts:
        rows = night_rows(pl.scan_parquet(parts, glob=False), compiled, adjudicated_at).collect()
    else:  # a Spark run without a result line writes no part file
        rows = pl.DataFrame(schema=HISTORY_SCHEMA)
    if writes:
        rows.write_parquet(tmp / HISTORY_ROWS)
    return {
        "path": history.path,
        "version_read": history.version,
        "version_written": None,
        "state": PENDING if writes else (REPLAYED if replay else READ_ONLY),
        "lines": rows.height,
        "effects": effect_counts(found) if found.height else {},
    }


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    """One committer at a time on a history (a file lock in its folder; a history is a local or mounted path,
    ``options.local_path``)."""
    folder = Path(local_path(path, "--history"))
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / COMMIT_LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _table(path: str) -> Any:
    """The history, created (empty, partitioned by service month) when it is not there yet."""
    deltalake = deltalake_module()
    try:
        return deltalake.DeltaTable(path)
    except deltalake.exceptions.TableNotFoundError:
        pass
    schema = pl.DataFrame(schema=HISTORY_SCHEMA).to_arrow().schema
    with contextlib.suppress(deltalake.exceptions.CommitFailedError):
        # another run may create it at the same moment: either creation is the table
        deltalake.DeltaTable.create(path, schema, mode="ignore", partition_by=[SERVICE_MONTH])
    return deltalake.DeltaTable(path)


def _months_holding(table: Any, rows: pl.DataFrame) -> list[str]:
    """The partitions of ``table`` that hold a key of ``rows``; only the key columns are read, streaming."""
    files = table.file_uris()
    if not files:
        return []
    # keys are looked up in every partition: a re-sent line may have a new date of service
    found = (
        pl.scan_parquet(files, hive_partitioning=True, glob=False)
        .select(*KEY, SERVICE_MONTH)
        .join(rows.select(KEY).unique().lazy(), on=list(KEY), how="semi")
        .select(pl.col(SERVICE_MONTH).unique())
        .collect(engine="streaming")
    )
    return sorted(found[SERVICE_MONTH].to_list())


def commit(path: str, rows: pl.DataFrame, run_id: str) -> int:
    """Merge ``rows`` into the history on the line key in one atomic commit naming ``run_id``; returns the
    version written. Idempotent: when a commit already names the run, its version is returned.

    The partitions that hold one of the keys are found first (key columns only): with none, the commit is an
    append; otherwise a merge whose target is those partitions alone (a merge over the whole table held it in
    memory: docs/benchmarks.md). Under the lock no other run commits in between.
    """
    deltalake = deltalake_module()
    source = rows.select(list(HISTORY_SCHEMA)).to_arrow()
    metadata = deltalake.CommitProperties(custom_metadata={RUN_ID_KEY: run_id, LINES_KEY: str(rows.height)})
    with _locked(path):
        for attempt in range(COMMIT_ATTEMPTS):
            done = committed_version(path, run_id)
            if done is not None:
                return done
            table = _table(path)
            try:
                months = _months_holding(table, rows) if rows.height else []
                if not months:
                    deltalake.write_deltalake(table, source, mode="append", commit_properties=metadata)
                else:
                    within = ", ".join("'" + m.replace("'", "''") + "'" for m in months)
                    key = " AND ".join(f"t.{c} = s.{c}" for c in KEY)
                    (
                        table.merge(
                            source,
                            predicate=f"{key} AND t.{SERVICE_MONTH} IN ({within})",
                            source_alias="s",
                            target_alias="t",
                            commit_properties=metadata,
                        )
                        .when_matched_update_all()
                        .when_not_matched_insert_all()
                        .execute()
                    )
            except deltalake.exceptions.CommitFailedError:
                # another writer committed first: re-read the table and merge again
                time.sleep(0.05 * (attempt + 1))
                continue
            version = committed_version(path, run_id)
            if version is not None:
                _kill_at("history-committed")
                return version
    raise HistoryCommitError(f"the history kept changing under {COMMIT_ATTEMPTS} commit attempts", path=path)


def record(out: Path, version: int) -> dict[str, Any]:
    """The manifest in OUT told the version written (replaced atomically); returns it."""
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["history"]["version_written"] = version
    manifest["history"]["state"] = COMMITTED
    staged = out / f".{MANIFEST}.{os.getpid()}.tmp"
    staged.parent.mkdir(exist_ok=True)
    write_manifest_to(staged, manifest)
    os.replace(staged, out / MANIFEST)
    return manifest


def write_manifest_to(path: Path, manifest: dict[str, Any]) -> None:
    with path.open("w") as f:
        json.dump(manifest, f, indent=2, default=str)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def after_publish(out: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """The commit of a run just published (its manifest's history section pending); the manifest as recorded.

    A failed commit is ``HistoryCommitError``: OUT stays published, and the message says how to complete it.
    """
    section = manifest.get("history") or {}
    if section.get("state") != PENDING:
        return manifest
    _kill_at("history-published")
    try:
        version = commit(section["path"], pl.read_parquet(out / HISTORY_ROWS), manifest["run_id"])
    except HistoryCommitError as exc:
        raise HistoryCommitError(f"{exc.problem}; {_how_to_complete(out)}", path=exc.path) from None
    except Exception as exc:
        raise HistoryCommitError(f"the history was not committed ({exc}); {_how_to_complete(out)}") from exc
    return record(out, version)


def _how_to_complete(out: Path) -> str:
    return f"OUT {out} is published; run `adjudicate history commit {out}` to commit it"


def complete(out: Path) -> dict[str, Any]:
    """``adjudicate history commit OUT``: commit a published run's rows unless a commit already names the run,
    and record the version in its manifest. Idempotent by run id; returns the manifest's history section."""
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        section = manifest["history"]
        run_id = manifest["run_id"]
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError("not the output of a run with --history (no history in its manifest)", path=out) from None
    if section.get("state") in (READ_ONLY, REPLAYED):
        raise InputError(f"the run wrote no history ({section['state']}): nothing to commit", path=out)
    if section.get("state") == COMMITTED:
        return dict(section)
    if not (out / HISTORY_ROWS).is_file():
        raise InputError(f"{HISTORY_ROWS} is missing: cannot commit the run's rows", path=out)
    version = commit(section["path"], pl.read_parquet(out / HISTORY_ROWS), run_id)
    return dict(record(out, version)["history"])


def _kill_at(point: str) -> None:
    """Kill this process with SIGKILL at ``point`` when a test asks for it (an untrappable stop, as a crash)."""
    if os.environ.get(KILL_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


__all__ = [
    "COMMITTED",
    "HISTORY_EDITS",
    "HISTORY_ROWS",
    "KILL_AT_ENV",
    "PENDING",
    "READ_ONLY",
    "REPLAYED",
    "after_publish",
    "commit",
    "complete",
    "record",
    "stage",
]
