"""Fixtures for the embedded engine's tests: the shipped rules compiled once."""

from __future__ import annotations

import pytest

from adjudicator.rules.compiled import CompiledRules, compile_rules
from adjudicator.rules.tables import RuleSet


@pytest.fixture(scope="module")
def compiled(rules: RuleSet) -> CompiledRules:
    return compile_rules(rules)
