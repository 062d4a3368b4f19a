"""Where the benchmark finds rule tables, and the plan/payer ids the generator draws from."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHIPPED_RULES = REPO_ROOT / "rules"

POLICIES = "medical_policies.csv"
PLANS = "plans.csv"
PLACES = "places_of_service.csv"
REASONS = "reasons.csv"
#: the tables the SQL and pandas peers read (the edits tables are not theirs to apply)
PEER_TABLES = (POLICIES, PLANS, PLACES, REASONS)

#: used by the generator when no plans / policy table exists (kinds named in contract section 3)
FALLBACK_PLAN_IDS = ("PLAN-COMM-NMN", "PLAN-COMM-COVERS", "PLAN-MCARE", "PLAN-MCAID")
FALLBACK_PAYER_IDS = ("ARCHIVE", "HCSC", "AETNA", "CAM", "MEDICARE")


def rules_dir(explicit: Path | None = None) -> Path:
    """The folder whose tables the peers read: `explicit`, else the shipped `rules/`.

    Raises FileNotFoundError naming the first missing table, so a peer fails in
    one clear line instead of deep inside a query.
    """
    directory = explicit or SHIPPED_RULES
    for name in PEER_TABLES:
        if not (directory / name).is_file():
            msg = f"rule table {directory / name} is missing (the peers need {PEER_TABLES})"
            raise FileNotFoundError(msg)
    return directory


def _column(path: Path, column: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [row[column] for row in csv.DictReader(handle) if row.get(column)]


def plan_ids() -> tuple[str, ...]:
    """Plan ids the generator draws from: the shipped plans table if any, else the fallback."""
    path = SHIPPED_RULES / PLANS
    if path.is_file():
        ids = tuple(dict.fromkeys(_column(path, "plan_id")))
        if ids:
            return ids
    return FALLBACK_PLAN_IDS


def payer_ids() -> tuple[str, ...]:
    """Payer ids of the shipped policy table (in first-seen order), else the contract's five."""
    path = SHIPPED_RULES / POLICIES
    if path.is_file():
        ids = tuple(dict.fromkeys(_column(path, "payer_id")))
        if ids:
            return ids
    return FALLBACK_PAYER_IDS


def fingerprint(directory: Path) -> str:
    """Short checksum of a rules folder's tables, recorded beside each result."""
    digest = hashlib.sha256()
    for name in PEER_TABLES:
        path = directory / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()[:12]


def corrected_plans(dest: Path) -> Path:
    """The shipped plans table with one row corrected, written to ``dest``: the diff scenario's second run.

    The first open-ended plan version that excludes not-medically-necessary
    services no longer does (HCSC-PPO-100 from 2020-01-01 in the shipped
    table): its NOT_MEDICALLY_NECESSARY lines move to BENEFIT_PLAN_REVIEW.
    """
    with (SHIPPED_RULES / PLANS).open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = next(r for r in rows if not r["end_date"] and r["excludes_not_medically_necessary"] == "true")
    row["excludes_not_medically_necessary"] = "false"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return dest
