"""The history's pure functions (adjudicator/engine/history.py): which rows a night needs, how they join
tonight's lines, that history keys are never flagged, what the history changed, and the rows a night adds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from adjudicator.contract import CLAIM_ID, LINE_NUMBER
from adjudicator.engine.edits import addon_without_primary, units_exceed_limit
from adjudicator.engine.facts import ROW_OK
from adjudicator.engine.history import (
    CLEARED,
    COUNTED,
    FROM_HISTORY,
    MADE_FLAGGED,
    effect_counts,
    effects,
    merged_lines,
    night_rows,
    not_present,
    pruned,
    tonight_only,
    wanted,
)
from adjudicator.rules.compiled import ADDON_EDIT, UNITS_EDIT, CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet

DAY = dt.date(2024, 5, 1)


@pytest.fixture(scope="module")
def compiled(rules: RuleSet) -> CompiledRules:
    return compile_rules(rules)


def tonight(*lines: tuple[str, int, str, str, int]) -> pl.DataFrame:
    """Valid concerned lines as the prepass spills them: (claim, line, member, code, units) on DAY."""
    return pl.DataFrame(
        [
            {
                "claim_id": c,
                "line_number": n,
                "member_id": m,
                "service_date": DAY,
                "procedure_code": code,
                "units": u,
                "payer_id": "HCSC",
                "plan_id": "P",
                "place_of_service": "11",
                ROW_OK: True,
            }
            for c, n, m, code, u in lines
        ]
    )


def history(*lines: tuple[str, int, str, str, int], run: str = "R0") -> pl.DataFrame:
    """History rows (claim, line, member, code, units) on DAY, adjudicated by ``run``."""
    return pl.DataFrame(
        [
            {
                "claim_id": c,
                "line_number": n,
                "member_id": m,
                "payer_id": "HCSC",
                "service_date": DAY,
                "procedure_code": code,
                "units": u,
                "determination": "NO_ACTION",
                "run_id": run,
                "source_file": "earlier.csv",
            }
            for c, n, m, code, u in lines
        ]
    )


def fired_with(night: pl.DataFrame, earlier: pl.DataFrame, compiled: CompiledRules) -> dict[str, list[tuple[str, int]]]:
    """Each edit's keys over tonight and the history, as the prepass finds them."""
    kept = not_present(earlier, night.lazy())
    merged = merged_lines(night.lazy(), kept).collect()
    found = {
        ADDON_EDIT: tonight_only(addon_without_primary(merged, compiled), kept),
        UNITS_EDIT: tonight_only(units_exceed_limit(merged, compiled), kept),
    }
    return {k: sorted(v.select(CLAIM_ID, LINE_NUMBER).rows()) for k, v in found.items()}


CASES: list[tuple[str, list[Any], list[Any], dict[str, list[tuple[str, int]]]]] = [
    # case, tonight, history, expected keys per edit
    (
        "limit crossed with the history",
        [("C2", 1, "M1", "97545", 1)],
        [("C1", 1, "M1", "97545", 1)],
        {UNITS_EDIT: [("C2", 1)]},
    ),
    ("another member's day does not count", [("C2", 1, "M1", "97545", 1)], [("C1", 1, "M2", "97545", 1)], {}),
    ("a re-sent key replaces its row", [("C1", 1, "M1", "97545", 1)], [("C1", 1, "M1", "97545", 1)], {}),
    ("primary in the history", [("C1", 2, "M1", "97546", 1)], [("C1", 1, "M1", "97545", 1)], {}),
    (
        "primary on another claim",
        [("C1", 2, "M1", "97546", 1)],
        [("C9", 1, "M1", "97545", 1)],
        {ADDON_EDIT: [("C1", 2)]},
    ),
    (
        "history lines are never flagged",
        [("C2", 2, "M1", "97546", 1)],
        [("C1", 1, "M1", "97546", 1)],
        {ADDON_EDIT: [("C2", 2)]},
    ),
]


@pytest.mark.parametrize(("case", "night", "earlier", "expected"), CASES, ids=[c[0] for c in CASES])
def test_edits_with_history(
    compiled: CompiledRules, case: str, night: list[Any], earlier: list[Any], expected: dict[str, list[Any]]
) -> None:
    found = fired_with(tonight(*night), history(*earlier), compiled)
    assert found == {ADDON_EDIT: expected.get(ADDON_EDIT, []), UNITS_EDIT: expected.get(UNITS_EDIT, [])}, case


