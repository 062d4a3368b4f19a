"""The run report an analyst acts on (issue 24), on whole runs of the sample: the headline and the determinations
are the manifest's, the flagged-only views hold flagged lines alone, the table of contents resolves, the slice
reads as words, and in a real browser the first screen (1,400 x 900) shows the headline cards in one row and the
determinations."""

from __future__ import annotations

import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adjudicator.cli import main
from adjudicator.contract import DETERMINATIONS
from adjudicator.errors import EXIT_OK
from adjudicator.publish.manifest import MANIFEST, REPORT
from tests.browser import find_chromium, visit
from tests.helpers import SAMPLE
from tests.support.report_page import AnalystPage, aria_fields

pytestmark = pytest.mark.e2e

FLAGGED_CHARTS = ("by-reason", "flagged-trend", "flagged-by-payer", "flagged-by-policy")


def _run(out: Path, *extra: str) -> dict[str, Any]:
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet", *extra]) == EXIT_OK
    manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text())
    return manifest


def _page(folder: Path) -> AnalystPage:
    return AnalystPage((folder / REPORT).read_text(encoding="utf-8"))


def _sum(values: list[Any]) -> Decimal:
    return sum((Decimal(str(v)) for v in values), Decimal("0.00"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("analyst") / "sample"
    _run(out)
    return out


def test_headline_cards_and_determination_table_are_the_manifests(sample: Path) -> None:
    manifest = json.loads((sample / MANIFEST).read_text())
    counts = manifest["counts"]
    page = _page(sample)
    billed = _sum([r["billed_amount"] for r in counts["by_reason"]])
    assert page.figures["count-read"] == str(counts["read"])
    assert Decimal(page.figures["count-billed"]) == billed
    assert page.figures["count-flagged-lines"] == str(counts["flagged_lines"])
    assert page.figures["count-flagged-billed"] == counts["flagged_billed_amount"]
    assert float(page.figures["count-flagged-share"]) == pytest.approx(
        float(Decimal(counts["flagged_billed_amount"]) / billed), abs=1e-6
    )
    assert page.figures["count-rejects"] == str(counts["rejects"])
    assert page.figures["count-reconciled"] == json.dumps(counts["reconciled"])

    per_determination: dict[str, Decimal] = defaultdict(Decimal)
    for r in counts["by_reason"]:
        per_determination[r["determination"]] += Decimal(r["billed_amount"])
    rows = page.tables["by-determination"]
    assert [r["determination"] for r in rows] == [d for d in DETERMINATIONS if d in counts["by_determination"]]
    for row in rows:
        d = row["determination"]
        assert int(row["lines"]) == counts["by_determination"][d], d
        assert Decimal(row["billed_amount"]) == per_determination[d], d
        assert float(row["billed_share"]) == pytest.approx(float(per_determination[d] / billed), abs=1e-6)
    assert sum(int(r["lines"]) for r in rows) == counts["results"]


def test_flagged_views_hold_flagged_lines_only_and_add_up_to_the_flagged_totals(sample: Path) -> None:
    counts = json.loads((sample / MANIFEST).read_text())["counts"]
    page = _page(sample)
    for chart in FLAGGED_CHARTS:
        marks = [aria_fields(m) for m in page.marks[chart]]
        assert marks, f"{chart} drew nothing"
        assert {m["determination"] for m in marks} <= {"NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW"}, chart
        assert not any("NO_ACTION" in text for text in page.legends[chart]), chart
    flagged_billed = Decimal(counts["flagged_billed_amount"])
    trend = page.tables["flagged-trend"]
    assert "NO_ACTION" not in {r["determination"] for r in trend}
    assert _sum([r["billed_amount"] for r in trend]) == flagged_billed
    assert sum(int(r["lines"]) for r in trend) == counts["flagged_lines"]
    for table in ("flagged-by-payer", "flagged-by-policy"):
        rows = page.tables[table]
        assert _sum([r["flagged_billed_amount"] for r in rows]) == flagged_billed, table
        assert sum(int(r["flagged_lines"]) for r in rows) == counts["flagged_lines"], table
        assert sum(int(r["lines"]) for r in rows) == counts["results"], table
        ranked = [Decimal(r["flagged_billed_amount"]) for r in rows]
        assert ranked == sorted(ranked, reverse=True), f"{table}: most flagged dollars first"


def test_table_of_contents_links_resolve_and_the_audit_trail_is_last(sample: Path) -> None:
    page = _page(sample)
    assert page.contents and page.contents == [f"#{s}" for s in page.sections]
    for link in page.links:
        assert link[1:] in page.ids, link
    assert len(page.all_ids) == len(set(page.all_ids)), "an element id is repeated"
    assert page.sections[:2] == ["headline", "determinations"] and page.sections[-1] == "audit"
    assert all(page.collapsed[t] for t in ("run", "inputs", "rules"))
    text = (sample / REPORT).read_text()
    # the audit's checksums come after every finding
    assert text.index(json.loads((sample / MANIFEST).read_text())["inputs"][0]["sha256"]) > text.index('id="rejects"')


def test_a_sliced_run_shows_its_slice_in_words(tmp_path: Path) -> None:
    _run(tmp_path / "out", "--service-from", "2010-01-01", "--only-payer", "CAM", "--only-payer", "AETNA")
    shown = {r["field"]: r["value"] for r in _page(tmp_path / "out").tables["run"]}
    assert shown["slice"] == (
        "only lines with dates of service on or after 2010-01-01; payers CAM, AETNA; the others are counted as skipped"
    )
    assert '"service_from"' not in (tmp_path / "out" / REPORT).read_text()


# ------------------------------------------------------------------------------------------
# A real browser: the first screen
# ------------------------------------------------------------------------------------------

FIRST_SCREEN = ("#headline dl.cards > div", "#headline dd", "#determinations", "#by-determination")


def _chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("ADJUDICATOR_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium is required here (ADJUDICATOR_REQUIRE_CHROMIUM) but none was found")
        pytest.skip("headless Chromium not found (apt-get install chromium, or set ADJUDICATOR_CHROMIUM)")
    return binary


def _at_scale(sample: Path, folder: Path) -> Path:
    """The sample's manifest with a 100M-line run's counts (the headline's widest numbers), its report rewritten."""
    manifest = json.loads((sample / MANIFEST).read_text())
    counts = manifest["counts"]
    counts.update(read=123_456_789, results=123_456_000, rejects=789, skipped=0, flagged_lines=98_765_432)
    counts["flagged_billed_amount"] = "9876543210.98"
    for row in counts["by_reason"]:
        row["billed_amount"] = str(Decimal(row["billed_amount"]) * 1_000_000)
    folder.mkdir()
    (folder / MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(folder), "--quiet"]) == EXIT_OK
    return folder / REPORT


@pytest.mark.browser
@pytest.mark.parametrize("size", ["sample", "100M lines"])
def test_first_screen_at_1400_by_900_shows_the_headline_in_one_row_and_the_determinations(
    sample: Path, tmp_path: Path, size: str
) -> None:
    page = sample / REPORT if size == "sample" else _at_scale(sample, tmp_path / "big")
    seen = visit(_chromium(), page, width=1400, viewport_height=900, boxes=FIRST_SCREEN)
    assert seen.errors == []
    cards = seen.boxes["#headline dl.cards > div"]
    assert len(cards) == 7
    rows = {round(c["top"]) for c in cards}
    assert len(rows) == 1, f"the cards wrap onto {len(rows)} rows: {cards}"
    for card in cards:
        assert card["bottom"] <= 900 and card["right"] <= 1400, card
    for figure in seen.boxes["#headline dd"]:
        assert not figure["overflows"], f"a figure does not fit its card: {figure}"
    (section,) = seen.boxes["#determinations"]
    (determinations,) = seen.boxes["#by-determination"]
    assert section["top"] < 900
    assert determinations["bottom"] <= 900, "the determinations table is below the fold"
