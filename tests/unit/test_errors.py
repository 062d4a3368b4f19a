"""``adjudicator.errors``: an error's fields build its one line, survive pickling, and carry its exit code."""

from __future__ import annotations

import pickle

import pytest

from adjudicator.errors import (
    EXIT_BAD_INPUT,
    EXIT_INTERNAL,
    AdjudicatorError,
    DiskFullError,
    InputError,
    InternalError,
    OutputError,
    RulesError,
    UsageError,
)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InputError("the claims list is empty", path="ids.txt"), "ids.txt: the claims list is empty"),
        (
            RulesError("stance is empty", path="rules/p.csv", table="medical_policies.csv", line=4),
            "rules/p.csv: rule table medical_policies.csv line 4: stance is empty",
        ),
        (RulesError("not found", table="plans.csv"), "rule table plans.csv: not found"),
        (InputError("bad byte", path="a.csv", line=3), "a.csv line 3: bad byte"),
        (
            UsageError("give either INPUT files or --replay MANIFEST, not both"),
            "give either INPUT files or --replay MANIFEST, not both",
        ),
    ],
)
def test_the_message_is_built_from_the_fields(error: AdjudicatorError, message: str) -> None:
    assert str(error) == message == error.message


def test_fields_survive_pickling_as_a_spark_task_sends_them() -> None:
    error = RulesError("isin failed", path="r.csv", table="reasons.csv", line=2, check="isin")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is RulesError
    assert (again.problem, again.path, again.table, again.line, again.check) == (
        "isin failed",
        "r.csv",
        "reasons.csv",
        2,
        "isin",
    )
    assert str(again) == str(error)


@pytest.mark.parametrize(
    ("kind", "code"),
    [
        (InputError, EXIT_BAD_INPUT),
        (RulesError, EXIT_BAD_INPUT),
        (OutputError, EXIT_BAD_INPUT),
        (UsageError, EXIT_BAD_INPUT),
        (InternalError, EXIT_INTERNAL),
        (DiskFullError, EXIT_INTERNAL),
    ],
)
def test_every_error_is_an_adjudicator_error_with_its_exit_code(kind: type[AdjudicatorError], code: int) -> None:
    error = kind("x")
    assert isinstance(error, AdjudicatorError)
    assert error.exit_code == code
