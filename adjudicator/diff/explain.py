"""What a diff's summary says beside the changed lines: which rule tables differ between the two runs (from
their manifests), and how the lines compared reconcile with the lines each run read.

Both are built from small inputs: the manifests, Parquet footers, a few counts
the comparison collects anyway (each run's lines per label) and the counts of
the changed lines by kind. Nothing here reads a run's lines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Final

import polars as pl

from adjudicator.publish.manifest import MANIFEST

#: how a rule table differs between the runs
TABLE_CHANGED: Final = "changed"
TABLE_ONLY_IN_OLD: Final = "only_in_old"
TABLE_ONLY_IN_NEW: Final = "only_in_new"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The run's manifest, or {} when it has none that reads as a JSON object (the diff does not need it)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _tables(manifest: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """The manifest's ``rules`` ({table: {path, sha256}}), or None when it has none."""
    rules = manifest.get("rules")
    if not isinstance(rules, dict):
        return None
    return {str(name): entry if isinstance(entry, dict) else {} for name, entry in rules.items()}


def rule_tables(old_manifest: dict[str, Any], new_manifest: dict[str, Any]) -> dict[str, Any]:
    """The rule tables whose checksum differs between the runs, table by table, and those in one run only.

    ``compared``: whether both manifests list their rule tables (a run's
    manifest always does; without them nothing can be said and ``differ`` is
    empty). ``tables``: how many tables either run used. ``differ``: one entry
    per table that differs, by name: ``change`` ("changed", "only_in_old",
    "only_in_new"), each run's sha256 and path (null on the side without it).
    """
    old, new = _tables(old_manifest), _tables(new_manifest)
    if old is None or new is None:
        return {"compared": False, "tables": 0, "differ": []}
    differ = []
    names = sorted(old.keys() | new.keys())
    for name in names:
        o, n = old.get(name), new.get(name)
        if o is None:
            change = TABLE_ONLY_IN_NEW
        elif n is None:
            change = TABLE_ONLY_IN_OLD
        elif o.get("sha256") != n.get("sha256"):
            change = TABLE_CHANGED
        else:
            continue
        differ.append(
            {
                "table": name,
                "change": change,
                "old_sha256": (o or {}).get("sha256"),
                "new_sha256": (n or {}).get("sha256"),
                "old_path": (o or {}).get("path"),
                "new_path": (n or {}).get("path"),
            }
        )
    return {"compared": True, "tables": len(names), "differ": differ}


def skipped(manifest: dict[str, Any]) -> int:
    """The lines the run read but skipped (outside its own slice), from its manifest; 0 when it says nothing."""
    counts = manifest.get("counts")
    value = counts.get("skipped") if isinstance(counts, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _keys(counts: pl.DataFrame) -> int:
    return int(counts["lines"].sum())


def reconciliation(
    reading: dict[str, dict[str, int]], counts: tuple[pl.DataFrame, pl.DataFrame], by_kind: dict[str, int]
) -> dict[str, Any]:
    """How ``lines_compared`` follows from the lines each run read.

    ``reading``: for "old" and "new", ``lines`` (rows of results and rejects),
    ``skipped`` (outside the run's own slice, from its manifest),
    ``outside_other_slice`` (rows outside the other run's slice, not compared)
    and ``unkeyed_rejects``. ``counts``: each run's keys per label
    (``side_counts``). Per run, ``read`` = lines + skipped, and
    ``keys`` = lines - outside_other_slice - unkeyed_rejects - duplicate_copies:
    a key rejected more than once (a duplicated key) is compared once. Over
    both, lines_compared = in_both + only_in_old + only_in_new.
    """
    sides: dict[str, dict[str, int]] = {}
    for name, side_counts in zip(("old", "new"), counts, strict=True):
        r = reading[name]
        keys = _keys(side_counts)
        sides[name] = {
            "read": r["lines"] + r["skipped"],
            "skipped": r["skipped"],
            "outside_other_slice": r["outside_other_slice"],
            "unkeyed_rejects": r["unkeyed_rejects"],
            "duplicate_copies": r["lines"] - r["outside_other_slice"] - r["unkeyed_rejects"] - keys,
            "keys": keys,
        }
    only_old, only_new = by_kind["only_in_old"], by_kind["only_in_new"]
    in_both = sides["old"]["keys"] - only_old
    return {
        **sides,
        "in_both": in_both,
        "only_in_old": only_old,
        "only_in_new": only_new,
        "lines_compared": in_both + only_old + only_new,
    }


__all__ = [
    "TABLE_CHANGED",
    "TABLE_ONLY_IN_NEW",
    "TABLE_ONLY_IN_OLD",
    "read_manifest",
    "reconciliation",
    "rule_tables",
    "skipped",
]
