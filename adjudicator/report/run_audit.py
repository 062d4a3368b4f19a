"""The run report's audit trail, shown last and collapsed: the run, its options and slice as sentences, the inputs
with their sizes, checksums and reconciliation, the rule tables' checksums."""

from __future__ import annotations

from typing import Any, Final

from adjudicator.report.html import Column, _esc, _section, table

#: the audit trail's section id (a table of contents' anchor)
AUDIT: Final = "audit"

#: options shown in their own sentences (the rest, should a manifest hold more, as "name: value")
_SHOWN: Final = frozenset(
    {"inputs", "out", "rules_dir", "plans", "layout", "payer", "rules_as_of", "slice", "command_line", "cwd"}
)


def slice_text(recorded: dict[str, Any] | None, claims_sha256: str | None = None) -> str:
    """The slice a run was limited to, in words: "every line (no slice)" when none."""
    recorded = recorded or {}
    start, end = recorded.get("service_from"), recorded.get("service_to")
    parts = []
    if start and end:
        parts.append(f"dates of service {start} to {end}")
    elif start:
        parts.append(f"dates of service on or after {start}")
    elif end:
        parts.append(f"dates of service on or before {end}")
    payers = recorded.get("only_payers") or []
    if payers:
        parts.append(("payer " if len(payers) == 1 else "payers ") + ", ".join(map(str, payers)))
    if recorded.get("claims_file"):
        listed = f"the claims listed in {recorded['claims_file']}"
        parts.append(listed + (f" (sha256 {claims_sha256})" if claims_sha256 else ""))
    if not parts:
        return "every line (no slice)"
    return "only lines with " + "; ".join(parts) + "; the others are counted as skipped"


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k} {_text(v)}" for k, v in value.items()) or "none"
    return "none" if value is None or value == "" else str(value)


def run_rows(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's facts as (field, value) rows in words: ids, times, options, slice, command line, versions."""
    options = manifest.get("options") or {}
    layout = manifest.get("layout")
    timings = manifest.get("timings") or {}
    rows: list[tuple[str, Any]] = [
        ("run id", manifest.get("run_id")),
        ("started", manifest.get("started_at")),
        ("finished", manifest.get("finished_at")),
        ("layout", f"{layout} (given with --layout)" if options.get("layout") else f"{layout} (detected)"),
        ("slice", slice_text(options.get("slice"), manifest.get("claims_file_sha256"))),
        ("rules as of (--rules-as-of)", manifest.get("rules_as_of") or "every published policy row (latest)"),
        ("rule tables", options.get("rules_dir") or "the shipped rules/ folder"),
        ("benefit plans", options.get("plans") or "the rule tables' plans.csv"),
        ("payer set on every line (--payer)", options.get("payer") or "none: each line's own payer_id"),
        ("inputs as given", _text(options.get("inputs"))),
        ("output folder", options.get("out")),
        ("working directory", options.get("cwd")),
    ]
    rows += [(name.replace("_", " "), _text(value)) for name, value in options.items() if name not in _SHOWN]
    rows += [
        ("command line", " ".join(options.get("command_line") or []) or None),
        ("timings", ", ".join(f"{k.removesuffix('_s')} {v} s" for k, v in timings.items()) or None),
        ("versions", ", ".join(f"{k} {v}" for k, v in (manifest.get("versions") or {}).items()) or None),
    ]
    return [{"field": k, "value": v} for k, v in rows if v is not None]


INPUT_COLUMNS: Final[list[Column]] = [
    ("path", "input", "code"),
    ("bytes", "bytes", "int"),
    ("sha256", "sha256", "code"),
    ("read", "read", "int"),
    ("results", "results", "int"),
    ("rejects", "rejects", "int"),
    ("skipped", "skipped", "int"),
    ("reconciled", "read = results + rejects + skipped", "bool"),
]


#: the envelope defects of 837P inputs, one row per defect (the manifest's inputs[].envelope_defects)
ENVELOPE_COLUMNS = [
    ("path", "file", "code"),
    ("segment", "segment", "int"),
    ("text", "as written", "code"),
    ("problem", "what is wrong", "text"),
]


def audit_section(manifest: dict[str, Any]) -> str:
    """The audit trail, collapsed: what was run, on what bytes, under which rule tables."""
    about = table("run", [("field", "", "text"), ("value", "", "text")], run_rows(manifest))
    inputs = table(
        "inputs",
        INPUT_COLUMNS,
        manifest.get("inputs") or [],
        row_class=lambda r: "" if r["reconciled"] else "bad",
    )
    rules = table(
        "rules",
        [("name", "rule table", "text"), ("path", "path", "code"), ("sha256", "sha256", "code")],
        [{"name": name, **entry} for name, entry in (manifest.get("rules") or {}).items()],
    )
    defects = [
        {"path": entry.get("path"), **defect}
        for entry in manifest.get("inputs") or []
        for defect in entry.get("envelope_defects") or []
    ]
    envelope = (
        "<h3>X12 envelope defects (read past: every service line was read)</h3>"
        + table("envelope-defects", ENVELOPE_COLUMNS, defects)
        if defects
        else ""
    )
    found = sum(entry.get("envelope_defects_found", 0) for entry in manifest.get("inputs") or [])
    files = len(manifest.get("inputs") or [])
    return _section(
        "Audit trail",
        f"<details><summary>the run {_esc(manifest.get('run_id'))}: its options and slice, {files} input file(s) "
        + (f"({found} X12 envelope defect(s)) " if found else "")
        + "with sizes, checksums and reconciliation, the rule tables' checksums</summary>",
        "<h3>The run</h3>",
        about,
        "<h3>Inputs and reconciliation</h3>",
        inputs,
        envelope,
        "<h3>Rule and plan tables</h3>",
        rules,
        "</details>",
        ident=AUDIT,
        klass="audit",
    )


__all__ = ["AUDIT", "ENVELOPE_COLUMNS", "INPUT_COLUMNS", "audit_section", "run_rows", "slice_text"]
