"""Fixtures every test folder shares: the shipped rule tables loaded once, the sample claims' and the golden
folder's paths, a copy of the rule tables to break; and every run checks the rule tables in-process.

Why in-process: a run starts a helper process that checks the rule tables with pandera (adjudicator/rules/check.py).
Started by every whole run of the suite, that costs a Python start-up each. With no helper a run validates the
tables itself (the documented fallback, adjudicator/run.py ``prepare``), with the same errors, so the suite's runs
take that path; the helper's own tests (tests/e2e/test_rules_check.py, and any test or module marked
``rules_helper``) start the real one.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from adjudicator.rules import check as rules_check
from adjudicator.rules.tables import DEFAULT_RULES_DIR, RuleSet, load_rules
from tests.helpers import GOLDEN_DIR, SAMPLE

#: RulesCheck.start as shipped, put back for tests marked rules_helper inside modules that are not
_HELPER_START = rules_check.RulesCheck.__dict__["start"]


def _no_helper(*args: object, **kwargs: object) -> None:
    """RulesCheck.start when no helper can be started: the run checks the tables itself."""
    return None


@pytest.fixture(scope="module", autouse=True)
def _rules_checked_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Module-wide, so module-scoped fixtures that run the CLI (a report's runs, a full run to slice) get it too."""
    if request.node.get_closest_marker("rules_helper") is not None:
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rules_check.RulesCheck, "start", staticmethod(_no_helper))
        yield


@pytest.fixture(autouse=True)
def _rules_helper_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if request.node.get_closest_marker("rules_helper") is not None:
        monkeypatch.setattr(rules_check.RulesCheck, "start", _HELPER_START)


@pytest.fixture(scope="session")
def rules() -> RuleSet:
    """The shipped rule tables, loaded once for the session (tests read them, never change them)."""
    return load_rules()


@pytest.fixture()
def rules_copy(tmp_path: Path) -> Path:
    """A copy of the shipped rule tables to break."""
    target = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, target)
    return target


@pytest.fixture(scope="session")
def sample_claims() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN_DIR
