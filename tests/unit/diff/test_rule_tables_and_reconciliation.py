"""The diff summary's rule tables that differ (from two manifests) and its reconciliation of the lines
compared with the lines each run read."""

from __future__ import annotations

from typing import Any

import polars as pl

from adjudicator.diff.explain import reconciliation, rule_tables, skipped


def _manifest(**tables: str) -> dict[str, Any]:
    return {"rules": {name: {"path": f"/rules/{name}", "sha256": sha} for name, sha in tables.items()}}


def test_equal_rule_tables_differ_in_none() -> None:
    same = _manifest(**{"plans.csv": "a", "reasons.csv": "b"})
    assert rule_tables(same, same) == {"compared": True, "tables": 2, "differ": []}


def test_rule_tables_differ_by_checksum_table_by_table_and_by_presence() -> None:
    old = _manifest(**{"plans.csv": "a", "reasons.csv": "b", "unit_limits.csv": "c"})
    new = _manifest(**{"plans.csv": "A", "reasons.csv": "b", "addon_pairs.csv": "d"})
    new["rules"]["plans.csv"]["path"] = "/elsewhere/plans.csv"
    assert rule_tables(old, new)["differ"] == [
        {
            "table": "addon_pairs.csv",
            "change": "only_in_new",
            "old_sha256": None,
            "new_sha256": "d",
            "old_path": None,
            "new_path": "/rules/addon_pairs.csv",
        },
        {
            "table": "plans.csv",
            "change": "changed",
            "old_sha256": "a",
            "new_sha256": "A",
            "old_path": "/rules/plans.csv",
            "new_path": "/elsewhere/plans.csv",
        },
        {
            "table": "unit_limits.csv",
            "change": "only_in_old",
            "old_sha256": "c",
            "new_sha256": None,
            "old_path": "/rules/unit_limits.csv",
            "new_path": None,
        },
    ]
    assert rule_tables(old, new)["tables"] == 4


def test_a_table_at_another_path_with_the_same_checksum_does_not_differ() -> None:
    old = _manifest(**{"plans.csv": "a"})
    new = _manifest(**{"plans.csv": "a"})
    new["rules"]["plans.csv"]["path"] = "/copy/plans.csv"
    assert rule_tables(old, new)["differ"] == []


def test_without_both_manifests_rules_nothing_is_said_to_differ() -> None:
    assert rule_tables({}, _manifest(**{"plans.csv": "a"})) == {"compared": False, "tables": 0, "differ": []}
    assert rule_tables(_manifest(**{"plans.csv": "a"}), {"rules": "?"})["compared"] is False


def test_skipped_lines_come_from_the_manifests_counts() -> None:
    assert skipped({"counts": {"skipped": 12}}) == 12
    assert skipped({}) == skipped({"counts": {"skipped": "12"}}) == skipped({"counts": None}) == 0


def _labels(**lines: int) -> pl.DataFrame:
    return pl.DataFrame({"label": list(lines), "lines": list(lines.values())})


def test_reconciliation_takes_each_runs_lines_read_to_the_lines_compared() -> None:
    reading = {
        "old": {"lines": 10, "skipped": 0, "outside_other_slice": 2, "unkeyed_rejects": 1},
        "new": {"lines": 6, "skipped": 5, "outside_other_slice": 0, "unkeyed_rejects": 0},
    }
    counts = (_labels(NO_ACTION=4, **{"(rejected)": 2}), _labels(NO_ACTION=5))  # 6 keys old, 5 keys new
    by_kind = {"only_in_old": 2, "only_in_new": 1}
    got = reconciliation(reading, counts, by_kind)
    assert got["old"] == {
        "read": 10,
        "skipped": 0,
        "outside_other_slice": 2,
        "unkeyed_rejects": 1,
        "duplicate_copies": 1,
        "keys": 6,
    }
    assert got["new"] == {
        "read": 11,
        "skipped": 5,
        "outside_other_slice": 0,
        "unkeyed_rejects": 0,
        "duplicate_copies": 1,
        "keys": 5,
    }
    assert (got["in_both"], got["only_in_old"], got["only_in_new"], got["lines_compared"]) == (4, 2, 1, 7)
    for side in ("old", "new"):
        s = got[side]
        assert (
            s["read"] - s["skipped"] - s["outside_other_slice"] - s["unkeyed_rejects"] - s["duplicate_copies"]
            == (s["keys"])
        )
    assert got["old"]["keys"] + got["only_in_new"] == got["lines_compared"]
    assert got["new"]["keys"] + got["only_in_old"] == got["lines_compared"]
