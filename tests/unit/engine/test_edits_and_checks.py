"""Edits (contract section 5) and the input row checks (section 2), table-driven."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from adjudicator.engine.checks import CHECKS, input_schema, with_checks
from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import raw_frame, run_plan


def rules() -> RuleSet:
    return load_rules()


def _line(claim: str, n: int, code: str, **more: Any) -> dict[str, Any]:
    return {"claim_id": claim, "line_number": str(n), "procedure_code": code, **more}


# (case, lines, expected edits per (claim_id, line_number))
EDIT_CASES = [
    (
        "add-on with its primary on the same claim and day",
        [_line("A", 1, "97545"), _line("A", 2, "97546")],
        {("A", 1): [], ("A", 2): []},
    ),
    ("add-on alone", [_line("A", 1, "97546")], {("A", 1): ["ADDON_WITHOUT_PRIMARY"]}),
    (
        "primary on another day of the claim",
        [_line("A", 1, "97545", service_date="2024-05-02"), _line("A", 2, "97546")],
        {("A", 1): [], ("A", 2): ["ADDON_WITHOUT_PRIMARY"]},
    ),
    (
        "primary on another claim of the member",
        [_line("A", 1, "97545"), _line("B", 1, "97546")],
        {("A", 1): [], ("B", 1): ["ADDON_WITHOUT_PRIMARY"]},
    ),
    (
        "primary is a reject, so not a valid primary",
        [_line("A", 1, "97545", units="0"), _line("A", 2, "97546")],
        {("A", 2): ["ADDON_WITHOUT_PRIMARY"]},
    ),
    ("one 97545 unit a day is the limit", [_line("A", 1, "97545", units="1")], {("A", 1): []}),
    ("two units on one line", [_line("A", 1, "97545", units="2")], {("A", 1): ["UNITS_EXCEED_DAILY_LIMIT"]}),
    (
        "two lines of one member and day across claims: every contributing line",
        [_line("A", 1, "97545"), _line("B", 1, "97545"), _line("B", 2, "99213")],
        {("A", 1): ["UNITS_EXCEED_DAILY_LIMIT"], ("B", 1): ["UNITS_EXCEED_DAILY_LIMIT"], ("B", 2): []},
    ),
    (
        "other members or days do not add up",
        [
            _line("A", 1, "97545"),
            _line("B", 1, "97545", member_id="M2"),
            _line("C", 1, "97545", service_date="2024-05-02"),
        ],
        {("A", 1): [], ("B", 1): [], ("C", 1): []},
    ),
    (
        "97546 units are not limited",
        [_line("A", 1, "97545"), _line("A", 2, "97546", units="6")],
        {("A", 1): [], ("A", 2): []},
    ),
    (
        "both edits on one line set",
        [_line("A", 1, "97545", units="3"), _line("B", 1, "97546")],
        {("A", 1): ["UNITS_EXCEED_DAILY_LIMIT"], ("B", 1): ["ADDON_WITHOUT_PRIMARY"]},
    ),
]


@pytest.mark.parametrize(("case", "lines", "expected"), EDIT_CASES, ids=[c[0] for c in EDIT_CASES])
def test_edit(
    rules: RuleSet, case: str, lines: list[dict[str, Any]], expected: dict[tuple[str, int], list[str]]
) -> None:
    results, _ = run_plan(lines, rules)
    got = {(r["claim_id"], r["line_number"]): r["edits"] for r in results.iter_rows(named=True)}
    assert got == expected


def test_edit_codes_follow_edits(rules: RuleSet) -> None:
    results, _ = run_plan([_line("A", 1, "97545", units="2"), _line("B", 1, "97546")], rules)
    codes = dict(zip(results["claim_id"], results["edit_carcs"].to_list(), strict=True))
    assert codes == {"A": ["CO-151"], "B": ["CO-B15"]}


# (case, changes to one line, the checks it must fail)
CHECK_CASES = [
    ("missing claim id", {"claim_id": None}, ["missing_claim_id"]),
    ("blank member id", {"member_id": "  "}, ["missing_member_id"]),
    ("missing date", {"service_date": None}, ["missing_service_date"]),
    ("month 13", {"service_date": "2024-13-01"}, ["unparseable_service_date"]),
    ("US layout date", {"service_date": "02/30/2024"}, ["unparseable_service_date"]),
    ("February 30", {"service_date": "2024-02-30"}, ["unparseable_service_date"]),
    ("not a leap year", {"service_date": "2023-02-29"}, ["unparseable_service_date"]),
    ("units text", {"units": "two"}, ["unparseable_units"]),
    ("fractional units", {"units": "1.5"}, ["unparseable_units"]),
    ("units 0", {"units": "0"}, ["units_below_1"]),
    ("amount text", {"billed_amount": "12,50"}, ["unparseable_billed_amount"]),
    ("negative amount", {"billed_amount": "-0.01"}, ["negative_billed_amount"]),
    ("short code", {"procedure_code": "9754"}, ["malformed_procedure_code"]),
    ("code with a dash", {"procedure_code": "975-5"}, ["malformed_procedure_code"]),
    ("line number 0", {"line_number": "0"}, ["line_number_below_1"]),
    ("line number text", {"line_number": "one"}, ["unparseable_line_number"]),
    ("place of service 1 digit", {"place_of_service": "1"}, ["malformed_place_of_service"]),
    ("amount with a third decimal", {"billed_amount": "12.345"}, ["unparseable_billed_amount"]),
    ("amount in exponent form", {"billed_amount": "1e3"}, ["unparseable_billed_amount"]),
    ("date without zero padding", {"service_date": "2024-1-5"}, ["unparseable_service_date"]),
    (
        "several at once",
        {"units": "0", "billed_amount": "-1", "service_date": "x"},
        ["unparseable_service_date", "units_below_1", "negative_billed_amount"],
    ),
]


@pytest.mark.parametrize(("case", "changes", "failed"), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_row_check(rules: RuleSet, case: str, changes: dict[str, Any], failed: list[str]) -> None:
    results, rejects = run_plan([changes, {"claim_id": "OK"}], rules)
    assert results["claim_id"].to_list() == ["OK"]
    assert rejects.height == 1
    assert sorted(rejects["failed_checks"][0].to_list()) == sorted(failed)
    # the original values, as text
    for column, value in changes.items():
        assert rejects[column][0] == value


VALID_EDGE_CASES = [
    ("amount zero", {"billed_amount": "0"}),
    ("amount without decimals", {"billed_amount": "180"}),
    ("units with a .0", {"units": "2.0"}),
    ("padded number", {"units": " 1 "}),
    ("no place of service", {"place_of_service": None}),
    ("no plan", {"plan_id": None}),
    ("HCPCS letter code", {"procedure_code": "G0283"}),
    ("leap day", {"service_date": "2024-02-29"}),
    ("amount with trailing zeros", {"billed_amount": "180.0000"}),
]


def test_text_values_are_trimmed(rules: RuleSet) -> None:
    """Padding must not change a verdict or hide a duplicate."""
    lines = [
        {"claim_id": "A ", "payer_id": " HCSC", "plan_id": "HCSC-PPO-100 ", "procedure_code": "97545 "},
        {"claim_id": "A", "line_number": "2", "procedure_code": "97546"},
        {"claim_id": " B", "line_number": "1"},
        {"claim_id": "B", "line_number": "1"},
    ]
    results, rejects = run_plan(lines, rules)
    assert results["claim_id"].to_list() == ["A", "A"]
    assert results["reason"].to_list() == ["NOT_MEDICALLY_NECESSARY"] * 2
    assert results["edits"].to_list() == [[], []]
    assert rejects["failed_checks"].to_list() == [["duplicate_key"], ["duplicate_key"]]


@pytest.mark.parametrize(("case", "changes"), VALID_EDGE_CASES, ids=[c[0] for c in VALID_EDGE_CASES])
def test_valid_edge_case_is_not_rejected(rules: RuleSet, case: str, changes: dict[str, Any]) -> None:
    results, rejects = run_plan([changes], rules)
    assert (results.height, rejects.height) == (1, 0)


def test_every_copy_of_a_duplicated_key_is_rejected(rules: RuleSet) -> None:
    lines = [{"claim_id": "D"}, {"claim_id": "D", "line_number": "01"}, {"claim_id": "E"}]
    results, rejects = run_plan(lines, rules)
    assert results["claim_id"].to_list() == ["E"]
    assert rejects["claim_id"].to_list() == ["D", "D"]
    assert all(c.to_list() == ["duplicate_key"] for c in rejects["failed_checks"])


def test_extra_columns_pass_through_untouched(rules: RuleSet) -> None:
    results, _ = run_plan([{"provider_npi": "0012345678"}], rules)
    assert results["provider_npi"].to_list() == ["0012345678"]


def test_pandera_schema_and_streaming_checks_agree(rules: RuleSet) -> None:
    """The pandera schema is built from the same CHECKS: it fails exactly where a flag is set."""
    good = with_checks(raw_frame([{}])).collect()
    input_schema().validate(good)
    for case, changes, failed in CHECK_CASES:
        value_checks = [f for f in failed if not f.startswith(("missing_", "unparseable_"))]
        if not value_checks:
            continue
        bad = with_checks(raw_frame([changes])).collect()
        with pytest.raises(Exception) as info:  # pandera's SchemaError(s)
            input_schema().validate(bad, lazy=True)
        for name in value_checks:
            assert name in str(info.value), case


def test_every_check_has_a_case() -> None:
    covered = {name for _, _, failed in CHECK_CASES for name in failed}
    names = {c.name for c in CHECKS}
    # missing_* of the required columns are one family; one of them per case is enough
    untested = {n for n in names - covered if not n.startswith("missing_")}
    assert not untested


def test_rejects_keep_source_file(rules: RuleSet) -> None:
    _, rejects = run_plan([{"units": "0"}], rules)
    assert rejects["source_file"].to_list() == ["inline.csv"]
    assert rejects.schema["failed_checks"] == pl.List(pl.String)


def test_hash_collisions_fall_back_to_exact_keys(rules: RuleSet, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a key hash that maps every line to one value, the verdicts must not change."""
    from adjudicator.embedded import prepass
    from adjudicator.options import DEFAULT_SETTINGS, EngineSettings

    lines = [
        _line("A", 1, "97545"),
        _line("A", 2, "97546"),
        _line("B", 1, "97546"),
        _line("C", 1, "97545", units="2"),
        _line("D", 1, "99213"),
        _line("D", 1, "99213"),
        _line("E", 1, "97545", member_id="M9"),
        _line("F", 1, "97545", member_id="M9"),
    ]

    def outcome(settings: EngineSettings = DEFAULT_SETTINGS) -> list[tuple[Any, ...]]:
        results, rejects = run_plan(lines, rules, settings=settings)
        got = [(r["claim_id"], r["line_number"], r["edits"]) for r in results.iter_rows(named=True)]
        got += [(r["claim_id"], r["line_number"], r["failed_checks"]) for r in rejects.iter_rows(named=True)]
        return sorted(got, key=str)

    honest = outcome()
    # every line in one spill partition of several, chosen by a hash that collides for every key
    monkeypatch.setattr(prepass, "spill_hash", lambda expr: pl.lit(7, dtype=pl.UInt64))
    # the spilled key check, 2 lines per partition, and the edits 2 concerned lines per partition
    assert outcome(EngineSettings(rows_per_partition=2, hashes_in_memory=0, concerned_rows_per_partition=2)) == honest
    assert ("D", "1", ["duplicate_key"]) in honest and ("C", 1, ["UNITS_EXCEED_DAILY_LIMIT"]) in honest
