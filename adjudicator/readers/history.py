"""Reading the history table (a Delta Lake table, contract section 7): its version, the rows a night needs
(partitions first, then filters: never the whole table), the commit of a run, and its versions for people.

Writes live in ``adjudicator.publish.history``; what the rows mean, in ``adjudicator.engine.history``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from adjudicator.engine.history import (
    HISTORY_SCHEMA,
    SERVICE_MONTH,
    HistoryWanted,
    empty_history,
    pruned,
)
from adjudicator.errors import InputError
from adjudicator.options import NO_HISTORY_YET, RunOptions, local_path

if TYPE_CHECKING:
    from deltalake import DeltaTable

#: the key of a commit's custom metadata that names the run that made it (idempotence of a commit)
RUN_ID_KEY = "adjudicator.run_id"
#: the lock file one committer at a time holds, in the table's folder (``adjudicator.publish.history``)
COMMIT_LOCK = ".adjudicator-commit.lock"
#: lines a run's commit added, in the same metadata
LINES_KEY = "adjudicator.lines"


@dataclass(frozen=True)
class HistoryAt:
    """A history table and the version a run reads (None: no table was there yet: the history is empty)."""

    path: str
    version: int | None


def deltalake_module() -> Any:
    """The ``deltalake`` package, with a one-line error when it is missing."""
    try:
        import deltalake
    except ImportError:  # pragma: no cover - a dependency of the project
        raise InputError("--history needs the 'deltalake' package (pip install deltalake)") from None
    return deltalake


def open_table(path: str, version: int | None = None) -> DeltaTable | None:
    """The history at ``version`` (the latest when None); None when no table is there yet."""
    deltalake = deltalake_module()
    try:
        table = deltalake.DeltaTable(path)
    except deltalake.exceptions.TableNotFoundError:
        if version is not None:
            raise InputError(f"the history's version {version} is gone: no Delta table here", path=path) from None
        return None
    except (deltalake.exceptions.DeltaError, OSError) as exc:
        raise InputError(f"not a readable history table: {exc}", path=path) from None
    if version is not None:
        try:
            table.load_as_version(version)
        except (deltalake.exceptions.DeltaError, ValueError, OSError) as exc:
            raise InputError(f"cannot read the history at version {version}: {exc}", path=path) from None
    return table


def latest_version(path: str) -> int | None:
    """The history's latest version; None when the table does not exist yet (a run creates it). A Delta table
    that is not a history (other columns, other partitions) is an ``InputError``, before anything is read."""
    table = open_table(path)
    if table is None:
        _refuse_other_folder(path)
        return None
    columns = {field.name for field in table.schema().fields}
    missing = [c for c in HISTORY_SCHEMA if c not in columns]
    if missing or table.metadata().partition_columns != [SERVICE_MONTH]:
        raise InputError(
            f"a Delta table that is not an adjudicator history (missing {missing or 'nothing'}, partitioned by "
            f"{table.metadata().partition_columns})",
            path=path,
        )
    return table.version()


def history_at(options: RunOptions) -> HistoryAt | None:
    """The history a run reads: the version pinned by a replay, else the latest (None: no table yet)."""
    if options.history is None:
        return None
    if options.history_version is None:
        return HistoryAt(options.history, latest_version(options.history))
    pinned = options.history_version
    return HistoryAt(options.history, None if pinned == NO_HISTORY_YET else pinned)


def _refuse_other_folder(path: str) -> None:
    """A local folder that holds files but no Delta table is not a history a run may create one in."""
    folder = Path(local_path(path, "--history"))
    if folder.exists() and (not folder.is_dir() or any(p.name != COMMIT_LOCK for p in folder.iterdir())):
        raise InputError("exists and is not a Delta table: give a new or empty folder, or a history", path=path)


def read_wanted(path: str, version: int | None, want: HistoryWanted) -> pl.DataFrame:
    """The rows ``want`` names, from the history at ``version`` (none when it is None: no table was there).

    Only the partitions of ``want.months`` are listed, then their files are scanned with the member-day and
    claim-day filters pushed down (``engine.history.pruned``).
    """
    if version is None or not want.months:
        return empty_history()
    table = open_table(path, version)
    if table is None:  # pragma: no cover - open_table raises for a pinned version
        return empty_history()
    files = table.file_uris(file_pruning_predicate=[(SERVICE_MONTH, "in", list(want.months))])
    if not files:
        return empty_history()
    columns = {c: t for c, t in HISTORY_SCHEMA.items() if c != SERVICE_MONTH}
    scan = pl.scan_parquet(files, schema=columns, glob=False)
    return pruned(scan, want).collect()


def committed_version(path: str, run_id: str) -> int | None:
    """The version the run ``run_id`` committed to the history, or None when it has not."""
    table = open_table(path)
    if table is None:
        return None
    for entry in table.history():
        if entry.get(RUN_ID_KEY) == run_id:
            return int(entry["version"])
    return None


def versions(path: str) -> list[dict[str, Any]]:
    """The history's versions, newest first: version, date (UTC), operation, run id and lines added."""
    table = open_table(path)
    if table is None:
        raise InputError("no history table here", path=path)
    rows = []
    for entry in table.history():
        metrics = entry.get("operationMetrics") or {}
        added = entry.get(LINES_KEY)
        rows.append(
            {
                "version": int(entry["version"]),
                "committed_at": dt.datetime.fromtimestamp(entry["timestamp"] / 1000, dt.UTC).isoformat(
                    timespec="seconds"
                ),
                "operation": entry.get("operation"),
                "run_id": entry.get(RUN_ID_KEY),
                "lines": int(added) if added is not None else metrics.get("num_source_rows"),
            }
        )
    return rows


def format_versions(path: str, rows: list[dict[str, Any]]) -> str:
    """``versions`` as the text ``adjudicate history PATH`` prints."""
    lines = [f"history {path}: {len(rows)} versions", "version  committed_at               lines  run_id"]
    for row in rows:
        run = row["run_id"] or f"({row['operation']})"
        count = "" if row["lines"] is None else str(row["lines"])
        lines.append(f"{row['version']:>7}  {row['committed_at']:<25}  {count:>5}  {run}")
    return "\n".join(lines)


__all__ = [
    "COMMIT_LOCK",
    "HistoryAt",
    "LINES_KEY",
    "RUN_ID_KEY",
    "committed_version",
    "deltalake_module",
    "format_versions",
    "history_at",
    "latest_version",
    "open_table",
    "read_wanted",
    "versions",
]
