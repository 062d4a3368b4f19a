"""``adjudicate diff`` gives what it gave before issue 14's rewrite: every observable output, pinned case by case.

The expectations in ``tests/golden/diff_cases.json`` were written by the diff
as it was before the rewrite (one streaming full join, commit 4883375): for
each case, ``changes.parquet`` (schema, and rows in key order: the file's row
order is not part of the contract) and ``summary.json``. Regenerate only after
a deliberate change, with ``UPDATE_GOLDEN=1 python -m pytest tests/e2e/test_diff_equivalence.py``,
and review the diff of the golden file like any other change.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from adjudicator.diff.runs import diff_runs
from adjudicator.options import EngineSettings
from adjudicator.rules.tables import RuleSet, load_rules
from tests.helpers import GOLDEN_DIR
from tests.support.diff_runs import (
    BASE,
    DIFF_CASES,
    observed,
    own_line,
    plans_without_nmn_exclusion,
    replaced,
    write_run,
)

pytestmark = pytest.mark.e2e

GOLDEN = GOLDEN_DIR / "diff_cases.json"

Rows = list[dict[str, Any]]

#: (plan_id, payer_id) the generated lines draw from: plans that exclude NMN, that do not, cover the
#: service, a Medicare plan, one no table knows, and none
_PLANS = [
    ("HCSC-PPO-100", "HCSC"),
    ("HCSC-HMO-200", "HCSC"),
    ("HCSC-WC-300", "HCSC"),
    ("AETNA-OPEN-100", "AETNA"),
    ("CAM-PPO-100", "CAM"),
    ("MCR-ADV-100", "MEDICARE"),
    ("NOPE-1", "HCSC"),
    (None, "HCSC"),
]
_CODES = ["97545", "97545", "97546", "99213"]
_DATES = ["2018-03-01", "2019-06-15", "2020-02-01", "2023-01-01", "2023-08-01", "2024-05-01"]
_PLACES = ["11", "21", None]


def _generated_line(rng: random.Random, claim: str, n: int, member: str) -> dict[str, Any]:
    plan, payer = rng.choice(_PLANS)
    return {
        "claim_id": claim,
        "line_number": str(n),
        "member_id": member,
        "payer_id": payer,
        "plan_id": plan,
        "service_date": rng.choice(_DATES),
        "procedure_code": rng.choice(_CODES),
        "units": rng.choice("1112"),
        "billed_amount": f"{rng.randint(20, 500)}.{rng.randint(0, 99):02d}",
        "place_of_service": rng.choice(_PLACES),
    }


def _billed(rng: random.Random) -> str:
    return f"{rng.randint(1, 99)}.{rng.randint(0, 99):02d}"


def _other_plan(line: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    plan, payer = rng.choice(_PLANS)
    return {**line, "plan_id": plan, "payer_id": payer}


#: (line, rng) -> (the line's copies in the old batch, in the new batch)
Mutation = Callable[[dict[str, Any], random.Random], tuple[Rows, Rows]]

#: (share of lines, what becomes of a line in each batch); one draw per line
_MUTATIONS: list[tuple[float, Mutation]] = [
    (0.45, lambda line, rng: ([line], [line])),  # the same line (the plan correction may still move it)
    (0.05, lambda line, rng: ([line], [])),  # only_in_old
    (0.05, lambda line, rng: ([], [line])),  # only_in_new
    (0.05, lambda line, rng: ([line], [{**line, "units": "0"}])),  # rejected_in_new
    (0.05, lambda line, rng: ([{**line, "service_date": "2024-13-01"}], [line])),  # rejected_in_old
    (0.03, lambda line, rng: ([{**line, "units": "0"}], [{**line, "units": "x"}])),  # rejected in both: unchanged
    (0.06, lambda line, rng: ([line], [_other_plan(line, rng)])),
    (0.04, lambda line, rng: ([line], [{**line, "service_date": rng.choice(_DATES)}])),
    (0.03, lambda line, rng: ([line], [{**line, "procedure_code": rng.choice(_CODES)}])),
    (0.03, lambda line, rng: ([line], [{**line, "units": "2"}])),
    # duplicated in the old run: both copies rejected there, with different amounts
    (0.03, lambda line, rng: ([line, {**line, "billed_amount": _billed(rng)}], [line])),
    # duplicated in the new run, the second copy also failing another check
    (0.03, lambda line, rng: ([line], [{**line, "billed_amount": _billed(rng)}, {**line, "units": "0"}])),
    # duplicated in both runs, copies in another order
    (0.02, lambda line, rng: ([line, c := {**line, "billed_amount": _billed(rng)}], [c, line])),
    # the new run rejects it with its line number written "0n": still the same key
    (0.02, lambda line, rng: ([line], [{**line, "line_number": "0" + line["line_number"], "units": "0"}])),
    # a reject whose claim id has a trailing space
    (0.01, lambda line, rng: ([line], [{**line, "claim_id": line["claim_id"] + " ", "units": "0"}])),
    # rejects without a usable key beside the line: a blank claim id, a line number that does not parse
    (0.02, lambda line, rng: ([line, {**line, "claim_id": "  ", "units": "0"}], [line, {**line, "line_number": "x"}])),
    # the other place-of-service class
    (
        0.03,
        lambda line, rng: ([line], [{**line, "place_of_service": "21" if line["place_of_service"] != "21" else "11"}]),
    ),
]


def generated_runs(seed: int, claims: int = 160) -> tuple[Rows, Rows]:
    """Two batches of the same claims with every kind of difference a diff has to find (one mutation per line).

    Members are shared by three claims, so unit limits and add-on edits move
    with their neighbours; duplicated keys have copies with different amounts;
    some rejects carry a key only as text ("01", a trailing space, a blank claim
    id, a line number that does not parse).
    """
    rng = random.Random(seed)
    shares = [share for share, _ in _MUTATIONS]
    old: Rows = []
    new: Rows = []
    for k in range(claims):
        claim, member = f"G{k:03d}", f"GM{k // 3}"
        for n in range(1, rng.randint(1, 3) + 1):
            line = _generated_line(rng, claim, n, member)
            ((_, mutate),) = rng.choices(_MUTATIONS, weights=shares)
            old_copies, new_copies = mutate(line, rng)
            old += old_copies
            new += new_copies
    return old, new


# (case, old lines, new lines, whether the new run's plans table has the one-row correction)
CASES: list[tuple[str, Rows, Rows, bool]] = [
    *((name, old, new, False) for name, old, new, _ in DIFF_CASES),
    ("side by side", BASE, replaced(BASE, "NMN", plan_id="HCSC-HMO-200", units="2"), False),
    ("one-sided", BASE, replaced(BASE[1:], "HMO", units="0"), False),
    (
        "plan correction",
        [
            *BASE,
            own_line("NMN2"),
            own_line("OLDPLAN", service_date="2019-05-01"),
            own_line("NMN", 2, procedure_code="99213"),
        ],
        [
            *BASE,
            own_line("NMN2"),
            own_line("OLDPLAN", service_date="2019-05-01"),
            own_line("NMN", 2, procedure_code="99213"),
        ],
        True,
    ),
    (
        "matrix with absent and rejected",
        [*BASE, own_line("BAD", units="0"), own_line("GONE", billed_amount="10.00"), own_line("DROP", units="0")],
        [*replaced(BASE, "OFF", units="0"), own_line("BAD"), own_line("NEW", billed_amount="5.00")],
        False,
    ),
    ("generated, every change kind, plan correction", *generated_runs(14), True),
    ("generated, same rules", *generated_runs(15), False),
    ("generated, identical runs", generated_runs(16)[0], generated_runs(16)[0], True),
]


def _runs(tmp_path: Path, case: tuple[str, Rows, Rows, bool], rules: RuleSet) -> tuple[Path, Path]:
    _, old_rows, new_rows, corrected = case
    new_rules = load_rules(plans=plans_without_nmn_exclusion(tmp_path, "HCSC-PPO-100")) if corrected else rules
    return write_run(tmp_path / "old", old_rows, rules, "old"), write_run(tmp_path / "new", new_rows, new_rules, "new")


def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}


def test_generated_case_has_every_change_kind_and_duplicates(tmp_path: Path, rules: RuleSet) -> None:
    case = next(c for c in CASES if c[0].startswith("generated, every change kind"))
    old, new = _runs(tmp_path, case, rules)
    summary = diff_runs(old, new, tmp_path / "diff")
    assert all(summary["by_change_kind"].values()), summary["by_change_kind"]
    assert all(summary["unkeyed_rejects"].values())
    for folder in (old, new):
        failed = pl.read_parquet(folder / "rejects.parquet")["failed_checks"]
        assert failed.list.contains("duplicate_key").any()


def _line_number_hash() -> pl.Expr:
    """A key hash that collides on purpose: every key with the same line number shares it."""
    return pl.col("line_number").cast(pl.UInt64)


def _one_hash() -> pl.Expr:
    """Every key collides: all lines in one partition, the others empty."""
    return pl.lit(7, pl.UInt64)


#: (name, diff_runs' spill options): the outputs must not depend on them
SPILLS: list[tuple[str, dict[str, Any]]] = [
    ("default", {}),
    ("partitioned path, 1 partition", {"aligned": False}),
    ("partitioned path, 7 partitions", {"aligned": False, "partitions": 7}),
    ("colliding hash, 3 partitions", {"partitions": 3, "key_hash": _line_number_hash}),
    ("colliding hash, partitioned path", {"aligned": False, "partitions": 3, "key_hash": _line_number_hash}),
    ("one hash for every key, 4 partitions", {"aligned": False, "partitions": 4, "key_hash": _one_hash}),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_diff_outputs_equal_the_pinned_outputs(
    tmp_path: Path,
    rules: RuleSet,
    golden: dict[str, Any],
    case: tuple[str, Rows, Rows, bool],
) -> None:
    settings = EngineSettings(spill_files_open=3)  # more than 3 partitions are spilled in two steps
    old, new = _runs(tmp_path, case, rules)
    for name, options in SPILLS:
        out = tmp_path / f"diff {name}"
        diff_runs(old, new, out, **options, settings=settings)
        got = observed(out, old, new)
        if os.environ.get("UPDATE_GOLDEN") and not options:
            pinned = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
            pinned[case[0]] = got
            GOLDEN.write_text(json.dumps(pinned, indent=1, sort_keys=True) + "\n")
            golden[case[0]] = got
        assert got == golden[case[0]], name
