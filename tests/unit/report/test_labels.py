"""Plain-language labels (issue 24): every determination and reason, and every row check, has one; the reports
show it next to its code."""

from __future__ import annotations

import pytest

from adjudicator.contract import DETERMINATIONS
from adjudicator.engine.checks import CHECKS, DUPLICATE_KEY
from adjudicator.report.labels import LABELS, NO_REASON, label, labelled
from adjudicator.rules.schemas import REASONS


@pytest.mark.parametrize("code", [*DETERMINATIONS, *REASONS])
def test_every_determination_and_reason_has_a_label_in_the_table(code: str) -> None:
    assert code in LABELS
    assert LABELS[code].strip() and LABELS[code] != code
    assert labelled(code) == f"{LABELS[code]} ({code})"


@pytest.mark.parametrize("check", [DUPLICATE_KEY, *(c.name for c in CHECKS)])
def test_every_row_check_reads_as_words(check: str) -> None:
    assert label(check) != check
    assert "_" not in label(check)
    assert labelled(check).endswith(f" ({check})")


def test_the_issues_example_and_codes_without_a_label() -> None:
    assert labelled("BENEFIT_EXCLUSION") == "Benefit exclusion (BENEFIT_EXCLUSION)"
    assert labelled("NO_NMN_EXCLUSION_IN_PLAN").endswith("(NO_NMN_EXCLUSION_IN_PLAN)")
    # a result line without a reason (NO_ACTION), and a code this version does not know
    assert labelled(None) == label(None) == NO_REASON
    assert labelled("SOME_NEW_CODE") == "SOME_NEW_CODE"
    assert label("missing_plan_id") == "Missing plan id"
