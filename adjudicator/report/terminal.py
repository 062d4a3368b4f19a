"""The terminal's summary of a run: counts by determination and reason, rejects by check, the time it took; its
machine-readable summary (``summary_fields``); and the dollar format of every terminal summary (``format_amount``:
the diff's uses it too; counts are ``f"{n:,}"``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def format_amount(value: Decimal | int | str | None) -> str:
    """A dollar amount as every terminal summary prints it: thousands separators, two decimals (``1,234.50``).

    ``value``: a number or a decimal string as the manifest and the diff's summary write it; None is 0.
    """
    return f"{Decimal(value or 0).quantize(Decimal('0.01')):,}"


def format_summary(manifest: dict[str, Any], *, finished: dt.datetime | None = None) -> str:
    """A run's summary for a person (stdout): OUT, the counts, by determination and reason, the history, and
    how long it took (``run_seconds``, to ``finished``)."""
    counts = manifest["counts"]
    engine = f"  engine spark ({manifest['engine']['master']})" if "engine" in manifest else ""
    lines = [
        f"run {manifest['run_id']}  layout {manifest['layout']}{engine}  -> {manifest['options']['out']}",
        f"lines read {counts['read']:>12,}   results {counts['results']:>12,}   "
        f"rejects {counts['rejects']:>10,}   skipped {counts['skipped']:>10,}   "
        f"reconciled {counts['reconciled']}",
        "",
        f"{'determination':<26}{'reason':<30}{'lines':>12}{'billed':>18}",
    ]
    for row in counts["by_reason"]:
        lines.append(
            f"{row['determination']:<26}{row['reason'] or '-':<30}{row['lines']:>12,}"
            f"{format_amount(row['billed_amount']):>18}"
        )
    flagged = format_amount(counts["flagged_billed_amount"])
    lines.append(f"{'flagged (not NO_ACTION)':<56}{counts['flagged_lines']:>12,}{flagged:>18}")
    if counts["rejects_by_check"]:
        lines += ["", f"{'reject check':<56}{'lines':>12}"]
        lines += [f"{k:<56}{v:>12,}" for k, v in counts["rejects_by_check"].items()]
    history = manifest.get("history")
    if history:
        effects = "; ".join(
            f"{edit} {', '.join(f'{effect} {n:,}' for effect, n in sorted(by.items()))}"
            for edit, by in sorted((history.get("effects") or {}).items())
        )
        lines += [
            "",
            f"history {history['path']}: read version {history['version_read']}, {history['lines']:,} lines "
            f"{history['state']}"
            + (f" as version {history['version_written']}" if history.get("version_written") is not None else ""),
            f"lines the history changed: {effects or 'none'}",
        ]
    lines += ["", f"done in {run_seconds(manifest, finished=finished):.2f}s"]
    return "\n".join(lines)


def run_seconds(manifest: dict[str, Any], *, finished: dt.datetime | None = None) -> float:
    """How long the run took: from its start (``started_at``) to ``finished`` (its summary: the report, the
    publish and the history's commit included). Without ``finished``, the sum of its phases' ``timings``, which
    end when the manifest is built."""
    if finished is not None and manifest.get("started_at"):
        return max((finished - dt.datetime.fromisoformat(manifest["started_at"])).total_seconds(), 0.0)
    # the phases follow one another; start-up (process start to the first batch read) overlaps them
    return float(sum(v for k, v in manifest["timings"].items() if k != "startup_s" and v is not None))


def summary_fields(manifest: dict[str, Any], *, exit_code: int, finished: dt.datetime | None = None) -> dict[str, Any]:
    """A run's summary for a machine (``--summary-json``, the JSON log's ``summary`` event), from its manifest:
    run id, status (``ok``, or ``gate_failed`` with exit 4), exit code, OUT, the counts, the gates that failed
    and the warnings (their codes), the seconds it took (``run_seconds``)."""
    counts = manifest["counts"]
    gates = manifest.get("gates", {})
    failed = [g["code"] for g in gates.get("failed", [])]
    seconds = run_seconds(manifest, finished=finished)
    return {
        "run_id": manifest["run_id"],
        "status": "gate_failed" if failed else "ok",
        "exit_code": exit_code,
        "out": manifest["options"]["out"],
        **{k: counts[k] for k in ("read", "results", "rejects", "skipped", "reconciled", "flagged_lines")},
        "gates_failed": failed,
        "warnings": [w["code"] for w in gates.get("warnings", [])],
        "seconds": round(seconds, 3),
    }


__all__ = ["format_amount", "format_summary", "run_seconds", "summary_fields"]
