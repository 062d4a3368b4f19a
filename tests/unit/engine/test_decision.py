"""The decision table (contract section 4) and the version boundaries of section 3, one row per case."""

from __future__ import annotations

import datetime as dt

import pytest

from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import run_plan


def rules() -> RuleSet:
    return load_rules()


# (case, line changes, determination, reason, policy_id, policy_version, carc)
DECISION_ROWS = [
    (
        "1 medicare plan wins over a commercial policy",
        {"payer_id": "HCSC", "plan_id": "MCR-ADV-100"},
        "BENEFIT_PLAN_REVIEW",
        "MEDICARE_CARRIER_DISCRETION",
        "THE803.012",
        "2024-04-01",
        None,
    ),
    (
        "1 carrier discretion stance",
        {"payer_id": "MEDICARE", "plan_id": None},
        "BENEFIT_PLAN_REVIEW",
        "MEDICARE_CARRIER_DISCRETION",
        "CMS-NO-NCD",
        "national",
        None,
    ),
    (
        "2 unknown payer has no policy",
        {"payer_id": "UHC"},
        "BENEFIT_PLAN_REVIEW",
        "NO_POLICY_IN_EFFECT",
        None,
        None,
        None,
    ),
    (
        "2 gap before HCSC's first known revision",
        {"service_date": "2008-02-29"},
        "BENEFIT_PLAN_REVIEW",
        "NO_POLICY_IN_EFFECT",
        None,
        None,
        None,
    ),
    (
        "2 archive ended 2018-06-14",
        {"payer_id": "ARCHIVE", "plan_id": "ARCH-PPO-100", "service_date": "2018-06-15"},
        "BENEFIT_PLAN_REVIEW",
        "NO_POLICY_IN_EFFECT",
        None,
        None,
        None,
    ),
    (
        "3 superseded from 2026-01-01",
        {"service_date": "2026-01-01"},
        "BENEFIT_PLAN_REVIEW",
        "POLICY_SUPERSEDED",
        "THE803.010",
        "2026-01-01",
        None,
    ),
    (
        "4 CAM outpatient-only policy, inpatient line",
        {"payer_id": "CAM", "plan_id": "CAM-PPO-100", "place_of_service": "21"},
        "BENEFIT_PLAN_REVIEW",
        "POLICY_NOT_APPLICABLE",
        "CAM-80306",
        "1996-11-01",
        None,
    ),
    (
        "4 CAM, inpatient psychiatric 51",
        {"payer_id": "CAM", "plan_id": "CAM-PPO-100", "place_of_service": "51"},
        "BENEFIT_PLAN_REVIEW",
        "POLICY_NOT_APPLICABLE",
        "CAM-80306",
        "1996-11-01",
        None,
    ),
    (
        "4 CAM, inpatient rehab 61",
        {"payer_id": "CAM", "plan_id": "CAM-PPO-100", "place_of_service": "61"},
        "BENEFIT_PLAN_REVIEW",
        "POLICY_NOT_APPLICABLE",
        "CAM-80306",
        "1996-11-01",
        None,
    ),
    (
        "8 CAM, no place of service counts as outpatient",
        {"payer_id": "CAM", "plan_id": "CAM-PPO-100", "place_of_service": None},
        "NOT_MEDICALLY_NECESSARY",
        "NOT_MEDICALLY_NECESSARY",
        "CAM-80306",
        "1996-11-01",
        "50",
    ),
    (
        "8 CAM, outpatient hospital 22",
        {"payer_id": "CAM", "plan_id": "CAM-PPO-100", "place_of_service": "22"},
        "NOT_MEDICALLY_NECESSARY",
        "NOT_MEDICALLY_NECESSARY",
        "CAM-80306",
        "1996-11-01",
        "50",
    ),
    ("5 no plan id", {"plan_id": None}, "BENEFIT_PLAN_REVIEW", "PLAN_NOT_FOUND", "THE803.012", "2024-04-01", None),
    (
        "5 unknown plan id",
        {"plan_id": "NOPE-1"},
        "BENEFIT_PLAN_REVIEW",
        "PLAN_NOT_FOUND",
        "THE803.012",
        "2024-04-01",
        None,
    ),
    (
        "5 plan not yet in effect",
        {"plan_id": "HCSC-WC-300", "service_date": "2014-12-31"},
        "BENEFIT_PLAN_REVIEW",
        "PLAN_NOT_FOUND",
        "THE803",
        "2014-09-01",
        None,
    ),
    (
        "6 plan covers work hardening",
        {"plan_id": "HCSC-WC-300"},
        "BENEFIT_PLAN_REVIEW",
        "PLAN_COVERS_SERVICE",
        "THE803.012",
        "2024-04-01",
        None,
    ),
    (
        "7 Aetna benefit exclusion",
        {"payer_id": "AETNA", "plan_id": "AETNA-OPEN-100", "service_date": "1990-01-01"},
        "BENEFIT_PLAN_REVIEW",
        "PLAN_NOT_FOUND",
        "CPB-0198",
        "current",
        None,
    ),
    (
        "7 Aetna benefit exclusion in plan dates",
        {"payer_id": "AETNA", "plan_id": "AETNA-OPEN-100"},
        "BENEFIT_PLAN_REVIEW",
        "BENEFIT_EXCLUSION",
        "CPB-0198",
        "current",
        "96",
    ),
    (
        "6 beats 7: Aetna rider covers it",
        {"payer_id": "AETNA", "plan_id": "AETNA-RIDER-200"},
        "BENEFIT_PLAN_REVIEW",
        "PLAN_COVERS_SERVICE",
        "CPB-0198",
        "current",
        None,
    ),
    (
        "8 NMN and plan excludes NMN",
        {},
        "NOT_MEDICALLY_NECESSARY",
        "NOT_MEDICALLY_NECESSARY",
        "THE803.012",
        "2024-04-01",
        "50",
    ),
    (
        "8 add-on code decided the same way",
        {"procedure_code": "97546", "line_number": "1"},
        "NOT_MEDICALLY_NECESSARY",
        "NOT_MEDICALLY_NECESSARY",
        "THE803.012",
        "2024-04-01",
        "50",
    ),
    (
        "9 NMN but plan has no NMN exclusion",
        {"plan_id": "HCSC-HMO-200"},
        "BENEFIT_PLAN_REVIEW",
        "NO_NMN_EXCLUSION_IN_PLAN",
        "THE803.012",
        "2024-04-01",
        None,
    ),
    ("NO_ACTION for a code no policy targets", {"procedure_code": "99213"}, "NO_ACTION", None, None, None, None),
]


