"""A run's data-quality gates: what its counts say about the data, as warnings and as gates that fail the run.

Fed by the counts the run already made (the manifest's ``counts``) and the
number of results dated after the run date; never a pass over the lines of
its own. Without thresholds a run only warns: when it adjudicated no line,
rejected every line it looked at, or holds dates of service after the run
date. ``Gates`` adds thresholds (``--max-reject-rate``, ``--min-results``);
a breach is exit 4 (``EXIT_GATE``) after OUT is published for inspection,
and the manifest's ``gates`` records which gate failed.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: a warning: no line adjudicated (none read, or every line outside the slice)
NO_RESULTS = "no_results"
#: a warning: every line looked at (read and inside the slice) was rejected
ALL_REJECTED = "all_rejected"
#: a warning: results dated after the run date
FUTURE_SERVICE_DATES = "future_service_dates"
#: a gate: the share of rejects among the lines looked at is over ``--max-reject-rate``
MAX_REJECT_RATE = "max_reject_rate"
#: a gate: fewer results than ``--min-results``
MIN_RESULTS = "min_results"


@dataclass(frozen=True)
class Gates:
    """Thresholds a run must meet, else exit 4; None: no such gate."""

    #: the most rejects may be of the lines looked at (read, less skipped), from 0 to 1
    max_reject_rate: float | None = None
    #: the fewest results a run may have
    min_results: int | None = None

    def __post_init__(self) -> None:
        rate = self.max_reject_rate
        if rate is not None and (
            isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or not 0 <= rate <= 1
        ):
            raise ValueError(f"'max_reject_rate' must be a number from 0 to 1, got {rate!r}")
        least = self.min_results
        if least is not None and (isinstance(least, bool) or not isinstance(least, int) or least < 0):
            raise ValueError(f"'min_results' must be a whole number >= 0, got {least!r}")

    def as_json(self) -> dict[str, Any]:
        return {"max_reject_rate": self.max_reject_rate, "min_results": self.min_results}


@dataclass(frozen=True)
class Finding:
    """One thing the counts say: a ``code`` (the constants above), a one-line ``message``, and whether it is a
    breached gate (exit 4) rather than a warning."""

    code: str
    message: str
    gate: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def reject_rate(counts: dict[str, Any]) -> float:
    """Rejects over the lines looked at (read, less skipped); 0 when none was looked at."""
    looked_at = counts["read"] - counts["skipped"]
    return counts["rejects"] / looked_at if looked_at else 0.0


def findings(
    counts: dict[str, Any],
    gates: Gates,
    *,
    run_date: dt.date,
    future_lines: int = 0,
    only_payers: tuple[str, ...] = (),
) -> list[Finding]:
    """What ``counts`` (a manifest's ``counts``: read, results, rejects, skipped) say, warnings then gates.

    ``future_lines``: results dated after ``run_date``. ``only_payers``: the slice's payers, named when every
    line fell outside the slice.
    """
    read, results, rejects, skipped = (counts[k] for k in ("read", "results", "rejects", "skipped"))
    found = []
    if rejects and rejects == read - skipped:
        found.append(Finding(ALL_REJECTED, f"every line looked at was rejected ({rejects:,}): see rejects_by_check"))
    elif results == 0:
        if read == 0:
            why = "the input holds no line"
        elif only_payers:
            why = f"no line of the input is of --only-payer {', '.join(only_payers)} inside the slice"
        else:
            why = "every line is outside the slice"
        found.append(Finding(NO_RESULTS, f"no line adjudicated: {why}"))
    if future_lines:
        found.append(
            Finding(
                FUTURE_SERVICE_DATES,
                f"{future_lines:,} results have a date of service after the run date {run_date.isoformat()}",
            )
        )
    rate = reject_rate(counts)
    if gates.max_reject_rate is not None and rate > gates.max_reject_rate:
        found.append(
            Finding(
                MAX_REJECT_RATE,
                f"gate --max-reject-rate {gates.max_reject_rate:g} failed: {rejects:,} of {read - skipped:,} lines "
                f"rejected ({rate:.4g})",
                gate=True,
            )
        )
    if gates.min_results is not None and results < gates.min_results:
        found.append(
            Finding(
                MIN_RESULTS,
                f"gate --min-results {gates.min_results:,} failed: {results:,} results",
                gate=True,
            )
        )
    return found


def gates_entry(gates: Gates, found: list[Finding], *, future_lines: int) -> dict[str, Any]:
    """The manifest's ``gates``: the thresholds, which gates failed, the warnings, and the figures they read."""
    return {
        **gates.as_json(),
        "failed": [f.as_json() for f in found if f.gate],
        "warnings": [f.as_json() for f in found if not f.gate],
        "future_service_lines": future_lines,
    }


def run_date(started_at: dt.datetime) -> dt.date:
    """The date a line's date of service is compared with: the later of the local and the UTC date of the
    run's start, so a line dated today where the run is never counts as after it."""
    return max(dt.date.today(), started_at.date())


def future_service_lines(folder: Path, day: dt.date) -> int:
    """Results in a run's (staging) folder dated after ``day``: ``results.parquet``, or the part files of a
    ``results/`` dataset. The files' statistics prune every row group whose dates are all on or before it,
    so a run without such dates reads their footers only."""
    # here: the command line imports this module (``Gates``), and must not import polars
    import polars as pl

    from adjudicator.publish.manifest import RESULTS

    single = folder / RESULTS
    files = [single] if single.is_file() else sorted((folder / Path(RESULTS).stem).glob("*.parquet"))
    if not files:
        return 0
    return future_service_rows(pl.scan_parquet(files, glob=False), day)


def future_service_rows(results: pl.LazyFrame, day: dt.date) -> int:
    """Rows of ``results`` (a run's results, typed: ``service_date`` a date) dated after ``day``: of files
    (``future_service_lines``) or of frames held in memory (``adjudicator.adjudicate_frame``)."""
    import polars as pl

    from adjudicator.contract import SERVICE_DATE

    return int(results.filter(pl.col(SERVICE_DATE) > day).select(pl.len()).collect().item())


def record_gates(
    manifest: dict[str, Any],
    gates: Gates,
    *,
    run_date: dt.date,
    future_lines: int,
    only_payers: tuple[str, ...] = (),
) -> list[Finding]:
    """Add the manifest's ``gates`` (``gates_entry``) from its counts; returns the findings."""
    found = findings(manifest["counts"], gates, run_date=run_date, future_lines=future_lines, only_payers=only_payers)
    manifest["gates"] = gates_entry(gates, found, future_lines=future_lines)
    return found


def failed_gates(manifest: dict[str, Any]) -> list[str]:
    """The codes of the gates a run's manifest records as failed (none for a manifest without ``gates``)."""
    return [f["code"] for f in manifest.get("gates", {}).get("failed", [])]


__all__ = [
    "ALL_REJECTED",
    "FUTURE_SERVICE_DATES",
    "MAX_REJECT_RATE",
    "MIN_RESULTS",
    "NO_RESULTS",
    "Finding",
    "Gates",
    "failed_gates",
    "findings",
    "gates_entry",
    "future_service_lines",
    "future_service_rows",
    "record_gates",
    "reject_rate",
    "run_date",
]
