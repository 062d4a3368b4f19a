"""A diff that says what moved and why (issue 24): the rule tables that differ, verdict changes apart from
policy-metadata-only ones, net dollars by determination, where and whose each changed line is, and how the
lines compared follow from the lines each run read."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import SOURCE_FILE
from adjudicator.diff import runs as diff
from adjudicator.diff.summary import POLICY_METADATA_FIELDS
from adjudicator.errors import EXIT_OK
from adjudicator.options import EngineSettings
from adjudicator.publish.manifest import REPORT
from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import raw_frame
from tests.support.diff_runs import BASE, DIFF_CASES, own_line, plans_without_nmn_exclusion, replaced, write_run

pytestmark = pytest.mark.e2e


def rules() -> RuleSet:
    return load_rules()


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    raw_frame(rows).drop(SOURCE_FILE).collect().write_csv(path)
    return path


def _cli_run(out: Path, claims: Path, *extra: str) -> Path:
    assert main(["run", str(claims), "--out", str(out), "--quiet", *extra]) == EXIT_OK
    return out


class _MovedLines(HTMLParser):
    """The moved-lines table's rows (their data-* values) and the lines-compared sentence, read from the page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.sentence = ""
        self._in_table = False
        self._in_sentence = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._in_table = found.get("id") == "moved-lines"
        elif tag == "tr" and self._in_table and any(k.startswith("data-") for k in found):
            self.rows.append({k[5:]: v for k, v in found.items() if k.startswith("data-")})
        elif tag == "p" and found.get("id") == "lines-compared-explained":
            self._in_sentence = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_table = False
        elif tag == "p":
            self._in_sentence = False

    def handle_data(self, data: str) -> None:
        if self._in_sentence:
            self.sentence += data


