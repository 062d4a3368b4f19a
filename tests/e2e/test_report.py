"""The HTML report (issue 12): its numbers are the manifest's, it is one offline file, and a real browser draws it.

The page is checked by parsing it (the ``data-*`` attributes of its tables and
headline figures), never by asking the code that wrote it. The summary it draws
is checked against the Parquet outputs by plain Python, and against itself
computed batch by batch.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.cli import main
from adjudicator.contract import CANONICAL_COLUMNS, SOURCE_FILE
from adjudicator.diff.runs import CHANGES, SUMMARY
from adjudicator.engine.summary import (
    extended_summary,
    finish_summary,
    merge_summary_parts,
    summary_parts,
)
from adjudicator.errors import EXIT_BAD_INPUT, EXIT_OK
from adjudicator.publish.manifest import MANIFEST, REJECTS, REPORT, RESULTS
from tests.browser import find_chromium, visit
from tests.helpers import ROOT, SAMPLE

pytestmark = pytest.mark.e2e

REVISION = ROOT / "sample_claims" / "example_revision.csv"


# ------------------------------------------------------------------------------------------
# Reading the page back
# ------------------------------------------------------------------------------------------


class ReportPage(HTMLParser):
    """What a report shows, read from its markup: tables' rows (their data-* values), figures, charts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[dict[str, str]]] = {}
        self.examples: dict[str, list[dict[str, str]]] = {}
        self.cells: dict[str, list[dict[str, str]]] = defaultdict(list)
        self.figures: dict[str, str] = {}
        self.charts: dict[str, int] = {}
        self.table_attrs: dict[str, dict[str, str]] = {}
        self._rows: list[dict[str, str]] | None = None
        self._table: str | None = None
        self._chart: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        data = {k[5:]: v for k, v in found.items() if k.startswith("data-")}
        if tag == "table":
            self._table = found.get("id")
            self._rows = []
            if self._table:
                self.tables[self._table] = self._rows
                self.table_attrs[self._table] = data
            elif "check" in data:
                self.examples[data["check"]] = self._rows
        elif tag == "tr" and self._rows is not None and data:
            self._rows.append(data)
        elif tag == "td" and self._table and "old" in data:
            self.cells[self._table].append(data)
        elif tag == "dd" and "id" in found:
            self.figures[found["id"]] = found["data-value"]
        elif tag == "figure" and "chart" in data:
            self._chart = data["chart"]
            self.charts[self._chart] = 0
        elif tag == "svg" and self._chart is not None:
            self.charts[self._chart] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._rows, self._table = None, None
        elif tag == "figure":
            self._chart = None


def _page(folder: Path) -> ReportPage:
    return ReportPage((folder / REPORT).read_text(encoding="utf-8"))


def _as_text(row: dict[str, Any], keys: list[str]) -> dict[str, str]:
    """A manifest row as the page's data-* attributes hold it: text, and no attribute for a null."""
    return {k: str(row[k]) for k in keys if row[k] is not None}


