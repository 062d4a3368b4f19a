"""The diff report leads with what moved: the matrix's off-diagonal cells are highlighted and its diagonal is
de-emphasised, verdict changes come before metadata-only ones, and a summary written before these sections
still draws."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from adjudicator.report.diff_report import MOVED_CELL, SAME_CELL, lines_compared_sentence, render_diff_report


class _Cells(HTMLParser):
    """The matrix tables' cells (their classes and data-* values), the headline's ids, the sections in order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.cells: dict[str, list[dict[str, str]]] = {}
        self.figures: dict[str, str] = {}
        self.sections: list[str] = []
        self._table: str | None = None
        self._h2 = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = found.get("id")
        elif tag == "td" and self._table and "data-old" in found:
            self.cells.setdefault(self._table, []).append(found)
        elif tag == "dd" and "id" in found:
            self.figures[found["id"]] = found["data-value"]
        elif tag == "h2":
            self._h2 = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "h2":
            self._h2 = False

    def handle_data(self, data: str) -> None:
        if self._h2:
            self.sections.append(data)


def _cell(old: str, new: str, lines: int, billed: str) -> dict[str, Any]:
    return {"old_determination": old, "new_determination": new, "lines": lines, "billed_amount": billed}


NMN, BPR, NO = "NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW", "NO_ACTION"
OLD_SUMMARY: dict[str, Any] = {
    "old": {"path": "out/night", "run_id": "a"},
    "new": {"path": "out/revised", "run_id": "b"},
    "totals": {"lines_compared": 131, "changed": 6, "unchanged": 125},
    "by_change_kind": {"changed": 5, "only_in_old": 0, "only_in_new": 1, "rejected_in_old": 0, "rejected_in_new": 0},
    "changed_fields": {"determination": 4, "policy_end_date": 1},
    "matrix": [
        _cell(NMN, NMN, 23, "3175.00"),
        _cell(NMN, BPR, 4, "620.00"),
        _cell(BPR, BPR, 104, "16485.00"),
        _cell("(absent)", NO, 1, "10.00"),
    ],
    "top_reason_changes": [
        {"old_reason": NMN, "new_reason": "BENEFIT_EXCLUSION", "lines": 4, "billed_amount": "620.00"},
        {"old_reason": "(absent)", "new_reason": None, "lines": 1, "billed_amount": "10.00"},
    ],
    "unkeyed_rejects": {"old": 0, "new": 0},
}
SUMMARY: dict[str, Any] = {
    **OLD_SUMMARY,
    "by_change_class": {
        "verdict_changed": {"lines": 5, "billed_amount": "630.00"},
        "metadata_only": {"lines": 1, "billed_amount": "180.00"},
    },
    "metadata_only_changes": [
        {"determination": NMN, "reason": NMN, "fields": ["policy_end_date"], "lines": 1, "billed_amount": "180.00"}
    ],
    "net_by_determination": [
        {
            "determination": NMN,
            "old_lines": 27,
            "new_lines": 23,
            "net_lines": -4,
            "old_billed_amount": "3795.00",
            "new_billed_amount": "3175.00",
            "net_billed_amount": "-620.00",
        }
    ],
    "rule_tables": {"compared": True, "tables": 7, "differ": []},
    "reconciliation": {
        "old": {
            "read": 131,
            "skipped": 0,
            "outside_other_slice": 0,
            "unkeyed_rejects": 0,
            "duplicate_copies": 1,
            "keys": 130,
        },
        "new": {
            "read": 132,
            "skipped": 0,
            "outside_other_slice": 0,
            "unkeyed_rejects": 0,
            "duplicate_copies": 1,
            "keys": 131,
        },
        "in_both": 130,
        "only_in_old": 0,
        "only_in_new": 1,
        "lines_compared": 131,
    },
}


def test_the_matrix_highlights_the_cells_that_moved_and_de_emphasises_the_diagonal() -> None:
    page = _Cells(render_diff_report(SUMMARY, None))
    for table in ("matrix-lines", "matrix-billed"):
        cells = page.cells[table]
        assert len(cells) == len(SUMMARY["matrix"])
        for cell in cells:
            classes = cell["class"].split()
            moved = cell["data-old"] != cell["data-new"]
            assert (MOVED_CELL in classes) == moved and (SAME_CELL in classes) == (not moved), cell
        assert {(c["data-old"], c["data-new"]) for c in cells if MOVED_CELL in c["class"].split()} == {
            (NMN, BPR),
            ("(absent)", NO),
        }


def test_the_report_leads_with_what_moved_and_ends_with_the_runs_compared() -> None:
    page = _Cells(render_diff_report(SUMMARY, None))
    assert page.sections == [
        "Rule tables that differ",
        "Old x new determination: lines and billed dollars",
        "Net dollars by determination",
        "Top reason changes",
        "Only the policy metadata changed",
        "The runs compared",
    ]
    assert page.figures["count-verdict-changed"] == "5"
    assert page.figures["count-metadata-only"] == "1"


def test_a_summary_written_before_the_new_sections_still_draws() -> None:
    page = _Cells(render_diff_report(OLD_SUMMARY, None))
    assert "Net dollars by determination" not in page.sections
    assert "Top reason changes" in page.sections
    assert "count-verdict-changed" not in page.figures
    assert len(page.cells["matrix-lines"]) == len(OLD_SUMMARY["matrix"])


def test_the_lines_compared_sentence_names_every_reason_with_its_number() -> None:
    assert lines_compared_sentence(SUMMARY["reconciliation"]) == (
        "131 lines compared: the old run read 131, less 1 extra copy of a duplicated key (each key counted once), "
        "leaving 130; the new run read 132, less 1 extra copy of a duplicated key (each key counted once), leaving "
        "131; 130 in both runs, 1 in the new run only."
    )
    same = {"read": 262, "skipped": 0, "outside_other_slice": 0, "unkeyed_rejects": 0, "duplicate_copies": 0}
    both = {"old": {**same, "keys": 262}, "new": {**same, "keys": 262}}
    assert lines_compared_sentence(
        {**both, "in_both": 262, "only_in_old": 0, "only_in_new": 0, "lines_compared": 262}
    ) == ("262 lines compared: each run read 262; 262 in both runs.")