@pytest.mark.parametrize(
    ("case", "changes", "determination", "reason", "policy_id", "version", "carc"),
    DECISION_ROWS,
    ids=[row[0] for row in DECISION_ROWS],
)
def test_decision_table_row(
    rules: RuleSet,
    case: str,
    changes: dict[str, str | None],
    determination: str,
    reason: str | None,
    policy_id: str | None,
    version: str | None,
    carc: str | None,
) -> None:
    results, rejects = run_plan([changes], rules)
    assert rejects.height == 0, rejects["failed_checks"].to_list()
    line = results.row(0, named=True)
    assert (line["determination"], line["reason"]) == (determination, reason)
    assert (line["policy_id"], line["policy_version"]) == (policy_id, version)
    assert line["carc"] == carc
    assert (line["message"] is None) == (determination == "NO_ACTION")


def test_benefit_exclusion_carries_rarc_n130(rules: RuleSet) -> None:
    results, _ = run_plan([{"payer_id": "AETNA", "plan_id": "AETNA-OPEN-100"}], rules)
    line = results.row(0, named=True)
    assert (line["group_code"], line["carc"], line["rarc"]) == ("CO", "96", "N130")


def test_nmn_denial_is_co_50_and_names_policy_and_source(rules: RuleSet) -> None:
    results, _ = run_plan([{}], rules)
    line = results.row(0, named=True)
    assert (line["group_code"], line["carc"], line["rarc"]) == ("CO", "50", None)
    assert "THE803.012" in line["message"] and "seed 001" in line["message"]


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# every boundary of section 3: (payer, plan, date, expected policy version or None for no policy)
BOUNDARIES = [
    ("ARCHIVE", "ARCH-PPO-100", "2003-11-30", None),
    ("ARCHIVE", "ARCH-PPO-100", "2003-12-01", "2003-12-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2006-02-28", "2003-12-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2006-03-01", "2006-03-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2008-02-29", "2006-03-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2008-03-01", "2008-03-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2013-12-14", "2008-03-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2013-12-15", "2013-12-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2014-08-31", "2013-12-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2014-09-01", "2014-09-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2015-10-14", "2014-09-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2015-10-15", "2015-10-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2016-08-31", "2015-10-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2016-09-01", "2016-09-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2017-07-14", "2016-09-01"),
    ("ARCHIVE", "ARCH-PPO-100", "2017-07-15", "2017-07-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2018-06-14", "2017-07-15"),
    ("ARCHIVE", "ARCH-PPO-100", "2018-06-15", None),
    ("HCSC", "HCSC-PPO-100", "2008-02-29", None),
    ("HCSC", "HCSC-PPO-100", "2008-03-01", "2008-03-01"),
    ("HCSC", "HCSC-PPO-100", "2013-12-14", "2008-03-01"),
    ("HCSC", "HCSC-PPO-100", "2013-12-15", "2013-12-15"),
    ("HCSC", "HCSC-PPO-100", "2018-06-14", "2017-07-15"),
    ("HCSC", "HCSC-PPO-100", "2018-06-15", "2018-06-15"),
    ("HCSC", "HCSC-PPO-100", "2024-03-31", "2023-07-15"),
    ("HCSC", "HCSC-PPO-100", "2024-04-01", "2024-04-01"),
    ("HCSC", "HCSC-PPO-100", "2025-12-31", "2024-04-01"),
    ("HCSC", "HCSC-PPO-100", "2026-01-01", "2026-01-01"),
    ("HCSC", "HCSC-PPO-100", "2099-12-31", "2026-01-01"),
    ("CAM", "CAM-PPO-100", "1996-10-31", None),
    ("CAM", "CAM-PPO-100", "1996-11-01", "1996-11-01"),
    ("CAM", "CAM-PPO-100", "2999-11-30", "1996-11-01"),
    ("AETNA", "AETNA-OPEN-100", "1900-01-01", "current"),
    ("AETNA", "AETNA-OPEN-100", "2999-12-31", "current"),
    ("MEDICARE", None, "1950-01-01", "national"),
]