def _run(out: Path, *extra: str) -> dict[str, Any]:
    assert main(["run", str(SAMPLE), "--out", str(out), "--quiet", *extra]) == EXIT_OK
    manifest: dict[str, Any] = json.loads((out / MANIFEST).read_text())
    return manifest


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's retroactive revision: last night's run, the revised run, and the diff between them."""
    base = tmp_path_factory.mktemp("report")
    _run(base / "night")
    rules = base / "rules-revised"
    shutil.copytree(ROOT / "rules", rules)
    with (rules / "medical_policies.csv").open("a") as f:
        f.write(REVISION.read_text())
    _run(base / "revised", "--rules", str(rules))
    assert (
        main(["diff", str(base / "night"), str(base / "revised"), "--out", str(base / "what-changed"), "--quiet"])
        == EXIT_OK
    )
    return base


# ------------------------------------------------------------------------------------------
# The summary the report draws
# ------------------------------------------------------------------------------------------


def _money(values: list[Any]) -> str:
    return str(sum((Decimal(str(v)) for v in values), Decimal("0.00")))


def test_summary_pieces_equal_sums_over_the_written_outputs(runs: Path) -> None:
    """Each piece recomputed in plain Python from results.parquet and rejects.parquet."""
    manifest = json.loads((runs / "night" / MANIFEST).read_text())
    summary = manifest["summary"]
    results = pl.read_parquet(runs / "night" / RESULTS).to_dicts()
    rejects = pl.read_parquet(runs / "night" / REJECTS).to_dicts()

    def summed(key: Any) -> dict[Any, tuple[int, str]]:
        groups: dict[Any, list[Any]] = defaultdict(list)
        for r in results:
            groups[key(r)].append(r["billed_amount"])
        return {k: (len(v), _money(v)) for k, v in groups.items()}

    pieces = {
        "by_month": (["month", "determination"], lambda r: (r["service_date"].strftime("%Y-%m"), r["determination"])),
        "by_payer": (["payer_id", "determination"], lambda r: (r["payer_id"], r["determination"])),
        "by_policy": (
            ["policy_id", "policy_version", "determination"],
            lambda r: (r["policy_id"], r["policy_version"], r["determination"]),
        ),
    }
    for name, (keys, key) in pieces.items():
        got = {tuple(row[k] for k in keys): (row["lines"], row["billed_amount"]) for row in summary[name]}
        assert got == summed(key), name
        assert len(got) == len(summary[name]), f"{name} repeats a key"
    edits: dict[str, list[Any]] = defaultdict(list)
    for r in results:
        for edit in r["edits"]:
            edits[edit].append(r["billed_amount"])
    assert {e["edit"]: (e["lines"], e["billed_amount"]) for e in summary["edits"]} == {
        k: (len(v), _money(v)) for k, v in edits.items()
    }
    assert len(summary["edits"]) == 2

    claims: dict[str, list[Any]] = defaultdict(list)
    for r in results:
        if r["determination"] != "NO_ACTION":
            claims[r["claim_id"]].append(r["billed_amount"])
    ranked = sorted(claims.items(), key=lambda kv: (-sum(kv[1]), kv[0]))[:10]
    # the claims' context (payer, member, dates, determinations, reasons): tests/e2e/test_top_claims_context.py
    sums = ("claim_id", "flagged_lines", "flagged_billed_amount")
    assert [{k: r[k] for k in sums} for r in summary["top_claims"]] == [
        {"claim_id": c, "flagged_lines": len(v), "flagged_billed_amount": _money(v)} for c, v in ranked
    ]

    first: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rejects:
        for check in r["failed_checks"]:
            if len(first[check]) < 3:
                first[check].append({c: r[c] for c in (*CANONICAL_COLUMNS, SOURCE_FILE)})
    assert summary["reject_examples"] == dict(first)
    assert set(first) == set(manifest["counts"]["rejects_by_check"])


def test_summary_agrees_with_the_manifests_counts(runs: Path) -> None:
    manifest = json.loads((runs / "night" / MANIFEST).read_text())
    counts, summary = manifest["counts"], manifest["summary"]
    for name in ("by_month", "by_payer", "by_policy"):
        assert sum(r["lines"] for r in summary[name]) == counts["results"], name
        flagged = [r for r in summary[name] if r["determination"] != "NO_ACTION"]
        assert _money([r["billed_amount"] for r in flagged]) == counts["flagged_billed_amount"], name
        by_determination: dict[str, int] = defaultdict(int)
        for r in summary[name]:
            by_determination[r["determination"]] += r["lines"]
        assert by_determination == counts["by_determination"], name


@pytest.mark.parametrize("batches", [1, 2, 7])
def test_summary_merged_over_batches_equals_the_whole(runs: Path, batches: int) -> None:
    """Every piece is a decomposable aggregate: summing batches' partials gives the whole run's summary."""
    results = pl.read_parquet(runs / "night" / RESULTS)
    rejects = pl.read_parquet(runs / "night" / REJECTS)
    whole = extended_summary(results.lazy(), rejects.lazy())
    parts = []
    for i in range(batches):
        r_lo, r_hi = results.height * i // batches, results.height * (i + 1) // batches
        j_lo, j_hi = rejects.height * i // batches, rejects.height * (i + 1) // batches
        queries = summary_parts(results[r_lo:r_hi].lazy(), rejects[j_lo:j_hi].lazy(), row_offset=j_lo)
        parts.append({name: q.collect() for name, q in queries.items()})
    assert finish_summary(merge_summary_parts(parts)) == whole


def test_summary_of_an_empty_run_is_empty_lists(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(SAMPLE.read_text().splitlines()[0] + "\n")
    assert main(["run", str(empty), "--out", str(tmp_path / "out"), "--quiet"]) == EXIT_OK
    summary = json.loads((tmp_path / "out" / MANIFEST).read_text())["summary"]
    assert summary == {
        "by_month": [],
        "by_payer": [],
        "by_policy": [],
        "edits": [],
        "reject_examples": {},
        "top_claims": [],
    }
    page = _page(tmp_path / "out")
    assert page.figures["count-read"] == "0" and page.charts == {}


# ------------------------------------------------------------------------------------------
# The run report
# ------------------------------------------------------------------------------------------


def test_run_report_numbers_are_the_manifests(runs: Path) -> None:
    manifest = json.loads((runs / "night" / MANIFEST).read_text())
    counts, summary = manifest["counts"], manifest["summary"]
    page = _page(runs / "night")
    for key in ("read", "results", "rejects", "skipped", "flagged_lines"):
        assert page.figures[f"count-{key.replace('_', '-')}"] == str(counts[key]), key
    assert page.figures["count-flagged-billed"] == counts["flagged_billed_amount"]
    assert page.figures["count-reconciled"] == "true"

    amounts = ["lines", "billed_amount"]
    assert page.tables["by-reason"] == [_as_text(r, ["determination", "reason", *amounts]) for r in counts["by_reason"]]
    assert page.tables["inputs"] == [
        {
            **_as_text(i, ["path", "bytes", "sha256", "read", "results", "rejects", "skipped"]),
            "reconciled": json.dumps(i["reconciled"]),
        }
        for i in manifest["inputs"]
    ]
    assert {r["path"]: r["sha256"] for r in page.tables["rules"]} == {
        r["path"]: r["sha256"] for r in manifest["rules"].values()
    }
    assert page.tables["rejects-by-check"] == [
        {"check": k, "lines": str(v)} for k, v in counts["rejects_by_check"].items()
    ]
    keyed = {
        "by-month": ["month", "determination"],
        "by-payer": ["payer_id", "determination"],
        "by-policy": ["policy_id", "policy_version", "determination"],
        "edits": ["edit"],
    }
    for table_id, keys in keyed.items():
        rows = summary[table_id.replace("-", "_")]
        assert page.tables[table_id] == [_as_text(r, [*keys, *amounts]) for r in rows], table_id
    # every key of the manifest's rows, the claims' context included (lists as the page holds them: JSON)
    assert page.tables["top-claims"] == [
        {k: json.dumps(v) if isinstance(v, list) else str(v) for k, v in r.items() if v is not None}
        for r in summary["top_claims"]
    ]
    assert {"payer_id", "member_id", "determinations", "reasons"} <= set(page.tables["top-claims"][0])
    columns = [*CANONICAL_COLUMNS, SOURCE_FILE]
    assert page.examples == {
        check: [_as_text(r, columns) for r in rows] for check, rows in summary["reject_examples"].items()
    }
    # the sums the page shows add up to the manifest's totals
    assert sum(int(r["lines"]) for r in page.tables["by-month"]) == counts["results"]
    assert (
        _money([r["billed_amount"] for r in page.tables["by-payer"] if r["determination"] != "NO_ACTION"])
        == counts["flagged_billed_amount"]
    )
    # issue 24: the trend, payer and policy charts draw flagged lines only (tests/e2e/test_analyst_report.py)
    assert set(page.charts) == {
        "by-reason",
        "flagged-trend",
        "flagged-by-payer",
        "flagged-by-policy",
        "edits",
        "rejects-by-check",
        "top-claims",
    }
    assert all(n == 1 for n in page.charts.values())


def test_report_is_one_file_that_fetches_nothing(runs: Path) -> None:
    for folder in ("night", "what-changed"):
        text = (runs / folder / REPORT).read_text()
        lowered = text.lower()
        for needle in ("<script", "<link", "<iframe", "<img", "@import", "src=", "url(http", 'href="http'):
            assert needle not in lowered, f"{folder}: {needle}"
        assert "default-src 'none'" in text
        # the only absolute URLs are SVG's namespace names, which are never fetched
        urls = set(re.findall(r"[a-z]+://[^\"' )<>]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_report_is_built_from_the_manifest_alone(runs: Path, tmp_path: Path) -> None:
    """`adjudicate report` on a folder holding only manifest.json writes the very bytes the run wrote."""
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(runs / "night" / MANIFEST, alone / MANIFEST)
    assert main(["report", str(alone), "--quiet"]) == EXIT_OK
    assert (alone / REPORT).read_bytes() == (runs / "night" / REPORT).read_bytes()


def test_report_command_rewrites_a_diff_report(runs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "what-changed"
    shutil.copytree(runs / "what-changed", copy)
    (copy / REPORT).unlink()
    assert main(["report", str(copy), "--quiet"]) == EXIT_OK
    assert (copy / REPORT).read_bytes() == (runs / "what-changed" / REPORT).read_bytes()


def test_report_of_a_manifest_without_summary_says_what_is_missing(runs: Path, tmp_path: Path) -> None:
    manifest = json.loads((runs / "night" / MANIFEST).read_text())
    del manifest["summary"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    assert main(["report", str(tmp_path), "--quiet"]) == EXIT_OK
    page = _page(tmp_path)
    assert page.tables["by-reason"] and "by-month" not in page.tables
    assert "before runs kept a summary" in (tmp_path / REPORT).read_text()


def test_a_failed_run_leaves_no_report(tmp_path: Path) -> None:
    """The report is staged with the outputs: a run that fails publishes nothing, report included."""
    bad = tmp_path / "bad.csv"
    bad.write_text("claim_id,line_number\nC1,1\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "out"), "--quiet"]) == EXIT_BAD_INPUT
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------
# The diff report: the README's CAM revision
# ------------------------------------------------------------------------------------------


def test_diff_report_lists_exactly_the_lines_the_cam_revision_moved(runs: Path) -> None:
    night = pl.read_parquet(runs / "night" / RESULTS)
    # what the revision touches, from the README: CAM's 97545/97546 lines judged by the 1996 version
    # (its end date moves to 2019-12-31) and those on or after 2020-01-01 (they move to the new version)
    expected = night.filter(
        (pl.col("payer_id") == "CAM")
        & pl.col("procedure_code").is_in(["97545", "97546"])
        & ((pl.col("policy_id") == "CAM-80306") | (pl.col("service_date") >= dt.date(2020, 1, 1)))
    )
    expected_keys = sorted(zip(expected["claim_id"], expected["line_number"].cast(pl.String), strict=True))
    assert len(expected_keys) == 19
    page = _page(runs / "what-changed")
    shown = sorted((r["claim_id"], r["line_number"]) for r in page.tables["moved-lines"])
    assert shown == expected_keys
    assert page.table_attrs["moved-lines"]["total"] == "19"
    changes = pl.read_parquet(runs / "what-changed" / CHANGES)
    assert sorted(zip(changes["claim_id"], changes["line_number"].cast(pl.String), strict=True)) == expected_keys
    moved_to_exclusion = {
        (r["claim_id"], r["line_number"])
        for r in page.tables["moved-lines"]
        if r["reason"].endswith("→ BENEFIT_EXCLUSION")
    }
    after_2020 = expected.filter(pl.col("service_date") >= dt.date(2020, 1, 1))
    assert {k for k in moved_to_exclusion} <= set(
        zip(after_2020["claim_id"], after_2020["line_number"].cast(pl.String), strict=True)
    )


def test_diff_report_numbers_are_the_diff_summarys(runs: Path) -> None:
    summary = json.loads((runs / "what-changed" / SUMMARY).read_text())
    page = _page(runs / "what-changed")
    assert page.figures["count-changed"] == str(summary["totals"]["changed"]) == "19"
    assert page.figures["count-compared"] == str(summary["totals"]["lines_compared"])
    for table_id, what in (("matrix-lines", "lines"), ("matrix-billed", "billed_amount")):
        assert sorted((c["old"], c["new"], c[what.replace("_", "_")]) for c in page.cells[table_id]) == sorted(
            (m["old_determination"], m["new_determination"], str(m[what])) for m in summary["matrix"]
        ), table_id
    assert page.tables["reason-changes"] == [
        _as_text(r, ["old_reason", "new_reason", "lines", "billed_amount"]) for r in summary["top_reason_changes"]
    ]
    changes = pl.read_parquet(runs / "what-changed" / CHANGES).to_dicts()
    per_claim: dict[str, list[Any]] = defaultdict(list)
    for r in changes:
        per_claim[r["claim_id"]].append(r["billed_amount"])
    ranked = sorted(per_claim.items(), key=lambda kv: (-sum(kv[1]), -len(kv[1]), kv[0]))[:10]
    assert page.tables["moved-claims"] == [
        {"claim_id": c, "moved_lines": str(len(v)), "moved_billed_amount": _money(v)} for c, v in ranked
    ]
    assert set(page.charts) == {"matrix", "reason-changes", "moved-claims"}


# ------------------------------------------------------------------------------------------
# A real browser
# ------------------------------------------------------------------------------------------


def _chromium() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("ADJUDICATOR_REQUIRE_CHROMIUM"):
            pytest.fail("Chromium is required here (ADJUDICATOR_REQUIRE_CHROMIUM) but none was found")
        pytest.skip("headless Chromium not found (apt-get install chromium, or set ADJUDICATOR_CHROMIUM)")
    return binary


@pytest.mark.browser
@pytest.mark.parametrize("folder", ["night", "what-changed"])
def test_report_in_headless_chromium_fetches_nothing_logs_no_error_and_draws_every_chart(
    runs: Path, tmp_path: Path, folder: str
) -> None:
    page = runs / folder / REPORT
    seen = visit(_chromium(), page)
    assert seen.requests == [page.resolve().as_uri()], "the page loaded something besides itself"
    assert seen.errors == []
    expected = _page(runs / folder).charts
    assert [c["name"] for c in seen.charts] == list(expected)
    assert len(expected) >= 3
    for c in seen.charts:
        assert c["width"] > 0 and c["height"] > 0 and c["marks"] > 0, c
    shot = tmp_path / f"{folder}.png"
    shot.write_bytes(seen.screenshot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
