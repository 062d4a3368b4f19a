"""``adjudicate diff``: which lines two runs disagree on, with what values; the summary and exit codes built on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.diff.runs import CHANGES, SUMMARY, diff_runs
from adjudicator.diff.sides import COMPARED_FIELDS
from adjudicator.diff.summary import format_diff_summary
from adjudicator.errors import InputError, OutputError
from adjudicator.publish.manifest import RESULTS
from adjudicator.rules.tables import RuleSet, load_rules
from tests.support.diff_runs import BASE, DIFF_CASES, own_line, plans_without_nmn_exclusion, replaced, write_run

pytestmark = pytest.mark.e2e


def rules() -> RuleSet:
    return load_rules()


def changes(diff_out: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """changes.parquet keyed by (claim_id, line_number); the file's row order is not part of the contract."""
    rows = pl.read_parquet(diff_out / CHANGES).to_dicts()
    return {(r["claim_id"], r["line_number"]): r for r in rows}


@pytest.mark.parametrize(("case", "old", "new", "expected"), DIFF_CASES, ids=[c[0] for c in DIFF_CASES])
def test_diff_lists_exactly_the_lines_that_moved(
    tmp_path: Path,
    rules: RuleSet,
    case: str,
    old: list[dict[str, Any]],
    new: list[dict[str, Any]],
    expected: dict[tuple[str, int], tuple[str, list[str]]],
) -> None:
    summary = diff_runs(
        write_run(tmp_path / "old", old, rules, "old"),
        write_run(tmp_path / "new", new, rules, "new"),
        tmp_path / "diff",
    )
    got = {key: (row["change_kind"], row["changed_fields"]) for key, row in changes(tmp_path / "diff").items()}
    assert got == expected
    assert summary["totals"]["changed"] == len(expected)
    assert summary["totals"]["changed"] + summary["totals"]["unchanged"] == summary["totals"]["lines_compared"]
    assert sum(c["lines"] for c in summary["matrix"]) == summary["totals"]["lines_compared"]
    keyed = {(r["claim_id"], r["line_number"]) for r in [*old, *new] if r["line_number"].isdigit()}
    assert summary["totals"]["lines_compared"] == len(keyed)


def test_changed_line_carries_old_and_new_values_side_by_side(tmp_path: Path, rules: RuleSet) -> None:
    diff_runs(
        write_run(tmp_path / "old", BASE, rules, "old"),
        write_run(tmp_path / "new", replaced(BASE, "NMN", plan_id="HCSC-HMO-200", units="2"), rules, "new"),
        tmp_path / "diff",
    )
    row = changes(tmp_path / "diff")[("NMN", 1)]
    old_new = {f: (row[f"old_{f}"], row[f"new_{f}"]) for f in COMPARED_FIELDS}
    assert old_new["determination"] == ("NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW")
    assert old_new["reason"] == ("NOT_MEDICALLY_NECESSARY", "NO_NMN_EXCLUSION_IN_PLAN")
    assert old_new["group_code"] == ("CO", None)
    assert old_new["carc"] == ("50", None)
    assert old_new["edits"] == ([], ["UNITS_EXCEED_DAILY_LIMIT"])
    assert old_new["policy_id"] == ("THE803.012", "THE803.012")
    assert str(row["billed_amount"]) == "180.00"
    assert row["changed_fields"] == ["determination", "reason", "group_code", "carc", "edits", "edit_carcs"]


def test_one_sided_lines_have_nulls_on_the_missing_side(tmp_path: Path, rules: RuleSet) -> None:
    diff_runs(
        write_run(tmp_path / "old", BASE, rules, "old"),
        write_run(tmp_path / "new", replaced(BASE[1:], "HMO", units="0"), rules, "new"),
        tmp_path / "diff",
    )
    got = changes(tmp_path / "diff")
    gone, rejected = got[("NMN", 1)], got[("HMO", 1)]
    assert (gone["old_determination"], gone["new_determination"]) == ("NOT_MEDICALLY_NECESSARY", None)
    assert (gone["old_status"], gone["new_status"]) == ("result", None)
    assert (rejected["old_status"], rejected["new_status"]) == ("result", "rejected")
    assert (rejected["old_reason"], rejected["new_reason"]) == ("NO_NMN_EXCLUSION_IN_PLAN", None)
    assert rejected["new_edits"] is None


