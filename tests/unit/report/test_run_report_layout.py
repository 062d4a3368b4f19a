"""The run report's layout (issue 24), rendered from made-up manifests: the order an analyst reads it, a table of
contents whose links resolve, flagged-only charts, dollar axes, the trend's grain and extent, readable slices,
and the top claims' context columns when a manifest has them."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal
from typing import Any

import pytest

from adjudicator.report.charts import DOLLAR_AXIS
from adjudicator.report.run_audit import slice_text
from adjudicator.report.run_flagged import MONTHLY_BARS, trend_periods, trend_spec
from adjudicator.report.run_report import render_run_report, top_claim_columns
from tests.support.report_page import AnalystPage, aria_fields

_RESULT_ROWS = [
    ("2019-01", "AETNA", "P1", "NOT_MEDICALLY_NECESSARY", "NOT_MEDICALLY_NECESSARY", 2, "300.00"),
    ("2019-01", "AETNA", None, "NO_ACTION", None, 50, "90000.00"),
    ("2019-03", "CAM", "P2", "BENEFIT_PLAN_REVIEW", "BENEFIT_EXCLUSION", 3, "450.00"),
    ("2019-04", "CAM", None, "NO_ACTION", None, 40, "70000.00"),
]


def made_up_manifest() -> dict[str, Any]:
    """A small manifest of the shape ``adjudicate run`` writes, where NO_ACTION holds most of the dollars."""

    def summed(keys: tuple[int, ...], names: tuple[str, ...]) -> list[dict[str, Any]]:
        out: dict[tuple[Any, ...], list[Any]] = {}
        for row in _RESULT_ROWS:
            entry = out.setdefault((*(row[k] for k in keys), row[3]), [0, Decimal("0.00")])
            entry[0] += row[5]
            entry[1] += Decimal(row[6])
        return [
            {**dict(zip(names, k[:-1], strict=True)), "determination": k[-1], "lines": n, "billed_amount": str(b)}
            for k, (n, b) in sorted(out.items(), key=str)
        ]

    return {
        "run_id": "r1",
        "started_at": "2026-01-01T00:00:00+00:00",
        "finished_at": "2026-01-01T00:00:01+00:00",
        "layout": "canonical",
        "options": {
            "inputs": ["claims.csv"],
            "out": "out",
            "rules_dir": None,
            "plans": None,
            "layout": None,
            "payer": None,
            "rules_as_of": None,
            "slice": {"service_from": "2019-01-01", "service_to": None, "only_payers": ["AETNA", "CAM"]},
            "command_line": ["adjudicate", "run", "claims.csv"],
            "cwd": "/tmp",
        },
        "inputs": [
            {"path": "claims.csv", "bytes": 10, "sha256": "ab" * 32, "read": 97, "results": 95, "rejects": 2}
            | {"skipped": 0, "reconciled": True}
        ],
        "rules": {"plans.csv": {"path": "/r/plans.csv", "sha256": "cd" * 32}},
        "rules_as_of": None,
        "claims_file_sha256": None,
        "counts": {
            "read": 97,
            "results": 95,
            "rejects": 2,
            "skipped": 0,
            "reconciled": True,
            "by_determination": {"BENEFIT_PLAN_REVIEW": 3, "NOT_MEDICALLY_NECESSARY": 2, "NO_ACTION": 90},
            "by_reason": [
                {"determination": d, "reason": r, "lines": n, "billed_amount": str(b)}
                for d, r, n, b in (
                    ("BENEFIT_PLAN_REVIEW", "BENEFIT_EXCLUSION", 3, "450.00"),
                    ("NOT_MEDICALLY_NECESSARY", "NOT_MEDICALLY_NECESSARY", 2, "300.00"),
                    ("NO_ACTION", None, 90, "160000.00"),
                )
            ],
            "rejects_by_check": {"duplicate_key": 2},
            "flagged_lines": 5,
            "flagged_billed_amount": "750.00",
        },
        "versions": {"python": "3.11"},
        "summary": {
            "by_month": summed((0,), ("month",)),
            "by_payer": summed((1,), ("payer_id",)),
            "by_policy": [{**r, "policy_version": r["policy_id"] and "v1"} for r in summed((2,), ("policy_id",))],
            "edits": [{"edit": "ADDON_WITHOUT_PRIMARY", "lines": 1, "billed_amount": "150.00"}],
            "reject_examples": {"duplicate_key": []},
            "top_claims": [
                {"claim_id": "C1", "flagged_lines": 2, "flagged_billed_amount": "300.00"},
                {"claim_id": "C2", "flagged_lines": 3, "flagged_billed_amount": "450.00"},
            ],
        },
    }


@pytest.fixture(scope="module")
def page() -> AnalystPage:
    return AnalystPage(render_run_report(made_up_manifest()))


def test_sections_come_in_the_order_an_analyst_reads_them(page: AnalystPage) -> None:
    assert page.sections == [
        "headline",
        "determinations",
        "trend",
        "payers",
        "policies",
        "line-edits",
        "claims",
        "rejects",
        "audit",
    ]
    assert page.ids[0] == "contents", "the table of contents comes first"


def test_every_table_of_contents_link_resolves_to_one_element(page: AnalystPage) -> None:
    assert page.contents == [f"#{s}" for s in page.sections]
    assert len(page.all_ids) == len(set(page.all_ids)), "an element id is repeated"
    for link in page.links:
        assert link.startswith("#") and link[1:] in page.ids, link


def test_the_audit_trail_is_last_and_collapsed_and_the_finding_is_not(page: AnalystPage) -> None:
    for audit in ("run", "inputs", "rules"):
        assert page.collapsed[audit], audit
    for finding in ("by-determination", "by-reason", "flagged-by-payer", "flagged-by-policy", "top-claims"):
        assert not page.collapsed[finding], finding
    # NO_ACTION's rows stay in tables, one click away
    assert page.collapsed["by-payer"] and page.collapsed["by-month"]


def test_headline_cards_hold_totals_and_the_flagged_share(page: AnalystPage) -> None:
    manifest = made_up_manifest()
    assert page.figures["count-read"] == "97"
    assert page.figures["count-billed"] == "160750.00"
    assert page.figures["count-flagged-lines"] == "5"
    assert page.figures["count-flagged-billed"] == manifest["counts"]["flagged_billed_amount"]
    assert float(page.figures["count-flagged-share"]) == pytest.approx(750 / 160750, abs=1e-6)
    assert page.figures["count-rejects"] == "2" and page.figures["count-reconciled"] == "true"


def test_determinations_carry_plain_labels_next_to_their_codes() -> None:
    text = render_run_report(made_up_manifest())
    assert "Benefit exclusion (BENEFIT_EXCLUSION)" in text
    assert "Not medically necessary (NOT_MEDICALLY_NECESSARY)" in text
    assert "No action (NO_ACTION)" in text


@pytest.mark.parametrize("chart", ["by-reason", "flagged-trend", "flagged-by-payer", "flagged-by-policy"])
def test_flagged_charts_draw_flagged_lines_only(page: AnalystPage, chart: str) -> None:
    assert page.marks[chart], f"{chart} drew no marks"
    determinations = {aria_fields(m)["determination"] for m in page.marks[chart]}
    assert determinations == {"BENEFIT_PLAN_REVIEW", "NOT_MEDICALLY_NECESSARY"}, chart
    assert not any("NO_ACTION" in t for t in [*page.texts[chart], *page.legends[chart]]), chart


def test_dollar_axes_read_in_millions_and_billions() -> None:
    manifest = made_up_manifest()
    for row in manifest["summary"]["by_payer"]:
        row["billed_amount"] = str(Decimal(row["billed_amount"]) * 10_000_000)  # billions flagged
    page = AnalystPage(render_run_report(manifest))
    labels = [t for t in page.texts["flagged-by-payer"] if t.startswith("$")]
    assert labels and any(t.endswith("B") for t in labels), labels
    assert not any(t.endswith("G") for t in labels), labels
    assert DOLLAR_AXIS["format"] == "$.2s"


def test_trend_names_its_grain_and_its_axis_ends_at_the_data() -> None:
    assert trend_periods(["2019-11", "2020-02"]) == ("month", ["2019-11", "2019-12", "2020-01", "2020-02"])
    grain, periods = trend_periods(["1995-01", "2027-03"])
    assert grain == "year" and periods[0] == "1995" and periods[-1] == "2027" and len(periods) == 33
    assert trend_periods([f"2000-{m:02d}" for m in (1, 12)] + [f"{2000 + MONTHLY_BARS // 12 - 1}-12"])[0] == "month"

    rows = made_up_manifest()["summary"]["by_month"]
    grain, data, spec = trend_spec(rows)
    x = spec["encoding"]["x"]
    assert grain == "month" and x["title"] == "month of service"
    assert x["scale"]["domain"] == ["2019-01", "2019-02", "2019-03", "2019-04"], "no period past the data"
    assert {r["determination"] for r in data} == {"NOT_MEDICALLY_NECESSARY", "BENEFIT_PLAN_REVIEW"}
    assert spec["encoding"]["y"]["axis"] == DOLLAR_AXIS
    page = AnalystPage(render_run_report(made_up_manifest()))
    assert "Flagged dollars by month of service" in render_run_report(made_up_manifest())
    assert page.table_headers["flagged-trend"][0] == "month"


def test_a_trend_over_many_years_says_by_year() -> None:
    manifest = made_up_manifest()
    manifest["summary"]["by_month"][0]["month"] = "1990-01"
    text = render_run_report(manifest)
    assert "Flagged dollars by year of service" in text and 'href="#trend">Trend by year<' in text
    page = AnalystPage(text)
    assert [r["period"] for r in page.tables["flagged-trend"]] == ["1990", "2019"]


def test_slice_and_options_read_as_text_not_json(page: AnalystPage) -> None:
    shown = {r["field"]: r["value"] for r in page.tables["run"]}
    assert shown["slice"] == (
        "only lines with dates of service on or after 2019-01-01; payers AETNA, CAM; the others are counted as skipped"
    )
    assert shown["layout"] == "canonical (detected)"
    assert not any(v.lstrip().startswith(("{", "[")) for v in shown.values()), shown
    assert slice_text(None) == slice_text({"only_payers": []}) == "every line (no slice)"
    assert slice_text({"service_from": "2020-01-01", "service_to": "2020-12-31", "claims_file": "ids.txt"}, "ef") == (
        "only lines with dates of service 2020-01-01 to 2020-12-31; the claims listed in ids.txt (sha256 ef); "
        "the others are counted as skipped"
    )


def test_top_claims_show_the_context_a_manifest_has() -> None:
    old = made_up_manifest()
    assert [c[0] for c in top_claim_columns(old["summary"]["top_claims"])] == [
        "claim_id",
        "flagged_lines",
        "flagged_billed_amount",
    ]
    new = copy.deepcopy(old)
    context = {
        "payer_id": "AETNA",
        "member_id": "M1",
        "first_service_date": "2019-01-02",
        "last_service_date": "2019-01-09",
        "determinations": ["NOT_MEDICALLY_NECESSARY"],
        "reasons": ["NOT_MEDICALLY_NECESSARY", "BENEFIT_EXCLUSION"],
        "policy_ids": ["P1"],
    }
    for row in new["summary"]["top_claims"]:
        row.update(context)
    page = AnalystPage(render_run_report(new))
    assert page.table_headers["top-claims"] == [
        "claim",
        "flagged lines",
        "flagged billed",
        "payer",
        "member",
        "first date of service",
        "last date of service",
        "determinations",
        "reasons",
        "policy ids",
    ]
    first = page.tables["top-claims"][0]
    assert first["payer_id"] == "AETNA" and first["first_service_date"] == "2019-01-02"
    assert json.loads(first["reasons"]) == context["reasons"]
    assert "NOT_MEDICALLY_NECESSARY, BENEFIT_EXCLUSION" in render_run_report(new)


def test_an_unreconciled_run_says_so_under_the_headline() -> None:
    manifest = made_up_manifest()
    manifest["counts"]["reconciled"] = False
    text = render_run_report(manifest)
    assert 'class="alert"' in text and 'id="count-reconciled" class="bad"' in text
    assert text.index('class="alert"') < text.index('id="determinations"')


def test_headline_dollars_in_the_billions_are_short_and_exact_below() -> None:
    manifest = made_up_manifest()
    manifest["counts"]["flagged_billed_amount"] = "12345678901.23"
    text = render_run_report(manifest)
    card = re.search(r'id="count-flagged-billed" data-value="([^"]+)">([^<]+)<', text)
    assert card is not None and card.groups() == ("12345678901.23", "$12.35B")
    assert "$12,345,678,901.23" in text