@pytest.mark.parametrize(("payer", "plan", "day", "version"), BOUNDARIES, ids=[f"{b[0]}-{b[2]}" for b in BOUNDARIES])
def test_policy_version_boundaries(rules: RuleSet, payer: str, plan: str | None, day: str, version: str | None) -> None:
    for code in ("97545", "97546"):
        results, _ = run_plan(
            [{"payer_id": payer, "plan_id": plan, "service_date": day, "procedure_code": code}],
            rules,
        )
        line = results.row(0, named=True)
        assert line["policy_version"] == version, (payer, day, code)
        if version is None:
            assert line["reason"] == "NO_POLICY_IN_EFFECT"
            assert line["policy_effective_date"] is None and line["policy_end_date"] is None
        else:
            eff, end = line["policy_effective_date"], line["policy_end_date"]
            assert eff is None or eff <= _d(day)
            assert end is None or _d(day) <= end


# the plan table's own boundaries: HCSC-PPO-100 has versions ending 2019-12-31 and from 2020-01-01
PLAN_BOUNDARIES = [
    ("HCSC-PPO-100", "2019-12-31", _d("2000-01-01")),
    ("HCSC-PPO-100", "2020-01-01", _d("2020-01-01")),
    ("HCSC-WC-300", "2014-12-31", None),
    ("HCSC-WC-300", "2015-01-01", _d("2015-01-01")),
    ("ARCH-PPO-100", "2018-06-14", _d("2003-01-01")),
]


@pytest.mark.parametrize(("plan", "day", "plan_effective"), PLAN_BOUNDARIES)
def test_plan_version_boundaries(rules: RuleSet, plan: str, day: str, plan_effective: dt.date | None) -> None:
    payer = "ARCHIVE" if plan.startswith("ARCH") else "HCSC"
    results, _ = run_plan([{"plan_id": plan, "payer_id": payer, "service_date": day}], rules)
    assert results.row(0, named=True)["plan_version_effective_date"] == plan_effective
