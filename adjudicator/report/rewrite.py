"""``adjudicate report``: (re)write the report of an existing run folder or diff folder from its JSON.

The JSON is checked first against the shape the report reads (``RUN_SHAPE``, ``DIFF_SHAPE``: which keys, of
which types), so a manifest that is missing keys or holds values of the wrong type (edited by hand, cut short,
from another tool) is one line naming the key (exit 2), never an internal error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from adjudicator.errors import InputError, first_line
from adjudicator.publish.manifest import DIFF_SUMMARY, MANIFEST
from adjudicator.report.diff_report import write_diff_report
from adjudicator.report.run_report import write_run_report

#: a key's dotted path in the document -> the JSON types it may hold (required unless None is one of them)
Shape = Mapping[str, tuple[type, ...]]

_NUMBER: Final = (int, float)
_OPTIONAL_OBJECT: Final = (dict, type(None))
_OPTIONAL_LIST: Final = (list, type(None))

#: what a run's report reads of its manifest (``report.run_report``)
RUN_SHAPE: Final[Shape] = {
    "run_id": (str,),
    "options": (dict,),
    "inputs": (list,),
    "rules": _OPTIONAL_OBJECT,
    "timings": _OPTIONAL_OBJECT,
    "versions": _OPTIONAL_OBJECT,
    "counts": (dict,),
    "counts.read": (int,),
    "counts.results": (int,),
    "counts.rejects": (int,),
    "counts.skipped": (int,),
    "counts.reconciled": (bool,),
    "counts.by_determination": (dict,),
    "counts.by_reason": (list,),
    "counts.rejects_by_check": (dict,),
    "counts.flagged_lines": (int,),
    "counts.flagged_billed_amount": (str, *_NUMBER),
    "summary": _OPTIONAL_OBJECT,
    "summary.by_month": _OPTIONAL_LIST,
    "summary.by_payer": _OPTIONAL_LIST,
    "summary.by_policy": _OPTIONAL_LIST,
    "summary.edits": _OPTIONAL_LIST,
    "summary.reject_examples": _OPTIONAL_OBJECT,
    "summary.top_claims": _OPTIONAL_LIST,
}

#: what a diff's report reads of its summary.json (``report.diff_report``)
DIFF_SHAPE: Final[Shape] = {
    "old": (dict,),
    "new": (dict,),
    "totals": (dict,),
    "by_change_kind": (dict,),
    "changed_fields": (dict,),
    "matrix": (list,),
    "top_reason_changes": (list,),
    "by_change_class": (dict,),
    "metadata_only_changes": _OPTIONAL_LIST,
    "net_by_determination": _OPTIONAL_LIST,
    "rule_tables": _OPTIONAL_OBJECT,
    "reconciliation": _OPTIONAL_OBJECT,
}

_TYPE_NAMES: Final = {dict: "an object", list: "a list", str: "text", int: "a whole number", float: "a number"}


def _short(value: object) -> str:
    """A value as JSON, cut to a few words for a one-line message."""
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:39] + "..."


def shape_problem(document: Mapping[str, Any], shape: Shape) -> str | None:
    """The first key of ``shape`` that ``document`` lacks or holds with another type, in words; None if none.
    A key inside an optional object that is absent is not looked for."""
    for dotted, types in shape.items():
        parent: Any = document
        *outer, key = dotted.split(".")
        for part in outer:
            parent = parent.get(part) if isinstance(parent, Mapping) else None
        if parent is None:
            continue
        if key not in parent:
            if type(None) in types:
                continue
            return f"missing key {dotted!r}"
        value = parent[key]
        # a JSON true is not a count: bool is an int to Python, not to the manifest
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types if t is not type(None))
            return f"key {dotted!r} is {_short(value)}, not {wanted}"
    return None


#: the documents ``adjudicate report`` reads, in the order it looks for them
_DOCUMENTS: Final[tuple[tuple[str, str, Shape, Callable[[Path, dict[str, Any]], Path]], ...]] = (
    (MANIFEST, "run manifest", RUN_SHAPE, write_run_report),
    (DIFF_SUMMARY, "diff summary", DIFF_SHAPE, write_diff_report),
)


def rewrite_report(folder: Path) -> Path:
    """(Re)write report.html of an existing run folder (manifest.json) or diff folder (summary.json)."""
    folder = Path(folder)
    for name, what, shape, write in _DOCUMENTS:
        path = folder / name
        if path.is_file():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot be read as JSON: {exc}", path=path) from None
            if not isinstance(document, dict):
                raise InputError(f"is not an adjudicator {name}", path=path)
            problem = shape_problem(document, shape)
            if problem is not None:
                raise InputError(f"is not a complete adjudicator {what}: {problem}", path=path)
            try:
                return write(folder, document)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
                # deeper than the shape looks (a row of a list): still the document's fault, not a bug
                found = f"missing key {exc}" if isinstance(exc, KeyError) else first_line(exc)
                raise InputError(f"is not a complete adjudicator {what}: {found}", path=path) from None
    if not folder.is_dir():
        raise InputError("folder not found", path=folder)
    raise InputError(f"has neither {MANIFEST} (a run) nor {DIFF_SUMMARY} (a diff)", path=folder)


__all__ = ["DIFF_SHAPE", "RUN_SHAPE", "rewrite_report", "shape_problem"]