def test_wanted_names_member_days_claim_days_and_months(compiled: CompiledRules) -> None:
    want = wanted(
        tonight(("C1", 2, "M1", "97546", 1), ("C2", 1, "M2", "97545", 1), ("C3", 1, "M3", "97110", 1)), compiled
    )
    assert want.months == ("2024-05",)
    assert want.member_days.rows() == [("M2", DAY, "97545")]
    assert want.claim_days.rows() == [("C1", DAY, "97545")]


def test_pruned_reads_only_the_rows_a_night_can_meet(compiled: CompiledRules) -> None:
    want = wanted(tonight(("C1", 2, "M1", "97546", 1), ("C2", 1, "M2", "97545", 1)), compiled)
    earlier = history(
        ("C1", 1, "M1", "97545", 1),  # C1's primary: needed by the add-on
        ("C7", 1, "M2", "97545", 1),  # M2's day: needed by the limit
        ("C8", 1, "M8", "97545", 1),  # neither
        ("C1", 3, "M1", "97546", 1),  # an add-on of C1: no edit of tonight reads it
    )
    assert sorted(pruned(earlier.lazy(), want).collect().select(CLAIM_ID, LINE_NUMBER).rows()) == [("C1", 1), ("C7", 1)]


def test_effects_say_what_the_history_changed(compiled: CompiledRules) -> None:
    night = tonight(("C2", 1, "M1", "97545", 1), ("D1", 1, "M2", "97545", 2), ("E1", 2, "M3", "97546", 1))
    earlier = history(("C1", 1, "M1", "97545", 1), ("D0", 1, "M2", "97545", 1), ("E1", 1, "M3", "97545", 1), run="R7")
    found = effects(merged_lines(night.lazy(), earlier), compiled)
    assert found.to_dicts() == [
        {
            "claim_id": "C2",
            "line_number": 1,
            "edit": "UNITS_EXCEED_DAILY_LIMIT",
            "effect": MADE_FLAGGED,
            "earlier_lines": ["claim C1 line 1 (run R7)"],
        },
        {
            "claim_id": "D1",
            "line_number": 1,
            "edit": "UNITS_EXCEED_DAILY_LIMIT",
            "effect": COUNTED,
            "earlier_lines": ["claim D0 line 1 (run R7)"],
        },
        {
            "claim_id": "E1",
            "line_number": 2,
            "edit": "ADDON_WITHOUT_PRIMARY",
            "effect": CLEARED,
            "earlier_lines": ["claim E1 line 1 (run R7)"],
        },
    ]
    assert effect_counts(found) == {
        "ADDON_WITHOUT_PRIMARY": {CLEARED: 1},
        "UNITS_EXCEED_DAILY_LIMIT": {COUNTED: 1, MADE_FLAGGED: 1},
    }


def test_merged_lines_mark_the_history(compiled: CompiledRules) -> None:
    merged = merged_lines(tonight(("C2", 1, "M1", "97545", 1)).lazy(), history(("C1", 1, "M1", "97545", 1))).collect()
    assert merged[FROM_HISTORY].to_list() == [False, True]
    assert merged[ROW_OK].to_list() == [True, True]


def test_night_rows_keep_the_concerned_results_only(compiled: CompiledRules) -> None:
    at = dt.datetime(2026, 6, 2, 1, 0, tzinfo=dt.UTC)
    results = history(("C1", 1, "M1", "97545", 1), ("C1", 2, "M1", "97110", 1), ("C1", 3, "M1", "97546", 1))
    rows = night_rows(results.lazy(), compiled, at).collect()
    assert rows.select(CLAIM_ID, LINE_NUMBER).rows() == [("C1", 1), ("C1", 3)]
    assert rows["service_month"].to_list() == ["2024-05", "2024-05"]
    assert rows["adjudicated_at"].to_list() == [at, at]


def test_effects_of_lines_collected_from_arrow(compiled: CompiledRules) -> None:
    """Lines that come from Arrow (the Spark engine collects them so) in several chunks once merged: polars'
    ``pl.format`` panicked on them, so the earlier lines are named with ``concat_str``."""
    import pyarrow as pa

    night = pl.from_arrow(
        pa.Table.from_pylist(tonight(("C2", 1, "M1", "97545", 1), ("K1", 2, "M1", "97546", 1)).to_dicts())
    )
    assert isinstance(night, pl.DataFrame)
    merged = merged_lines(night.lazy(), history(("C1", 1, "M1", "97545", 1), ("K1", 1, "M9", "97545", 1))).collect()
    found = effects(merged.lazy(), compiled)
    assert found.select(CLAIM_ID, "effect").rows() == [("C2", MADE_FLAGGED), ("K1", CLEARED)]