def _page(folder: Path) -> _MovedLines:
    return _MovedLines((folder / REPORT).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------
# The rule tables that differ
# ------------------------------------------------------------------------------------------


def test_a_diff_of_runs_with_different_rule_tables_names_the_tables_that_differ(tmp_path: Path) -> None:
    claims = _csv(tmp_path / "claims.csv", BASE)
    plans = plans_without_nmn_exclusion(tmp_path, "HCSC-PPO-100")
    old = _cli_run(tmp_path / "old", claims)
    new = _cli_run(tmp_path / "new", claims, "--plans", str(plans))
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    old_rules = json.loads((old / "manifest.json").read_text())["rules"]
    new_rules = json.loads((new / "manifest.json").read_text())["rules"]
    assert summary["rule_tables"] == {
        "compared": True,
        "tables": len(old_rules),
        "differ": [
            {
                "table": "plans.csv",
                "change": "changed",
                "old_sha256": old_rules["plans.csv"]["sha256"],
                "new_sha256": new_rules["plans.csv"]["sha256"],
                "old_path": old_rules["plans.csv"]["path"],
                "new_path": new_rules["plans.csv"]["path"],
            }
        ],
    }
    assert old_rules["plans.csv"]["sha256"] != new_rules["plans.csv"]["sha256"]
    page = (tmp_path / "diff" / REPORT).read_text(encoding="utf-8")
    assert f"1 of {len(old_rules)} rule tables differ by checksum: plans.csv (changed)." in page
    assert 'id="rule-tables"' in page and new_rules["plans.csv"]["sha256"] in page


def test_a_diff_of_runs_with_equal_rule_tables_names_none(tmp_path: Path) -> None:
    claims = _csv(tmp_path / "claims.csv", BASE)
    old = _cli_run(tmp_path / "old", claims)
    new = _cli_run(tmp_path / "new", claims)
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    tables = len(json.loads((old / "manifest.json").read_text())["rules"])
    assert summary["rule_tables"] == {"compared": True, "tables": tables, "differ": []}
    page = (tmp_path / "diff" / REPORT).read_text(encoding="utf-8")
    assert f"The two runs used the same {tables} rule tables (equal checksums)." in page
    assert 'id="rule-tables"' not in page


def test_runs_whose_manifests_list_no_rule_tables_are_not_said_to_differ(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")  # a manifest with its run id only
    summary = diff.diff_runs(old, write_run(tmp_path / "new", BASE, rules, "new"), tmp_path / "diff")
    assert summary["rule_tables"] == {"compared": False, "tables": 0, "differ": []}


# ------------------------------------------------------------------------------------------
# Verdict changed, or only the policy metadata
# ------------------------------------------------------------------------------------------


def _metadata_only(kind: str, fields: list[str]) -> bool:
    return kind == "changed" and set(fields) <= set(POLICY_METADATA_FIELDS)


@pytest.mark.parametrize(("case", "old_rows", "new_rows", "expected"), DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_each_listed_line_is_a_verdict_change_or_a_metadata_only_one(
    tmp_path: Path,
    rules: RuleSet,
    case: str,
    old_rows: list[dict[str, Any]],
    new_rows: list[dict[str, Any]],
    expected: dict[tuple[str, int], tuple[str, list[str]]],
) -> None:
    old = write_run(tmp_path / "old", old_rows, rules, "old")
    new = write_run(tmp_path / "new", new_rows, rules, "new")
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    metadata = sum(_metadata_only(kind, fields) for kind, fields in expected.values())
    classes = summary["by_change_class"]
    assert classes["metadata_only"]["lines"] == metadata
    assert classes["verdict_changed"]["lines"] == len(expected) - metadata
    assert classes["verdict_changed"]["lines"] + classes["metadata_only"]["lines"] == summary["totals"]["changed"]
    assert sum(r["lines"] for r in summary["top_reason_changes"]) == len(expected) - metadata
    assert sum(r["lines"] for r in summary["metadata_only_changes"]) == metadata


def test_a_date_in_another_revision_is_metadata_only_and_leaves_the_top_reason_changes(
    tmp_path: Path, rules: RuleSet
) -> None:
    old = write_run(tmp_path / "old", replaced(BASE, "HMO", service_date="2023-01-01"), rules, "old")
    new = write_run(tmp_path / "new", replaced(BASE, "HMO", service_date="2023-08-01"), rules, "new")
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    assert summary["by_change_class"] == {
        "verdict_changed": {"lines": 0, "billed_amount": "0.00"},
        "metadata_only": {"lines": 1, "billed_amount": "180.00"},
    }
    assert summary["top_reason_changes"] == []
    assert summary["metadata_only_changes"] == [
        {
            "determination": "BENEFIT_PLAN_REVIEW",
            "reason": "NO_NMN_EXCLUSION_IN_PLAN",
            "fields": ["policy_version", "policy_effective_date", "policy_end_date"],
            "lines": 1,
            "billed_amount": "180.00",
        }
    ]


def test_edits_alone_are_a_verdict_change(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    new = write_run(tmp_path / "new", replaced(BASE, "NMN", units="2"), rules, "new")
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    assert summary["by_change_class"]["verdict_changed"] == {"lines": 1, "billed_amount": "180.00"}
    assert summary["metadata_only_changes"] == []
    assert summary["top_reason_changes"] == [
        {
            "old_reason": "NOT_MEDICALLY_NECESSARY",
            "new_reason": "NOT_MEDICALLY_NECESSARY",
            "lines": 1,
            "billed_amount": "180.00",
        }
    ]


# ------------------------------------------------------------------------------------------
# Net dollars by determination
# ------------------------------------------------------------------------------------------


def test_net_dollars_are_each_runs_billed_per_determination_new_minus_old(tmp_path: Path, rules: RuleSet) -> None:
    old_rows = [*BASE, own_line("GONE", billed_amount="10.00"), own_line("BAD", units="0", billed_amount="7.00")]
    new_rows = [
        *replaced(replaced(BASE, "NMN", plan_id="HCSC-HMO-200"), "OFF", billed_amount="200.50"),
        own_line("BAD", billed_amount="7.00"),
    ]
    old = write_run(tmp_path / "old", old_rows, rules, "old")
    new = write_run(tmp_path / "new", new_rows, rules, "new")
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    net = {r["determination"]: r for r in summary["net_by_determination"]}
    # old: NMN 2 lines (NMN, GONE) 190.00; BPR 2 (HMO, AET) 360.00; NO_ACTION 1 (OFF) 180.00; rejected 1 7.00
    # new: NMN 1 (BAD) 7.00; BPR 3 (NMN, HMO, AET) 540.00; NO_ACTION 1 (OFF, billed anew) 200.50
    assert {k: (r["old_lines"], r["new_lines"], r["net_lines"]) for k, r in net.items()} == {
        "NOT_MEDICALLY_NECESSARY": (2, 1, -1),
        "BENEFIT_PLAN_REVIEW": (2, 3, 1),
        "NO_ACTION": (1, 1, 0),
        "(rejected)": (1, 0, -1),
    }
    assert {k: (r["old_billed_amount"], r["new_billed_amount"], r["net_billed_amount"]) for k, r in net.items()} == {
        "NOT_MEDICALLY_NECESSARY": ("190.00", "7.00", "-183.00"),
        "BENEFIT_PLAN_REVIEW": ("360.00", "540.00", "180.00"),
        "NO_ACTION": ("180.00", "200.50", "20.50"),
        "(rejected)": ("7.00", "0.00", "-7.00"),
    }
    assert list(net) == ["NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW", "NO_ACTION", "(rejected)"]
    # every run's billed is accounted for: the nets add up to the difference of the runs' totals
    total = sum(Decimal(r["net_billed_amount"]) for r in net.values())
    assert total == Decimal("747.50") - Decimal("737.00")
    page = (tmp_path / "diff" / REPORT).read_text(encoding="utf-8")
    assert 'id="net-by-determination"' in page and "−$183.00" in page and "+$180.00" in page


# ------------------------------------------------------------------------------------------
# changes.parquet: service date, member, payer
# ------------------------------------------------------------------------------------------

OLD_ROWS = [
    *BASE,
    own_line("NMN2"),
    own_line("GONE", units="0", service_date="2023-02-02", payer_id="AETNA", member_id="M-OLD"),
    own_line("BADDATE", service_date="2024-13-01", member_id=" M-BD "),
]
NEW_ROWS = [
    *replaced(BASE, "NMN", member_id="M-NEW"),
    own_line("NMN2", service_date="2024-06-01"),
    own_line("ADDED", units="0", service_date="2023-03-03", payer_id="CAM"),
]
#: (claim_id, line_number) -> (change_kind, service_date, member_id, payer_id): the new run's side, else the old's
EXPECTED_CONTEXT = {
    ("NMN", 1): ("changed", dt.date(2024, 5, 1), "M-NEW", "HCSC"),
    ("NMN2", 1): ("changed", dt.date(2024, 6, 1), "M-NMN2", "HCSC"),
    ("GONE", 1): ("only_in_old", dt.date(2023, 2, 2), "M-OLD", "AETNA"),
    ("BADDATE", 1): ("only_in_old", None, "M-BD", "HCSC"),  # a reject's date that does not parse: null
    ("ADDED", 1): ("only_in_new", dt.date(2023, 3, 3), "M-ADDED", "CAM"),
}


@pytest.mark.parametrize("path", ["aligned", "partitioned"])
def test_changes_carry_service_date_member_and_payer_from_the_new_side_else_the_old(
    tmp_path: Path, rules: RuleSet, path: str
) -> None:
    corrected = load_rules(plans=plans_without_nmn_exclusion(tmp_path, "HCSC-PPO-100"))
    old = write_run(tmp_path / "old", OLD_ROWS, rules, "old")
    new = write_run(tmp_path / "new", NEW_ROWS, corrected, "new")
    spill = tmp_path / "spill"
    spill.mkdir()
    settings = EngineSettings(diff_zip_rows=2)
    aligned = diff._compare_aligned(old, new, diff.line_hash(), tmp_path / "probe.parquet", spill, settings)
    assert aligned is not None  # the two runs' results are aligned: the default takes the zip
    options: dict[str, Any] = {} if path == "aligned" else {"aligned": False, "partitions": 3}
    diff.diff_runs(old, new, tmp_path / "diff", settings=settings, **options)
    changes = pl.read_parquet(tmp_path / "diff" / diff.CHANGES)
    assert changes.schema["service_date"] == pl.Date
    assert changes.schema["member_id"] == changes.schema["payer_id"] == pl.String
    assert changes.columns[:8] == [
        "claim_id",
        "line_number",
        "change_kind",
        "changed_fields",
        "billed_amount",
        "service_date",
        "member_id",
        "payer_id",
    ]
    got = {
        (r["claim_id"], r["line_number"]): (r["change_kind"], r["service_date"], r["member_id"], r["payer_id"])
        for r in changes.iter_rows(named=True)
    }
    assert got == EXPECTED_CONTEXT

    # the moved-lines table shows them, and both reasons
    rows = {(r["claim_id"], int(r["line_number"])): r for r in _page(tmp_path / "diff").rows}
    assert set(rows) == set(EXPECTED_CONTEXT)
    for key, (_, date, member, payer) in EXPECTED_CONTEXT.items():
        shown = rows[key]
        assert shown.get("service_date") == (None if date is None else date.isoformat())
        assert (shown["member_id"], shown["payer_id"]) == (member, payer)
    assert rows[("NMN", 1)]["reason"] == "NOT_MEDICALLY_NECESSARY → NO_NMN_EXCLUSION_IN_PLAN"
    assert rows[("GONE", 1)]["reason"] == "— → —"


# ------------------------------------------------------------------------------------------
# The lines compared, explained
# ------------------------------------------------------------------------------------------


def test_a_duplicated_key_explains_lines_compared_against_lines_read(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", [*BASE, own_line("HMO", plan_id="HCSC-HMO-200")], rules, "old")
    new = write_run(tmp_path / "new", [*BASE, own_line("BAD", line_number="x")], rules, "new")
    summary = diff.diff_runs(old, new, tmp_path / "diff")
    assert summary["totals"]["lines_compared"] == 4
    assert summary["reconciliation"] == {
        "old": {
            "read": 5,
            "skipped": 0,
            "outside_other_slice": 0,
            "unkeyed_rejects": 0,
            "duplicate_copies": 1,
            "keys": 4,
        },
        "new": {
            "read": 5,
            "skipped": 0,
            "outside_other_slice": 0,
            "unkeyed_rejects": 1,
            "duplicate_copies": 0,
            "keys": 4,
        },
        "in_both": 4,
        "only_in_old": 0,
        "only_in_new": 0,
        "lines_compared": 4,
    }
    assert _page(tmp_path / "diff").sentence == (
        "4 lines compared: the old run read 5, less 1 extra copy of a duplicated key (each key counted once), "
        "leaving 4; the new run read 5, less 1 reject without a usable key, leaving 4; 4 in both runs."
    )


def test_a_sliced_diff_explains_the_lines_outside_the_slice(tmp_path: Path) -> None:
    rows = [
        *BASE,  # one AETNA line
        own_line("AET2", payer_id="AETNA", plan_id="AETNA-OPEN-100"),
        own_line("AET3", payer_id="AETNA", plan_id="AETNA-OPEN-100", units="0"),  # a reject inside the slice
        own_line("GONE"),
    ]
    claims = _csv(tmp_path / "claims.csv", rows)
    full = _cli_run(tmp_path / "full", claims)
    sliced = _cli_run(tmp_path / "aetna", _csv(tmp_path / "fewer.csv", rows[:-1]), "--only-payer", "AETNA")
    summary = diff.diff_runs(full, sliced, tmp_path / "diff")
    assert summary["totals"]["lines_compared"] == 3
    assert summary["reconciliation"] == {
        "old": {
            "read": 7,
            "skipped": 0,
            "outside_other_slice": 4,
            "unkeyed_rejects": 0,
            "duplicate_copies": 0,
            "keys": 3,
        },
        "new": {
            "read": 6,
            "skipped": 3,
            "outside_other_slice": 0,
            "unkeyed_rejects": 0,
            "duplicate_copies": 0,
            "keys": 3,
        },
        "in_both": 3,
        "only_in_old": 0,
        "only_in_new": 0,
        "lines_compared": 3,
    }
    assert _page(tmp_path / "diff").sentence == (
        "3 lines compared: the old run read 7, less 4 lines outside the new run's slice, leaving 3; "
        "the new run read 6, less 3 lines outside its own slice (skipped), leaving 3; 3 in both runs."
    )
