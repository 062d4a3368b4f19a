"""Runs to diff: inline lines of their own members, run folders written by the engine, the diff cases both the
diff tests and the pinned-output tests use, and what a diff shows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from adjudicator.diff.runs import CHANGES, SUMMARY
from adjudicator.embedded.driver import adjudicate_frame
from adjudicator.publish.manifest import MANIFEST, REJECTS, RESULTS
from adjudicator.rules.compiled import compile_rules
from adjudicator.rules.tables import RuleSet
from tests.helpers import ROOT, raw_frame

RULES_DIR = ROOT / "rules"


def own_line(claim: str, n: int = 1, **more: Any) -> dict[str, Any]:
    """A line of its own member, so no two lines share a daily unit limit unless a case says so."""
    return {"claim_id": claim, "line_number": str(n), "member_id": f"M-{claim}", **more}


def write_run(folder: Path, rows: list[dict[str, Any]], rules: RuleSet, run_id: str) -> Path:
    """A run folder as ``adjudicate run`` leaves it, made with the engine on inline rows."""
    results, rejects, _ = adjudicate_frame(raw_frame(rows), compile_rules(rules), run_id=run_id)
    folder.mkdir(parents=True)
    results.write_parquet(folder / RESULTS)
    rejects.write_parquet(folder / REJECTS)
    (folder / MANIFEST).write_text(json.dumps({"run_id": run_id}))
    return folder


# one line per decision the base batch exercises (contract section 4), plus one line no policy targets
BASE = [
    own_line("NMN"),  # HCSC, HCSC-PPO-100 excludes NMN: NOT_MEDICALLY_NECESSARY
    own_line("HMO", plan_id="HCSC-HMO-200"),  # no NMN exclusion in the plan
    own_line("AET", payer_id="AETNA", plan_id="AETNA-OPEN-100"),  # benefit exclusion
    own_line("OFF", procedure_code="99213"),  # NO_ACTION
]


def replaced(rows: list[dict[str, Any]], claim: str, **changes: Any) -> list[dict[str, Any]]:
    return [{**r, **changes} if r["claim_id"] == claim else r for r in rows]


# (case, old lines, new lines, expected {(claim_id, line_number): (change_kind, changed_fields)})
DIFF_CASES = [
    ("identical runs", BASE, BASE, {}),
    ("a line only in the new run", BASE, [*BASE, own_line("ADD")], {("ADD", 1): ("only_in_new", [])}),
    ("a line only in the old run", BASE, BASE[1:], {("NMN", 1): ("only_in_old", [])}),
    ("a result becomes a reject", BASE, replaced(BASE, "HMO", units="0"), {("HMO", 1): ("rejected_in_new", [])}),
    (
        "a reject becomes a result",
        replaced(BASE, "HMO", service_date="2024-13-01"),
        BASE,
        {("HMO", 1): ("rejected_in_old", [])},
    ),
    ("a reject in both runs is unchanged", replaced(BASE, "HMO", units="0"), replaced(BASE, "HMO", units="x"), {}),
    (
        "a duplicated key rejected in the old run counts once",
        [*BASE, own_line("HMO", plan_id="HCSC-HMO-200")],
        BASE,
        {("HMO", 1): ("rejected_in_old", [])},
    ),
    ("a reject without a usable key is not compared", [*BASE, own_line("BAD", line_number="x")], BASE, {}),
    ("a reject only in the old run", [*BASE, own_line("BAD", units="0")], BASE, {("BAD", 1): ("only_in_old", [])}),
    (
        "another plan: determination, reason and codes move",
        BASE,
        replaced(BASE, "NMN", plan_id="HCSC-HMO-200"),
        {("NMN", 1): ("changed", ["determination", "reason", "group_code", "carc"])},
    ),
    (
        "a date in another revision of the same policy",
        replaced(BASE, "HMO", service_date="2023-01-01"),
        replaced(BASE, "HMO", service_date="2023-08-01"),
        {("HMO", 1): ("changed", ["policy_version", "policy_effective_date", "policy_end_date"])},
    ),
    (
        "a date in another policy",
        BASE,
        replaced(BASE, "HMO", service_date="2023-08-01"),
        {("HMO", 1): ("changed", ["policy_id", "policy_version", "policy_effective_date", "policy_end_date"])},
    ),
    (
        "units over the daily limit: only the edits move",
        BASE,
        replaced(BASE, "NMN", units="2"),
        {("NMN", 1): ("changed", ["edits", "edit_carcs"])},
    ),
    (
        "a line leaves the policy's codes: policy columns go null",
        BASE,
        replaced(BASE, "HMO", procedure_code="99213"),
        {
            ("HMO", 1): (
                "changed",
                ["determination", "reason", "policy_id", "policy_version", "policy_effective_date", "policy_end_date"],
            )
        },
    ),
]


def plans_without_nmn_exclusion(tmp_path: Path, plan_id: str) -> Path:
    """The shipped plans table with ``plan_id``'s current version no longer excluding NMN services."""
    lines = (RULES_DIR / "plans.csv").read_text().splitlines()
    edited = [
        line.replace(",,true,", ",,false,") if line.startswith(f"{plan_id},") and ",," in line else line
        for line in lines
    ]
    assert edited != lines
    path = tmp_path / "plans.csv"
    path.write_text("\n".join(edited) + "\n")
    return path


def _json_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return f"decimal:{value}"
    return f"{type(value).__name__}:{value}"


def observed(diff_out: Path, old: Path, new: Path) -> dict[str, Any]:
    """What a diff shows: changes.parquet's schema and rows in key order (a row: its values as one JSON line),
    and summary.json (the runs' paths replaced by "old" and "new")."""
    changes = pl.read_parquet(diff_out / CHANGES).sort("claim_id", "line_number", nulls_last=True)
    summary = json.loads((diff_out / SUMMARY).read_text())
    for side, folder in (("old", old), ("new", new)):
        assert summary[side]["path"] == str(folder)
        summary[side]["path"] = side
    return {
        "schema": [[name, str(dtype)] for name, dtype in changes.schema.items()],
        "rows": [json.dumps([_json_value(v) for v in row]) for row in changes.iter_rows()],
        "summary": summary,
    }
