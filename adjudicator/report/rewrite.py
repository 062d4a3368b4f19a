"""``adjudicate report``: (re)write the report of an existing run folder or diff folder from its JSON."""

from __future__ import annotations

import json
from pathlib import Path

from adjudicator.errors import InputError
from adjudicator.publish.manifest import DIFF_SUMMARY, MANIFEST
from adjudicator.report.diff_report import write_diff_report
from adjudicator.report.run_report import write_run_report


def rewrite_report(folder: Path) -> Path:
    """(Re)write report.html of an existing run folder (manifest.json) or diff folder (summary.json)."""
    folder = Path(folder)
    for name, write in ((MANIFEST, write_run_report), (DIFF_SUMMARY, write_diff_report)):
        path = folder / name
        if path.is_file():
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise InputError(f"cannot be read as JSON: {exc}", path=path) from None
            if not isinstance(document, dict):
                raise InputError(f"is not an adjudicator {name}", path=path)
            return write(folder, document)
    if not folder.is_dir():
        raise InputError("folder not found", path=folder)
    raise InputError(f"has neither {MANIFEST} (a run) nor {DIFF_SUMMARY} (a diff)", path=folder)


__all__ = ["rewrite_report"]