def test_plan_correction_moves_exactly_that_plans_nmn_lines(tmp_path: Path, rules: RuleSet) -> None:
    batch = [
        *BASE,
        own_line("NMN2"),  # same plan, also NMN: moves
        own_line("OLDPLAN", service_date="2019-05-01"),  # same plan, earlier version (not edited): stays
        own_line("NMN", 2, procedure_code="99213"),  # same plan, code no policy targets: stays
    ]
    old = write_run(tmp_path / "old", batch, rules, "old")
    corrected = load_rules(plans=plans_without_nmn_exclusion(tmp_path, "HCSC-PPO-100"))
    new = write_run(tmp_path / "new", batch, corrected, "new")
    summary = diff_runs(old, new, tmp_path / "diff")

    assert set(changes(tmp_path / "diff")) == {("NMN", 1), ("NMN2", 1)}
    moved = [c for c in summary["matrix"] if c["old_determination"] != c["new_determination"]]
    assert moved == [
        {
            "old_determination": "NOT_MEDICALLY_NECESSARY",
            "new_determination": "BENEFIT_PLAN_REVIEW",
            "lines": 2,
            "billed_amount": "360.00",
        }
    ]
    assert summary["top_reason_changes"] == [
        {
            "old_reason": "NOT_MEDICALLY_NECESSARY",
            "new_reason": "NO_NMN_EXCLUSION_IN_PLAN",
            "lines": 2,
            "billed_amount": "360.00",
        }
    ]
    assert summary["totals"] == {"lines_compared": 7, "changed": 2, "unchanged": 5}
    assert summary["changed_fields"]["determination"] == 2
    assert summary["changed_fields"]["policy_version"] == 0


def test_summary_matrix_counts_every_line_including_absent_and_rejected(tmp_path: Path, rules: RuleSet) -> None:
    old_rows = [*BASE, own_line("BAD", units="0"), own_line("GONE", billed_amount="10.00"), own_line("DROP", units="0")]
    new_rows = [*replaced(BASE, "OFF", units="0"), own_line("BAD"), own_line("NEW", billed_amount="5.00")]
    summary = diff_runs(
        write_run(tmp_path / "old", old_rows, rules, "old"),
        write_run(tmp_path / "new", new_rows, rules, "new"),
        tmp_path / "diff",
    )
    cells = {
        (c["old_determination"], c["new_determination"]): (c["lines"], c["billed_amount"]) for c in summary["matrix"]
    }
    assert cells == {
        ("NOT_MEDICALLY_NECESSARY", "NOT_MEDICALLY_NECESSARY"): (1, "180.00"),
        ("BENEFIT_PLAN_REVIEW", "BENEFIT_PLAN_REVIEW"): (2, "360.00"),
        ("NO_ACTION", "(rejected)"): (1, "180.00"),
        ("(rejected)", "NOT_MEDICALLY_NECESSARY"): (1, "180.00"),
        ("(absent)", "NOT_MEDICALLY_NECESSARY"): (1, "5.00"),
        ("NOT_MEDICALLY_NECESSARY", "(absent)"): (1, "10.00"),
        ("(rejected)", "(absent)"): (1, "180.00"),
    }
    assert summary["by_change_kind"] == {
        "changed": 0,
        "only_in_old": 2,
        "only_in_new": 1,
        "rejected_in_old": 1,
        "rejected_in_new": 1,
    }
    assert summary["totals"] == {"lines_compared": 8, "changed": 5, "unchanged": 3}
    assert json.loads((tmp_path / "diff" / SUMMARY).read_text()) == summary
    text = format_diff_summary(summary)
    assert "(absent)" in text and "(rejected)" in text and "lines compared" in text


def test_cli_exit_codes_and_fail_on_change(tmp_path: Path, rules: RuleSet, capsys: pytest.CaptureFixture[str]) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    same = write_run(tmp_path / "same", BASE, rules, "same")
    moved = write_run(tmp_path / "moved", BASE[1:], rules, "moved")
    assert main(["diff", str(old), str(same), "--out", str(tmp_path / "d1"), "--fail-on-change"]) == 0
    assert "changed          0" in capsys.readouterr().out
    assert main(["diff", str(old), str(moved), "--out", str(tmp_path / "d2"), "--quiet"]) == 0
    assert main(["diff", str(old), str(moved), "--out", str(tmp_path / "d3"), "--fail-on-change", "--quiet"]) == 1
    assert capsys.readouterr().out == ""


def test_refuses_to_overwrite_without_overwrite(
    tmp_path: Path, rules: RuleSet, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    new = write_run(tmp_path / "new", BASE[1:], rules, "new")
    out = tmp_path / "diff"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match="--overwrite"):
        diff_runs(old, new, out)
    assert main(["diff", str(old), str(new), "--out", str(out), "--quiet"]) == 2
    assert "output folder exists" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    # issue 13: --overwrite replaces only a previous output of this tool, never a folder holding anything else
    with pytest.raises(OutputError, match="not an adjudicator output"):
        diff_runs(old, new, out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    (out / "keep.txt").unlink()

    diff_runs(old, new, out, overwrite=True)
    diff_runs(old, new, out, overwrite=True)  # a previous diff is replaced
    assert sorted(p.name for p in out.iterdir()) == [CHANGES, "report.html", SUMMARY]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["diff", "new", "old"]  # no staging folder left


def test_refuses_to_write_over_a_compared_run(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    with pytest.raises(OutputError, match="one of the runs"):
        diff_runs(old, old, old, overwrite=True)
    assert (old / RESULTS).is_file()


def _no_results(folder: Path) -> None:
    (folder / RESULTS).unlink()


def _garbage_results(folder: Path) -> None:
    (folder / RESULTS).write_bytes(b"not parquet")


def _results_without_edits(folder: Path) -> None:
    pl.read_parquet(folder / RESULTS).drop("edits").write_parquet(folder / RESULTS)


# (case, how the new run is broken, the file the message names, what it says)
BROKEN_RUNS = [
    ("no results file", _no_results, RESULTS, "not found"),
    ("results not Parquet", _garbage_results, RESULTS, "cannot read as Parquet"),
    ("results lack a compared column", _results_without_edits, RESULTS, "missing columns ['edits']"),
]


@pytest.mark.parametrize(("case", "breaks", "names", "says"), BROKEN_RUNS, ids=[c[0] for c in BROKEN_RUNS])
def test_unreadable_run_is_an_input_error_naming_the_file(
    tmp_path: Path,
    rules: RuleSet,
    capsys: pytest.CaptureFixture[str],
    case: str,
    breaks: Any,
    names: str,
    says: str,
) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    new = write_run(tmp_path / "new", BASE, rules, "new")
    breaks(new)
    with pytest.raises(InputError) as error:
        diff_runs(old, new, tmp_path / "diff")
    assert str(new / names) in str(error.value) and says in str(error.value)
    assert main(["diff", str(old), str(new), "--out", str(tmp_path / "diff")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(new / names) in err
    assert not (tmp_path / "diff").exists()


def test_missing_run_folder_is_an_input_error(tmp_path: Path, rules: RuleSet) -> None:
    old = write_run(tmp_path / "old", BASE, rules, "old")
    with pytest.raises(InputError, match=f"{tmp_path / 'nowhere'}: run folder not found"):
        diff_runs(old, tmp_path / "nowhere", tmp_path / "diff")
